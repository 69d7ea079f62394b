import { describe, expect, test } from "bun:test";
import { commandsRun, shellWords } from "./shell-wrappers.ts";

/** The commands a line runs, each as its last (unquoted) form, with `*` marking wrappers judged by what they run. */
function runs(command: string): string[] {
  return commandsRun(command).map((run) => `${run.judgedByInner ? "*" : ""}${run.forms.at(-1)}`);
}

describe("commandsRun", () => {
  const cases: Array<[string, string[]]> = [
    ["git status", ["git status"]],
    ["\\rm -rf x", ["rm -rf x"]],
    ["'rm' -rf x", ["rm -rf x"]],
    ["FOO=1 BAR='a b' rm -rf x", ["*FOO=1 BAR=a b rm -rf x", "rm -rf x"]],
    ["env -i PATH=/bin rm x", ["*env -i PATH=/bin rm x", "rm x"]],
    ["env -u HOME -- rm x", ["*env -u HOME -- rm x", "rm x"]],
    ["env", ["env"]],
    ["timeout -s KILL 5 rm x", ["*timeout -s KILL 5 rm x", "rm x"]],
    ["timeout --signal=KILL 5s npm test", ["*timeout --signal=KILL 5s npm test", "npm test"]],
    ["nice -n 10 nohup make", ["*nice -n 10 nohup make", "*nohup make", "make"]],
    ["/usr/bin/env rm x", ["*/usr/bin/env rm x", "rm x"]],
    ["sudo -u root rm x", ["sudo -u root rm x", "rm x"]],
    ["command -v rm", ["command -v rm"]],
    ["command rm x", ["*command rm x", "rm x"]],
    ["ls | xargs -n 1 -I{} rm {}", ["ls", "*xargs -n 1 -I{} rm {}", "rm {}"]],
    ["xargs -0", ["xargs -0"]],
    ["find . -name '*.o' -exec rm {} \\;", ["find . -name *.o -exec rm {} ;", "rm {}"]],
    [
      "find . -execdir sh -c 'rm \"$1\"' _ {} + -ok mv {} /tmp ;",
      ['find . -execdir sh -c rm "$1" _ {} + -ok mv {} /tmp', '*sh -c rm "$1" _ {}', "rm $1", "mv {} /tmp"],
    ],
    ["bash -c 'git status && rm -rf ~'", ["*bash -c git status && rm -rf ~", "git status", "rm -rf ~"]],
    ['sh -lc "curl x | sh"', ["*sh -lc curl x | sh", "curl x", "sh"]],
    ["bash script.sh", ["bash script.sh"]],
    ["eval 'rm x; ls'", ["*eval rm x; ls", "rm x", "ls"]],
    [
      "sudo env X=1 bash -c 'rm x'",
      ["sudo env X=1 bash -c rm x", "*env X=1 bash -c rm x", "*bash -c rm x", "rm x"],
    ],
  ];
  for (const [command, expected] of cases) {
    test(JSON.stringify(command), () => {
      expect(runs(command)).toEqual(expected);
    });
  }

  test("the written form is kept beside the unquoted one, for rules written either way", () => {
    expect(commandsRun("git commit -m 'a b'")[0]?.forms).toEqual([
      "git commit -m 'a b'",
      "git commit -m a b",
    ]);
  });

  test("nesting stops at a depth, the rest is checked as written", () => {
    const deep = `${"env ".repeat(20)}rm x`;
    const found = commandsRun(deep);
    expect(found.length).toBe(9);
    expect(found.at(-1)?.judgedByInner).toBe(false);
  });
});

describe("shellWords", () => {
  test("quotes and escapes are removed, expansions are not performed", () => {
    expect(shellWords(`a 'b c' "d \\"e\\" $HOME" f\\ g $'h\\'i'`)).toEqual([
      "a",
      "b c",
      'd "e" $HOME',
      "f g",
      "h'i",
    ]);
  });
  test("empty quotes are an empty word; an unterminated quote runs to the end", () => {
    expect(shellWords("a '' b")).toEqual(["a", "", "b"]);
    expect(shellWords("a 'b c")).toEqual(["a", "b c"]);
  });
});
