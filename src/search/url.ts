/**
 * URL normalisation for de-duplication across engines: the same page reaches us as http and https,
 * with and without `www.`, a trailing slash, tracking parameters or a fragment.
 */

/** Query parameters that identify a campaign or a click, never the page. */
const TRACKING_PARAMS = new Set([
  "fbclid",
  "gclid",
  "gclsrc",
  "dclid",
  "msclkid",
  "yclid",
  "mc_cid",
  "mc_eid",
  "igshid",
  "_ga",
  "_gl",
  "ref_src",
  "ref_url",
  "spm",
  "srsltid",
  "si",
]);

function isTracking(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith("utm_") || TRACKING_PARAMS.has(lower);
}

/**
 * The de-duplication key of a URL: host without `www.` and default port, path without trailing
 * slash, remaining query parameters sorted, no scheme, no fragment. Unparseable input is returned
 * trimmed, so it still de-duplicates with itself.
 */
export function normalizeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return raw.trim();
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return url.href;
  const host = url.hostname.toLowerCase().replace(/^www\./, "");
  const port = url.port === "" || url.port === "80" || url.port === "443" ? "" : `:${url.port}`;
  let path = url.pathname.replace(/\/+$/, "");
  path = path.replace(/\/index\.html?$/i, "");
  const params = [...url.searchParams.entries()].filter(([name]) => !isTracking(name));
  params.sort(([a, av], [b, bv]) => (a === b ? av.localeCompare(bv) : a.localeCompare(b)));
  const query = params.length === 0 ? "" : `?${new URLSearchParams(params).toString()}`;
  return `${host}${port}${path}${query}`;
}

/** The URL shown to people: the original minus tracking parameters and fragment. */
export function cleanUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return raw.trim();
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return url.href;
  for (const name of [...url.searchParams.keys()]) if (isTracking(name)) url.searchParams.delete(name);
  url.hash = "";
  return url.href;
}

/** Resolves a possibly relative or protocol-relative href against the page it came from. */
export function absoluteUrl(href: string, base: string): string | undefined {
  try {
    return new URL(href, base).href;
  } catch {
    return undefined;
  }
}
