/**
 * What the agent loop costs on top of the model: the real session from `openCodeSession` (system
 * prompt, built-in tools, permissions, SQLite session log) against the scripted fake provider on
 * 127.0.0.1, one conversation of N turns. Each turn is what a coding agent does all day: the model
 * calls `read` on a small file, then answers in text, so a turn is two model requests and one tool.
 *
 * Per turn:
 *   wall       `session.submit()` from call to return;
 *   provider   time the loop spent waiting on the provider client's stream (the sum of the waits for
 *              each next event: request, server, network and SSE parsing; not the loop's own work
 *              between events);
 *   tool       `permission` event to `tool_result` event of the read;
 *   reference  the same two ChatRequests (captured from the agent: same system prompt, tools and
 *              messages) streamed through a bare `createProvider(...).stream()` right after.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ResolvedModel } from "../../src/code/agent/session.ts";
import { openCodeSession } from "../../src/code/open.ts";
import { createProvider } from "../../src/code/providers/index.ts";
import type { ChatRequest, Provider, ProviderEvent } from "../../src/code/types.ts";
import { loadConfig } from "../../src/core/config.ts";
import { pathsFor } from "../../src/core/paths.ts";
import type { FakeProvider, ReplyScript } from "../../tests/fixtures/fake-provider.ts";

export interface TurnSample {
  wallMs: number;
  providerMs: number;
  toolMs: number;
  refMs: number;
  /** Messages in the conversation when the turn ended. */
  messages: number;
}

const NOTES = Array.from({ length: 30 }, (_, i) => `line ${i + 1}: a note about module ${i}`).join("\n");
const ANSWER =
  "The notes list thirty modules, one per line, each with a short remark. Nothing in them " +
  "contradicts the code: module 3 is the parser, module 7 the cache, and the rest are small " +
  "helpers. If you want, I can summarise each module or check which ones still have tests.";

function replies(turn: number): ReplyScript[] {
  const context = 2_000 + turn * 350;
  return [
    {
      steps: [
        { text: "Let me read the notes." },
        { tool: "read", input: { file_path: "notes.txt" } },
        { usage: { input: context, output: 24 } },
      ],
    },
    { steps: [{ text: ANSWER }, { usage: { input: context + 400, output: 70 } }] },
  ];
}

/** A provider that records each request and how long its consumer waited for events. */
class TimedProvider implements Provider {
  readonly requests: ChatRequest[] = [];
  waitedMs = 0;
  constructor(private readonly inner: Provider) {}
  get name(): string {
    return this.inner.name;
  }
  async *stream(request: ChatRequest): AsyncGenerator<ProviderEvent> {
    this.requests.push({ ...request });
    const events = this.inner.stream(request)[Symbol.asyncIterator]();
    for (;;) {
      const asked = performance.now();
      const next = await events.next();
      this.waitedMs += performance.now() - asked;
      if (next.done) return;
      yield next.value;
    }
  }
}

async function drain(provider: Provider, request: ChatRequest): Promise<void> {
  for await (const _event of provider.stream(request));
}

/** Runs `turns` turns (after `warmup` turns in a separate session) and returns one sample per turn. */
export async function measureLoop(
  fake: FakeProvider,
  scratch: string,
  { turns, warmup }: { turns: number; warmup: number },
): Promise<TurnSample[]> {
  const home = join(scratch, "loop-home");
  const project = join(scratch, "loop-project");
  mkdirSync(home, { recursive: true });
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, "notes.txt"), `${NOTES}\n`);
  const configPath = join(home, "config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      code: {
        model: "fake/claude-sonnet-4-5",
        providers: { fake: { type: "anthropic", baseUrl: fake.url, apiKeyEnv: "FAKE_KEY" } },
      },
    }),
  );
  // HOME points at an empty directory so the user's own skills, agents and settings stay out.
  const env = { ...process.env, FAKE_KEY: "sk-bench", HOME: mkdtempSync(join(scratch, "user-")) };
  const { config } = loadConfig(configPath, env);
  const reference = createProvider("fake", config, env);

  const conversation = async (count: number): Promise<TurnSample[]> => {
    const opened = await openCodeSession({ paths: pathsFor(home), env, config, configPath, cwd: project });
    try {
      const { session } = opened;
      // The session keeps its model privately; swapping in the timed provider keeps everything else real.
      const internals = session as unknown as { resolved?: ResolvedModel };
      if (!internals.resolved?.provider) throw new Error("AgentSession no longer has .resolved.provider");
      const timed = new TimedProvider(internals.resolved.provider);
      internals.resolved.provider = timed;
      const marks = new Map<string, number>();
      let toolMs = 0;
      let failure: string | undefined;
      session.subscribe((event) => {
        if (event.type === "permission") marks.set(event.id, performance.now());
        else if (event.type === "tool_result") toolMs += performance.now() - (marks.get(event.id) ?? 0);
        else if (event.type === "error") failure = event.message;
      });
      const samples: TurnSample[] = [];
      for (let turn = 0; turn < count; turn++) {
        fake.enqueue(...replies(turn));
        const sent = timed.requests.length;
        timed.waitedMs = 0;
        toolMs = 0;
        const start = performance.now();
        await session.submit(`Turn ${turn + 1}: what do the notes say?`);
        const wallMs = performance.now() - start;
        if (failure) throw new Error(`turn ${turn + 1} failed: ${failure}`);
        const requests = timed.requests.slice(sent);
        if (requests.length !== 2)
          throw new Error(`turn ${turn + 1} made ${requests.length} requests, not 2`);
        fake.enqueue(...replies(turn));
        const refStart = performance.now();
        for (const request of requests) await drain(reference, request);
        const refMs = performance.now() - refStart;
        samples.push({
          wallMs,
          providerMs: timed.waitedMs,
          toolMs,
          refMs,
          messages: session.messages.length,
        });
      }
      return samples;
    } finally {
      await opened.close();
    }
  };

  await conversation(warmup);
  return conversation(turns);
}
