/**
 * Dockerfile instructions as `docker import --change` takes them, for the runtime settings an
 * imported image can carry.
 */
import { A3sError } from "../../../core/errors.ts";
import type { ImageConfig } from "../manifest.ts";

const CHANGES = ["CMD", "ENTRYPOINT", "ENV", "WORKDIR", "USER", "LABEL"] as const;

type RuntimeConfig = NonNullable<ImageConfig["config"]>;

/**
 * Dockerfile instructions as `docker import --change` takes them, for the runtime settings an
 * imported image can carry: CMD and ENTRYPOINT (exec ["a","b"] or shell form), ENV and LABEL
 * (key=value pairs with shell quoting, or the legacy `key value`), WORKDIR and USER.
 */
export function parseChanges(changes: readonly string[]): RuntimeConfig {
  const config: RuntimeConfig = {};
  const env = new Map<string, string>();
  const labels: Record<string, string> = {};
  for (const change of changes) {
    const match = /^\s*([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(change);
    const keyword = match?.[1]?.toUpperCase() as (typeof CHANGES)[number] | undefined;
    const rest = (match?.[2] ?? "").trim();
    if (!keyword || !CHANGES.includes(keyword)) {
      throw new A3sError("usage", `unsupported --change '${change}'`, {
        hint: `supported instructions: ${CHANGES.join(", ")}`,
      });
    }
    if (rest === "") throw new A3sError("usage", `--change '${change}': ${keyword} needs an argument`);
    switch (keyword) {
      case "CMD":
        config.Cmd = commandForm(rest);
        break;
      case "ENTRYPOINT":
        config.Entrypoint = commandForm(rest);
        break;
      case "WORKDIR":
        config.WorkingDir = rest;
        break;
      case "USER":
        config.User = rest;
        break;
      case "ENV":
        for (const [key, value] of keyValues(rest, keyword)) env.set(key, value);
        break;
      case "LABEL":
        for (const [key, value] of keyValues(rest, keyword)) labels[key] = value;
        break;
    }
  }
  if (env.size > 0) config.Env = [...env].map(([key, value]) => `${key}=${value}`);
  if (Object.keys(labels).length > 0) config.Labels = labels;
  return config;
}

/** Exec form when it is a JSON array of strings, shell form otherwise (as Docker falls back). */
function commandForm(text: string): string[] {
  if (text.startsWith("[")) {
    try {
      const value: unknown = JSON.parse(text);
      if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value;
    } catch {}
  }
  return ["/bin/sh", "-c", text];
}

function keyValues(text: string, keyword: string): Array<[string, string]> {
  const words = shellWords(text);
  const [first = ""] = words;
  if (!first.includes("=")) {
    // Legacy form: ENV key the rest of the line.
    const value = text.slice(text.search(/\s/) + 1).trim();
    if (words.length < 2) throw new A3sError("usage", `${keyword} '${text}': expected key=value`);
    return [[first, shellWords(value).join(" ")]];
  }
  return words.map((word) => {
    const eq = word.indexOf("=");
    if (eq <= 0) throw new A3sError("usage", `${keyword} '${text}': expected key=value, got '${word}'`);
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}

/** Splits on unquoted whitespace; "double" and 'single' quotes group, backslash escapes outside single quotes. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let started = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (char === "\\" && i + 1 < text.length) {
      word += text[++i];
      started = true;
    } else if (/\s/.test(char)) {
      if (started) words.push(word);
      word = "";
      started = false;
    } else {
      word += char;
      started = true;
    }
  }
  if (quote) throw new A3sError("usage", `unterminated quote in '${text}'`);
  if (started) words.push(word);
  return words;
}
