/**
 * An archive unpacked into a scratch directory. The paths its manifests name are untrusted: each must
 * resolve to a regular file inside it, and documents read into memory are capped in size.
 */
import { lstatSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { A3sError } from "../../../core/errors.ts";
import { digestHex } from "../blobs.ts";
import type { Descriptor } from "../manifest.ts";
import { unsafe } from "./errors.ts";
import { sha256 } from "./oci-manifest.ts";

/** Manifests, configs and index files larger than this are refused rather than read into memory. */
const MAX_DOCUMENT = 16 << 20;

/** The extracted archive. Paths named by its manifests are untrusted: each must resolve inside it. */
export class ArchiveDir {
  constructor(readonly root: string) {}

  has(rel: string): boolean {
    return lstatSync(join(this.root, rel), { throwIfNoEntry: false }) !== undefined;
  }

  /** The real path of a regular file the archive names, refusing anything that leaves the archive. */
  member(rel: unknown, what: string): string {
    if (typeof rel !== "string" || rel === "" || rel.includes("\0")) throw unsafe(`${what}: invalid path`);
    if (rel.startsWith("/") || rel.split("/").includes("..")) {
      throw unsafe(`${what} '${rel}' points outside the archive`);
    }
    let real: string;
    try {
      real = realpathSync(join(this.root, rel));
    } catch {
      throw new A3sError("integrity", `${what} '${rel}' is missing from the archive`, {
        hint: "the archive is incomplete; nothing was loaded",
      });
    }
    if (!real.startsWith(`${this.root}/`)) throw unsafe(`${what} '${rel}' points outside the archive`);
    if (!statSync(real).isFile()) throw unsafe(`${what} '${rel}' is not a regular file`);
    return real;
  }

  read(rel: string, what: string): Uint8Array {
    const path = this.member(rel, what);
    if (statSync(path).size > MAX_DOCUMENT)
      throw unsafe(`${what} '${rel}' is larger than ${MAX_DOCUMENT} bytes`);
    return readFileSync(path);
  }

  json(rel: string, what: string): unknown {
    try {
      return JSON.parse(new TextDecoder().decode(this.read(rel, what)));
    } catch (err) {
      if (err instanceof A3sError) throw err;
      throw unsafe(`${what} '${rel}' is not valid JSON`);
    }
  }

  blobPath(digest: string, what: string): string {
    return this.member(`blobs/sha256/${digestHex(digest)}`, what);
  }

  /** A small blob, checked against its descriptor's size and digest. */
  blob(descriptor: Descriptor, what: string): Uint8Array {
    const bytes = this.read(`blobs/sha256/${digestHex(descriptor.digest)}`, what);
    const actual = sha256(bytes);
    if (bytes.length !== descriptor.size || actual !== descriptor.digest) {
      throw unsafe(`${what} ${descriptor.digest} is corrupt: ${bytes.length} bytes hashing to ${actual}`);
    }
    return bytes;
  }
}
