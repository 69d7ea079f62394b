/**
 * Users and groups of a box, read from the image's own /etc/passwd and /etc/group. The rootfs is
 * untrusted: every path is resolved inside it the way the kernel would after chroot, so a symlink
 * (/etc/passwd → /../../etc/shadow, or a `..` chain) can never make a3s read a file of the host.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { A3sError } from "../../core/errors.ts";

const MAX_SYMLINKS = 40;
const MAX_ACCOUNT_FILE = 4 * 1024 * 1024;

/**
 * The host path of `path` as seen from inside `root`: symlinks are followed with `root` as "/", and
 * `..` never climbs above it. Returns undefined when a component is missing or the chain is too long.
 */
export function resolveInRoot(root: string, path: string): string | undefined {
  const pending = path.split("/").filter((part) => part !== "" && part !== ".");
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    let isLink: boolean;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      return undefined;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) return undefined;
    const target = readlinkSync(candidate);
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
  }
  return join(root, ...resolved);
}

/** A regular file of the rootfs, or undefined when it is missing, not a file, or unreasonably big. */
export function readInRoot(root: string, path: string): string | undefined {
  const hostPath = resolveInRoot(root, path);
  if (hostPath === undefined) return undefined;
  let fd: number;
  try {
    // O_NOFOLLOW: the last component was resolved above; a symlink swapped in since then is refused.
    fd = openSync(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_ACCOUNT_FILE) return undefined;
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const isId = (text: string) => /^\d+$/.test(text) && Number(text) <= 0xffffffff;

export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    const [name, , uid, gid, , home] = fields;
    if (fields.length < 7 || !name || !isId(uid ?? "") || !isId(gid ?? "")) continue;
    entries.push({ name, uid: Number(uid), gid: Number(gid), home: home ?? "" });
  }
  return entries;
}

export function parseGroup(text: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    const [name, , gid, members = ""] = fields;
    if (fields.length < 4 || !name || !isId(gid ?? "")) continue;
    entries.push({ name, gid: Number(gid), members: members.split(",").filter(Boolean) });
  }
  return entries;
}

export interface BoxUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** From the passwd entry; `/root` for uid 0 and `/` for others without one. */
  home: string;
}

/**
 * Docker's `-u`: `uid[:gid]` or `name[:group]`, names looked up in the rootfs (runc's rules: a
 * numeric uid need not exist and then has gid 0; a name must exist; without an explicit group the
 * user's supplementary groups are those of /etc/group listing it). "" is root.
 */
export function parseUser(spec: string, rootfs: string): BoxUser {
  const [userPart = "", groupPart, ...extra] = spec.split(":");
  if (extra.length > 0 || (groupPart !== undefined && groupPart === "")) {
    throw new A3sError("usage", `invalid user '${spec}': expected uid[:gid] or name[:group]`);
  }
  const passwd = parsePasswd(readInRoot(rootfs, "/etc/passwd") ?? "");
  let uid: number;
  let gid = 0;
  let home: string | undefined;
  let name: string | undefined;
  const byName = userPart === "" ? undefined : passwd.find((entry) => entry.name === userPart);
  if (userPart === "") {
    uid = 0;
  } else if (byName) {
    ({ uid, gid, home, name } = byName);
  } else if (isId(userPart)) {
    uid = Number(userPart);
    const entry = passwd.find((candidate) => candidate.uid === uid);
    if (entry) ({ gid, home, name } = entry);
  } else {
    throw new A3sError("usage", `unable to find user ${userPart}: no matching entries in passwd file`);
  }
  if (userPart === "") {
    const entry = passwd.find((candidate) => candidate.uid === 0);
    if (entry) ({ gid, home, name } = entry);
  }
  const groups = groupPart === undefined && name === undefined ? [] : readGroups(rootfs);
  let additionalGids: number[] = [];
  if (groupPart !== undefined) {
    const group = groups.find((entry) => entry.name === groupPart);
    if (group) gid = group.gid;
    else if (isId(groupPart)) gid = Number(groupPart);
    else throw new A3sError("usage", `unable to find group ${groupPart}: no matching entries in group file`);
  } else if (name !== undefined) {
    const member = name;
    additionalGids = groups.filter((g) => g.members.includes(member) && g.gid !== gid).map((g) => g.gid);
  }
  return { uid, gid, additionalGids, home: home || (uid === 0 ? "/root" : "/") };
}

function readGroups(rootfs: string): GroupEntry[] {
  return parseGroup(readInRoot(rootfs, "/etc/group") ?? "");
}
