/**
 * The read tool: a text file with line numbers as `cat -n` prints them, a window of it for large
 * files, and a clear refusal for binaries. Files are streamed, so a 1 GB log costs only the window.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { z } from "zod";
import { A3sError } from "../../core/errors.ts";
import type { ToolContext } from "../types.ts";
import { rememberFile } from "./file-state.ts";
import { confine, pathSubject, workspacePath } from "./paths.ts";
import { missingFile, numbered, refuseBinary, statFile } from "./text-file.ts";
import { defineTool } from "./tool.ts";

export const DEFAULT_LIMIT = 2_000;
export const MAX_LINE_CHARS = 2_000;
const CHUNK_BYTES = 1024 * 1024;

const input = z.object({
  file_path: z.string().describe("The file to read: relative to the workspace, or absolute"),
  offset: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("The line number to start at (1-based); only needed for files too long to read at once"),
  limit: z.number().int().min(1).optional().describe(`How many lines to read (default ${DEFAULT_LIMIT})`),
});

type Input = z.infer<typeof input>;

const DESCRIPTION = `Reads a text file and returns it with line numbers (cat -n format: the number, a tab, then the line).

- Reads up to ${DEFAULT_LIMIT} lines from the start by default; for longer files pass offset and limit to read further windows.
- Lines longer than ${MAX_LINE_CHARS} characters are cut.
- Read a file before editing it: edit needs its exact text. The line-number prefix is not part of the file.
- Images, PDFs and other binary files are refused; for directories use ls.
- Call it several times in one response to read several files at once.`;

interface Window {
  lines: string[];
  total: number;
}

/** Lines [offset, offset+limit) of a file plus its total line count, reading it once in chunks. */
export function readWindow(path: string, offset: number, limit: number): Window {
  const fd = openSync(path, "r");
  const decoder = new TextDecoder("utf-8");
  const buffer = Buffer.alloc(CHUNK_BYTES);
  const lines: string[] = [];
  let partial = "";
  let lineNumber = 0;
  let endsWithNewline = true;
  let sawBytes = false;
  const wanted = (n: number) => n >= offset && n < offset + limit;
  try {
    for (;;) {
      const read = readSync(fd, buffer, 0, CHUNK_BYTES, null);
      if (read === 0) break;
      sawBytes = true;
      const chunk = buffer.subarray(0, read);
      endsWithNewline = chunk[read - 1] === 10;
      // Past the window only the newlines matter, and counting bytes is much cheaper than decoding.
      if (lineNumber + 1 >= offset + limit && partial === "") {
        for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lineNumber++;
        continue;
      }
      const parts = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        lineNumber++;
        if (wanted(lineNumber)) lines.push(line);
      }
    }
    partial += decoder.decode();
    if (sawBytes && !endsWithNewline) {
      lineNumber++;
      if (wanted(lineNumber)) lines.push(partial);
    }
  } finally {
    closeSync(fd);
  }
  return { lines, total: lineNumber };
}

function showLine(line: string): string {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (text.length <= MAX_LINE_CHARS) return text;
  return `${text.slice(0, MAX_LINE_CHARS)} [… line cut: ${text.length} characters in all]`;
}

async function readFile(value: Input, ctx: ToolContext) {
  const path = confine(value.file_path, ctx);
  const shown = workspacePath(path, ctx.cwd);
  const stat = statFile(path, shown);
  if (stat === undefined) throw missingFile(path, shown);
  refuseBinary(path, shown, stat.size);
  rememberFile(ctx, path);
  if (stat.size === 0)
    return { content: `${shown} exists but is empty.`, summary: "Read 0 lines (empty file)" };
  const offset = value.offset ?? 1;
  const limit = value.limit ?? DEFAULT_LIMIT;
  const { lines, total } = readWindow(path, offset, limit);
  if (offset > total) {
    throw new A3sError("usage", `offset ${offset} is past the end: ${shown} has ${total} lines`);
  }
  const last = offset + lines.length - 1;
  const body = lines.map((line, i) => numbered(offset + i, showLine(line))).join("\n");
  const partial = offset > 1 || last < total;
  const more = last < total ? `; continue with offset=${last + 1}` : "";
  return {
    content: partial ? `${body}\n\n(lines ${offset}-${last} of ${total}${more})` : body,
    summary: partial ? `Read lines ${offset}-${last} of ${total}` : `Read ${total} lines`,
  };
}

export const readTool = defineTool<Input>({
  name: "read",
  ruleName: "Read",
  description: DESCRIPTION,
  input,
  readOnly: true,
  ruleSubject: (value, ctx) => pathSubject(value.file_path, ctx.cwd),
  run: readFile,
});
