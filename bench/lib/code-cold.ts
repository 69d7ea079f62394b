/**
 * Cold start of the compiled binary: `a3s code run "hi"` from spawn to the moment the fake provider
 * (in this process, so both ends read the same clock) receives the model request; beside it,
 * `a3s --version` and a compiled hello-world, the floor a Bun binary allows. Cases alternate run by
 * run so they share the machine's state; each process is started only after the previous exited.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FakeProvider, writeFakeProviderConfig } from "../../tests/fixtures/fake-provider.ts";

export interface ColdSamples {
  toRequest: number[];
  toExit: number[];
  version: number[];
  hello: number[];
}

async function timed(cmd: string[], options: { cwd: string; env: Record<string, string> }): Promise<number> {
  const start = performance.now();
  const child = Bun.spawn(cmd, { ...options, stdout: "ignore", stderr: "pipe" });
  const code = await child.exited;
  const elapsed = performance.now() - start;
  if (code !== 0)
    throw new Error(`${cmd.join(" ")} exited ${code}: ${await new Response(child.stderr).text()}`);
  return elapsed;
}

/** A compiled hello-world built with the same bundler, in `dir`. */
export function buildHello(dir: string): string {
  writeFileSync(join(dir, "hello.ts"), 'console.log("hello");\n');
  const out = join(dir, "hello");
  const built = Bun.spawnSync(
    [process.execPath, "build", "--compile", "--minify", "hello.ts", "--outfile", out],
    { cwd: dir, stdout: "ignore", stderr: "pipe" },
  );
  if (built.exitCode !== 0) throw new Error(`hello-world build failed: ${built.stderr}`);
  return out;
}

export async function measureCold(
  fake: FakeProvider,
  scratch: string,
  { binary, hello, runs, warmup }: { binary: string; hello: string; runs: number; warmup: number },
): Promise<ColdSamples> {
  const home = join(scratch, "cold-home");
  const project = join(scratch, "cold-project");
  mkdirSync(project, { recursive: true });
  writeFakeProviderConfig(home, fake);
  const env = {
    ...(process.env as Record<string, string>),
    A3S_HOME: home,
    HOME: scratch,
    FAKE_KEY: "sk-bench",
  };
  const options = { cwd: project, env };
  const samples: ColdSamples = { toRequest: [], toExit: [], version: [], hello: [] };

  const codeRun = async (): Promise<void> => {
    fake.reply().text("hello").usage({ input: 900, output: 2 }).stop();
    const index = fake.requests.length;
    const start = performance.now();
    const exit = await timed([binary, "code", "run", "hi"], options);
    const request = fake.requests[index];
    if (request?.status !== 200) throw new Error("a3s code run did not reach the provider");
    samples.toRequest.push(request.receivedAt - start);
    samples.toExit.push(exit);
  };
  const cases: Array<() => Promise<void>> = [
    codeRun,
    async () => {
      samples.version.push(await timed([binary, "--version"], options));
    },
    async () => {
      samples.hello.push(await timed([hello], options));
    },
  ];

  for (let run = 0; run < warmup + runs; run++) {
    // Rotates the order so no case always follows the same one.
    for (let i = 0; i < cases.length; i++) await (cases[(run + i) % cases.length] as () => Promise<void>)();
    if (run + 1 === warmup) for (const list of Object.values(samples)) list.length = 0;
  }
  return samples;
}
