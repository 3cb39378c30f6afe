import type { IceServer } from "./engine.js";

export interface ParsedIceUrl {
  scheme: "stun" | "stuns" | "turn" | "turns";
  host: string;
  port: number;
  transport: "udp" | "tcp" | undefined;
}

/** Parses an RFC 7064/7065 URL: `stun:host[:port]`, `turn:host[:port][?transport=udp|tcp]`. */
export function parseIceUrl(url: string): ParsedIceUrl {
  const match = /^(stuns?|turns?):(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/.exec(
    url,
  );
  if (!match) throw new Error(`not a STUN/TURN URL: ${url}`);
  const scheme = match[1] as ParsedIceUrl["scheme"];
  const secure = scheme === "stuns" || scheme === "turns";
  const port = match[3] ? Number(match[3]) : secure ? 5349 : 3478;
  const host = (match[2] as string).replace(/^\[|\]$/g, "");
  return { scheme, host, port, transport: match[4] as ParsedIceUrl["transport"] };
}

/** The server as the W3C API takes it: no property that is present but undefined. */
export function rtcIceServer({ urls, username, credential }: IceServer): RTCIceServer {
  return {
    urls,
    ...(username !== undefined ? { username } : {}),
    ...(credential !== undefined ? { credential } : {}),
  };
}

export function iceUrls(server: IceServer): string[] {
  return Array.isArray(server.urls) ? server.urls : [server.urls];
}

/** An mDNS host candidate (`<uuid>.local`): browsers hide their addresses behind these, and they
 * cannot be resolved off the browser's own link, so waiting on one only stalls ICE. */
export function isMdnsCandidate(candidate: string): boolean {
  return /\s[0-9a-z-]+\.local\s/i.test(candidate);
}
