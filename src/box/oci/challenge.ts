/**
 * WWW-Authenticate parsing (RFC 7235) for registry challenges:
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"
 *   Basic realm="Registry Realm"
 */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses one or more challenges; unknown schemes are kept so the caller can say what it got. */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let rest = header.trim();
  let current: Challenge | undefined;
  while (rest.length > 0) {
    const param = /^([A-Za-z0-9_.-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)\s*(,\s*)?/.exec(rest);
    if (param && current) {
      const [whole, key = "", raw = "", quoted] = param;
      current.params[key.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : raw;
      rest = rest.slice(whole.length);
      continue;
    }
    const scheme = /^([A-Za-z0-9_.-]+)\s*(,\s*)?/.exec(rest);
    if (!scheme) break;
    current = { scheme: (scheme[1] ?? "").toLowerCase(), params: {} };
    challenges.push(current);
    rest = rest.slice(scheme[0].length);
  }
  return challenges;
}
