/**
 * A box's OCI bundle: config.json (from the box's spec) next to the rootfs and the /etc files
 * the runtime bind-mounts, all in the box's own directory.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../core/fs.ts";
import type { BoxRecord } from "./boxes.ts";
import type { ImageRecord } from "./oci/images.ts";
import { writeEtcFiles } from "./runtime/mounts.ts";
import { hostNofileHardLimit } from "./runtime/oci-cli.ts";
import { mergeEnv } from "./runtime/options.ts";
import { buildSpec } from "./runtime/spec.ts";
import { parseUser } from "./runtime/users.ts";

/** The box's full environment as Docker builds it (PATH, HOSTNAME, image, user's, HOME). */
export function boxEnv(box: BoxRecord, image: ImageRecord, home: string): string[] {
  return mergeEnv(image.config.config?.Env ?? [], box.spec.env, {
    hostname: box.spec.hostname,
    home,
    terminal: box.spec.tty,
  });
}

/** Writes config.json and returns the process part of it (the supervisor checks the command). */
export function writeBundle(
  boxDir: string,
  box: BoxRecord,
  image: ImageRecord,
  rootfs: string,
  annotations: Record<string, string> = {},
): { env: string[] } {
  const { spec } = box;
  const user = parseUser(spec.user, rootfs);
  const etcFiles = writeEtcFiles(boxDir, spec.hostname);
  const nofileHardLimit = hostNofileHardLimit();
  const oci = buildSpec({
    id: box.id,
    rootfs,
    readOnly: spec.readOnly,
    args: box.command,
    env: boxEnv(box, image, user.home),
    cwd: spec.workdir,
    user,
    hostname: spec.hostname,
    // The supervisor hands the process a terminal as its stdio for -t, so the runtime never
    // needs a console socket.
    terminal: false,
    volumes: spec.volumes,
    etcFiles,
    resources: {
      ...(spec.memory ? { memory: spec.memory } : {}),
      ...(spec.cpu ? { cpu: spec.cpu } : {}),
      ...(spec.pidsLimit ? { pids: spec.pidsLimit } : {}),
    },
    network: spec.network ?? "none",
    ...(nofileHardLimit ? { nofileHardLimit } : {}),
  });
  if (Object.keys(annotations).length > 0) oci.annotations = annotations;
  writeFileAtomic(join(boxDir, "config.json"), JSON.stringify(oci, null, 2));
  return { env: oci.process.env ?? [] };
}
