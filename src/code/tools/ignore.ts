/**
 * .gitignore semantics for the file tools' walker: rules from .git/info/exclude and every
 * .gitignore from the repository root down, the deeper file and the later line winning, negations,
 * directory-only patterns, and nothing inside an ignored directory coming back. As in git (and
 * ripgrep), these files count only inside a git repository.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { globSource } from "./glob-pattern.ts";

interface Rule {
  regex: RegExp;
  negated: boolean;
  dirOnly: boolean;
  /** Matched against the path relative to the file's directory, not just the name. */
  anchored: boolean;
}

interface RuleSet {
  base: string;
  rules: Rule[];
}

function parseIgnore(text: string): Rule[] {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.replace(/(?<!\\)\s+$/, "");
    if (line === "" || line.startsWith("#")) continue;
    const negated = line.startsWith("!");
    if (negated) line = line.slice(1);
    else if (line.startsWith("\\!") || line.startsWith("\\#")) line = line.slice(1);
    const dirOnly = line.endsWith("/");
    if (dirOnly) line = line.slice(0, -1);
    if (line === "") continue;
    const anchored = line.includes("/");
    if (line.startsWith("/")) line = line.slice(1);
    // "dir/**" also matches dir/ itself in git; the contents go with it anyway.
    rules.push({ regex: new RegExp(`^${globSource(line)}$`), negated, dirOnly, anchored });
  }
  return rules;
}

function load(path: string, base: string): RuleSet | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const rules = parseIgnore(text);
  return rules.length === 0 ? undefined : { base, rules };
}

/** The nearest directory at or above `dir` holding a .git entry. */
function gitRoot(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, ".git"))) return current;
    if (dirname(current) === current) return undefined;
  }
}

export class IgnoreStack {
  private constructor(
    private readonly sets: readonly RuleSet[],
    private readonly inRepo: boolean,
  ) {}

  /** The rules that apply at `dir`: info/exclude and each .gitignore from the repository root down. */
  static at(dir: string): IgnoreStack {
    const root = gitRoot(dir);
    if (root === undefined) return new IgnoreStack([], false);
    const sets: RuleSet[] = [];
    const exclude = load(join(root, ".git", "info", "exclude"), root);
    if (exclude) sets.push(exclude);
    const parts = relative(root, dir).split(sep).filter(Boolean);
    for (let i = 0; i <= parts.length; i++) {
      const base = join(root, ...parts.slice(0, i));
      const set = load(join(base, ".gitignore"), base);
      if (set) sets.push(set);
    }
    return new IgnoreStack(sets, true);
  }

  /** The stack for a subdirectory: this one plus the subdirectory's own .gitignore. */
  enter(dir: string): IgnoreStack {
    if (!this.inRepo) return this;
    const set = load(join(dir, ".gitignore"), dir);
    return set ? new IgnoreStack([...this.sets, set], true) : this;
  }

  ignores(path: string, isDir: boolean): boolean {
    let ignored = false;
    const name = path.slice(path.lastIndexOf(sep) + 1);
    for (const set of this.sets) {
      const rel = relative(set.base, path).split(sep).join("/");
      for (const rule of set.rules) {
        if (rule.dirOnly && !isDir) continue;
        if (rule.negated !== ignored) continue;
        if (rule.regex.test(rule.anchored ? rel : name)) ignored = !rule.negated;
      }
    }
    return ignored;
  }
}
