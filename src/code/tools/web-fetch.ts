/**
 * The web_fetch tool: one http(s) URL, redirects followed by hand (each hop must stay http(s), and
 * the final URL is what relative links resolve against), HTML turned into Markdown, text and JSON
 * passed through, binaries refused, the download and the answer both capped.
 */
import type { Dispatcher } from "undici/index.js";
import { z } from "zod";
import { A3sError } from "../../core/errors.ts";
import { headerValue, httpRequest } from "../../core/http.ts";
import { VERSION } from "../../core/version.ts";
import type { ToolContext, ToolResult } from "../types.ts";
import { binaryKind, formatSize } from "./text-file.ts";
import { defineTool } from "./tool.ts";

export const MAX_DOWNLOAD_BYTES = 5 * 1024 * 1024;
export const MAX_OUTPUT_CHARS = 100_000;
const MAX_REDIRECTS = 10;
const TIMEOUT_MS = 30_000;

const input = z.object({
  url: z.string().describe("The http:// or https:// URL to fetch"),
  start_index: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("Character offset to start from, to read on where a previous call was cut"),
});

type Input = z.infer<typeof input>;

const DESCRIPTION = `Fetches a web page or file over HTTP(S) and returns its content: HTML converted to Markdown, plain text and JSON as they are.

- Use it to read documentation, issues, API responses or any URL the user gives. Use web_search to find pages first.
- Only http:// and https:// URLs; redirects are followed. Binary content (images, PDFs, archives) is refused.
- The answer is cut at ${MAX_OUTPUT_CHARS / 1000}k characters; call again with start_index to read further.
- It cannot log in: pages behind authentication return what an anonymous visitor sees.`;

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new A3sError("usage", `not a valid URL: ${raw}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new A3sError("usage", `only http and https URLs can be fetched, not ${url.protocol}`);
  return url;
}

let plainDispatcher: Promise<Dispatcher> | undefined;

/** A dispatcher that does not follow redirects (this tool checks each hop), honouring proxies. */
function dispatcherFor(env: NodeJS.ProcessEnv): Promise<Dispatcher> {
  plainDispatcher ??= (async () => {
    const { Agent, EnvHttpProxyAgent } = await import("undici/index.js");
    const proxy = (name: string) => env[name] ?? env[name.toLowerCase()];
    const httpProxy = proxy("HTTP_PROXY");
    const httpsProxy = proxy("HTTPS_PROXY");
    const noProxy = proxy("NO_PROXY");
    if (!httpProxy && !httpsProxy) return new Agent({ keepAliveTimeout: 10_000 });
    return new EnvHttpProxyAgent({
      ...(httpProxy ? { httpProxy } : {}),
      ...(httpsProxy ? { httpsProxy } : {}),
      ...(noProxy ? { noProxy } : {}),
    });
  })();
  return plainDispatcher;
}

interface Fetched {
  url: URL;
  status: number;
  contentType: string;
  body: Buffer;
  truncated: boolean;
}

async function download(start: URL, ctx: ToolContext): Promise<Fetched> {
  const dispatcher = await dispatcherFor(ctx.env);
  let url = start;
  for (let hop = 0; ; hop++) {
    const response = await httpRequest(url, {
      dispatcher,
      signal: ctx.signal,
      timeoutMs: TIMEOUT_MS,
      retries: 1,
      headers: {
        "user-agent": `Mozilla/5.0 (compatible; a3s-code/${VERSION})`,
        accept:
          "text/html,application/xhtml+xml,text/markdown,text/plain;q=0.9,application/json;q=0.9,*/*;q=0.5",
      },
    });
    const location = headerValue(response, "location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body.dump();
      if (hop >= MAX_REDIRECTS)
        throw new A3sError("network", `${start.href}: more than ${MAX_REDIRECTS} redirects`);
      url = parseUrl(new URL(location, url).href);
      continue;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer;
      if (size + buffer.length > MAX_DOWNLOAD_BYTES) {
        chunks.push(buffer.subarray(0, MAX_DOWNLOAD_BYTES - size));
        truncated = true;
        response.body.destroy();
        break;
      }
      chunks.push(buffer);
      size += buffer.length;
    }
    return {
      url,
      status: response.status,
      contentType: headerValue(response, "content-type") ?? "",
      body: Buffer.concat(chunks),
      truncated,
    };
  }
}

const TEXTUAL =
  /^(text\/|application\/(json|ld\+json|xml|xhtml\+xml|javascript|x-javascript|ecmascript|yaml|x-yaml|toml|x-sh|graphql)|[^;]*\+(json|xml))/i;

function decode(body: Buffer, contentType: string): string {
  const charset = /charset=["']?([\w-]+)/i.exec(contentType)?.[1] ?? "utf-8";
  try {
    return new TextDecoder(charset as "utf-8").decode(body);
  } catch {
    return new TextDecoder("utf-8").decode(body);
  }
}

/** The page as the model reads it: Markdown for HTML, the text itself otherwise. */
async function render(fetched: Fetched): Promise<{ text: string; title?: string }> {
  const type = fetched.contentType.split(";")[0]!.trim().toLowerCase();
  const sniffed = binaryKind(fetched.body.subarray(0, 8192));
  const html =
    type === "text/html" ||
    type === "application/xhtml+xml" ||
    (type === "" && /^\s*<(!doctype html|html)/i.test(fetched.body.subarray(0, 512).toString()));
  if (!html && !(TEXTUAL.test(type) || (type === "" && sniffed === undefined))) {
    throw new A3sError(
      "usage",
      `${fetched.url.href} is ${type || sniffed || "binary content"} (${formatSize(fetched.body.length)}${fetched.truncated ? "+" : ""}); web_fetch reads text and web pages only`,
    );
  }
  const text = decode(fetched.body, fetched.contentType);
  if (!html) return { text };
  const { htmlToMarkdown } = await import("./html-markdown.ts");
  const { title, markdown } = htmlToMarkdown(text, fetched.url.href);
  return { text: markdown, ...(title ? { title } : {}) };
}

async function fetchUrl(value: Input, ctx: ToolContext): Promise<ToolResult> {
  const start = parseUrl(value.url);
  const fetched = await download(start, ctx);
  if (fetched.status >= 400) {
    throw new A3sError("network", `${fetched.url.href} answered HTTP ${fetched.status}`, {
      hint: fetched.status === 404 ? "check the URL, or find the page with web_search" : undefined,
    });
  }
  const { text, title } = await render(fetched);
  const piece = text.slice(value.start_index, value.start_index + MAX_OUTPUT_CHARS);
  const end = value.start_index + piece.length;
  const header = [
    `URL: ${fetched.url.href}`,
    ...(fetched.url.href !== start.href ? [`(redirected from ${start.href})`] : []),
    ...(title ? [`Title: ${title}`] : []),
  ].join("\n");
  const notes = [
    ...(fetched.truncated
      ? [`(the download stopped at ${formatSize(MAX_DOWNLOAD_BYTES)}; the rest of the page is missing)`]
      : []),
    ...(end < text.length
      ? [
          `(showing characters ${value.start_index}-${end} of ${text.length}; call again with start_index=${end} to read on)`,
        ]
      : []),
  ];
  const body =
    piece === ""
      ? value.start_index > 0
        ? `(start_index ${value.start_index} is past the end: ${text.length} characters)`
        : "(the page has no text content)"
      : piece;
  return {
    content: [header, body, ...notes].join("\n\n"),
    summary: `Fetched ${formatSize(fetched.body.length)} from ${fetched.url.host} (HTTP ${fetched.status})`,
  };
}

export const webFetchTool = defineTool<Input>({
  name: "web_fetch",
  ruleName: "WebFetch",
  description: DESCRIPTION,
  input,
  readOnly: true,
  ruleSubject: (value) => {
    try {
      return `domain:${new URL(value.url.trim()).hostname}`;
    } catch {
      return undefined;
    }
  },
  run: fetchUrl,
});
