import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readTool, readWindow } from "./read.ts";
import { tempDir, toolContext, writeTree } from "./testing.ts";

const workspace = tempDir();
const ctx = toolContext(workspace);
const hundred = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join("\n");
writeTree(workspace, {
  "src/a.ts": "const a = 1;\n\tindented\n",
  "long.txt": `${hundred}\n`,
  "no-newline.txt": "one\ntwo",
  "crlf.txt": "one\r\ntwo\r\n",
  "empty.txt": "",
  "wide.txt": `${"x".repeat(5000)}\nshort\n`,
  // The 8 KiB sniffed for binary content ends inside a two-byte character.
  "utf8.txt": `a${"é".repeat(5000)}\n`,
  "config.ts": "x",
});
writeFileSync(
  join(workspace, "image.png"),
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]),
);
writeFileSync(join(workspace, "doc.pdf"), "%PDF-1.7\n%\xe2\xe3\n");
writeFileSync(join(workspace, "blob.bin"), Buffer.from([1, 2, 0, 3]));
writeFileSync(join(workspace, "latin1.txt"), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
mkdirSync(join(workspace, "dir"));

const read = (input: Parameters<typeof readTool.run>[0]) => readTool.run(input, ctx);

describe("read", () => {
  test("numbers lines like cat -n", async () => {
    const result = await read({ file_path: "src/a.ts" });
    expect(result.content).toBe("     1\tconst a = 1;\n     2\t\tindented");
    expect(result.summary).toBe("Read 2 lines");
    expect(result.isError).toBeUndefined();
  });

  test("offset and limit give a window and say how to continue", async () => {
    const result = await read({ file_path: "long.txt", offset: 10, limit: 3 });
    expect(result.content).toBe(
      "    10\tline 10\n    11\tline 11\n    12\tline 12\n\n(lines 10-12 of 100; continue with offset=13)",
    );
    expect(result.summary).toBe("Read lines 10-12 of 100");
    const tail = await read({ file_path: "long.txt", offset: 99 });
    expect(tail.content).toEndWith("   100\tline 100\n\n(lines 99-100 of 100)");
    const past = await read({ file_path: "long.txt", offset: 101 });
    expect(past.isError).toBe(true);
    expect(past.content).toContain("offset 101 is past the end: long.txt has 100 lines");
  });

  test("a missing final newline, CRLF endings and absolute paths", async () => {
    expect((await read({ file_path: "no-newline.txt" })).content).toBe("     1\tone\n     2\ttwo");
    expect((await read({ file_path: join(workspace, "crlf.txt") })).content).toBe("     1\tone\n     2\ttwo");
  });

  test("long lines are cut and say how long they were", async () => {
    const result = await read({ file_path: "wide.txt" });
    expect(result.content).toContain(`${"x".repeat(2000)} [… line cut: 5000 characters in all]`);
    expect(result.content).toEndWith("     2\tshort");
  });

  test("multi-byte text across the sniffing boundary is text", async () => {
    const result = await read({ file_path: "utf8.txt" });
    expect(result.content).toBe(`     1\ta${"é".repeat(1999)} [… line cut: 5001 characters in all]`);
  });

  test("binary files are refused and images and PDFs named", async () => {
    const png = await read({ file_path: "image.png" });
    expect(png.isError).toBe(true);
    expect(png.content).toContain("image.png is a PNG image (10 B)");
    expect((await read({ file_path: "doc.pdf" })).content).toContain("is a PDF document");
    expect((await read({ file_path: "blob.bin" })).content).toContain("is a binary file");
    expect((await read({ file_path: "latin1.txt" })).content).toContain("not UTF-8");
  });

  test("empty files, directories and missing files get clear messages", async () => {
    expect((await read({ file_path: "empty.txt" })).content).toBe("empty.txt exists but is empty.");
    const dir = await read({ file_path: "dir" });
    expect(dir.isError).toBe(true);
    expect(dir.content).toContain("dir is a directory");
    expect(dir.content).toContain("use ls");
    const missing = await read({ file_path: "config.js" });
    expect(missing.content).toContain("config.js does not exist");
    expect(missing.content).toContain("similar files there: config.ts");
  });

  test("paths outside the workspace are refused", async () => {
    const result = await read({ file_path: "/etc/hostname" });
    expect(result.isError).toBe(true);
    expect(result.content).toContain("outside the workspace");
  });

  test("the permission subject is the workspace-relative path", () => {
    expect(readTool.ruleSubject({ file_path: join(workspace, "src/a.ts") }, ctx)).toBe("src/a.ts");
    expect(readTool.readOnly).toBe(true);
  });
});

describe("readWindow", () => {
  test("counts every line of a file larger than one chunk and decodes only the window", () => {
    const big = join(workspace, "big.txt");
    const line = `${"y".repeat(99)}\n`;
    writeFileSync(big, line.repeat(30_000));
    const window = readWindow(big, 2, 2);
    expect(window.total).toBe(30_000);
    expect(window.lines).toEqual(["y".repeat(99), "y".repeat(99)]);
    const last = readWindow(big, 30_000, 5);
    expect(last.lines).toHaveLength(1);
  });
});
