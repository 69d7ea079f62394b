/**
 * From Docker-style run options to a created box: the image (pulled per --pull), the resolved
 * command, and every option parsed and checked before anything is written.
 */
import { readFileSync } from "node:fs";
import { A3sError, fromSystemError } from "../core/errors.ts";
import type { BoxRecord, RuntimeName } from "./boxes.ts";
import type { BoxContext } from "./context.ts";
import { createBox } from "./lifecycle.ts";
import { findVmAssets } from "./microvm/assets.ts";
import { MAX_VOLUMES } from "./microvm/qemu.ts";
import type { ImageRecord } from "./oci/images.ts";
import { type PullEvent, pullImage } from "./oci/pull.ts";
import {
  parseCpus,
  parseEnvFile,
  parseEnvList,
  parseLabels,
  parseMemory,
  parsePidsLimit,
  parsePublish,
  parseRestart,
  parseVolume,
} from "./runtime/options.ts";
import { resolveCommand, resolveWorkdir } from "./runtime/spec.ts";

export interface RunOptions {
  image: string;
  command: string[];
  name?: string;
  env: string[];
  envFile: string[];
  volume: string[];
  publish: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  readOnly: boolean;
  network?: string;
  runtime?: string;
  isolation?: string;
  label: string[];
  pull: "missing" | "always" | "never";
  restart: string;
  rm: boolean;
  tty: boolean;
  interactive: boolean;
  stopSignal?: string;
  stopTimeout?: string;
  platform?: string;
}

const RUNTIMES: readonly RuntimeName[] = ["crun", "runc", "runsc"];

/** Docker's exit code for a failure of the daemon itself rather than of the box's command. */
const DOCKER_ERROR = 125;

export async function createFromOptions(
  box: BoxContext,
  options: RunOptions,
  onPull: (event: PullEvent) => void,
  notice: (message: string) => void,
): Promise<BoxRecord> {
  const image = await ensureImage(box, options, onPull, notice);
  const runtime = (options.runtime ?? box.config.box.runtime) as RuntimeName;
  if (!RUNTIMES.includes(runtime)) {
    throw new A3sError("usage", `unknown runtime '${options.runtime}'`, {
      hint: "use crun, runc or runsc",
      exitCode: DOCKER_ERROR,
    });
  }
  const isolation = chooseIsolation(box, options.isolation ?? box.config.box.isolation);
  // Fails now, with the missing piece named, rather than when the box starts.
  const accelerator = isolation === "microvm" ? findVmAssets(box.paths, box.env).accelerator : undefined;
  if (isolation === "microvm") {
    if (options.publish.length > 0) {
      throw new A3sError("unimplemented", "published ports are not available for microVM boxes yet", {
        exitCode: DOCKER_ERROR,
      });
    }
    if (options.volume.length > MAX_VOLUMES) {
      throw new A3sError("usage", `a microVM box can have at most ${MAX_VOLUMES} volumes`, {
        hint: "share a common parent directory instead",
        exitCode: DOCKER_ERROR,
      });
    }
  }
  const userEnv = [
    ...options.envFile.flatMap((file) => parseEnvFile(readText(file), box.env)),
    ...parseEnvList(options.env, box.env),
  ];
  const containerConfig = image.config.config;
  const command = resolveCommand(containerConfig, {
    ...(options.entrypoint !== undefined ? { entrypoint: options.entrypoint } : {}),
    cmd: options.command,
  });
  const restart = parseRestart(options.restart);
  if (options.rm && restart.name !== "no") {
    throw new A3sError("usage", "conflicting options: --restart and --rm", { exitCode: DOCKER_ERROR });
  }
  const network = options.network ?? "none";
  if (network !== "none" && network !== "host") {
    throw new A3sError("usage", `unknown network '${network}'`, { hint: "use none (loopback only) or host" });
  }
  if (network === "host" && options.publish.length > 0) {
    throw new A3sError(
      "usage",
      "published ports make no sense with --network host: the box uses the host's ports",
    );
  }
  const cpu = options.cpus === undefined ? undefined : parseCpus(options.cpus);
  const memory = options.memory === undefined ? undefined : parseMemory(options.memory);
  const pidsLimit = options.pidsLimit === undefined ? undefined : parsePidsLimit(options.pidsLimit);
  return createBox(box, {
    image,
    imageRef: options.image,
    ...(options.name !== undefined ? { name: options.name } : {}),
    command,
    labels: { ...(containerConfig?.Labels ?? {}), ...parseLabels(options.label) },
    spec: {
      image: options.image,
      args: options.command,
      env: userEnv,
      workdir: resolveWorkdir(containerConfig, options.workdir),
      user: options.user ?? containerConfig?.User ?? "",
      ...(options.hostname ? { hostname: options.hostname } : {}),
      tty: options.tty,
      interactive: options.interactive,
      readOnly: options.readOnly,
      network,
      volumes: options.volume.map(parseVolume),
      ports: options.publish.map(parsePublish),
      ...(memory !== undefined ? { memory } : {}),
      ...(cpu !== undefined ? { cpu } : {}),
      ...(pidsLimit !== undefined ? { pidsLimit } : {}),
      runtime,
      isolation,
      ...(accelerator ? { accelerator } : {}),
      restart,
      autoRemove: options.rm,
      stopSignal: options.stopSignal ?? containerConfig?.StopSignal ?? "SIGTERM",
      stopTimeout: options.stopTimeout === undefined ? 10 : Number(options.stopTimeout),
      ...(options.entrypoint !== undefined ? { entrypoint: options.entrypoint } : {}),
      ...(options.command.length > 0 ? { cmd: options.command } : {}),
    },
  });
}

/**
 * `auto` is a microVM where KVM can boot one (a TCG guest is correct but slow), otherwise the sandbox;
 * `doctor` says which and why.
 */
function chooseIsolation(box: BoxContext, requested: string): "sandbox" | "microvm" {
  if (requested === "sandbox" || requested === "microvm") return requested;
  if (requested !== "auto") {
    throw new A3sError("usage", `unknown isolation '${requested}'`, {
      hint: "use auto, sandbox or microvm",
      exitCode: DOCKER_ERROR,
    });
  }
  try {
    return findVmAssets(box.paths, box.env).accelerator === "tcg" ? "sandbox" : "microvm";
  } catch {
    return "sandbox";
  }
}

/** `--pull missing|always|never`, as docker run: pulls print their progress before the box starts. */
async function ensureImage(
  box: BoxContext,
  options: RunOptions,
  onPull: (event: PullEvent) => void,
  notice: (message: string) => void,
): Promise<ImageRecord> {
  const local = options.pull === "always" ? undefined : box.images.resolve(options.image);
  if (local) return local;
  if (options.pull === "never") {
    throw new A3sError("not_found", `No such image: ${options.image}`, {
      hint: "pull it first, or drop --pull never",
      exitCode: DOCKER_ERROR,
    });
  }
  if (options.pull === "missing") notice(`Unable to find image '${options.image}' locally`);
  try {
    const result = await pullImage(box, { reference: options.image, onEvent: onPull });
    return result.image;
  } catch (err) {
    if (err instanceof A3sError) {
      throw new A3sError(err.code, err.message, {
        ...(err.hint ? { hint: err.hint } : {}),
        exitCode: DOCKER_ERROR,
        cause: err,
      });
    }
    throw err;
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw fromSystemError(err, `cannot read env file ${path}`);
  }
}
