import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PermissionPolicy } from "./permissions.ts";
import { listSkills, loadSkill, skillsPromptSection, skillTool } from "./skills.ts";
import type { ToolContext } from "./types.ts";

const base = mkdtempSync(join(tmpdir(), "a3s-skills-"));
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

const skillFile = (name: string, description: string, extra = "", body = `Instructions of ${name}.`) =>
  `---\nname: ${name}\ndescription: ${description}\n${extra}---\n${body}\n`;

put(join(a3sHome, "skills", "pdf", "SKILL.md"), skillFile("pdf", "User PDF skill"));
put(join(a3sHome, "skills", "commit", "SKILL.md"), skillFile("commit", "Write commit messages in our style"));
put(join(homeDir, ".claude", "skills", "legacy", "SKILL.md"), skillFile("legacy", "From Claude Code"));
put(
  join(projectRoot, ".a3s", "skills", "pdf", "SKILL.md"),
  skillFile(
    "pdf",
    "Fill and extract PDF forms",
    "allowed-tools: Read, Bash(python3:*)\n",
    "Run scripts/fill.py.",
  ),
);
put(join(projectRoot, ".a3s", "skills", "pdf", "scripts", "fill.py"), "print('fill')\n");
put(join(projectRoot, ".a3s", "skills", "pdf", "reference.md"), "# Reference\n");
put(
  join(projectRoot, ".claude", "skills", "review", "SKILL.md"),
  skillFile("review", "Review a diff", "allowed-tools:\n  - Read\n  - Grep\n"),
);
put(
  join(projectRoot, ".a3s", "skills", "nameless", "SKILL.md"),
  "---\ndescription: Named after its folder\n---\nBody\n",
);
const broken = put(join(projectRoot, ".a3s", "skills", "broken", "SKILL.md"), "---\nname: [oops\n---\n");
const undescribed = put(
  join(projectRoot, ".a3s", "skills", "vague", "SKILL.md"),
  "---\nname: vague\n---\nBody\n",
);
const badName = put(join(projectRoot, ".a3s", "skills", "bad", "SKILL.md"), skillFile("has spaces", "x"));
mkdirSync(join(projectRoot, ".a3s", "skills", "empty-dir"), { recursive: true });

describe("listSkills", () => {
  const { skills, warnings } = listSkills(search);

  test("finds user and project skills; project ones override by name", () => {
    expect(skills.map((skill) => [skill.name, skill.scope])).toEqual([
      ["commit", "user"],
      ["legacy", "user"],
      ["nameless", "project"],
      ["pdf", "project"],
      ["review", "project"],
    ]);
    expect(skills.find((skill) => skill.name === "pdf")).toEqual({
      name: "pdf",
      description: "Fill and extract PDF forms",
      allowedTools: ["Read", "Bash(python3:*)"],
      dir: join(projectRoot, ".a3s", "skills", "pdf"),
      path: join(projectRoot, ".a3s", "skills", "pdf", "SKILL.md"),
      scope: "project",
    });
    expect(skills.find((skill) => skill.name === "review")?.allowedTools).toEqual(["Read", "Grep"]);
  });

  test("invalid skills become warnings", () => {
    expect(warnings.map((warning) => warning.path).sort()).toEqual([badName, broken, undescribed].sort());
    expect(warnings.find((warning) => warning.path === broken)?.message).toContain("invalid YAML");
    expect(warnings.find((warning) => warning.path === undescribed)?.message).toContain(
      "'description' is required",
    );
    expect(warnings.find((warning) => warning.path === badName)?.message).toContain("invalid skill name");
  });

  test("no skill directories: nothing, no warnings", () => {
    expect(
      listSkills({
        projectRoot: join(base, "none"),
        a3sHome: join(base, "none"),
        homeDir: join(base, "none"),
      }),
    ).toEqual({
      skills: [],
      warnings: [],
    });
  });

  test("the prompt section lists names and descriptions and says how to load", () => {
    const section = skillsPromptSection(skills);
    expect(section).toStartWith("# Skills\n");
    expect(section).toContain("- pdf: Fill and extract PDF forms");
    expect(section).toContain("- commit: Write commit messages in our style");
    expect(section).toContain('skill tool ({"name": "<skill>"})');
    expect(skillsPromptSection([])).toBe("");
  });

  test("the skill tool loads the body with the directory and bundled files", async () => {
    const granted: string[] = [];
    const tool = skillTool(skills, (rule, source) => granted.push(`${rule} (${source})`));
    expect([tool.name, tool.ruleName, tool.readOnly]).toEqual(["skill", "Skill", true]);
    expect(tool.ruleSubject({ name: "pdf" }, { cwd: projectRoot })).toBe("pdf");
    expect(tool.input.safeParse({}).success).toBe(false);
    const result = await tool.run({ name: "pdf" }, {} as ToolContext);
    expect(result.isError).toBeUndefined();
    expect(result.summary).toBe("Loaded skill pdf");
    expect(result.content).toContain(`Base directory: ${join(projectRoot, ".a3s", "skills", "pdf")}`);
    expect(result.content).toContain(
      "Allowed without asking while you follow this skill: Read, Bash(python3:*)",
    );
    expect(result.content).toContain("Bundled files: reference.md, scripts/fill.py");
    expect(result.content).toEndWith("Run scripts/fill.py.");
    expect(result.content).not.toContain("description:");
    expect(granted).toEqual(["Read (skill pdf)", "Bash(python3:*) (skill pdf)"]);
  });

  test("loading a skill grants its allowed-tools through a real policy; deny rules still win", async () => {
    const policy = new PermissionPolicy({
      rules: { allow: [], deny: [{ rule: "Bash(python3 -c:*)", source: "test" }], ask: [] },
      mode: "default",
      projectRoot,
      homeDir: base,
      extraDirs: [],
    });
    const bash = {
      name: "bash",
      ruleName: "Bash",
      readOnly: false,
      ruleSubject: (input: Record<string, unknown>) => input.command as string,
    };
    const decide = (command: string) => policy.decide(bash, { command }, { cwd: projectRoot }).behavior;
    expect(decide("python3 scripts/fill.py")).toBe("ask");
    const tool = skillTool(skills, (rule, source) => policy.grant(rule, source));
    await tool.run({ name: "pdf" }, {} as ToolContext);
    expect(decide("python3 scripts/fill.py")).toBe("allow");
    expect(decide("python3 -c 'import os'")).toBe("deny");
    expect(policy.rules().allow).toContainEqual({ rule: "Bash(python3:*)", source: "skill pdf" });
  });

  test("an allowed-tools entry that is not a rule is reported, the others are granted", async () => {
    const dir = join(base, "odd-home", "skills", "odd");
    put(join(dir, "SKILL.md"), "---\nname: odd\ndescription: Odd\nallowed-tools: Read, Bash(\n---\nBody.");
    const odd = listSkills({
      projectRoot: join(base, "y"),
      a3sHome: join(base, "odd-home"),
      homeDir: join(base, "y"),
    });
    const granted: string[] = [];
    const result = await skillTool(odd.skills, (rule) => {
      if (rule === "Bash(") throw new Error("unbalanced");
      granted.push(rule);
    }).run({ name: "odd" }, {} as ToolContext);
    expect(granted).toEqual(["Read"]);
    expect(result.content).toEndWith("(Not granted, not valid rules: Bash()");
  });

  test("a skill is read when loaded, so edits apply", () => {
    const path = put(join(base, "live-home", "skills", "live", "SKILL.md"), skillFile("live", "Live"));
    const live = listSkills({
      projectRoot: join(base, "x"),
      a3sHome: join(base, "live-home"),
      homeDir: join(base, "x"),
    });
    expect(live.skills.map((skill) => skill.name)).toContain("live");
    writeFileSync(path, skillFile("live", "Live", "", "Updated instructions."));
    expect(loadSkill(live.skills, "live").content).toEndWith("Updated instructions.");
  });

  test("an unknown name is an error result listing the skills", async () => {
    const result = await skillTool(skills, () => {
      throw new Error("nothing is granted for an unknown skill");
    }).run({ name: "nope" }, {} as ToolContext);
    expect(result.isError).toBe(true);
    expect(result.content).toBe(
      "No skill named 'nope'. Available skills: commit, legacy, nameless, pdf, review.",
    );
  });
});
