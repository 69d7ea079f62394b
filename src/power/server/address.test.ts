import { describe, expect, test } from "bun:test";
import { expectUsage } from "../../../tests/expect-error.ts";
import { clientUrl, DEFAULT_PORT, parseHostPort } from "./address.ts";

describe("parseHostPort", () => {
  test("the default port is Ollama's", () => {
    expect(DEFAULT_PORT).toBe(11434);
  });

  test("empty or blank: 127.0.0.1 on the default port", () => {
    expect(parseHostPort("")).toEqual({ hostname: "127.0.0.1", port: 11434 });
    expect(parseHostPort("   ")).toEqual({ hostname: "127.0.0.1", port: 11434 });
  });

  test("a host alone takes the default port", () => {
    expect(parseHostPort("0.0.0.0")).toEqual({ hostname: "0.0.0.0", port: 11434 });
    expect(parseHostPort("localhost")).toEqual({ hostname: "localhost", port: 11434 });
    expect(parseHostPort("example.com")).toEqual({ hostname: "example.com", port: 11434 });
  });

  test("host:port", () => {
    expect(parseHostPort("127.0.0.1:8080")).toEqual({ hostname: "127.0.0.1", port: 8080 });
    expect(parseHostPort("0.0.0.0:11435")).toEqual({ hostname: "0.0.0.0", port: 11435 });
  });

  test(":port binds 127.0.0.1", () => {
    expect(parseHostPort(":9000")).toEqual({ hostname: "127.0.0.1", port: 9000 });
  });

  test("host: with an empty port takes the default port", () => {
    expect(parseHostPort("example:")).toEqual({ hostname: "example", port: 11434 });
  });

  test("a URL loses its scheme and trailing slashes", () => {
    expect(parseHostPort("http://example:1234/")).toEqual({ hostname: "example", port: 1234 });
    expect(parseHostPort("https://example:443//")).toEqual({ hostname: "example", port: 443 });
  });

  test("surrounding whitespace is ignored", () => {
    expect(parseHostPort("  0.0.0.0:8000\n")).toEqual({ hostname: "0.0.0.0", port: 8000 });
  });

  test("a bracketed IPv6 address with a port", () => {
    expect(parseHostPort("[::1]:11434")).toEqual({ hostname: "::1", port: 11434 });
    expect(parseHostPort("[::]:8080")).toEqual({ hostname: "::", port: 8080 });
    expect(parseHostPort("http://[fe80::1]:9000/")).toEqual({ hostname: "fe80::1", port: 9000 });
  });

  test("a bracketed IPv6 address without a port", () => {
    expect(parseHostPort("[::1]")).toEqual({ hostname: "::1", port: 11434 });
    expect(parseHostPort("[::1]:")).toEqual({ hostname: "::1", port: 11434 });
  });

  test("a bare IPv6 address is all host", () => {
    expect(parseHostPort("::1")).toEqual({ hostname: "::1", port: 11434 });
    expect(parseHostPort("::")).toEqual({ hostname: "::", port: 11434 });
    expect(parseHostPort("2001:db8::8a2e:370:7334")).toEqual({
      hostname: "2001:db8::8a2e:370:7334",
      port: 11434,
    });
  });

  test("the port range ends at 65535", () => {
    expect(parseHostPort("host:65535")).toEqual({ hostname: "host", port: 65535 });
    expect(parseHostPort("host:0")).toEqual({ hostname: "host", port: 0 });
  });

  test.each(["host:99999", "host:65536", "host:-1", "host:abc", "host:80.5", "[::1]:70000", ":http"])(
    "%p is a usage error quoting the value",
    (value) => {
      expectUsage(() => parseHostPort(value), `invalid port in host '${value}'`);
    },
  );
});

describe("clientUrl", () => {
  test("a named host or IPv4 address is used as is", () => {
    expect(clientUrl({ hostname: "127.0.0.1", port: 11434 })).toBe("http://127.0.0.1:11434");
    expect(clientUrl({ hostname: "example.com", port: 80 })).toBe("http://example.com:80");
    expect(clientUrl({ hostname: "192.168.1.20", port: 8080 })).toBe("http://192.168.1.20:8080");
  });

  test("the IPv4 wildcard means this machine", () => {
    expect(clientUrl({ hostname: "0.0.0.0", port: 11434 })).toBe("http://127.0.0.1:11434");
  });

  test("the IPv6 wildcard means this machine, bracketed", () => {
    expect(clientUrl({ hostname: "::", port: 8080 })).toBe("http://[::1]:8080");
  });

  test("IPv6 addresses are bracketed", () => {
    expect(clientUrl({ hostname: "::1", port: 11434 })).toBe("http://[::1]:11434");
    expect(clientUrl({ hostname: "fe80::1", port: 9000 })).toBe("http://[fe80::1]:9000");
  });

  test("round-trips what parseHostPort reads", () => {
    expect(clientUrl(parseHostPort(""))).toBe("http://127.0.0.1:11434");
    expect(clientUrl(parseHostPort("0.0.0.0:9000"))).toBe("http://127.0.0.1:9000");
    expect(clientUrl(parseHostPort("[::]:9000"))).toBe("http://[::1]:9000");
    expect(clientUrl(parseHostPort("http://example:1234/"))).toBe("http://example:1234");
  });
});

describe("OLLAMA_HOST forms", () => {
  test("a scheme's well-known port, a dropped path, an upper-case scheme", () => {
    expect(parseHostPort("https://host")).toEqual({ hostname: "host", port: 443 });
    expect(parseHostPort("http://host")).toEqual({ hostname: "host", port: 80 });
    expect(parseHostPort("http://host:1234/path")).toEqual({ hostname: "host", port: 1234 });
    expect(parseHostPort("HTTP://example:1234")).toEqual({ hostname: "example", port: 1234 });
  });

  test("ports are plain digits", () => {
    expectUsage(() => parseHostPort("host:1e3"), "invalid port");
    expectUsage(() => parseHostPort("host:0x10"), "invalid port");
  });
});
