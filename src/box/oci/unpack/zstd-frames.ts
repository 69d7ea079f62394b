/**
 * Walks zstd frame and block headers (never their contents) to tell whether the stream stopped at a
 * frame boundary: the zstd decoder in Bun ends quietly on truncated input.
 */
export class ZstdFrames {
  private state: "magic" | "skippable" | "descriptor" | "block" = "magic";
  private head: number[] = [];
  private need = 4;
  private skip = 0;
  private checksum = false;
  private broken = false;

  get complete(): boolean {
    return !this.broken && this.state === "magic" && this.head.length === 0 && this.skip === 0;
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && !this.broken) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      this.head.push(chunk[i++]!);
      if (this.head.length === this.need) {
        const head = this.head;
        this.head = [];
        this.step(head);
      }
    }
  }

  private step(h: number[]): void {
    const le = h.reduce((value, byte, index) => value + byte * 2 ** (8 * index), 0);
    switch (this.state) {
      case "magic":
        if (le === 0xfd2fb528) this.expect("descriptor", 1);
        else if (le >= 0x184d2a50 && le <= 0x184d2a5f) this.expect("skippable", 4);
        else this.broken = true;
        return;
      case "skippable":
        this.skip = le;
        this.expect("magic", 4);
        return;
      case "descriptor": {
        const singleSegment = (le >> 5) & 1;
        this.checksum = ((le >> 2) & 1) === 1;
        const dictionary = [0, 1, 2, 4][le & 3]!;
        const contentSize = [singleSegment, 2, 4, 8][le >> 6]!;
        this.skip = (singleSegment ? 0 : 1) + dictionary + contentSize;
        this.expect("block", 3);
        return;
      }
      case "block": {
        const type = (le >> 1) & 3;
        if (type === 3) this.broken = true;
        this.skip = type === 1 ? 1 : le >>> 3;
        if ((le & 1) === 1) {
          this.skip += this.checksum ? 4 : 0;
          this.expect("magic", 4);
        }
        return;
      }
    }
  }

  private expect(state: ZstdFrames["state"], bytes: number): void {
    this.state = state;
    this.need = bytes;
  }
}
