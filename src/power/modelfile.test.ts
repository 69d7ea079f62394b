import { describe, expect, test } from "bun:test";
import { expectUsage } from "../../tests/expect-error.ts";
import { formatModelfile, parseModelfile, parseParameter, quoteModelfileValue } from "./modelfile.ts";

const LLAMA = `# a comment
FROM llama3.2:3b
from ./adapter-base.gguf
adapter ./lora.gguf
TEMPLATE """{{ if .System }}<|start_header_id|>system<|end_header_id|>

{{ .System }}<|eot_id|>{{ end }}"""
SYSTEM "You are Mario from Super Mario Bros."
PARAMETER temperature 0.7
PARAMETER num_ctx 4096
PARAMETER stop "<|start_header_id|>"
PARAMETER stop <|eot_id|>
Parameter use_mmap false
PARAMETER mirostat 1
LICENSE MIT
LICENSE """line one
line two"""
MESSAGE user Is Toronto in Canada?
MESSAGE assistant yes
`;

describe("Modelfile", () => {
  test("instructions, case-insensitive names, comments and both quote styles", () => {
    expect(parseModelfile(LLAMA)).toEqual({
      from: ["llama3.2:3b", "./adapter-base.gguf"],
      adapters: ["./lora.gguf"],
      template:
        "{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}",
      system: "You are Mario from Super Mario Bros.",
      parameters: {
        temperature: 0.7,
        num_ctx: 4096,
        stop: ["<|start_header_id|>", "<|eot_id|>"],
        use_mmap: false,
      },
      licenses: ["MIT", "line one\nline two"],
      messages: [
        { role: "user", content: "Is Toronto in Canada?" },
        { role: "assistant", content: "yes" },
      ],
      deprecated: ["mirostat"],
    });
  });

  test("values are trimmed outside quotes and kept verbatim inside", () => {
    const parsed = parseModelfile('FROM   llama3  \nSYSTEM """  spaced  """\nLICENSE a # not a comment\r\n');
    expect(parsed.from).toEqual(["llama3"]);
    expect(parsed.system).toBe("  spaced  ");
    expect(parsed.licenses).toEqual(["a # not a comment"]);
  });

  test("parameters are typed by Ollama's option table", () => {
    expect(parseParameter("top_k", "40")).toBe(40);
    expect(parseParameter("seed", "-1")).toBe(-1);
    expect(parseParameter("top_p", "0.9")).toBe(0.9);
    expect(parseParameter("repeat_penalty", "1.1")).toBe(1.1);
    expect(parseParameter("min_p", ".05")).toBe(0.05);
    expect(parseParameter("use_mmap", "T")).toBe(true);
    expect(parseParameter("stop", "</s>")).toBe("</s>");
    expectUsage(() => parseParameter("num_ctx", "4k"), "invalid int value for num_ctx");
    expectUsage(() => parseParameter("temperature", "hot"), "invalid float value for temperature");
    expectUsage(() => parseParameter("use_mmap", "yes"), "invalid bool value for use_mmap");
  });

  test("errors carry the line number", () => {
    expectUsage(
      () => parseModelfile("FROM x\nPARAMETER bogus 1"),
      "Modelfile (line 2): unknown parameter 'bogus'",
    );
    expectUsage(() => parseModelfile("FROM x\n\nPARAMETER num_ctx big"), /line 3\): invalid int value/);
    expectUsage(() => parseModelfile("FROM x\nRUN make"), /line 2\): unknown instruction 'RUN'/);
    expectUsage(() => parseModelfile("FROM x\nMESSAGE tool hi"), /line 2\): message role must be one of/);
    expectUsage(
      () => parseModelfile('FROM x\nSYSTEM """never\nclosed'),
      /line 2\): unterminated quoted string/,
    );
    expectUsage(() => parseModelfile("SYSTEM hi\n"), "Modelfile: no FROM line");
  });

  test("formatted as Ollama writes it, and read back to the same model", () => {
    const parsed = parseModelfile(LLAMA);
    const text = formatModelfile(parsed);
    expect(text).toBe(
      [
        "FROM llama3.2:3b",
        "FROM ./adapter-base.gguf",
        "ADAPTER ./lora.gguf",
        'TEMPLATE "{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}"',
        "SYSTEM You are Mario from Super Mario Bros.",
        "PARAMETER num_ctx 4096",
        "PARAMETER stop <|start_header_id|>",
        "PARAMETER stop <|eot_id|>",
        "PARAMETER temperature 0.7",
        "PARAMETER use_mmap false",
        "LICENSE MIT",
        'LICENSE "line one\nline two"',
        "MESSAGE user Is Toronto in Canada?",
        "MESSAGE assistant yes",
        "",
      ].join("\n"),
    );
    expect(parseModelfile(text)).toEqual({ ...parsed, deprecated: [] });
  });

  test("quoting: multi-line or edge spaces get quotes, triple when the text has a quote", () => {
    expect(quoteModelfileValue("plain")).toBe("plain");
    expect(quoteModelfileValue(" x")).toBe('" x"');
    expect(quoteModelfileValue('say "hi"\n')).toBe('"""say "hi"\n"""');
  });
});
