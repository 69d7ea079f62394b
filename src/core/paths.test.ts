import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { pathsFor, resolveHome } from "./paths.ts";

describe("resolveHome", () => {
  test("--home wins over A3S_HOME", () => {
    expect(resolveHome({ A3S_HOME: "/env/home", HOME: "/u" }, "/flag/home")).toBe("/flag/home");
  });
  test("A3S_HOME wins over ~/.a3s", () => {
    expect(resolveHome({ A3S_HOME: "/env/home", HOME: "/u" })).toBe("/env/home");
  });
  test("defaults to ~/.a3s", () => {
    expect(resolveHome({ HOME: "/u" })).toBe("/u/.a3s");
  });
  test("an empty A3S_HOME is ignored", () => {
    expect(resolveHome({ A3S_HOME: "", HOME: "/u" })).toBe("/u/.a3s");
  });
  test("a relative override is relative to the working directory", () => {
    expect(resolveHome({}, "state")).toBe(resolve("state"));
  });
});

test("every path lives under the home", () => {
  const paths = pathsFor("/h");
  for (const path of Object.values(paths)) expect(path.startsWith("/h")).toBe(true);
  expect(paths.config).toBe(join("/h", "config.json"));
  expect(paths.db).toBe(join("/h", "a3s.db"));
  expect(paths.blobs).toBe("/h/images/blobs/sha256");
  expect(paths.models).toBe("/h/power/models");
});
