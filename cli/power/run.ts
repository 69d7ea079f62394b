/**
 * `a3s power run <model> [prompt]`: one answer streamed to stdout, or an interactive chat on a
 * terminal. Like `ollama run` it talks to the running server when there is one (the model stays
 * loaded between runs), pulls a missing model first, and otherwise runs the engine in-process.
 */
import { Command } from "commander";
import { A3sError } from "../../src/core/errors.ts";
import type { PowerContext } from "../../src/power/context.ts";
import type { Stats } from "../../src/power/engine/engine.ts";
import type { ChatMessage } from "../../src/power/engine/messages.ts";
import type { Output } from "../output.ts";
import { openPower } from "./open.ts";
import { progressRenderer } from "./render-progress.ts";
import { serverUrl } from "./serve.ts";

interface RunOptions {
  format?: string;
  keepalive?: string;
  verbose?: boolean;
  system?: string;
}

/** One chat turn against whichever backend is available. */
interface ChatBackend {
  chat(
    messages: ChatMessage[],
    onText: (text: string) => void,
    signal: AbortSignal,
  ): Promise<{ content: string; stats: Stats }>;
  close(): Promise<void>;
}

export function runCommand(): Command {
  return new Command("run")
    .description("Chat with a model, or answer one prompt (stdin is read when it is not a terminal)")
    .argument("<model>", "model name")
    .argument("[prompt...]", "the prompt; without one, an interactive chat starts")
    .option("--format <format>", "response format: json")
    .option("--keepalive <duration>", "how long the model stays loaded (e.g. 5m, 0, -1)")
    .option("--system <text>", "system prompt for this session")
    .option("--verbose", "show timings and token rates after each answer")
    .action(async (model: string, words: string[], options: RunOptions, command: Command) => {
      const { out, power } = await openPower(command);
      if (options.format !== undefined && options.format !== "json") {
        throw new A3sError("usage", `--format: only 'json' is supported, got '${options.format}'`);
      }
      let prompt = words.join(" ");
      if (!process.stdin.isTTY) {
        const piped = (await new Response(Bun.stdin.stream()).text()).trim();
        prompt = [piped, prompt].filter(Boolean).join("\n\n");
      }
      await ensurePulled(power, model, out);
      const backend = await openBackend(power, model, options);
      try {
        const history: ChatMessage[] = options.system ? [{ role: "system", content: options.system }] : [];
        if (prompt !== "") {
          await answer(
            backend,
            out,
            [...history, { role: "user", content: prompt }],
            options.verbose === true,
          );
        } else if (process.stdin.isTTY) {
          await interactive(backend, out, history, options.verbose === true);
        }
      } finally {
        await backend.close();
      }
    });
}

async function ensurePulled(power: PowerContext, model: string, out: Output): Promise<void> {
  const [{ parseModelName }, { pullModel }] = await Promise.all([
    import("../../src/power/name.ts"),
    import("../../src/power/pull.ts"),
  ]);
  if (power.store.get(parseModelName(model, power.registry.host))) return;
  const renderer = progressRenderer(out);
  try {
    await pullModel(power, { name: model, onEvent: (event) => renderer.onEvent(event) });
  } finally {
    renderer.done();
  }
}

async function openBackend(power: PowerContext, model: string, options: RunOptions): Promise<ChatBackend> {
  const url = serverUrl(power.config.power.host);
  const running = await fetch(`${url}/api/version`, { signal: AbortSignal.timeout(300) }).then(
    (response) => response.ok,
    () => false,
  );
  const format = options.format === "json" ? "json" : undefined;
  if (running) return httpBackend(url, model, format, options.keepalive);
  const [{ configuredEngine }, { PowerMetrics }] = await Promise.all([
    import("../../src/power/server/server.ts"),
    import("../../src/power/server/metrics.ts"),
  ]);
  const engine = configuredEngine(power, new PowerMetrics());
  return {
    async chat(messages, onText, signal) {
      const completion = await engine.chat({
        model,
        messages,
        format,
        keepAlive: options.keepalive,
        signal,
        onText,
      });
      return { content: completion.content, stats: completion.stats };
    },
    close: () => engine.close(),
  };
}

function httpBackend(
  url: string,
  model: string,
  format: "json" | undefined,
  keepAlive: string | undefined,
): ChatBackend {
  return {
    async chat(messages, onText, signal) {
      const response = await fetch(`${url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, messages, format, keep_alive: keepAlive, stream: true }),
        signal,
      });
      if (!response.ok || !response.body) {
        const body = (await response.json().catch(() => ({}))) as { error?: string };
        throw new A3sError(
          response.status === 404 ? "not_found" : "runtime",
          body.error ?? `server answered ${response.status}`,
        );
      }
      let content = "";
      let stats: Stats | undefined;
      let buffered = "";
      const decoder = new TextDecoder();
      for await (const chunk of response.body) {
        buffered += decoder.decode(chunk, { stream: true });
        let newline = buffered.indexOf("\n");
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf("\n");
          if (line === "") continue;
          const message = JSON.parse(line);
          if (message.error) throw new A3sError("runtime", message.error);
          const text = message.message?.content ?? "";
          if (text) {
            content += text;
            onText(text);
          }
          if (message.done) {
            stats = {
              totalNs: message.total_duration,
              loadNs: message.load_duration,
              promptTokens: message.prompt_eval_count,
              promptEvalNs: message.prompt_eval_duration,
              completionTokens: message.eval_count,
              evalNs: message.eval_duration,
              firstTokenNs: 0,
            };
          }
        }
      }
      if (!stats) throw new A3sError("network", "the server closed the stream before the answer was done");
      return { content, stats };
    },
    close: async () => {},
  };
}

/** Streams one answer; Ctrl-C stops the generation, not the program. */
async function answer(
  backend: ChatBackend,
  out: Output,
  messages: ChatMessage[],
  verbose: boolean,
): Promise<string> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on("SIGINT", stop);
  try {
    const { content, stats } = await backend.chat(
      messages,
      (text) => (out.json ? undefined : out.stdout.write(text)),
      controller.signal,
    );
    if (out.json) out.jsonLine({ role: "assistant", content });
    else out.stdout.write(content.endsWith("\n") ? "\n" : "\n\n");
    if (verbose) out.stderr.write(formatStats(stats));
    return content;
  } catch (err) {
    if (controller.signal.aborted) return "";
    throw err;
  } finally {
    process.off("SIGINT", stop);
  }
}

const HELP = `Available Commands:
  /set system <text>   Set the system message
  /clear               Clear the session context
  /bye                 Exit
  /?, /help            Help for a command

Use """ to begin a multi-line message.
`;

async function interactive(
  backend: ChatBackend,
  out: Output,
  history: ChatMessage[],
  verbose: boolean,
): Promise<void> {
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: ">>> " });
  const lines = rl[Symbol.asyncIterator]();
  const messages = [...history];
  const next = async (): Promise<string | undefined> => {
    rl.prompt();
    const line = await lines.next();
    return line.done ? undefined : line.value;
  };
  for (;;) {
    let line = await next();
    if (line === undefined) break;
    if (line.startsWith('"""')) {
      const parts = [line.slice(3)];
      while (!parts.at(-1)?.endsWith('"""')) {
        rl.setPrompt("... ");
        const more = await next();
        if (more === undefined) break;
        parts.push(more);
      }
      rl.setPrompt(">>> ");
      line = parts.join("\n").replace(/"""$/, "");
    }
    const text = line.trim();
    if (text === "") continue;
    if (text === "/bye" || text === "/exit") break;
    if (text === "/?" || text === "/help") {
      out.stdout.write(HELP);
      continue;
    }
    if (text === "/clear") {
      messages.splice(0, messages.length, ...messages.filter((m) => m.role === "system"));
      out.stdout.write("Cleared session context\n");
      continue;
    }
    const system = /^\/set system\s+([\s\S]+)$/.exec(text);
    if (system) {
      messages.splice(0, messages.length, ...messages.filter((m) => m.role !== "system"));
      messages.unshift({ role: "system", content: system[1] as string });
      out.stdout.write("Set system message.\n");
      continue;
    }
    if (text.startsWith("/")) {
      out.stdout.write(`Unknown command '${text.split(/\s/)[0]}'. Type /? for help\n`);
      continue;
    }
    messages.push({ role: "user", content: text });
    const reply = await answer(backend, out, messages, verbose);
    if (reply === "") messages.pop();
    else messages.push({ role: "assistant", content: reply });
  }
  rl.close();
}

/** Ollama's --verbose block. */
function formatStats(stats: Stats): string {
  const seconds = (ns: number) => `${(ns / 1e9).toFixed(6).replace(/0+$/, "").replace(/\.$/, "")}s`;
  const rate = (count: number, ns: number) =>
    ns > 0 ? `${((count * 1e9) / ns).toFixed(2)} tokens/s` : "n/a";
  return [
    `total duration:       ${seconds(stats.totalNs)}`,
    `load duration:        ${seconds(stats.loadNs)}`,
    `prompt eval count:    ${stats.promptTokens} token(s)`,
    `prompt eval duration: ${seconds(stats.promptEvalNs)}`,
    `prompt eval rate:     ${rate(stats.promptTokens, stats.promptEvalNs)}`,
    `eval count:           ${stats.completionTokens} token(s)`,
    `eval duration:        ${seconds(stats.evalNs)}`,
    `eval rate:            ${rate(stats.completionTokens, stats.evalNs)}`,
    "",
  ].join("\n");
}
