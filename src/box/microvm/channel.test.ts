import { expect, test } from "bun:test";
import { encodeGuestFrame, exitCodeOf, GuestFrame, GuestFrameDecoder } from "./channel.ts";

test("frames survive arbitrary chunking", () => {
  const frames = [
    encodeGuestFrame(GuestFrame.stdout, 1, "hello"),
    encodeGuestFrame(GuestFrame.stderr, 2, new Uint8Array(70_000).fill(7)),
    encodeGuestFrame(GuestFrame.exit, 1, JSON.stringify({ code: 3 })),
  ];
  const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let offset = 0;
  for (const frame of frames) {
    stream.set(frame, offset);
    offset += frame.length;
  }
  for (const size of [1, 7, 4096, stream.length]) {
    const seen: Array<[number, number, number]> = [];
    const decoder = new GuestFrameDecoder();
    for (let i = 0; i < stream.length; i += size) {
      decoder.push(stream.subarray(i, i + size), (type, id, payload) =>
        seen.push([type, id, payload.length]),
      );
    }
    expect(seen).toEqual([
      [GuestFrame.stdout, 1, 5],
      [GuestFrame.stderr, 2, 70_000],
      [GuestFrame.exit, 1, 10],
    ]);
  }
});

test("exit codes: code, or 128 + signal", () => {
  expect(exitCodeOf(new TextEncoder().encode('{"code":3}'))).toBe(3);
  expect(exitCodeOf(new TextEncoder().encode('{"signal":9}'))).toBe(137);
});
