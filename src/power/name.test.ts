import { describe, expect, test } from "bun:test";
import { A3sError } from "../core/errors.ts";
import { displayName, endpointFor, formatName, parseModelName, parseRegistry } from "./name.ts";

const full = (text: string, host?: string) => formatName(parseModelName(text, host));

describe("parseModelName", () => {
  test("fills host, namespace and tag as Ollama does", () => {
    expect(full("llama3.2:3b")).toBe("registry.ollama.ai/library/llama3.2:3b");
    expect(full("llama3.2")).toBe("registry.ollama.ai/library/llama3.2:latest");
    expect(full("user/model:tag")).toBe("registry.ollama.ai/user/model:tag");
    expect(full("user/model")).toBe("registry.ollama.ai/user/model:latest");
    expect(full("example.com/ns/model:tag")).toBe("example.com/ns/model:tag");
    expect(full("localhost:5000/ns/model")).toBe("localhost:5000/ns/model:latest");
    expect(full("127.0.0.1:5000/library/tiny:q4_0")).toBe("127.0.0.1:5000/library/tiny:q4_0");
    expect(full("https://example.com/ns/model:1")).toBe("example.com/ns/model:1");
    expect(full("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M")).toBe(
      "hf.co/bartowski/llama-3.2-1b-instruct-gguf:q4_k_m",
    );
  });

  test("names without a host take the configured registry", () => {
    expect(full("tiny", "127.0.0.1:5000")).toBe("127.0.0.1:5000/library/tiny:latest");
    expect(full("other.example/ns/tiny", "127.0.0.1:5000")).toBe("other.example/ns/tiny:latest");
  });

  test("names compare without case", () => {
    expect(full("Mistral:Latest")).toBe(full("mistral"));
  });

  test("refuses what Ollama refuses", () => {
    for (const bad of [
      "",
      "a/b/c/d",
      "ns.x/model/x/y",
      "model:",
      ":tag",
      "model:a:b",
      "mod el",
      "a..b",
      "ns.dot/model",
      "model+Q4_0",
      "model@sha256-abc",
      "x".repeat(129),
    ]) {
      expect(() => parseModelName(bad)).toThrow(A3sError);
    }
    // A port needs a namespace after it, or the host would be read as a namespace.
    expect(() => parseModelName("localhost:5000/model")).toThrow(/namespace/);
  });
});

describe("displayName", () => {
  test("drops the default host and the library namespace, keeps the tag", () => {
    expect(displayName(parseModelName("llama3.2"))).toBe("llama3.2:latest");
    expect(displayName(parseModelName("user/model:1"))).toBe("user/model:1");
    expect(displayName(parseModelName("example.com/library/m:1"))).toBe("example.com/library/m:1");
    expect(displayName(parseModelName("tiny", "127.0.0.1:9"), "127.0.0.1:9")).toBe("tiny:latest");
  });
});

describe("parseRegistry", () => {
  test("https by default, probing for loopback, plain HTTP only on loopback", () => {
    expect(parseRegistry("registry.ollama.ai")).toEqual({ host: "registry.ollama.ai", scheme: "https" });
    expect(parseRegistry("127.0.0.1:5000")).toEqual({ host: "127.0.0.1:5000", scheme: undefined });
    expect(parseRegistry("http://localhost:5000/")).toEqual({ host: "localhost:5000", scheme: "http" });
    expect(parseRegistry("https://Mirror.Example")).toEqual({ host: "mirror.example", scheme: "https" });
    expect(() => parseRegistry("http://mirror.example")).toThrow(/loopback/);
    expect(() => parseRegistry("not a host")).toThrow(/invalid model registry/);
  });

  test("a name's own host keeps its own scheme", () => {
    const configured = parseRegistry("http://127.0.0.1:5000");
    expect(endpointFor(parseModelName("tiny", configured.host), configured)).toBe(configured);
    expect(endpointFor(parseModelName("example.com/a/b"), configured)).toEqual({
      host: "example.com",
      scheme: "https",
    });
  });
});
