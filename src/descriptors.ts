import type { IncomingMessage, ServerResponse } from "node:http";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FALLBACK_AFTER_MS,
  DEFAULT_HOST,
  DEFAULT_LINK_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_PORT,
  DEFAULT_SERVER_HOST,
  DEFAULT_UPGRADE_AFTER_MS,
  MIN_TOKEN_SECRET_BYTES,
} from "./defaults.js";
import { InvalidArgumentError } from "./errors.js";
import type { EngineName, IceServer } from "./peer/engine.js";
import { DEFAULT_ENGINE_NAME, ENGINE_NAMES } from "./peer/engines.js";
import { iceUrls, parseIceUrl } from "./peer/ice-servers.js";
import type { TurnOptions } from "./signaling/turn.js";

/** Options both ends share. */
export interface PeerOptions {
  /** WebRTC engine. @default "node-datachannel" in Node, "browser" in the browser build */
  engine?: EngineName;
  /** STUN/TURN servers. @default [] — host candidates only; no public STUN server is contacted. */
  iceServers?: IceServer[];
  /** Gather ICE host candidates on this local address only, e.g. "127.0.0.1". @default all interfaces */
  iceBindAddress?: string;
  /** "relay" forces traffic through TURN. @default "all" */
  iceTransportPolicy?: "all" | "relay";
  /** Largest encoded message sent or accepted. @default 16 MiB */
  maxMessageBytes?: number;
}

export interface ServerOptions extends PeerOptions {
  /** Address the signaling server listens on. @default "0.0.0.0" */
  host?: string;
  /** Signaling port; 0 picks a free one (read it from `server.port`). @default 8080 */
  port?: number;
  /** Shared password clients must present; it grants every stream. Omitted (and no
   * `tokenSecret`): every client is accepted. */
  password?: string;
  /** Secret (≥ 32 bytes) of the HS256 tokens clients may present instead, each granting the
   * streams it names (see `mintToken` and `npx conduit-rtc token`). */
  tokenSecret?: string;
  /** Origins (e.g. "https://app.example.com") whose pages may connect. A browser request from
   * any other origin is refused before authentication. Requests without an Origin header
   * (Node clients) are not affected. @default any origin */
  allowedOrigins?: string[];
  /** Socket.IO heartbeat interval. @default 5000 */
  pingIntervalMs?: number;
  /** A client silent this long after a ping is dropped. @default 5000 */
  pingTimeoutMs?: number;
  /** A WebRTC link that hears nothing for this long (both ends send keepalives) has failed:
   * the client sets up a new one in the same session, and reliable streams resend what it
   * lost. Clients use the server's value. @default 5000 */
  linkTimeoutMs?: number;
  /** A TURN server sharing `secret` with this server: each client gets credentials minted for
   * it after it authenticates (TURN REST API), valid `ttlSeconds`. @default none */
  turn?: TurnOptions;
  /** Join other server processes through NATS (see docs/SCALING.md): streams on any node
   * are listed and subscribable everywhere. Omitted: a single process, no NATS. */
  cluster?: { natsUrl: string | string[]; node: string };
  /** Answers HTTP requests other than Socket.IO's, on the same port (e.g. a web app). */
  httpHandler?: (request: IncomingMessage, response: ServerResponse) => void;
}

export interface ReconnectPolicy {
  /** Delay before the first attempt; each next one doubles it, with jitter. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Attempts before giving up (the client then closes with the last error). */
  maxAttempts: number;
}

const DEFAULT_RECONNECT: ReconnectPolicy = {
  initialDelayMs: 250,
  maxDelayMs: 5_000,
  maxAttempts: Number.POSITIVE_INFINITY,
};

export interface ClientOptions extends PeerOptions {
  /** @default "localhost" */
  serverHost?: string;
  /** @default 8080 */
  serverPort?: number;
  /** Use https/wss for signaling. @default false */
  secure?: boolean;
  password?: string;
  /** A token minted with the server's `tokenSecret`, instead of a password. */
  token?: string;
  /** More servers (cluster nodes) to reconnect to, in turn, when the current one is lost. */
  servers?: { host: string; port: number }[];
  /** Use WebRTC for data. false: always relay the data over the Socket.IO connection.
   * @default true */
  webrtc?: boolean;
  /** WebRTC that has not connected after this long (UDP blocked, say) gives way to the relay
   * over Socket.IO; false: never relay, fail instead. @default 5000 */
  fallbackAfterMs?: number | false;
  /** While relaying, try WebRTC again after this long (and again, until it connects);
   * false: stay on the relay. @default 30000 */
  upgradeAfterMs?: number | false;
  /** Reconnect after a lost connection (signaling or WebRTC), with exponential backoff and
   * jitter; subscriptions and client streams resume by themselves. `false`: a lost connection
   * closes the client and fails its loops. @default true (250 ms doubling to 5 s, no limit) */
  reconnect?: boolean | Partial<ReconnectPolicy>;
  /** Time allowed for `connect()`: auth, negotiation, ICE, DTLS and both channels open (and
   * as long again for the relay, when WebRTC gives way to it). @default 15000 */
  connectTimeoutMs?: number;
}

function validatePort(port: unknown, what: string): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(
      `${what} must be an integer from 0 to 65535, not ${String(port)}`,
    );
  }
  return port;
}

function validatePositiveInt(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`${what} must be a positive integer, not ${String(value)}`);
  }
  return value;
}

function validateNonEmpty(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new InvalidArgumentError(`${what} must be a non-empty string`);
  }
  return value;
}

function validatePeerOptions(options: PeerOptions): Required<
  Omit<PeerOptions, "iceBindAddress">
> & {
  iceBindAddress: string | undefined;
} {
  const engine = options.engine ?? DEFAULT_ENGINE_NAME;
  if (!ENGINE_NAMES.includes(engine)) {
    throw new InvalidArgumentError(
      `engine must be one of ${ENGINE_NAMES.join(", ")}, not "${engine}"`,
    );
  }
  const iceServers = options.iceServers ?? [];
  if (!Array.isArray(iceServers)) throw new InvalidArgumentError("iceServers must be an array");
  for (const server of iceServers) {
    for (const url of iceUrls(server)) {
      try {
        parseIceUrl(url);
      } catch {
        throw new InvalidArgumentError(
          `iceServers: "${url}" is not a stun:, stuns:, turn: or turns: URL`,
        );
      }
    }
  }
  const policy = options.iceTransportPolicy ?? "all";
  if (policy !== "all" && policy !== "relay") {
    throw new InvalidArgumentError(`iceTransportPolicy must be "all" or "relay"`);
  }
  if (options.iceBindAddress !== undefined)
    validateNonEmpty(options.iceBindAddress, "iceBindAddress");
  return {
    engine,
    iceServers,
    iceBindAddress: options.iceBindAddress,
    iceTransportPolicy: policy,
    maxMessageBytes: validatePositiveInt(
      options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      "maxMessageBytes",
    ),
  };
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

function signalingUrl(host: string, port: number, secure: boolean): string {
  return `${secure ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** A duration option that `false` turns off. */
function optionalDuration(
  value: number | false | undefined,
  fallback: number,
  name: string,
): number | undefined {
  if (value === false) return undefined;
  return validatePositiveInt(value ?? fallback, name);
}

function validateReconnect(option: ClientOptions["reconnect"]): ReconnectPolicy | undefined {
  if (option === false) return undefined;
  if (option === undefined || option === true) return DEFAULT_RECONNECT;
  if (typeof option !== "object" || option === null) {
    throw new InvalidArgumentError("reconnect must be true, false or a policy object");
  }
  const policy = { ...DEFAULT_RECONNECT, ...option };
  validatePositiveInt(policy.initialDelayMs, "reconnect.initialDelayMs");
  validatePositiveInt(policy.maxDelayMs, "reconnect.maxDelayMs");
  if (!(policy.maxAttempts >= 1)) {
    throw new InvalidArgumentError("reconnect.maxAttempts must be at least 1");
  }
  return policy;
}

/** Server configuration; validated here, so a bad option fails at construction. */
export class ServerDescriptor {
  readonly host: string;
  readonly port: number;
  readonly password: string | undefined;
  readonly tokenSecret: string | undefined;
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
  }
}

/** Client configuration; validated here, so a bad option fails at construction. */
export class ClientDescriptor {
  readonly serverHost: string;
  readonly serverPort: number;
  readonly secure: boolean;
  readonly password: string | undefined;
  readonly token: string | undefined;
  readonly engine: EngineName;
  readonly iceServers: IceServer[];
  readonly iceBindAddress: string | undefined;
  readonly iceTransportPolicy: "all" | "relay";
  readonly maxMessageBytes: number;
  readonly connectTimeoutMs: number;
  /** undefined: do not reconnect. */
  readonly reconnect: ReconnectPolicy | undefined;
  readonly webrtc: boolean;
  /** Signaling URLs: serverHost:serverPort first, then `servers`. */
  readonly urls: string[];
  /** undefined: never fall back to the relay. */
  readonly fallbackAfterMs: number | undefined;
  /** undefined: never try WebRTC again once relaying. */
  readonly upgradeAfterMs: number | undefined;

  constructor(options: ClientOptions = {}) {
    const peer = validatePeerOptions(options);
    this.engine = peer.engine;
    this.iceServers = peer.iceServers;
    this.iceBindAddress = peer.iceBindAddress;
    this.iceTransportPolicy = peer.iceTransportPolicy;
    this.maxMessageBytes = peer.maxMessageBytes;
    this.serverHost = validateNonEmpty(options.serverHost ?? DEFAULT_SERVER_HOST, "serverHost");
    this.serverPort = validatePort(options.serverPort ?? DEFAULT_PORT, "serverPort");
    if (this.serverPort === 0) throw new InvalidArgumentError("serverPort must be from 1 to 65535");
    this.secure = options.secure ?? false;
    if (options.password !== undefined && typeof options.password !== "string") {
      throw new InvalidArgumentError("password must be a string");
    }
    this.password = options.password;
    if (options.token !== undefined && typeof options.token !== "string") {
      throw new InvalidArgumentError("token must be a string");
    }
    this.token = options.token;
    this.reconnect = validateReconnect(options.reconnect);
    if (options.webrtc !== undefined && typeof options.webrtc !== "boolean") {
      throw new InvalidArgumentError("webrtc must be true or false");
    }
    this.webrtc = options.webrtc ?? true;
    if (options.servers !== undefined && !Array.isArray(options.servers)) {
      throw new InvalidArgumentError("servers must be a list of { host, port }");
    }
    this.urls = [
      this.url,
      ...(options.servers ?? []).map(({ host, port }) =>
        signalingUrl(
          validateNonEmpty(host, "servers[].host"),
          validatePort(port, "servers[].port"),
          this.secure,
        ),
      ),
    ];
    this.fallbackAfterMs = optionalDuration(
      options.fallbackAfterMs,
      DEFAULT_FALLBACK_AFTER_MS,
      "fallbackAfterMs",
    );
    this.upgradeAfterMs = optionalDuration(
      options.upgradeAfterMs,
      DEFAULT_UPGRADE_AFTER_MS,
      "upgradeAfterMs",
    );
    this.connectTimeoutMs = validatePositiveInt(
      options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      "connectTimeoutMs",
    );
  }

  get url(): string {
    return signalingUrl(this.serverHost, this.serverPort, this.secure);
  }
}
