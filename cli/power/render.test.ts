import { describe, expect, test } from "bun:test";
import type { ShowResponse } from "../../src/power/show.ts";
import { formatBlobLine, humanBytes } from "./render-progress.ts";
import { formatShow } from "./render-show.ts";

describe("power renderers", () => {
  test("sizes read like Ollama's", () => {
    expect(humanBytes(59)).toBe("59 B");
    expect(humanBytes(1_400)).toBe("1.4 KB");
    expect(humanBytes(17_300_000)).toBe("17 MB");
    expect(humanBytes(2_019_377_376)).toBe("2.0 GB");
    expect(humanBytes(3_000_000_000)).toBe("3 GB");
  });

  test("a blob's progress line", () => {
    const event = { status: "pulling dde5aa3fc5ff", digest: "sha256:dde5", total: 2_019_377_376 };
    expect(formatBlobLine({ ...event, completed: 504_844_344 })).toBe(
      `pulling dde5aa3fc5ff:  25% ▕${"█".repeat(7)}${" ".repeat(23)}▏ 504 MB/2.0 GB`,
    );
    expect(formatBlobLine({ ...event, completed: 2_019_377_376 })).toBe(
      `pulling dde5aa3fc5ff: 100% ▕${"█".repeat(30)}▏ 2.0 GB`,
    );
  });

  test("show's sections", () => {
    const show: ShowResponse = {
      license: "LICENSE TITLE\n\nfirst line\nsecond line",
      modelfile: "",
      parameters: 'stop                           "<|eot_id|>"\ntemperature                    0.6',
      template: "{{ .Prompt }}",
      details: {
        parent_model: "",
        format: "gguf",
        family: "llama",
        families: ["llama"],
        parameter_size: "3.2B",
        quantization_level: "Q4_K_M",
      },
      model_info: {
        "general.architecture": "llama",
        "general.parameter_count": 3_212_749_888,
        "llama.context_length": 131072,
        "llama.embedding_length": 3072,
      },
      capabilities: ["completion", "tools"],
      modified_at: "2025-01-01T00:00:00Z",
    };
    expect(formatShow(show, false)).toBe(
      [
        "  Model",
        "    architecture        llama",
        "    parameters          3.2B",
        "    context length      131072",
        "    embedding length    3072",
        "    quantization        Q4_K_M",
        "",
        "  Capabilities",
        "    completion",
        "    tools",
        "",
        "  Parameters",
        '    stop           "<|eot_id|>"',
        "    temperature    0.6",
        "",
        "  License",
        "    LICENSE TITLE",
        "    first line",
        "    ...",
        "",
        "",
      ].join("\n"),
    );
  });
});
