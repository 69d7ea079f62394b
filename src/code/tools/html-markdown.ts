/**
 * HTML to Markdown for web_fetch: the page's readable content (main or article when there is one)
 * as headings, paragraphs, links, nested lists, fenced code with its language, GFM tables, quotes
 * and emphasis. Scripts, styles, navigation and form controls are dropped; entities are decoded.
 */
import { type HTMLElement, type Node, NodeType, parse } from "node-html-parser";

const DROP = new Set([
  "script",
  "style",
  "noscript",
  "nav",
  "template",
  "svg",
  "canvas",
  "iframe",
  "head",
  "link",
  "meta",
  "button",
  "input",
  "select",
  "textarea",
  "object",
  "embed",
]);

const BLOCK = new Set([
  "p",
  "div",
  "section",
  "article",
  "main",
  "header",
  "footer",
  "aside",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "ul",
  "ol",
  "li",
  "pre",
  "blockquote",
  "table",
  "hr",
  "dl",
  "dt",
  "dd",
  "figure",
  "figcaption",
  "details",
  "summary",
  "address",
  "form",
  "fieldset",
  "center",
  "body",
  "html",
  "tr",
  "td",
  "th",
]);

export interface Converted {
  title?: string;
  markdown: string;
}

interface Context {
  base?: string;
}

const tagOf = (node: Node) => (node as HTMLElement).rawTagName?.toLowerCase() ?? "";
const isElement = (node: Node): node is HTMLElement => node.nodeType === NodeType.ELEMENT_NODE;
const collapse = (text: string) => text.replace(/[\s\u00a0]+/g, " ");

function resolveUrl(href: string, ctx: Context): string {
  try {
    return ctx.base ? new URL(href, ctx.base).href : href;
  } catch {
    return href;
  }
}

/** Wraps with a marker, keeping the spaces outside it (`** bold **` would not be bold). */
function wrap(text: string, marker: string): string {
  const inner = text.trim();
  if (inner === "") return text;
  const lead = text.startsWith(" ") ? " " : "";
  const trail = text.endsWith(" ") ? " " : "";
  return `${lead}${marker}${inner}${marker}${trail}`;
}

function codeSpan(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

function inline(node: Node, ctx: Context): string {
  if (node.nodeType === NodeType.TEXT_NODE) return collapse(node.text);
  if (!isElement(node)) return "";
  const tag = tagOf(node);
  if (DROP.has(tag)) return "";
  const children = () => node.childNodes.map((child) => inline(child, ctx)).join("");
  switch (tag) {
    case "br":
      return "\n";
    case "strong":
    case "b":
      return wrap(children(), "**");
    case "em":
    case "i":
      return wrap(children(), "*");
    case "del":
    case "s":
    case "strike":
      return wrap(children(), "~~");
    case "code":
    case "kbd":
    case "samp":
      return codeSpan(collapse(node.text));
    case "a": {
      const text = children().trim();
      const href = node.getAttribute("href")?.trim();
      if (!href || href.startsWith("#") || /^javascript:/i.test(href) || text === "") return text;
      return `[${text}](${resolveUrl(href, ctx)})`;
    }
    case "img": {
      const alt = collapse(node.getAttribute("alt") ?? "").trim();
      const src = node.getAttribute("src");
      if (!alt || !src || src.startsWith("data:")) return alt;
      return `![${alt}](${resolveUrl(src, ctx)})`;
    }
    default:
      // Blocks inside inline content (a div in a link) are read as text.
      return BLOCK.has(tag) ? ` ${children()} ` : children();
  }
}

function paragraph(text: string): string {
  return text
    .split("\n")
    .map((line) => line.replace(/ {2,}/g, " ").trim())
    .join("\n")
    .replace(/\n{2,}/g, "\n")
    .trim();
}

function blocks(node: HTMLElement, ctx: Context): string[] {
  const out: string[] = [];
  let run = "";
  const flush = () => {
    const text = paragraph(run);
    if (text !== "") out.push(text);
    run = "";
  };
  for (const child of node.childNodes) {
    const tag = tagOf(child);
    if (isElement(child) && DROP.has(tag)) continue;
    if (isElement(child) && BLOCK.has(tag)) {
      flush();
      const block = blockOf(child, ctx);
      if (block.trim() !== "") out.push(block);
    } else {
      run += inline(child, ctx);
    }
  }
  flush();
  return out;
}

const indent = (text: string, by: string) =>
  text
    .split("\n")
    .map((line, i) => (i === 0 || line === "" ? line : `${by}${line}`))
    .join("\n");

function list(node: HTMLElement, ctx: Context, ordered: boolean): string {
  let number = Number(node.getAttribute("start") ?? "1") || 1;
  const items: string[] = [];
  for (const child of node.childNodes) {
    if (!isElement(child)) continue;
    const tag = tagOf(child);
    // A list directly inside a list (invalid, but common) belongs to the item before it.
    if ((tag === "ul" || tag === "ol") && items.length > 0) {
      const nested = list(child, ctx, tag === "ol")
        .split("\n")
        .map((line) => `  ${line}`)
        .join("\n");
      items[items.length - 1] += `\n${nested}`;
      continue;
    }
    const marker = ordered ? `${number++}. ` : "- ";
    const body = blocks(child, ctx).join("\n");
    items.push(`${marker}${indent(body, " ".repeat(marker.length))}`);
  }
  return items.join("\n");
}

function codeBlock(node: HTMLElement): string {
  const code = node.querySelector("code");
  const classes = `${node.getAttribute("class") ?? ""} ${code?.getAttribute("class") ?? ""}`;
  const language = /(?:^|\s)(?:language|lang|highlight-source)-([\w+#.-]+)/.exec(classes)?.[1] ?? "";
  const text = node.text.replace(/\n+$/, "");
  const longest = Math.max(2, ...(text.match(/^`+/gm) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${language}\n${text}\n${fence}`;
}

function table(node: HTMLElement, ctx: Context): string {
  const rows = node
    .querySelectorAll("tr")
    .map((row) =>
      row.childNodes
        .filter((cell) => isElement(cell) && (tagOf(cell) === "td" || tagOf(cell) === "th"))
        .map((cell) => paragraph(inline(cell, ctx)).replace(/\n/g, " ").replace(/\|/g, "\\|")),
    )
    .filter((cells) => cells.length > 0);
  if (rows.length === 0) return "";
  const width = Math.max(...rows.map((cells) => cells.length));
  const line = (cells: string[]) => `| ${[...cells, ...Array(width - cells.length).fill("")].join(" | ")} |`;
  const [header, ...body] = rows;
  return [line(header!), line(Array(width).fill("---")), ...body.map(line)].join("\n");
}

function blockOf(node: HTMLElement, ctx: Context): string {
  const tag = tagOf(node);
  const heading = /^h([1-6])$/.exec(tag);
  if (heading) return `${"#".repeat(Number(heading[1]))} ${paragraph(inline(node, ctx)).replace(/\n/g, " ")}`;
  switch (tag) {
    case "hr":
      return "---";
    case "ul":
      return list(node, ctx, false);
    case "ol":
      return list(node, ctx, true);
    case "pre":
      return codeBlock(node);
    case "table":
      return table(node, ctx);
    case "blockquote":
      return blocks(node, ctx)
        .join("\n\n")
        .split("\n")
        .map((line) => (line === "" ? ">" : `> ${line}`))
        .join("\n");
    case "dt":
      return wrap(paragraph(inline(node, ctx)), "**");
    default:
      return blocks(node, ctx).join("\n\n");
  }
}

/** The part of the page worth reading: its only <main> or <article> when it has one, else <body>. */
function contentRoot(root: HTMLElement): HTMLElement {
  for (const selector of ["main", "article", "[role=main]"]) {
    const found = root.querySelectorAll(selector);
    if (found.length === 1) return found[0]!;
  }
  return root.querySelector("body") ?? root;
}

export function htmlToMarkdown(html: string, baseUrl?: string): Converted {
  const root = parse(html, { blockTextElements: { script: true, style: true, noscript: true } });
  const title = collapse(root.querySelector("title")?.text ?? "").trim();
  const markdown = blocks(contentRoot(root), baseUrl ? { base: baseUrl } : {})
    .join("\n\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  return { ...(title ? { title } : {}), markdown };
}
