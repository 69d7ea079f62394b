import { expect, test } from "bun:test";
import { parseChallenges } from "./challenge.ts";

test("Docker Hub's bearer challenge", () => {
  expect(
    parseChallenges(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
    ),
  ).toEqual([
    {
      scheme: "bearer",
      params: {
        realm: "https://auth.docker.io/token",
        service: "registry.docker.io",
        scope: "repository:library/alpine:pull",
      },
    },
  ]);
});

test("scopes with commas and escaped quotes survive", () => {
  const [challenge] = parseChallenges(
    'Bearer realm="http://a/t",scope="repository:x:pull,push",error="say \\"hi\\""',
  );
  expect(challenge?.params.scope).toBe("repository:x:pull,push");
  expect(challenge?.params.error).toBe('say "hi"');
});

test("basic, token68-free, and several challenges in one header", () => {
  expect(parseChallenges('Basic realm="Registry Realm", Bearer realm="http://t",service=reg')).toEqual([
    { scheme: "basic", params: { realm: "Registry Realm" } },
    { scheme: "bearer", params: { realm: "http://t", service: "reg" } },
  ]);
});

test("garbage yields no challenge rather than a throw", () => {
  expect(parseChallenges("")).toEqual([]);
  expect(parseChallenges("Bearer")).toEqual([{ scheme: "bearer", params: {} }]);
});
