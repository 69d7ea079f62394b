/**
 * power.host / OLLAMA_HOST as Ollama reads it: "host", "host:port", ":port", "http://host:port",
 * "[::1]:port"; the host defaults to 127.0.0.1 and the port to 11434.
 */
import { A3sError } from "../../core/errors.ts";

export const DEFAULT_PORT = 11434;

export interface HostPort {
  hostname: string;
  port: number;
}

export function parseHostPort(value: string): HostPort {
  const scheme = /^(https?):\/\//i.exec(value.trim())?.[1]?.toLowerCase();
  // Ollama drops a path; a scheme without a port means its well-known port.
  let text = value
    .trim()
    .replace(/^https?:\/\//i, "")
    .replace(/\/.*$/, "");
  const schemePort = scheme === "https" ? 443 : scheme === "http" ? 80 : DEFAULT_PORT;
  if (text === "") return { hostname: "127.0.0.1", port: schemePort };
  let hostname: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d*))?$/.exec(text);
  if (bracketed) {
    hostname = bracketed[1] as string;
    portText = bracketed[2];
  } else if ((text.match(/:/g) ?? []).length > 1) {
    hostname = text; // a bare IPv6 address
  } else {
    const colon = text.lastIndexOf(":");
    hostname = colon >= 0 ? text.slice(0, colon) : text;
    portText = colon >= 0 ? text.slice(colon + 1) : undefined;
  }
  text = hostname || "127.0.0.1";
  if (portText !== undefined && portText !== "" && !/^\d+$/.test(portText)) {
    throw new A3sError("usage", `invalid port in host '${value}'`);
  }
  const port = portText === undefined || portText === "" ? schemePort : Number(portText);
  if (port > 65535) {
    throw new A3sError("usage", `invalid port in host '${value}'`);
  }
  return { hostname: text, port };
}

/** The URL a client uses to reach a server listening on `address` (a wildcard means this machine). */
export function clientUrl(address: HostPort): string {
  const host =
    address.hostname === "0.0.0.0" ? "127.0.0.1" : address.hostname === "::" ? "::1" : address.hostname;
  return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
}
