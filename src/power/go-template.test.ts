import { describe, expect, test } from "bun:test";
import { expectUsage } from "../../tests/expect-error.ts";
import { parseGoTemplate } from "./go-template.ts";
import { executeGoTemplate } from "./go-template-exec.ts";
import { formatValue, goJson } from "./go-template-values.ts";

function render(src: string, data: unknown = new Map()): string {
  return executeGoTemplate(src, parseGoTemplate(src), data);
}

const data = new Map<string, unknown>([
  ["S", "hi"],
  ["Empty", ""],
  ["N", 3],
  ["List", ["a", "b", "c"]],
  ["None", []],
  [
    "M",
    new Map([
      ["b", 2],
      ["a", 1],
    ]),
  ],
  ["Struct", { Name: "x", Inner: { Value: 7 } }],
]);

describe("Go text/template", () => {
  test("text, actions and trim markers", () => {
    expect(render("a {{ .S }} b", data)).toBe("a hi b");
    expect(render("a  \n {{- .S -}} \n  b", data)).toBe("ahib");
    expect(render("{{- /* a comment */ -}}\n x", data)).toBe("x");
    expect(render("a{{/* c */}}b")).toBe("ab");
    expect(render("{{-3}}")).toBe("-3");
  });

  test("literals", () => {
    expect(render("{{ \"a\\tb\\u00e9\" }}|{{ `raw\\n` }}|{{ 1.5 }}|{{ true }}|{{ 0x10 }}|{{ 'a' }}")).toBe(
      "a\tbé|raw\\n|1.5|true|16|97",
    );
  });

  test("fields, chains, missing map keys and struct fields", () => {
    expect(render("{{ .Struct.Inner.Value }} {{ .Struct.Name }}", data)).toBe("7 x");
    expect(render("{{ (index .List 1) }}{{ (.Struct.Inner).Value }}", data)).toBe("b7");
    expect(render("{{ .Missing }}", data)).toBe("<no value>");
    expectUsage(() => render("{{ .Struct.Nope }}", data), /template:1:4: can't evaluate field Nope/);
    expectUsage(() => render("{{ .Missing.X }}", data), /nil pointer evaluating/);
  });

  test("if / else if / else with Go truthiness", () => {
    const t = "{{ if .Empty }}1{{ else if .None }}2{{ else if .N }}3{{ else }}4{{ end }}";
    expect(render(t, data)).toBe("3");
    expect(render("{{ if .M }}m{{ end }}{{ if .Struct }}s{{ end }}{{ if 0 }}z{{ end }}", data)).toBe("ms");
  });

  test("range over slices, maps (sorted), ints; else; break and continue", () => {
    expect(render("{{ range $i, $v := .List }}{{ $i }}{{ $v }}{{ end }}", data)).toBe("0a1b2c");
    expect(render("{{ range .List }}{{ . }}{{ end }}", data)).toBe("abc");
    expect(render("{{ range $k, $v := .M }}{{ $k }}={{ $v }};{{ end }}", data)).toBe("a=1;b=2;");
    expect(render("{{ range $v := .M }}{{ $v }}{{ end }}", data)).toBe("12");
    expect(render("{{ range .None }}x{{ else }}empty{{ end }}", data)).toBe("empty");
    expect(render("{{ range .Missing }}x{{ else }}nil{{ end }}", data)).toBe("nil");
    expect(render("{{ range 3 }}{{ . }}{{ end }}")).toBe("012");
    expect(
      render(
        '{{ range .List }}{{ if eq . "b" }}{{ continue }}{{ end }}{{ if eq . "c" }}{{ break }}{{ end }}{{ . }}{{ end }}',
        data,
      ),
    ).toBe("a");
  });

  test("with, variables, assignment and scope", () => {
    expect(
      render(
        "{{ with .Struct }}{{ .Name }}{{ else }}none{{ end }}{{ with .Empty }}x{{ else with .S }}{{ . }}{{ end }}",
        data,
      ),
    ).toBe("xhi");
    expect(render('{{ $x := "a" }}{{ if true }}{{ $x = "b" }}{{ $y := 1 }}{{ end }}{{ $x }}')).toBe("b");
    expect(render("{{ range .List }}{{ $.S }}{{ end }}", data)).toBe("hihihi");
    expectUsage(() => render("{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}"), /undefined variable "\$y"/);
  });

  test("pipelines and parenthesised calls", () => {
    expect(render('{{ "x" | printf "%s-%s" "a" }}')).toBe("a-x");
    expect(render("{{ .List | len }} {{ len (slice .List 1) }}", data)).toBe("3 2");
    expect(render("{{ $last := eq (len (slice .List 2)) 1 }}{{ $last }}", data)).toBe("true");
  });

  test("and/or return operands and short-circuit; not", () => {
    expect(render('{{ and 1 "" 2 }}|{{ or "" 0 "z" }}|{{ or "" 0 }}|{{ not "" }}')).toBe("|z|0|true");
    expect(render("{{ and false .Missing.X }}", data)).toBe("false");
  });

  test("comparisons", () => {
    expect(
      render('{{ eq "a" "b" "a" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1 2 }}'),
    ).toBe("true true true true true false");
    expect(render("{{ eq .Missing 1 }}", data)).toBe("false");
    expectUsage(() => render('{{ eq 1 "1" }}'), /error calling eq: incompatible types for comparison/);
    expectUsage(() => render("{{ lt true false }}"), /invalid type for comparison/);
  });

  test("len, index and slice count bytes of strings like Go", () => {
    expect(
      render('{{ len "héllo" }} {{ index .M "a" }} {{ index .List 2 }} {{ slice "hello" 1 3 }}', data),
    ).toBe("6 1 c el");
    expectUsage(() => render("{{ index .List 5 }}", data), /index out of range: 5/);
  });

  test("print, printf, println and the escapers", () => {
    expect(
      render(
        '{{ print "a" 1 2 "b" }}|{{ printf "%d %q %5.2f %v %%" 3 "x" 3.14159 .List }}|{{ println 1 "a" }}',
        data,
      ),
    ).toBe('a1 2b|3 "x"  3.14 [a b c] %|1 a\n');
    expect(render('{{ printf "%s" }}|{{ printf "x" 1 }}')).toBe("%!s(MISSING)|x%!(EXTRA int=1)");
    expect(render(`{{ html "<a href='x'>&\\"" }}|{{ js "a'b<" }}|{{ urlquery "a b&c" }}`)).toBe(
      "&lt;a href=&#39;x&#39;&gt;&amp;&#34;|a\\'b\\u003C|a+b%26c",
    );
  });

  test("values print as fmt's %v", () => {
    expect(formatValue(new Map<string, unknown>([["k", [1, "x"]]]))).toBe("map[k:[1 x]]");
    expect(formatValue(null)).toBe("<nil>");
    expect(formatValue(0.000012)).toBe("1.2e-05");
    expect(formatValue(1234567.5)).toBe("1.2345675e+06");
    expect(formatValue(0.5)).toBe("0.5");
    expect(
      goJson(
        new Map<string, unknown>([
          ["b", "</x>"],
          ["a", 1],
        ]),
      ),
    ).toBe('{"a":1,"b":"\\u003c/x\\u003e"}');
  });

  test("parse errors name their position", () => {
    expectUsage(() => parseGoTemplate("ok\n  {{ .A "), /template:2:3: unclosed action/);
    expectUsage(() => parseGoTemplate("{{ if .A }}x"), /unexpected EOF/);
    expectUsage(() => parseGoTemplate("{{ end }}"), /unexpected {{end}}/);
    expectUsage(() => parseGoTemplate("{{ else }}"), /unexpected {{else}}/);
    expectUsage(() => parseGoTemplate("{{ nope 1 }}"), /function "nope" not defined/);
    expectUsage(() => parseGoTemplate("{{ break }}"), /{{break}} outside {{range}}/);
    expectUsage(() => parseGoTemplate("{{ /* x */ }}"), /unexpected|comment/);
    expectUsage(() => parseGoTemplate("{{/* x }}"), /unclosed comment/);
    expectUsage(() => parseGoTemplate('{{ "abc }}'), /unterminated quoted string/);
    expectUsage(() => parseGoTemplate("{{ (len .A }}"), /unclosed left paren/);
    expectUsage(() => parseGoTemplate("{{ .A ) }}"), /unexpected token/);
    expectUsage(() => parseGoTemplate("{{ }}"), /missing value for command/);
    expectUsage(() => parseGoTemplate('{{ define "x" }}{{ end }}'), /function "define" not defined/);
    expectUsage(() => render("{{ not 1 2 }}"), /wrong number of args for not: want 1 got 2/);
    expectUsage(() => render("{{ 1 2 }}"), /can't give argument to non-function/);
  });
});
