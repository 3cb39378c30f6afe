import { createHmac } from "node:crypto";
import { DEFAULT_TURN_TTL_SECONDS } from "../core/defaults.js";
import type { IceServer } from "../peer/engine.js";

export interface TurnOptions {
  /** TURN URLs handed to clients, e.g. ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:443?transport=tcp"]. */
  urls: string[];
  /** The secret shared with coturn (`static-auth-secret`). */
  secret: string;
  /** How long minted credentials stay valid. @default 3600 */
  ttlSeconds?: number | undefined;
}

/**
 * Ephemeral TURN credentials (the TURN REST API that coturn's `use-auth-secret` checks):
 * username = "<expiry unix seconds>:<clientId>", credential = base64(HMAC-SHA1(secret, username)).
 */
export function mintTurnCredentials(
  turn: TurnOptions,
  clientId: string,
  nowMs: number = Date.now(),
): IceServer {
  const expiry = Math.floor(nowMs / 1000) + (turn.ttlSeconds ?? DEFAULT_TURN_TTL_SECONDS);
  const username = `${expiry}:${clientId}`;
  const credential = createHmac("sha1", turn.secret).update(username).digest("base64");
  return { urls: turn.urls, username, credential };
}
