import { describe, expect, test } from "bun:test";
import { expectUsage } from "../../tests/expect-error.ts";
import { definitionRoots, listField, parseFrontMatter, stringField } from "./frontmatter.ts";

describe("parseFrontMatter", () => {
  test("splits YAML from the body", () => {
    const text =
      "---\nname: pdf\ndescription: >\n  Fill PDF forms\nallowed-tools: [Read, Bash]\n---\n# PDF\n\nSteps.\n";
    expect(parseFrontMatter(text, "SKILL.md")).toEqual({
      data: { name: "pdf", description: "Fill PDF forms\n", "allowed-tools": ["Read", "Bash"] },
      body: "# PDF\n\nSteps.\n",
    });
  });

  test("CRLF line endings, a BOM and an empty block", () => {
    expect(parseFrontMatter("\uFEFF---\r\nname: x\r\n---\r\nbody", "f")).toEqual({
      data: { name: "x" },
      body: "body",
    });
    expect(parseFrontMatter("---\n---\nbody", "f")).toEqual({ data: {}, body: "body" });
    expect(parseFrontMatter("---\nname: x\n---", "f")).toEqual({ data: { name: "x" }, body: "" });
  });

  test("a '---' inside the body is body text", () => {
    expect(parseFrontMatter("---\na: 1\n---\nintro\n---\nmore", "f").body).toBe("intro\n---\nmore");
  });

  test("errors name the file", () => {
    expectUsage(() => parseFrontMatter("# no front matter", "/s/SKILL.md"), "/s/SKILL.md: no front matter");
    expectUsage(() => parseFrontMatter("---\nname: x\n", "/s/SKILL.md"), "not closed");
    expectUsage(() => parseFrontMatter("---\nname: [unclosed\n---\n", "/s/SKILL.md"), "invalid YAML");
    expectUsage(() => parseFrontMatter("---\n- a\n- b\n---\n", "/s/SKILL.md"), "must be a mapping");
  });
});

describe("fields", () => {
  test("strings are trimmed; blank is absent; other types are errors", () => {
    expect(stringField({ a: "  x " }, "a", "f")).toBe("x");
    expect(stringField({ a: " " }, "a", "f")).toBeUndefined();
    expect(stringField({}, "a", "f")).toBeUndefined();
    expectUsage(() => stringField({ a: 3 }, "a", "f"), "f: 'a' must be a string");
  });

  test("lists: YAML lists or comma strings, commas inside parentheses kept", () => {
    expect(listField({ t: ["Read", " Grep "] }, "t", "f")).toEqual(["Read", "Grep"]);
    expect(listField({ t: "Read, Grep,Bash(git add:*, git commit:*) , " }, "t", "f")).toEqual([
      "Read",
      "Grep",
      "Bash(git add:*, git commit:*)",
    ]);
    expect(listField({}, "t", "f")).toBeUndefined();
    expectUsage(() => listField({ t: [1] }, "t", "f"), "must list strings");
    expectUsage(() => listField({ t: { a: 1 } }, "t", "f"), "comma-separated");
  });
});

test("definition roots, lowest precedence first, without duplicates", () => {
  expect(definitionRoots("skills", { projectRoot: "/p", a3sHome: "/h/.a3s", homeDir: "/h" })).toEqual([
    { dir: "/h/.claude/skills", scope: "user" },
    { dir: "/h/.a3s/skills", scope: "user" },
    { dir: "/p/.claude/skills", scope: "project" },
    { dir: "/p/.a3s/skills", scope: "project" },
  ]);
  expect(definitionRoots("agents", { projectRoot: "/h", a3sHome: "/h/.a3s", homeDir: "/h" })).toHaveLength(2);
});
