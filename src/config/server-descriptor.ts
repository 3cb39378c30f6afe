import type { IncomingMessage, ServerResponse } from "node:http";
import {
  DEFAULT_HOST,
  DEFAULT_LINK_TIMEOUT_MS,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_PORT,
  MIN_TOKEN_SECRET_BYTES,
} from "../core/defaults.js";
import { InvalidArgumentError } from "../core/errors.js";
import {
  rejectUnknownOptions,
  validateNonEmpty,
  validatePort,
  validatePositiveInt,
} from "../core/validation.js";
import type { EngineName, IceServer } from "../peer/engine.js";
import { parseIceUrl } from "../peer/ice-servers.js";
import type { TurnOptions } from "../signaling/turn.js";
import { PEER_OPTION_NAMES, type PeerOptions, validatePeerOptions } from "./peer-options.js";

export interface ServerOptions extends PeerOptions {
  /** Address the signaling server listens on. @default "0.0.0.0" */
  host?: string | undefined;
  /** Signaling port (a number, or a string of digits such as `process.env.PORT`); 0 picks a
   * free one (read it from `server.port`). @default 8080 */
  port?: number | string | undefined;
  /** Shared password clients must present; it grants every stream. A server needs a
   * password, a `tokenSecret`, or `auth: "none"`. */
  password?: string | undefined;
  /** `"none"`: accept every client without credentials (for a closed network or a demo; the
   * server says so in a warning when it starts). Not allowed with a password or token secret.
   * @default credentials required */
  auth?: "none" | undefined;
  /** Secret (≥ 32 bytes) of the HS256 tokens clients may present instead, each granting the
   * streams it names (see `mintToken` and `npx conduit-rtc token`). */
  tokenSecret?: string | undefined;
  /** Origins (e.g. "https://app.example.com") whose pages may connect. A browser request from
   * any other origin is refused before authentication. Requests without an Origin header
   * (Node clients) are not affected. @default any origin */
  allowedOrigins?: string[] | undefined;
  /** Socket.IO heartbeat interval. @default 5000 */
  pingIntervalMs?: number | undefined;
  /** A client silent this long after a ping is dropped. @default 5000 */
  pingTimeoutMs?: number | undefined;
  /** A WebRTC link that hears nothing for this long (both ends send keepalives) has failed:
   * the client sets up a new one in the same session, and reliable streams resend what it
   * lost. Clients use the server's value. @default 5000 */
  linkTimeoutMs?: number | undefined;
  /** A TURN server sharing `secret` with this server: each client gets credentials minted for
   * it after it authenticates (TURN REST API), valid `ttlSeconds`. @default none */
  turn?: TurnOptions | undefined;
  /** Join other server processes through NATS (see docs/SCALING.md): streams on any node
   * are listed and subscribable everywhere. Omitted: a single process, no NATS. */
  cluster?: { natsUrl: string | string[]; node: string } | undefined;
  /** Answers HTTP requests other than Socket.IO's, on the same port (e.g. a web app). */
  httpHandler?: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
}

const SERVER_OPTION_NAMES: Record<keyof ServerOptions, true> = {
  ...PEER_OPTION_NAMES,
  host: true,
  port: true,
  password: true,
  auth: true,
  tokenSecret: true,
  allowedOrigins: true,
  pingIntervalMs: true,
  pingTimeoutMs: true,
  linkTimeoutMs: true,
  turn: true,
  cluster: true,
  httpHandler: true,
};

/** A server must be told to accept clients without credentials: a typo in `password` must
 * not open it to everyone. */
function validateAuth(options: ServerOptions): "credentials" | "none" {
  const credentials = options.password !== undefined || options.tokenSecret !== undefined;
  if (options.auth === undefined) {
    if (credentials) return "credentials";
    throw new InvalidArgumentError(
      'a server needs a password or a tokenSecret; to accept every client without credentials, say so: auth: "none"',
    );
  }
  if (options.auth !== "none") {
    throw new InvalidArgumentError(
      `auth must be "none" (or left out), not ${JSON.stringify(options.auth)}`,
    );
  }
  if (credentials) {
    throw new InvalidArgumentError('auth: "none" cannot go with a password or a tokenSecret');
  }
  return "none";
}

function validateTurn(turn: TurnOptions): TurnOptions {
  if (!Array.isArray(turn.urls) || turn.urls.length === 0) {
    throw new InvalidArgumentError("turn.urls must list at least one turn: or turns: URL");
  }
  for (const url of turn.urls) {
    let scheme: string;
    try {
      scheme = parseIceUrl(url).scheme;
    } catch {
      scheme = "";
    }
    if (scheme !== "turn" && scheme !== "turns") {
      throw new InvalidArgumentError(`turn.urls: "${url}" is not a turn: or turns: URL`);
    }
  }
  validateNonEmpty(turn.secret, "turn.secret");
  if (turn.ttlSeconds !== undefined) validatePositiveInt(turn.ttlSeconds, "turn.ttlSeconds");
  return { ...turn, urls: [...turn.urls] };
}

/** Server configuration; validated here, so a bad option fails at construction. */
export class ServerDescriptor {
  readonly host: string;
  readonly port: number;
  readonly password: string | undefined;
  readonly tokenSecret: string | undefined;
  /** "none": every client is accepted without credentials. */
  readonly auth: "credentials" | "none";
  readonly allowedOrigins: string[] | undefined;
  readonly engine: EngineName;
  readonly iceServers: IceServer[];
  readonly iceBindAddress: string | undefined;
  readonly iceTransportPolicy: "all" | "relay";
  readonly maxMessageBytes: number;
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly linkTimeoutMs: number;
  readonly httpHandler: ServerOptions["httpHandler"];
  readonly turn: TurnOptions | undefined;
  readonly cluster: ServerOptions["cluster"];

  constructor(options: ServerOptions = {}) {
    rejectUnknownOptions(options, SERVER_OPTION_NAMES, "ServerDescriptor");
    const peer = validatePeerOptions(options);
    this.engine = peer.engine;
    this.iceServers = peer.iceServers;
    this.iceBindAddress = peer.iceBindAddress;
    this.iceTransportPolicy = peer.iceTransportPolicy;
    this.maxMessageBytes = peer.maxMessageBytes;
    this.host = validateNonEmpty(options.host ?? DEFAULT_HOST, "host");
    this.port = validatePort(options.port ?? DEFAULT_PORT, "port");
    if (options.password !== undefined) validateNonEmpty(options.password, "password");
    this.password = options.password;
    if (
      options.tokenSecret !== undefined &&
      (typeof options.tokenSecret !== "string" ||
        new TextEncoder().encode(options.tokenSecret).byteLength < MIN_TOKEN_SECRET_BYTES)
    ) {
      throw new InvalidArgumentError(
        `tokenSecret must be a string of at least ${MIN_TOKEN_SECRET_BYTES} bytes`,
      );
    }
    this.tokenSecret = options.tokenSecret;
    if (
      options.allowedOrigins !== undefined &&
      !(
        Array.isArray(options.allowedOrigins) &&
        options.allowedOrigins.every((o) => typeof o === "string" && /^https?:\/\/[^/]+$/.test(o))
      )
    ) {
      throw new InvalidArgumentError(
        'allowedOrigins must be a list of origins like "https://app.example.com" (no path)',
      );
    }
    this.allowedOrigins = options.allowedOrigins && [...options.allowedOrigins];
    this.pingIntervalMs = validatePositiveInt(
      options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
      "pingIntervalMs",
    );
    if (options.httpHandler !== undefined && typeof options.httpHandler !== "function") {
      throw new InvalidArgumentError("httpHandler must be a function (request, response) => void");
    }
    this.httpHandler = options.httpHandler;
    this.turn = options.turn === undefined ? undefined : validateTurn(options.turn);
    if (options.cluster !== undefined) {
      const { natsUrl, node } = options.cluster;
      const urls = Array.isArray(natsUrl) ? natsUrl : [natsUrl];
      if (urls.length === 0 || !urls.every((u) => typeof u === "string" && u.length > 0)) {
        throw new InvalidArgumentError("cluster.natsUrl must be a NATS URL or a list of them");
      }
      validateNonEmpty(node, "cluster.node");
      this.cluster = { natsUrl: urls, node };
    }
    this.pingTimeoutMs = validatePositiveInt(
      options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS,
      "pingTimeoutMs",
    );
    this.linkTimeoutMs = validatePositiveInt(
      options.linkTimeoutMs ?? DEFAULT_LINK_TIMEOUT_MS,
      "linkTimeoutMs",
    );
    this.auth = validateAuth(options);
  }
}
