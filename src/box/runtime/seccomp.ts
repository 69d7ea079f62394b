/**
 * The default seccomp profile of a box.
 *
 * Docker's profile is an allowlist of ~350 system calls with per-kernel and per-capability
 * exceptions. Writing that by hand is error-prone in the worst way: every omission is a program that
 * fails with a mysterious EPERM, and the list must follow every new libc and kernel. This profile is
 * a denylist instead: everything is allowed except the calls Docker's profile exists to keep out of
 * a container — kernel modules, kexec, reboot, swap, mounts (old and new API), the kernel keyring,
 * bpf, perf, userfaultfd, file handles, the clocks, accounting and quotas, io_uring, personality
 * changes, and new namespaces (setns, unshare, clone with CLONE_NEW* flags; clone3, whose flags
 * seccomp cannot read, answers ENOSYS so libc falls back to clone, exactly as Docker does).
 * Most of these also need capabilities a box does not have; seccomp is the second wall, shrinking the
 * kernel code a box can reach if a capability check has a bug.
 * The cost of a denylist: a system call added to a future kernel is allowed until it is listed here.
 * ptrace stays allowed (Docker allows it on kernels ≥ 4.8, where it can no longer bypass seccomp).
 */

export type SeccompAction = "SCMP_ACT_ALLOW" | "SCMP_ACT_ERRNO" | "SCMP_ACT_KILL" | "SCMP_ACT_KILL_PROCESS";
export type SeccompOperator =
  | "SCMP_CMP_NE"
  | "SCMP_CMP_LT"
  | "SCMP_CMP_LE"
  | "SCMP_CMP_EQ"
  | "SCMP_CMP_GE"
  | "SCMP_CMP_GT"
  | "SCMP_CMP_MASKED_EQ";

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface SeccompSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface Seccomp {
  defaultAction: SeccompAction;
  architectures: string[];
  syscalls: SeccompSyscall[];
}

const EPERM = 1;
const ENOSYS = 38;

/** The host architecture and the 32-bit ABIs its kernel also runs (a filter must cover them all). */
export function seccompArchitectures(arch: string = process.arch): string[] {
  if (arch === "arm64") return ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"];
  return ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];
}

// biome-ignore format: one family per line reads better
export const DENIED_SYSCALLS = [
  "init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms",
  "kexec_load", "kexec_file_load", "reboot",
  "swapon", "swapoff",
  "mount", "umount", "umount2", "pivot_root",
  "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
  "keyctl", "add_key", "request_key",
  "bpf", "perf_event_open", "userfaultfd",
  "open_by_handle_at", "name_to_handle_at",
  "clock_settime", "clock_settime64", "settimeofday", "stime", "adjtimex", "clock_adjtime", "clock_adjtime64",
  "acct", "quotactl", "quotactl_fd", "lookup_dcookie", "nfsservctl",
  "setns", "unshare",
  "io_uring_setup", "io_uring_enter", "io_uring_register",
  "iopl", "ioperm", "vm86", "vm86old", "uselib", "ustat", "sysfs", "_sysctl", "vhangup",
  "syslog", "fanotify_init", "move_pages",
] as const;

/** CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET. */
export const CLONE_NAMESPACE_FLAGS = [
  0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000,
] as const;

/**
 * Runtimes AND the conditions of one rule only when they test different arguments (several tests of
 * the same argument become separate, OR-ed rules), so a "flags has any of these bits" test is written
 * as one rule per bit: (arg & bit) == bit.
 */
function deniedWhenBitSet(name: string, index: number, bit: number): SeccompSyscall {
  return {
    names: [name],
    action: "SCMP_ACT_ERRNO",
    errnoRet: EPERM,
    args: [{ index, value: bit, valueTwo: bit, op: "SCMP_CMP_MASKED_EQ" }],
  };
}

export function defaultSeccomp(arch: string = process.arch): Seccomp {
  // s390x passes clone's flags second; every other architecture first.
  const cloneFlagsIndex = arch === "s390x" ? 1 : 0;
  return {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: seccompArchitectures(arch),
    syscalls: [
      { names: [...DENIED_SYSCALLS], action: "SCMP_ACT_ERRNO", errnoRet: EPERM },
      { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS },
      ...CLONE_NAMESPACE_FLAGS.map((flag) => deniedWhenBitSet("clone", cloneFlagsIndex, flag)),
      // personality(p) is allowed only for PER_LINUX (0) and PER_LINUX32 (8): refused when p > 8 or
      // any of bits 0–2 is set. The query value 0xffffffff is refused too (Docker allows it).
      {
        names: ["personality"],
        action: "SCMP_ACT_ERRNO",
        errnoRet: EPERM,
        args: [{ index: 0, value: 8, op: "SCMP_CMP_GT" }],
      },
      ...[1, 2, 4].map((bit) => deniedWhenBitSet("personality", 0, bit)),
    ],
  };
}
