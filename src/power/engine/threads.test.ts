import { describe, expect, test } from "bun:test";
import { physicalCoresFromCpuinfo } from "./threads.ts";

/** One x86 /proc/cpuinfo block, as Linux prints it (tab before the colon, a blank line after). */
function x86Block(
  processor: number,
  physicalId: number | undefined,
  coreId: number | undefined,
  siblings = 4,
) {
  const lines = [
    `processor\t: ${processor}`,
    "vendor_id\t: GenuineIntel",
    "cpu family\t: 6",
    "model\t\t: 85",
    "model name\t: Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz",
    "stepping\t: 4",
    "microcode\t: 0x2006e05",
    "cpu MHz\t\t: 2095.078",
    "cache size\t: 22528 KB",
  ];
  if (physicalId !== undefined) lines.push(`physical id\t: ${physicalId}`);
  lines.push(`siblings\t: ${siblings}`);
  if (coreId !== undefined) lines.push(`core id\t\t: ${coreId}`);
  lines.push(
    "cpu cores\t: 2",
    `apicid\t\t: ${processor}`,
    `initial apicid\t: ${processor}`,
    "fpu\t\t: yes",
    "fpu_exception\t: yes",
    "cpuid level\t: 22",
    "wp\t\t: yes",
    "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush ht",
    "bugs\t\t: spectre_v1 spectre_v2 spec_store_bypass",
    "bogomips\t: 4190.15",
    "clflush size\t: 64",
    "cache_alignment\t: 64",
    "address sizes\t: 46 bits physical, 48 bits virtual",
    "power management:",
  );
  return `${lines.join("\n")}\n`;
}

const cpuinfo = (blocks: string[]) => `${blocks.join("\n")}\n`;

describe("physicalCoresFromCpuinfo", () => {
  test("two sockets with hyperthreading: 8 logical CPUs, 4 physical cores", () => {
    // Linux numbers the first thread of every core first, then the hyperthread siblings; the
    // core ids repeat on each socket and need not be contiguous.
    const text = cpuinfo([
      x86Block(0, 0, 0),
      x86Block(1, 0, 4),
      x86Block(2, 1, 0),
      x86Block(3, 1, 4),
      x86Block(4, 0, 0),
      x86Block(5, 0, 4),
      x86Block(6, 1, 0),
      x86Block(7, 1, 4),
    ]);
    expect(physicalCoresFromCpuinfo(text)).toBe(4);
  });

  test("the same core id on two sockets counts twice", () => {
    expect(physicalCoresFromCpuinfo(cpuinfo([x86Block(0, 0, 0), x86Block(1, 1, 0)]))).toBe(2);
  });

  test("a single-core VM", () => {
    expect(physicalCoresFromCpuinfo(cpuinfo([x86Block(0, 0, 0, 1)]))).toBe(1);
  });

  test("one socket, hyperthreading off", () => {
    const text = cpuinfo([x86Block(0, 0, 0), x86Block(1, 0, 1), x86Block(2, 0, 2), x86Block(3, 0, 3)]);
    expect(physicalCoresFromCpuinfo(text)).toBe(4);
  });

  test("blocks without a physical id count as socket 0", () => {
    const text = cpuinfo([x86Block(0, undefined, 0), x86Block(1, undefined, 1), x86Block(2, undefined, 0)]);
    expect(physicalCoresFromCpuinfo(text)).toBe(2);
  });

  test("a blank line holding only spaces and tabs still separates blocks", () => {
    const text = `${x86Block(0, 0, 0)} \t\n${x86Block(1, 0, 1)}`;
    expect(physicalCoresFromCpuinfo(text)).toBe(2);
  });

  test("ARM cpuinfo has no core ids: undefined", () => {
    const arm = (processor: number) =>
      [
        `processor\t: ${processor}`,
        "BogoMIPS\t: 108.00",
        "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm",
        "CPU implementer\t: 0x41",
        "CPU architecture: 8",
        "CPU variant\t: 0x3",
        "CPU part\t: 0xd0c",
        "CPU revision\t: 1",
        "",
      ].join("\n");
    const text = `${[0, 1, 2, 3].map(arm).join("\n")}\n`;
    expect(physicalCoresFromCpuinfo(text)).toBeUndefined();
  });

  test("a Raspberry Pi style trailer without core ids: undefined", () => {
    const text = [
      "processor\t: 0",
      "model name\t: ARMv7 Processor rev 4 (v7l)",
      "BogoMIPS\t: 38.40",
      "",
      "Hardware\t: BCM2835",
      "Revision\t: a02082",
      "Serial\t\t: 00000000deadbeef",
      "Model\t\t: Raspberry Pi 3 Model B Rev 1.2",
      "",
    ].join("\n");
    expect(physicalCoresFromCpuinfo(text)).toBeUndefined();
  });

  test("empty text: undefined", () => {
    expect(physicalCoresFromCpuinfo("")).toBeUndefined();
    expect(physicalCoresFromCpuinfo("\n\n")).toBeUndefined();
  });

  test("a core id that is not a number is ignored", () => {
    const text = "processor\t: 0\ncore id\t\t: ?\n\nprocessor\t: 1\nphysical id\t: 0\ncore id\t\t: 3\n";
    expect(physicalCoresFromCpuinfo(text)).toBe(1);
  });
});
