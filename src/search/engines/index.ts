/** Every engine a3s knows, and how names on the command line (`-e ddg,wiki`) resolve to them. */
import { A3sError } from "../../core/errors.ts";
import type { Engine } from "../types.ts";
import { baidu } from "./baidu.ts";
import { bing } from "./bing.ts";
import { bingApi } from "./bing-api.ts";
import { brave } from "./brave.ts";
import { braveApi } from "./brave-api.ts";
import { duckduckgo } from "./duckduckgo.ts";
import { github } from "./github.ts";
import { google } from "./google.ts";
import { mojeek } from "./mojeek.ts";
import { searxng } from "./searxng.ts";
import { so360 } from "./so360.ts";
import { sogou } from "./sogou.ts";
import { stackexchange } from "./stackexchange.ts";
import { tavily } from "./tavily.ts";
import { wikipedia } from "./wikipedia.ts";

export const ENGINES: readonly Engine[] = [
  duckduckgo,
  wikipedia,
  brave,
  bing,
  mojeek,
  baidu,
  sogou,
  so360,
  searxng,
  github,
  stackexchange,
  braveApi,
  google,
  bingApi,
  tavily,
];

export function findEngine(name: string): Engine | undefined {
  const key = name.trim().toLowerCase();
  return ENGINES.find((e) => e.name === key || e.shortcut === key || e.aliases?.includes(key));
}

/** Resolves names, shortcuts and aliases, de-duplicated in the order given. */
export function resolveEngines(names: readonly string[]): Engine[] {
  const engines: Engine[] = [];
  for (const name of names) {
    if (name.trim() === "") continue;
    const engine = findEngine(name);
    if (engine === undefined) {
      throw new A3sError("usage", `unknown search engine '${name}'`, {
        hint: `known engines: ${ENGINES.map((e) => `${e.name} (${e.shortcut})`).join(", ")}`,
      });
    }
    if (!engines.includes(engine)) engines.push(engine);
  }
  return engines;
}
