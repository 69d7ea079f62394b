/**
 * What the file tools share about files on disk: looking one up with errors the model can act on,
 * telling text from binary, and keeping a file's line endings, BOM and mode through a rewrite.
 */
import { chmodSync, closeSync, openSync, readdirSync, readSync, type Stats, statSync } from "node:fs";
import { basename, dirname, extname } from "node:path";
import { A3sError } from "../../core/errors.ts";
import { writeFileAtomic } from "../../core/fs.ts";

/** The file's stat, or undefined when it does not exist; a directory is an error naming ls. */
export function statFile(path: string, shown: string): Stats | undefined {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    if (code === "EACCES") throw new A3sError("permission", `${shown}: permission denied`);
    throw err;
  }
  if (stat.isDirectory())
    throw new A3sError("usage", `${shown} is a directory, not a file`, { hint: "use ls to list it" });
  return stat;
}

export function missingFile(path: string, shown: string): A3sError {
  const similar = similarNames(path);
  return new A3sError("not_found", `${shown} does not exist`, {
    ...(similar.length > 0 ? { hint: `similar files there: ${similar.join(", ")}` } : {}),
  });
}

/** Siblings with the same stem ("config.ts" for a missing "config.js"), or the same name in any case. */
function similarNames(path: string): string[] {
  const name = basename(path);
  const stem = name.slice(0, name.length - extname(name).length).toLowerCase();
  try {
    return readdirSync(dirname(path))
      .filter((entry) => {
        const lower = entry.toLowerCase();
        return lower === name.toLowerCase() || lower.startsWith(`${stem}.`);
      })
      .slice(0, 5);
  } catch {
    return [];
  }
}

const SNIFF_BYTES = 8 * 1024;

const MAGIC: Array<{ bytes: number[]; offset?: number; kind: string }> = [
  { bytes: [0x89, 0x50, 0x4e, 0x47], kind: "PNG image" },
  { bytes: [0xff, 0xd8, 0xff], kind: "JPEG image" },
  { bytes: [0x47, 0x49, 0x46, 0x38], kind: "GIF image" },
  { bytes: [0x57, 0x45, 0x42, 0x50], offset: 8, kind: "WebP image" },
  { bytes: [0x25, 0x50, 0x44, 0x46], kind: "PDF document" },
  { bytes: [0x50, 0x4b, 0x03, 0x04], kind: "ZIP archive" },
  { bytes: [0x1f, 0x8b], kind: "gzip archive" },
  { bytes: [0x7f, 0x45, 0x4c, 0x46], kind: "ELF executable" },
  { bytes: [0x00, 0x61, 0x73, 0x6d], kind: "WebAssembly module" },
];

/** Names a binary file's kind ("PNG image", "binary file"), or undefined for UTF-8 text. */
export function binaryKind(head: Uint8Array): string | undefined {
  for (const magic of MAGIC) {
    const at = magic.offset ?? 0;
    if (magic.bytes.every((byte, i) => head[at + i] === byte)) return magic.kind;
  }
  if (head.includes(0)) return "binary file";
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(trimPartialChar(head));
  } catch {
    return "binary file (not UTF-8 text)";
  }
  return undefined;
}

/** A sniffed prefix may end inside a multi-byte character; that is not an encoding error. */
function trimPartialChar(bytes: Uint8Array): Uint8Array {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const width = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return width > back ? bytes.subarray(0, bytes.length - back) : bytes;
  }
  return bytes;
}

export function sniff(path: string): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const buffer = new Uint8Array(SNIFF_BYTES);
    return buffer.subarray(0, readSync(fd, buffer, 0, SNIFF_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function refuseBinary(path: string, shown: string, size: number): void {
  const kind = binaryKind(sniff(path));
  if (kind !== undefined)
    throw new A3sError(
      "usage",
      `${shown} is a ${kind} (${formatSize(size)}); only text files can be read or edited`,
    );
}

/**
 * A text file as the edit tools work on it: LF line endings and no BOM. `restore` puts the
 * file's own conventions back (CRLF only when every line had it, so mixed files stay untouched).
 */
export interface TextForm {
  text: string;
  restore(text: string): string;
}

export function textForm(raw: string): TextForm {
  const bom = raw.startsWith("\uFEFF") ? "\uFEFF" : "";
  const body = raw.slice(bom.length);
  const crlf = body.includes("\r\n") && !/(^|[^\r])\n/.test(body);
  return {
    text: crlf ? body.replaceAll("\r\n", "\n") : body,
    restore: (text) => bom + (crlf ? text.replaceAll("\n", "\r\n") : text),
  };
}

/** Replaces a file atomically, keeping the mode it had (0644 for a new file), whatever the umask. */
export function replaceFile(path: string, content: string, previous: Stats | undefined): void {
  const mode = previous === undefined ? 0o644 : previous.mode & 0o7777;
  writeFileAtomic(path, content, mode);
  if (previous !== undefined) chmodSync(path, mode);
}

export function lineCount(text: string): number {
  if (text === "") return 0;
  const newlines = text.split("\n").length - 1;
  return text.endsWith("\n") ? newlines : newlines + 1;
}

/** `cat -n` style: the number right-aligned in six columns, a tab, the line. */
export function numbered(lineNumber: number, text: string): string {
  return `${String(lineNumber).padStart(6)}\t${text}`;
}
