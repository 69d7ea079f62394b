import { afterEach, describe, expect, test } from "bun:test";
import { cleanup, render } from "ink-testing-library";
import { ThemeProvider, themeFor } from "../theme.tsx";
import { colourFor, highlightLines } from "./highlight.ts";
import { Markdown } from "./markdown.tsx";

afterEach(cleanup);

const ANSI = /\x1b\[[0-9;]*m/g;

function frame(text: string): string {
  const app = render(
    <ThemeProvider value={themeFor({ NO_COLOR: "1" })}>
      <Markdown text={text} />
    </ThemeProvider>,
  );
  return (app.lastFrame() ?? "").replace(ANSI, "");
}

describe("Markdown", () => {
  test("headings, emphasis, inline code, links and block quotes lose their markup", () => {
    const out = frame(
      "# Title\n\nSome **bold**, *italic* and `code` with a [link](https://a3s.dev) and <https://x.dev>.\n\n> quoted *text*",
    );
    expect(out).toContain("Title");
    expect(out).not.toContain("#");
    expect(out).toContain("Some bold, italic and code with a link (https://a3s.dev) and https://x.dev.");
    expect(out).toMatch(/│ ?quoted text/);
  });

  test("lists: bullets, numbers from their start, tasks, nesting", () => {
    const out = frame("- one\n- two\n  1. inner\n\n3. three\n4. four\n\n- [x] done\n- [ ] open");
    expect(out).toContain("• one");
    expect(out).toMatch(/• two\n\s+1\. inner/);
    expect(out).toContain("3. three");
    expect(out).toContain("4. four");
    expect(out).toContain("☒ done");
    expect(out).toContain("☐ open");
  });

  test("tables align their columns", () => {
    const out = frame("| name | size |\n|------|-----:|\n| a.ts | 12 |\n| long-name.ts | 3 |");
    const lines = out.split("\n").filter((line) => line.includes("│"));
    expect(lines).toEqual(["name         │ size", "a.ts         │   12", "long-name.ts │    3"]);
  });

  test("fenced code keeps its text and language label", () => {
    const out = frame("```python\ndef f(x):\n    return x * 2\n```");
    expect(out).toContain("python");
    expect(out).toContain("def f(x):");
    expect(out).toContain("    return x * 2");
  });

  test("an unclosed fence while streaming still renders as code", () => {
    expect(frame("Here:\n\n```ts\nconst a = 1;")).toContain("const a = 1;");
  });
});

describe("highlight", () => {
  test("scopes come from highlight.js and map to theme colours", () => {
    const [first] = highlightLines('const s = "x"; // note', "typescript");
    const byText = Object.fromEntries((first ?? []).map((segment) => [segment.text, segment.scope]));
    expect(byText.const).toBe("keyword");
    expect(byText['"x"']).toBe("string");
    expect(byText["// note"]).toBe("comment");
    const syntax = themeFor({}).syntax;
    expect(colourFor("keyword", syntax)).toBe("magenta");
    expect(colourFor("title.function", syntax)).toBe("blue");
    expect(colourFor("keyword", themeFor({ NO_COLOR: "1" }).syntax)).toBeUndefined();
  });

  test("entities are decoded and unknown languages stay plain", () => {
    expect(
      highlightLines("a < b && c > d", "js")
        .flat()
        .map((s) => s.text)
        .join(""),
    ).toBe("a < b && c > d");
    expect(highlightLines("x\n\ny", "no-such-language")).toEqual([[{ text: "x" }], [], [{ text: "y" }]]);
  });
});
