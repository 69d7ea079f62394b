import { describe, expect, test } from "bun:test";
import { A3sError } from "../../core/errors.ts";
import { familiarReference, formatReference, parseReference, registryHost } from "./reference.ts";

const D = `sha256:${"a".repeat(64)}`;

describe("parseReference normalises like Docker", () => {
  const cases: Array<[string, string]> = [
    ["alpine", "docker.io/library/alpine:latest"],
    ["alpine:3.20", "docker.io/library/alpine:3.20"],
    ["library/alpine", "docker.io/library/alpine:latest"],
    ["user/app", "docker.io/user/app:latest"],
    ["docker.io/alpine", "docker.io/library/alpine:latest"],
    ["index.docker.io/library/alpine:edge", "docker.io/library/alpine:edge"],
    ["ghcr.io/org/team/app:v1.2.3", "ghcr.io/org/team/app:v1.2.3"],
    ["localhost/app", "localhost/app:latest"],
    ["localhost:5000/app:dev", "localhost:5000/app:dev"],
    ["127.0.0.1:5000/ns/name:tag", "127.0.0.1:5000/ns/name:tag"],
    ["quay.io/a_b/c-d.e__f:x", "quay.io/a_b/c-d.e__f:x"],
    [`alpine@${D}`, `docker.io/library/alpine@${D}`],
    [`alpine:3.20@${D}`, `docker.io/library/alpine:3.20@${D}`],
    ["[::1]:5000/app", "[::1]:5000/app:latest"],
    ["Registry.Example/app", "Registry.Example/app:latest"],
  ];
  for (const [input, expected] of cases) {
    test(`${input} → ${expected}`, () => expect(formatReference(parseReference(input))).toBe(expected));
  }

  test("fields", () => {
    expect(parseReference("localhost:5000/ns/name:tag")).toEqual({
      registry: "localhost:5000",
      repository: "ns/name",
      tag: "tag",
    });
    expect(parseReference(`busybox@${D}`)).toEqual({
      registry: "docker.io",
      repository: "library/busybox",
      digest: D,
    });
  });

  test("familiar names as docker images shows them", () => {
    expect(familiarReference(parseReference("alpine"))).toBe("alpine:latest");
    expect(familiarReference(parseReference("user/app:1"))).toBe("user/app:1");
    expect(familiarReference(parseReference("ghcr.io/o/a:1"))).toBe("ghcr.io/o/a:1");
  });

  test("Docker Hub's API host", () => {
    expect(registryHost("docker.io")).toBe("registry-1.docker.io");
    expect(registryHost("ghcr.io")).toBe("ghcr.io");
  });
});

describe("invalid references are usage errors naming the problem", () => {
  const cases: Array<[string, RegExp]> = [
    ["", /empty/],
    ["Alpine", /lowercase/],
    ["docker.io/Library/alpine", /lowercase/],
    ["alpine:", /bad tag/],
    ["alpine:-x", /bad tag/],
    [`alpine:${"x".repeat(129)}`, /bad tag/],
    ["alpine@sha256:abc", /bad digest/],
    ["alpine@md5:aaaa", /bad digest/],
    ["a//b", /empty path component/],
    ["app/", /empty path component/],
    ["-app", /bad repository component/],
    ["ap--_p", /bad repository component/],
    ["host:port:5000/app", /bad (port|registry)/],
    ["localhost:abc/app", /bad port/],
    [":tag", /missing repository/],
    [`${"a/".repeat(130)}b`, /longer than 255/],
  ];
  for (const [input, problem] of cases) {
    test(JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input), () => {
      try {
        parseReference(input);
        throw new Error("expected a usage error");
      } catch (err) {
        expect(err).toBeInstanceOf(A3sError);
        expect((err as A3sError).code).toBe("usage");
        expect((err as A3sError).message).toMatch(problem);
      }
    });
  }
});
