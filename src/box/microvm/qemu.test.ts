import { expect, test } from "bun:test";
import {
  kernelCommandLine,
  machine,
  memoryMiB,
  qemuArgs,
  UPPER_DISK_BYTES,
  type VmConfig,
  vcpus,
} from "./qemu.ts";

const config: VmConfig = {
  qemu: "qemu-system-x86_64",
  kernel: "/k/vmlinux",
  initrd: "/k/init.cpio",
  rootfsImage: "/i/rootfs.erofs",
  controlSocket: "/b/vm.sock",
  consoleLog: "/b/console.log",
  memoryMiB: 128,
  cpus: 2,
  accelerator: "tcg",
  shares: [{ tag: "vol0", source: "/host/data", destination: "/data", readOnly: true }],
  tscKhz: 2_000_000,
};

test("the command line carries the image, a deferred root, the port and the TCG clock", () => {
  // The upper layer and volumes come with START: the same line boots every box of any image.
  expect(kernelCommandLine(config)).toBe(
    "console=hvc0 reboot=t panic=-1 quiet a3s.rootfs=/dev/vda a3s.defer=1 a3s.port=a3s.0 tsc_early_khz=2000000 nolapic_timer tsc=reliable",
  );
});

test("qemu arguments", () => {
  const args = qemuArgs(config);
  expect(args.slice(0, 3)).toEqual([
    "qemu-system-x86_64",
    "-M",
    "microvm,acpi=off,x-option-roms=off,pit=on,pic=on,rtc=on",
  ]);
  expect(args).toContain("-no-reboot");
  expect(machine("kvm")).toBe("microvm,acpi=off,x-option-roms=off,pit=off,pic=off,rtc=on");
  expect(args[args.indexOf("-accel") + 1]).toBe("tcg");
  expect(args[args.indexOf("-cpu") + 1]).toBe("max");
  expect(args).toContain("id=root,file=/i/rootfs.erofs,format=raw,if=none,readonly=on");
  expect(args).toContain("local,id=vol0,path=/host/data,security_model=passthrough,readonly=on");
  expect(args).toContain("virtserialport,bus=ctl0.0,chardev=ctl,name=a3s.0");
});

test("Docker's -m and --cpus map to VM memory and vCPUs", () => {
  expect(memoryMiB(undefined)).toBe(256);
  expect(memoryMiB(16 * 1024 * 1024)).toBe(64);
  expect(memoryMiB(512 * 1024 * 1024)).toBe(512);
  expect(vcpus(150_000, 100_000)).toBe(2);
  expect(vcpus(undefined, undefined)).toBe(1);
});

test("the upper disk is /dev/vdb, or a null disk of the same size", () => {
  const withDisk = qemuArgs({ ...config, upperDisk: "/b/upper.ext4" });
  expect(withDisk).toContain("id=upper,file=/b/upper.ext4,format=raw,if=none");
  const root = withDisk.indexOf("virtio-blk-device,drive=root");
  expect(withDisk.indexOf("virtio-blk-device,drive=upper")).toBeGreaterThan(root);
  expect(qemuArgs(config)).toContain(
    `driver=null-co,node-name=upper,size=${UPPER_DISK_BYTES},read-zeroes=on`,
  );
});

test("QMP and a restore from a saved state; commas in paths are doubled, quotes escaped for the shell", () => {
  const args = qemuArgs({
    ...config,
    rootfsImage: "/i/a,b.erofs",
    qmpSocket: "/s/qmp",
    incomingState: "/p/it's/state",
  });
  expect(args).toContain("id=root,file=/i/a,,b.erofs,format=raw,if=none,readonly=on");
  expect(args.slice(-4)).toEqual([
    "-qmp",
    "unix:/s/qmp,server=on,wait=off",
    "-incoming",
    "exec:cat '/p/it'\\''s/state'",
  ]);
});
