import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

/** Every file a3s owns lives under one home directory; this is its map. */
export interface Paths {
  home: string;
  config: string;
  db: string;
  logs: string;
  auth: string;
  images: string;
  blobs: string;
  layers: string;
  boxes: string;
  snapshots: string;
  /** Saved microVM guests that `run` restores instead of booting (the warm pool). */
  pool: string;
  power: string;
  models: string;
  kernel: string;
  tmp: string;
}

/**
 * Resolves A3S_HOME: the --home flag wins, then $A3S_HOME, then ~/.a3s.
 * A relative override is taken relative to the working directory, as users expect.
 */
export function resolveHome(env: NodeJS.ProcessEnv, override?: string): string {
  const chosen = override ?? env.A3S_HOME;
  if (chosen !== undefined && chosen !== "") {
    return isAbsolute(chosen) ? chosen : resolve(chosen);
  }
  const userHome = env.HOME && env.HOME !== "" ? env.HOME : homedir();
  return join(userHome, ".a3s");
}

export function pathsFor(home: string): Paths {
  const images = join(home, "images");
  const power = join(home, "power");
  return {
    home,
    config: join(home, "config.json"),
    db: join(home, "a3s.db"),
    logs: join(home, "logs"),
    auth: join(home, "auth.json"),
    images,
    blobs: join(images, "blobs", "sha256"),
    layers: join(images, "layers"),
    boxes: join(home, "boxes"),
    snapshots: join(home, "snapshots"),
    pool: join(home, "pool"),
    power,
    models: join(power, "models"),
    kernel: join(home, "kernel"),
    tmp: join(home, "tmp"),
  };
}
