/** Docker-shaped descriptions of boxes: `inspect` JSON and `ps` rows. */
import type { BoxRecord } from "./boxes.ts";
import { boxEnv } from "./bundle.ts";
import type { ImageRecord } from "./oci/images.ts";

/** Docker's `{"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}`. */
function portMap(box: BoxRecord): Record<string, Array<{ HostIp: string; HostPort: string }>> {
  return Object.fromEntries(
    box.spec.ports.map((p) => [
      `${p.containerPort}/${p.protocol}`,
      [{ HostIp: p.hostIp, HostPort: String(p.hostPort) }],
    ]),
  );
}

export function inspectBox(
  box: BoxRecord,
  image: ImageRecord | undefined,
  extra: { pid: number | undefined; logPath: string; warmStart?: boolean },
): Record<string, unknown> {
  const { spec } = box;
  const running = box.status === "running";
  return {
    Id: box.id,
    Created: box.createdAt,
    Path: box.command[0] ?? "",
    Args: box.command.slice(1),
    State: {
      Status: box.status,
      Running: running || box.status === "restarting",
      Paused: false,
      Restarting: box.status === "restarting",
      OOMKilled: box.exitCode === 137 && spec.memory !== undefined,
      Dead: box.status === "dead",
      Pid: running ? (extra.pid ?? 0) : 0,
      ExitCode: box.exitCode ?? 0,
      Error: box.error ?? "",
      StartedAt: box.startedAt ?? "0001-01-01T00:00:00Z",
      FinishedAt: box.finishedAt ?? "0001-01-01T00:00:00Z",
    },
    Image: box.imageId,
    LogPath: extra.logPath,
    Name: `/${box.name}`,
    RestartCount: box.restartCount,
    HostConfig: {
      Binds: spec.volumes.map((v) => `${v.source}:${v.destination}${v.readOnly ? ":ro" : ""}`),
      PortBindings: portMap(box),
      RestartPolicy: {
        Name: spec.restart.name,
        MaximumRetryCount: spec.restart.name === "on-failure" ? spec.restart.maximumRetryCount : 0,
      },
      AutoRemove: spec.autoRemove,
      Runtime: spec.runtime,
      Isolation: spec.isolation,
      ReadonlyRootfs: spec.readOnly,
      Memory: spec.memory ?? 0,
      NanoCpus: spec.cpu ? Math.round((spec.cpu.quota / spec.cpu.period) * 1e9) : 0,
      PidsLimit: spec.pidsLimit ?? null,
    },
    Mounts: spec.volumes.map((v) => ({
      Type: "bind",
      Source: v.source,
      Destination: v.destination,
      Mode: v.readOnly ? "ro" : "",
      RW: !v.readOnly,
      Propagation: v.propagation,
    })),
    Config: {
      Hostname: spec.hostname,
      User: spec.user,
      Tty: spec.tty,
      OpenStdin: spec.interactive,
      Env: image ? boxEnv(box, image, spec.user === "" || spec.user === "0" ? "/root" : "/") : spec.env,
      Cmd: spec.cmd ?? image?.config.config?.Cmd ?? null,
      Image: box.imageRef,
      WorkingDir: spec.workdir,
      Entrypoint:
        spec.entrypoint !== undefined ? [spec.entrypoint] : (image?.config.config?.Entrypoint ?? null),
      Labels: box.labels,
      StopSignal: spec.stopSignal,
      StopTimeout: spec.stopTimeout,
    },
    A3s: {
      SupervisorPid: box.supervisorPid ?? 0,
      StopRequested: box.stopRequested,
      Isolation: spec.isolation,
      Runtime: spec.isolation === "microvm" ? "qemu" : spec.runtime,
      Accelerator: spec.accelerator ?? "none",
      // microVM boxes: whether the VM last came up restored from the warm pool rather than booted.
      ...(extra.warmStart !== undefined ? { WarmStart: extra.warmStart } : {}),
    },
    NetworkSettings: {
      Ports: portMap(box),
    },
  };
}
