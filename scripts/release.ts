#!/usr/bin/env bun
/**
 * Turns the release matrix built by `bun scripts/build.ts --all` into Formula/a3s.rb. Nothing is
 * trusted blindly: every archive must exist, match its SHA256SUMS line and hold the files the formula
 * installs, or the script names each problem and exits 1 without writing the formula.
 *   bun scripts/release.ts [--version 1.2.3] [--base-url https://…/releases/download] [--dist dist/release]
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { list as listTar } from "tar";
import pkg from "../package.json" with { type: "json" };
import { DEFAULT_BASE_URL, formulaArchives, renderFormula } from "./lib/formula.ts";

const ROOT = join(import.meta.dir, "..");

/** What `bin.install` and the `*_completion.install` lines of the formula expect inside each archive. */
const ARCHIVE_CONTENTS = ["a3s", "completions/a3s.bash", "completions/_a3s", "completions/a3s.fish"];

export function releaseArchives(version: string): string[] {
  return [...formulaArchives(version), `a3s-${version}-windows-x64.zip`];
}

/** Parses sha256sum output: `<hex>  <file>`, or `<hex> *<file>` when written in binary mode. */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (match) sums.set(match[2]!, match[1]!);
  }
  return sums;
}

export interface Verified {
  /** Archive name → sha256, for every archive that passed. */
  sha256: Record<string, string>;
  problems: string[];
}

export async function verifyRelease(dir: string, version: string): Promise<Verified> {
  const sumsText = await readFile(join(dir, "SHA256SUMS"), "utf8").catch(() => undefined);
  if (sumsText === undefined) return { sha256: {}, problems: [`${join(dir, "SHA256SUMS")} is missing`] };
  const listed = parseSha256Sums(sumsText);
  const sha256: Record<string, string> = {};
  const problems: string[] = [];
  for (const archive of releaseArchives(version)) {
    const check = await checkArchive(dir, archive, listed.get(archive));
    if (check.ok) sha256[archive] = check.digest;
    else problems.push(...check.problems);
  }
  return { sha256, problems };
}

type ArchiveCheck = { ok: true; digest: string } | { ok: false; problems: string[] };

async function checkArchive(dir: string, archive: string, listed: string | undefined): Promise<ArchiveCheck> {
  const bytes = await readFile(join(dir, archive)).catch(() => undefined);
  if (bytes === undefined) return { ok: false, problems: [`${archive} is missing from ${dir}`] };
  if (listed === undefined) return { ok: false, problems: [`${archive} has no line in SHA256SUMS`] };
  const digest = createHash("sha256").update(bytes).digest("hex");
  if (digest !== listed) {
    return { ok: false, problems: [`${archive}: sha256 is ${digest} but SHA256SUMS says ${listed}`] };
  }
  const problems = archive.endsWith(".tar.gz") ? await tarProblems(join(dir, archive)) : [];
  return problems.length > 0 ? { ok: false, problems } : { ok: true, digest };
}

/** Homebrew unpacks into the archive's single top directory, so the files must sit right under it. */
async function tarProblems(file: string): Promise<string[]> {
  const top = basename(file, ".tar.gz");
  const modes = new Map<string, number>();
  await listTar({
    file,
    onReadEntry: (entry) => modes.set(entry.path.replace(/^\.\//, ""), entry.mode ?? 0),
  });
  const problems = ARCHIVE_CONTENTS.filter((path) => !modes.has(`${top}/${path}`)).map(
    (path) => `${top}.tar.gz does not contain ${top}/${path}`,
  );
  const binaryMode = modes.get(`${top}/a3s`);
  if (binaryMode !== undefined && (binaryMode & 0o111) === 0) problems.push(`${top}/a3s is not executable`);
  return problems;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      version: { type: "string", default: pkg.version },
      "base-url": { type: "string", default: DEFAULT_BASE_URL },
      dist: { type: "string", default: join(ROOT, "dist", "release") },
    },
  });
  const version = values.version.replace(/^v/, "");
  const { sha256, problems } = await verifyRelease(values.dist, version);
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`error: ${problem}\n`);
    process.stderr.write("build the release first: bun scripts/build.ts --all\n");
    return 1;
  }
  const text = renderFormula(version, values["base-url"], sha256);
  const formula = join(ROOT, "Formula", "a3s.rb");
  await mkdir(join(ROOT, "Formula"), { recursive: true });
  await writeFile(formula, text);
  process.stdout.write(`wrote ${relative(ROOT, formula)} for a3s ${version}\n`);
  return 0;
}

/** Bad arguments and a refused formula are the user's to fix: a message, not a stack trace. */
function fail(err: unknown): number {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

if (import.meta.main) process.exit(await main().catch(fail));
