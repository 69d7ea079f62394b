/** Box checks: the host probes of src/box/host.ts, each turned into a finding. */
import {
  type CgroupStatus,
  crunRefusesCgroups,
  type GuestKernel,
  type HostReport,
  type KvmStatus,
  type Tool,
} from "../box/host.ts";
import { findVmAssets } from "../box/microvm/assets.ts";
import type { Paths } from "../core/paths.ts";
import { type Check, reporter } from "./check.ts";

export function boxChecks(host: HostReport): Check[] {
  return [
    kvmCheck(host.kvm),
    qemuCheck(host.qemu),
    rootfsToolsCheck(host.rootfsTools),
    runtimesCheck(host.runtimes, host.defaultRuntime, crunRefusesCgroups(host.cgroups)),
    cgroupsCheck(host.cgroups),
    guestKernelCheck(host.guestKernel),
  ];
}

function kvmCheck(kvm: KvmStatus): Check {
  return reporter("box", "kvm")(kvm.usable ? "ok" : "warn", kvm.reason, { ...kvm });
}

function toolLabel(tool: Tool): string {
  return tool.version === null ? tool.name : `${tool.name} ${tool.version}`;
}

function qemuCheck(qemu: Tool): Check {
  const report = reporter("box", "qemu");
  if (qemu.path === null)
    return report("warn", `${qemu.name} not found; microVMs are unavailable`, { ...qemu });
  if (qemu.error !== undefined) return report("warn", `${qemu.path}: ${qemu.error}`, { ...qemu });
  return report("ok", `${toolLabel(qemu)} at ${qemu.path}`, { ...qemu });
}

function rootfsToolsCheck(tools: readonly Tool[]): Check {
  const found = tools.filter((tool) => tool.path !== null).map((tool) => tool.name);
  const missing = tools.filter((tool) => tool.path === null).map((tool) => tool.name);
  const summary = [
    ...(found.length > 0 ? [`found ${found.join(", ")}`] : []),
    ...(missing.length > 0 ? [`missing ${missing.join(", ")}`] : []),
  ].join("; ");
  return reporter("box", "rootfs tools")(missing.length === 0 ? "ok" : "warn", summary, { tools });
}

/** a3s works around it (see src/box/runtime/oci-cli.ts), so it is a note, not a problem. */
const CRUN_HYBRID_NOTE = "run without the cgroup v2 mount: it refuses this hybrid layout";

function runtimesCheck(
  runtimes: readonly Tool[],
  defaultRuntime: string | null,
  crunRefused: boolean,
): Check {
  const report = reporter("box", "oci runtimes");
  const found = runtimes.filter((runtime) => runtime.path !== null);
  if (found.length === 0) {
    const names = runtimes.map((runtime) => runtime.name).join(", ");
    return report("warn", `none found (looked for ${names})`, { runtimes, defaultRuntime });
  }
  const problemOf = (runtime: Tool) => runtime.error;
  const problems = Object.fromEntries(
    found.flatMap((runtime) => {
      const problem = problemOf(runtime);
      return problem === undefined ? [] : [[runtime.name, problem]];
    }),
  );
  const labels = found.map((runtime) => {
    const hybridNote = runtime.name === "crun" && crunRefused ? CRUN_HYBRID_NOTE : undefined;
    const notes = [
      runtime.name === defaultRuntime ? "default" : undefined,
      hybridNote,
      problems[runtime.name],
    ].filter((note) => note !== undefined);
    return notes.length === 0 ? toolLabel(runtime) : `${toolLabel(runtime)} (${notes.join("; ")})`;
  });
  const status = Object.keys(problems).length > 0 ? "warn" : "ok";
  return report(status, labels.join(", "), { runtimes, defaultRuntime, problems });
}

const LAYOUT_LABELS: Record<CgroupStatus["layout"], string> = {
  v2: "v2 (unified)",
  v1: "v1",
  hybrid: "hybrid v1 + v2",
  none: "no cgroup mounts",
};

function cgroupsCheck(cgroups: CgroupStatus): Check {
  const limit = (what: string, via: "v1" | "v2" | null) =>
    via === null ? `no ${what} limits` : `${what} limits through ${via}`;
  const complete = cgroups.memoryLimit !== null && cgroups.cpuLimit !== null;
  const summary = `${LAYOUT_LABELS[cgroups.layout]}; ${limit("memory", cgroups.memoryLimit)}, ${limit("cpu", cgroups.cpuLimit)}`;
  return reporter("box", "cgroups")(complete ? "ok" : "warn", summary, { ...cgroups });
}

function guestKernelCheck(kernel: GuestKernel): Check {
  const report = reporter("box", "guest kernel");
  if (kernel.present) return report("ok", `found at ${kernel.path}`, { ...kernel });
  return report("info", `none at ${kernel.path}`, { ...kernel });
}

/** Whether `--isolation microvm` can start a VM here, and with which accelerator. */
export function microvmCheck(paths: Paths, env: NodeJS.ProcessEnv): Check {
  const report = reporter("box", "microvm");
  try {
    const assets = findVmAssets(paths, env);
    const how =
      assets.accelerator === "tcg"
        ? "TCG emulation (no usable KVM: slower, still isolated)"
        : assets.accelerator;
    return report(assets.accelerator === "tcg" ? "warn" : "ok", `microVMs run with ${how}`, { ...assets });
  } catch (err) {
    return report("info", `microVMs unavailable: ${(err as Error).message}`);
  }
}
