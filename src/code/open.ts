/**
 * Opens a coding session: reads the settings layers, resolves the model, starts MCP servers,
 * gathers tools, skills and subagents, builds the system prompt, and returns the session object
 * the TUI and headless mode drive. Everything the agent touches is assembled here and only here.
 */
import { homedir } from "node:os";
import type { Config } from "../core/config.ts";
import { openDatabase } from "../core/db.ts";
import { A3sError } from "../core/errors.ts";
import type { Paths } from "../core/paths.ts";
import { AgentSession, type ResolvedModel, type SessionSetup } from "./agent/session.ts";
import { subagentRunner } from "./agent/subagents.ts";
import { listAgentDefinitions } from "./agents.ts";
import type { DefinitionSearch } from "./frontmatter.ts";
import { hookAdapter } from "./hook-adapter.ts";
import { HookRunner } from "./hooks.ts";
import { configuredMcpServers, serverMap } from "./mcp/config.ts";
import type { McpManager } from "./mcp/manager.ts";
import { PermissionPolicy } from "./permissions.ts";
import { createProvider, listModelRefs, parseModelRef, resolveProvider } from "./providers/index.ts";
import { localContextWindow } from "./providers/local.ts";
import { contextWindowOf, costOf } from "./providers/models.ts";
import { SessionStore } from "./sessions.ts";
import { loadCodeSettings } from "./settings.ts";
import { listSkills, skillsPromptSection, skillTool } from "./skills.ts";
import { builtinTools } from "./tools/index.ts";
import { toolSpec, validateInput } from "./tools/spec.ts";
import type { PermissionMode, Tool, ToolContext } from "./types.ts";
import { systemPrompt, workspaceContext } from "./workspace.ts";

export interface OpenCodeOptions {
  paths: Paths;
  env: NodeJS.ProcessEnv;
  config: Config;
  configPath: string;
  cwd: string;
  /** "provider/model"; config code.model (or the resumed session's model) otherwise. */
  model?: string;
  mode?: PermissionMode;
  allow?: readonly string[];
  deny?: readonly string[];
  /** A session id or prefix, or "latest" for the most recent one in cwd (`--continue`). */
  resume?: string;
  sandboxImage?: string;
  addDirs?: readonly string[];
  maxRounds?: number;
}

export interface OpenedSession {
  session: AgentSession;
  /** Things the user should know that did not stop the session (a failed MCP server, a bad skill). */
  warnings: string[];
  close(): Promise<void>;
}

export async function openCodeSession(options: OpenCodeOptions): Promise<OpenedSession> {
  const { paths, env, config, cwd } = options;
  const db = openDatabase(paths.db);
  const store = new SessionStore(db);
  const warnings: string[] = [];
  let mcp: McpManager | undefined;
  try {
    const resumed = resumedRecord(store, options);
    const modelRef = options.model ?? resumed?.model ?? config.code.model;
    if (!modelRef) {
      throw new A3sError("usage", "no model configured for a3s code", {
        hint: "run 'a3s code' in a terminal to set one up, pass --model provider/model, or set code.model",
      });
    }
    const workspace = workspaceContext(cwd, env, paths);
    const settings = loadCodeSettings({
      projectRoot: workspace.projectRoot,
      config,
      configPath: options.configPath,
      env,
    });
    const extraDirs = [...settings.permissions.additionalDirectories, ...(options.addDirs ?? [])];
    const policy = new PermissionPolicy({
      rules: {
        ...settings.permissions,
        deny: [
          ...settings.permissions.deny,
          ...(options.deny ?? []).map((rule) => ({ rule, source: "--deny" })),
        ],
      },
      mode: options.mode ?? settings.permissions.defaultMode ?? "default",
      projectRoot: workspace.projectRoot,
      homeDir: env.HOME ?? homedir(),
      extraDirs,
    });
    for (const rule of options.allow ?? []) policy.grant(rule, "--allow");

    const mcpServers = configuredMcpServers({
      configPath: options.configPath,
      userServers: config.code.mcpServers,
      projectRoot: workspace.projectRoot,
    });
    // A broken entry in a shared .mcp.json costs its own server, not the session.
    for (const server of mcpServers) if (server.error !== undefined) warnings.push(server.error);
    if (mcpServers.some((server) => server.config !== undefined)) {
      // The MCP SDK (and its JSON Schema validator) costs ~8 ms to load; most sessions configure no server.
      const { McpManager } = await import("./mcp/manager.ts");
      mcp = await McpManager.start({ servers: serverMap(mcpServers), logsDir: paths.logs, cwd, env });
      for (const status of mcp.status()) {
        if (status.state === "failed")
          warnings.push(`MCP server ${status.name} failed: ${status.error ?? "unknown error"}`);
      }
    }

    const search: DefinitionSearch = {
      projectRoot: workspace.projectRoot,
      a3sHome: paths.home,
      homeDir: env.HOME ?? homedir(),
    };
    const skills = listSkills(search);
    const agents = listAgentDefinitions(search);
    for (const warning of [...skills.warnings, ...agents.warnings])
      warnings.push(`${warning.path}: ${warning.message}`);

    const contextWindows = await withLocalWindow(config, env, modelRef);
    const resolveModel = (ref: string): ResolvedModel => {
      const { provider, model } = parseModelRef(ref);
      const full = `${provider}/${model}`;
      const overrides = { prices: config.code.prices, contextWindows };
      return {
        ref: full,
        provider: createProvider(provider, config, env),
        model,
        contextWindow: contextWindowOf(full, overrides),
        costOf: (usage) => costOf(full, usage, overrides),
      };
    };
    // Fail before the session is created when the model or its key is wrong.
    resolveModel(modelRef);

    const tools = (): Tool[] => [
      ...builtinTools({ agents: agents.agents }),
      ...(skills.skills.length > 0
        ? [skillTool(skills.skills, (rule, source) => policy.grant(rule, source)) as unknown as Tool]
        : []),
      ...(mcp?.tools() ?? []),
    ];
    const mode = policy.mode;
    const hookRunner = (sessionId: string) =>
      new HookRunner({
        hooks: settings.hooks,
        projectDir: workspace.projectRoot,
        sessionId,
        env,
        cwd,
        permissionMode: () => policy.mode,
      });
    const record = resumed ?? store.create({ cwd, model: resolveModel(modelRef).ref });
    const started = await hookRunner(record.id).sessionStart(resumed ? "resume" : "startup");
    for (const problem of started.errors)
      warnings.push(`SessionStart hook ${problem.command}: ${problem.message}`);
    const instructions = (mcp?.status() ?? []).flatMap((status) =>
      status.instructions ? [`Instructions from MCP server ${status.name}:\n${status.instructions}`] : [],
    );
    const system = systemPrompt({
      workspace: workspace.text,
      mode,
      skills: skillsPromptSection(skills.skills),
      extraContext: [...(started.additionalContext ? [started.additionalContext] : []), ...instructions],
    });

    const states = new Map<string, Map<string, unknown>>();
    const setup: SessionSetup = {
      store,
      cwd,
      resolveModel,
      listModels: () => listModelRefs(config, env),
      get tools() {
        return tools();
      },
      toolSpec,
      validate: (tool, input) => validateInput(tool, input) as ReturnType<SessionSetup["validate"]>,
      policy: {
        get mode() {
          return policy.mode;
        },
        set mode(next: PermissionMode) {
          policy.setMode(next);
        },
        decide: (tool, input) => policy.decide(tool, input, { cwd }),
        suggestRule: (tool, input) => policy.suggestRule(tool, input, { cwd }),
        grant: (rule) => {
          policy.allowAlways(rule);
        },
        rules: () => {
          const { allow, deny, ask } = policy.summary();
          return { allow, deny, ask };
        },
      },
      hooks: (sessionId) => hookAdapter(hookRunner(sessionId)),
      system,
      toolContext: (signal, sessionId): ToolContext => {
        const state = states.get(sessionId) ?? new Map<string, unknown>();
        states.set(sessionId, state);
        return {
          cwd,
          extraDirs,
          env,
          signal,
          home: { paths, config },
          ...(options.sandboxImage ? { sandboxImage: options.sandboxImage } : {}),
          state,
        };
      },
      maxRounds: options.maxRounds ?? config.code.maxRounds,
      maxTokens: config.code.maxTokens,
    };
    setup.subagents = subagentRunner({ setup, agents: agents.agents, workspace: workspace.text });
    const session = new AgentSession(setup, record, resumed !== undefined);
    return {
      session,
      warnings,
      close: async () => {
        await mcp?.close();
        db.close();
      },
    };
  } catch (err) {
    await mcp?.close();
    db.close();
    throw err;
  }
}

/**
 * code.contextWindows, plus the context a3s power runs the session's model with when it is a local
 * one the config says nothing about. Models picked later with /model keep the default guess.
 */
async function withLocalWindow(
  config: Config,
  env: NodeJS.ProcessEnv,
  modelRef: string,
): Promise<Record<string, number>> {
  const windows = config.code.contextWindows;
  const { provider, model } = parseModelRef(modelRef);
  const full = `${provider}/${model}`;
  if (provider !== "local" || full in windows || model in windows) return windows;
  const defaults =
    config.power.contextLength === undefined ? {} : { defaultNumCtx: config.power.contextLength };
  const window = await localContextWindow(resolveProvider(provider, config, env).baseUrl, model, defaults);
  return window === undefined ? windows : { ...windows, [full]: window };
}

function resumedRecord(store: SessionStore, options: OpenCodeOptions) {
  if (options.resume === undefined) return undefined;
  if (options.resume !== "latest") return store.get(options.resume);
  const latest = store.latest(options.cwd);
  if (!latest) {
    throw new A3sError("not_found", `no session to continue in ${options.cwd}`, {
      hint: "start one with 'a3s code', or list all with 'a3s code sessions ls --all'",
    });
  }
  return latest;
}
