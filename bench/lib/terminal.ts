/**
 * Just enough of a terminal to replay what Ink writes (text, CR/LF, cursor moves, line and screen
 * erases) and read back the screen plus scrollback, so a benchmark can check what a user would end
 * up seeing rather than what a component meant to draw. Colours and modes are ignored.
 */
export class Terminal {
  private lines: string[][] = [[]];
  private row = 0;
  private col = 0;

  write(data: string): void {
    let i = 0;
    while (i < data.length) {
      const ch = data[i] as string;
      if (ch === "\x1b") {
        i = this.escape(data, i);
        continue;
      }
      if (ch === "\n") {
        this.row++;
        this.col = 0;
      } else if (ch === "\r") {
        this.col = 0;
      } else if (ch >= " ") {
        const line = this.line();
        while (line.length < this.col) line.push(" ");
        line[this.col++] = ch;
      }
      i++;
    }
  }

  /** Every line written and still there, top to bottom, without trailing blanks. */
  text(): string {
    return this.lines.map((line) => line.join("").trimEnd()).join("\n");
  }

  private line(): string[] {
    while (this.lines.length <= this.row) this.lines.push([]);
    return this.lines[this.row] as string[];
  }

  /** Applies the sequence starting at `at` (an ESC) and returns the index after it. */
  private escape(data: string, at: number): number {
    const kind = data[at + 1];
    if (kind === "]") {
      // OSC (hyperlinks, titles): up to BEL or ST.
      const bel = data.indexOf("\x07", at);
      const st = data.indexOf("\x1b\\", at);
      const ends = [bel === -1 ? Infinity : bel + 1, st === -1 ? Infinity : st + 2];
      const end = Math.min(...ends);
      return end === Infinity ? data.length : end;
    }
    if (kind !== "[") return at + 2;
    let end = at + 2;
    while (end < data.length && !/[@-~]/.test(data[end] as string)) end++;
    const params = data.slice(at + 2, end);
    const final = data[end];
    const n = Number(params) || 1;
    if (params.startsWith("?") || params.startsWith(">") || params.startsWith("<")) return end + 1;
    switch (final) {
      case "A":
        this.row = Math.max(0, this.row - n);
        break;
      case "B":
        this.row += n;
        break;
      case "C":
        this.col += n;
        break;
      case "D":
        this.col = Math.max(0, this.col - n);
        break;
      case "E":
        this.row += n;
        this.col = 0;
        break;
      case "F":
        this.row = Math.max(0, this.row - n);
        this.col = 0;
        break;
      case "G":
        this.col = n - 1;
        break;
      case "H": {
        const [r = 1, c = 1] = params.split(";").map((part) => Number(part) || 1);
        this.row = r - 1;
        this.col = c - 1;
        break;
      }
      case "J":
        // 2J erases the screen and 3J the scrollback; Ink sends both to start over.
        if (params === "2" || params === "3") {
          this.lines = [[]];
          this.row = 0;
          this.col = 0;
        } else if (params === "" || params === "0") {
          this.lines.length = this.row + 1;
          this.line().length = Math.min(this.line().length, this.col);
        }
        break;
      case "K": {
        const line = this.line();
        if (params === "2") line.length = 0;
        else if (params === "" || params === "0") line.length = Math.min(line.length, this.col);
        else for (let c = 0; c <= this.col && c < line.length; c++) line[c] = " ";
        break;
      }
    }
    return end + 1;
  }
}
