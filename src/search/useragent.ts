/**
 * User agents for scraped engines, rotated per request: engines' bot checks key on a single agent
 * hammering them. Current desktop browsers only; API engines get a3s's own agent instead.
 */
import { VERSION } from "../core/version.ts";

export const BROWSER_USER_AGENTS: readonly string[] = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/137.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:140.0) Gecko/20100101 Firefox/140.0",
  "Mozilla/5.0 (X11; Linux x86_64; rv:139.0) Gecko/20100101 Firefox/139.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36 Edg/138.0.0.0",
];

export const API_USER_AGENT = `a3s/${VERSION} (+https://github.com/A3S-Lab)`;

/** A browser user agent chosen at random, so parallel engines and repeated runs do not share one. */
export function rotateUserAgent(random: () => number = Math.random): string {
  const index = Math.floor(random() * BROWSER_USER_AGENTS.length) % BROWSER_USER_AGENTS.length;
  return BROWSER_USER_AGENTS[index] as string;
}
