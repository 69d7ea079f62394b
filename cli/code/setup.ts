/**
 * First run of `a3s code` with no model configured: pick a provider, where its key comes from
 * (the name of an environment variable; keys are never written to the config), and a model.
 */

import { PRESETS } from "../../src/code/providers/index.ts";
import { knownModels } from "../../src/code/providers/models.ts";
import { setConfigValue } from "../../src/core/config.ts";
import { A3sError } from "../../src/core/errors.ts";
import { openPowerContext } from "../../src/power/context.ts";
import { formatName } from "../../src/power/name.ts";
import type { CliContext } from "../context.ts";

const FAMILIES: Record<string, string[]> = {
  anthropic: ["claude-"],
  openai: ["gpt-", "o3", "o4"],
  deepseek: ["deepseek-"],
};

export async function firstRunSetup(ctx: CliContext): Promise<void> {
  const prompts = await import("@clack/prompts");
  const cancelled = () => {
    prompts.cancel("setup cancelled");
    return new A3sError("interrupted", "setup cancelled; nothing was saved");
  };
  prompts.intro("a3s code: choose a model");
  const provider = await prompts.select({
    message: "Provider",
    options: [
      { value: "anthropic", label: "Anthropic", hint: "ANTHROPIC_API_KEY" },
      { value: "openai", label: "OpenAI", hint: "OPENAI_API_KEY" },
      { value: "deepseek", label: "DeepSeek", hint: "DEEPSEEK_API_KEY" },
      { value: "openrouter", label: "OpenRouter", hint: "OPENROUTER_API_KEY" },
      { value: "local", label: "a3s power (local models, no key)" },
      { value: "ollama", label: "Ollama (local, no key)" },
      { value: "custom", label: "Another OpenAI-compatible endpoint (vLLM, LM Studio, a gateway…)" },
    ],
  });
  if (prompts.isCancel(provider)) throw cancelled();

  let name: string = provider;
  if (provider === "custom") {
    const custom = await customProvider(prompts, ctx);
    if (custom === undefined) throw cancelled();
    name = custom;
  } else {
    const keyEnv = PRESETS[provider]?.keyEnv;
    if (keyEnv && !ctx.env[keyEnv]) {
      prompts.log.warn(`${keyEnv} is not set: export it in your shell profile before the first request.`);
    }
  }

  const model = await chooseModel(prompts, ctx, provider);
  if (model === undefined) throw cancelled();
  setConfigValue(ctx.paths.config, "code.model", `${name}/${model}`);
  prompts.outro(
    `code.model = ${name}/${model} (saved in ${ctx.paths.config}; change it with /model or 'a3s config set')`,
  );
}

type Prompts = typeof import("@clack/prompts");

async function customProvider(prompts: Prompts, ctx: CliContext): Promise<string | undefined> {
  const answers = await prompts.group(
    {
      name: () =>
        prompts.text({
          message: "A name for it",
          placeholder: "vllm",
          validate: (v) => (/^[a-z0-9_-]+$/i.test(v ?? "") ? undefined : "letters, digits, - and _"),
        }),
      baseUrl: () =>
        prompts.text({
          message: "Base URL (ending in /v1)",
          placeholder: "http://127.0.0.1:8000/v1",
          validate: (v) => (URL.canParse(v ?? "") ? undefined : "a URL"),
        }),
      keyEnv: () =>
        prompts.text({ message: "Environment variable with its API key (empty: none)", placeholder: "" }),
    },
    { onCancel: () => undefined },
  );
  if (prompts.isCancel(answers.name) || !answers.name || !answers.baseUrl) return undefined;
  const entry = {
    type: "openai",
    baseUrl: answers.baseUrl,
    ...(answers.keyEnv ? { apiKeyEnv: answers.keyEnv } : {}),
  };
  setConfigValue(ctx.paths.config, `code.providers.${answers.name}`, JSON.stringify(entry));
  return answers.name;
}

async function chooseModel(prompts: Prompts, ctx: CliContext, provider: string): Promise<string | undefined> {
  const offered = provider === "local" ? localModels(ctx) : knownModels(FAMILIES[provider] ?? []);
  if (offered.length > 0) {
    const picked = await prompts.select({
      message: "Model",
      options: [
        ...offered.map((id) => ({ value: id, label: id })),
        { value: "", label: "Another model id…" },
      ],
    });
    if (prompts.isCancel(picked)) return undefined;
    if (picked !== "") return picked;
  } else if (provider === "local") {
    prompts.log.info(
      "No local models yet: pull one with 'a3s power pull llama3.2:3b' and start 'a3s power serve'.",
    );
  }
  const typed = await prompts.text({
    message: "Model id",
    validate: (value) => (value?.trim() ? undefined : "a model id"),
  });
  return prompts.isCancel(typed) ? undefined : typed.trim();
}

function localModels(ctx: CliContext): string[] {
  const power = openPowerContext(ctx.paths, ctx.env);
  try {
    return power.store.list().map((model) => formatName(model.name));
  } finally {
    power.db.close();
  }
}
