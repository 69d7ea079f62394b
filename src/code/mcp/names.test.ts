import { expect, test } from "bun:test";
import { hashedName, MAX_TOOL_NAME, mcpToolName, sanitizeName } from "./names.ts";

test("tool names follow Claude Code's mcp__<server>__<tool>", () => {
  expect(mcpToolName("github", "search_issues")).toBe("mcp__github__search_issues");
});

test("characters providers reject become underscores", () => {
  expect(sanitizeName("my.server/v2 beta")).toBe("my_server_v2_beta");
  expect(mcpToolName("docs.site", "get page")).toBe("mcp__docs_site__get_page");
});

test("long names are cut to the provider limit and stay distinct", () => {
  const long = "x".repeat(80);
  const a = mcpToolName("server", `${long}_alpha`);
  const b = mcpToolName("server", `${long}_beta`);
  expect(a.length).toBe(MAX_TOOL_NAME);
  expect(b.length).toBe(MAX_TOOL_NAME);
  expect(a).not.toBe(b);
  expect(a).toMatch(/^mcp__server__x+_[0-9a-f]{8}$/);
  expect(mcpToolName("server", `${long}_alpha`)).toBe(a);
});

test("hashedName separates names that sanitising made equal", () => {
  const dotted = hashedName(mcpToolName("s", "a.b"), "s", "a.b");
  const underscored = hashedName(mcpToolName("s", "a_b"), "s", "a_b");
  expect(dotted).not.toBe(underscored);
  expect(dotted).toMatch(/^mcp__s__a_b_[0-9a-f]{8}$/);
});
