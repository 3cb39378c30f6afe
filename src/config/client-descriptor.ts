import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FALLBACK_AFTER_MS,
  DEFAULT_PORT,
  DEFAULT_RECONNECT,
  DEFAULT_SERVER_HOST,
  DEFAULT_UPGRADE_AFTER_MS,
} from "../core/defaults.js";
import { InvalidArgumentError } from "../core/errors.js";
import {
  optionalDuration,
  rejectUnknownOptions,
  validateNonEmpty,
  validatePort,
  validatePositiveInt,
} from "../core/validation.js";
import type { EngineName, IceServer } from "../peer/engine.js";
import { PEER_OPTION_NAMES, type PeerOptions, validatePeerOptions } from "./peer-options.js";

export interface ReconnectPolicy {
  /** Delay before the first attempt; each next one doubles it, with jitter. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Attempts before giving up (the client then closes with the last error). */
  maxAttempts: number;
}

export interface ClientOptions extends PeerOptions {
  /** @default "localhost" */
  serverHost?: string | undefined;
  /** A number, or a string of digits (such as `process.env.PORT`). @default 8080 */
  serverPort?: number | string | undefined;
  /** Use https/wss for signaling. @default false */
  secure?: boolean | undefined;
  password?: string | undefined;
  /** A token minted with the server's `tokenSecret`, instead of a password. */
  token?: string | undefined;
  /** More servers (cluster nodes) to reconnect to, in turn, when the current one is lost. */
  servers?: { host: string; port: number }[] | undefined;
  /** Use WebRTC for data. false: always relay the data over the Socket.IO connection.
   * @default true */
  webrtc?: boolean | undefined;
  /** WebRTC that has not connected after this long (UDP blocked, say) gives way to the relay
   * over Socket.IO; false: never relay, fail instead. @default 5000 */
  fallbackAfterMs?: number | false | undefined;
  /** While relaying, try WebRTC again after this long (and again, until it connects);
   * false: stay on the relay. @default 30000 */
  upgradeAfterMs?: number | false | undefined;
  /** Reconnect after a lost connection (signaling or WebRTC), with exponential backoff and
   * jitter; subscriptions and client streams resume by themselves. `false`: a lost connection
   * closes the client and fails its loops. @default true (250 ms doubling to 5 s, no limit) */
  reconnect?: boolean | Partial<ReconnectPolicy> | undefined;
  /** Time allowed for `connect()`: auth, negotiation, ICE, DTLS and both channels open (and
   * as long again for the relay, when WebRTC gives way to it). @default 15000 */
  connectTimeoutMs?: number | undefined;
}

const CLIENT_OPTION_NAMES: Record<keyof ClientOptions, true> = {
  ...PEER_OPTION_NAMES,
  serverHost: true,
  serverPort: true,
  secure: true,
  password: true,
  token: true,
  servers: true,
  webrtc: true,
  fallbackAfterMs: true,
  upgradeAfterMs: true,
  reconnect: true,
  connectTimeoutMs: true,
};

function signalingUrl(host: string, port: number, secure: boolean): string {
  return `${secure ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
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
    rejectUnknownOptions(options, CLIENT_OPTION_NAMES, "ClientDescriptor");
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
