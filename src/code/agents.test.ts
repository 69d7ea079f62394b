import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { findAgent, listAgentDefinitions } from "./agents.ts";

const base = mkdtempSync(join(tmpdir(), "a3s-agents-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const homeDir = join(base, "home");
const a3sHome = join(homeDir, ".a3s");
const projectRoot = join(base, "project");
const search = { projectRoot, a3sHome, homeDir };

function put(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

put(
  join(a3sHome, "agents", "reviewer.md"),
  "---\nname: reviewer\ndescription: User-level reviewer\n---\nYou review code.\n",
);
put(
  join(homeDir, ".claude", "agents", "explorer.md"),
  "---\nname: explorer\ndescription: Explores the codebase\ntools: Read, Grep, Glob\nmodel: inherit\n---\nYou explore.\n",
);
const projectReviewer = put(
  join(projectRoot, ".a3s", "agents", "reviewer.md"),
  "---\nname: reviewer\ndescription: Reviews diffs for bugs\ntools: [Read, Grep, Bash(git diff:*)]\nmodel: anthropic/claude-haiku-4-5\n---\n\nYou are a strict reviewer.\nReport bugs only.\n",
);
put(
  join(projectRoot, ".claude", "agents", "tester.md"),
  "---\ndescription: Runs the tests\n---\nRun the tests.\n",
);
put(join(projectRoot, ".a3s", "agents", "notes.txt"), "not an agent");
const broken = put(join(projectRoot, ".a3s", "agents", "broken.md"), "---\ntools: [Read\n---\nx\n");
const empty = put(
  join(projectRoot, ".a3s", "agents", "empty.md"),
  "---\nname: empty\ndescription: nothing\n---\n\n",
);
const plain = put(join(projectRoot, ".a3s", "agents", "plain.md"), "# Just markdown\n");

test("definitions from user and project folders; project overrides by name; invalid ones are warnings", () => {
  const { agents, warnings } = listAgentDefinitions(search);
  expect(agents.map((agent) => [agent.name, agent.scope])).toEqual([
    ["explorer", "user"],
    ["reviewer", "project"],
    ["tester", "project"],
  ]);
  expect(agents.find((agent) => agent.name === "reviewer")).toEqual({
    name: "reviewer",
    description: "Reviews diffs for bugs",
    tools: ["Read", "Grep", "Bash(git diff:*)"],
    model: "anthropic/claude-haiku-4-5",
    prompt: "You are a strict reviewer.\nReport bugs only.",
    path: projectReviewer,
    scope: "project",
  });
  const explorer = agents.find((agent) => agent.name === "explorer");
  expect(explorer?.tools).toEqual(["Read", "Grep", "Glob"]);
  expect(explorer?.model).toBeUndefined();
  expect(agents.find((agent) => agent.name === "tester")?.tools).toBeUndefined();
  expect(warnings.map((warning) => warning.path).sort()).toEqual([broken, empty, plain].sort());
  expect(warnings.find((warning) => warning.path === empty)?.message).toContain("body");
});

test("findAgent", () => {
  expect(findAgent("tester", search)?.prompt).toBe("Run the tests.");
  expect(findAgent("nobody", search)).toBeUndefined();
});
