import { randomUUID } from "node:crypto";
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { Server as IoServer, type Socket } from "socket.io";
import { MAX_FRAME_BYTES, MAX_SIGNALING_MESSAGE_BYTES, MAX_VIOLATIONS } from "../core/defaults.js";
import { AuthenticationError, ConduitError, toErrorReply } from "../core/errors.js";
import type { SignalMessage } from "../peer/engine.js";
import type { RelayTransport } from "../peer/relay.js";
import { Emitter } from "../util/emitter.js";
import { log } from "../util/log.js";
import { AuthRateLimiter, passwordMatches } from "./auth.js";
import {
  EVENT_RELAY,
  EVENT_SIGNAL,
  EVENT_TOKEN_EXPIRED,
  EVENT_WELCOME,
  parseHandshakeOffer,
  parseRelayFrame,
  parseRequest,
  parseSignal,
  type Reply,
  type RequestName,
  type Requests,
} from "./protocol.js";
import { type Access, FULL_ACCESS, secretKey, verifyToken } from "./tokens.js";

const debug = log("signaling");

export interface SignalingServerOptions {
  /** Neither password nor token secret: anyone may connect (a warning is logged). */
  password: string | undefined;
  tokenSecret: string | undefined;
  /** Browser origins allowed to connect; undefined: any. */
  allowedOrigins: string[] | undefined;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  httpHandler: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
}

type Handler<K extends RequestName> = (
  request: Requests[K]["request"],
) => Requests[K]["reply"] | Promise<Requests[K]["reply"]>;

interface ConnectionEvents {
  signal: [SignalMessage];
  disconnect: [reason: string];
}

/** One authenticated client's control connection. Nothing exists for unauthenticated sockets. */
export class ClientSignaling extends Emitter<ConnectionEvents> {
  readonly id = randomUUID();
  readonly address: string;
  /** The streams its credentials grant. */
  readonly access: Access;
  /** Requests and events refused for bad payloads. */
  violations = 0;
  private connected = true;
  private expiry: NodeJS.Timeout | undefined;
  /** Where relay frames go, once the session relays (see peer/relay.ts). */
  private relayHandler: ((lane: number, frame: Uint8Array) => void) | undefined;

  constructor(private readonly socket: Socket) {
    super();
    this.address = socket.handshake.address;
    this.access = (socket.data as { access?: Access }).access ?? FULL_ACCESS;
    const { expiresAt } = this.access;
    // A token's access ends when it expires, not at the next reconnect.
    if (expiresAt !== undefined) {
      this.expiry = setTimeout(
        () => {
          debug("%s token expired", this.id);
          this.notify(EVENT_TOKEN_EXPIRED, {});
          this.disconnect();
        },
        Math.min(2 ** 31 - 1, Math.max(0, expiresAt - Date.now())),
      );
    }
    socket.on(EVENT_SIGNAL, (payload: unknown) => {
      try {
        this.emit("signal", parseSignal(payload));
      } catch (err) {
        this.violation(EVENT_SIGNAL, err);
      }
    });
    socket.on(EVENT_RELAY, (lane: unknown, frame: unknown, ack: unknown) => {
      try {
        if (typeof ack !== "function") throw new Error("relay frame without acknowledgement");
        if (!this.relayHandler) throw new Error("relay frame before the relay was asked for");
        const [l, bytes] = parseRelayFrame(lane, frame, MAX_FRAME_BYTES);
        ack();
        this.relayHandler(l, bytes);
      } catch (err) {
        this.violation(EVENT_RELAY, err);
      }
    });
    socket.on("disconnect", (reason) => {
      this.connected = false;
      clearTimeout(this.expiry);
      debug("%s disconnected: %s", this.id, reason);
      this.emit("disconnect", String(reason));
      this.removeAllListeners();
    });
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /**
   * Answers one kind of request; bad payloads and thrown errors become `{ ok: false, error }`.
   * A `hello` carried in the handshake is answered at once, with the event `welcome`.
   */
  handle<K extends RequestName>(name: K, handler: Handler<K>): void {
    this.socket.on(name as string, (payload: unknown, ack: unknown) => {
      if (typeof ack !== "function") {
        this.violation(name, new Error("request without acknowledgement callback"));
        return;
      }
      void this.answer(name, handler, payload, ack as (reply: Reply<unknown>) => void);
    });
    const early = (this.socket.handshake.auth as { hello?: unknown } | undefined)?.hello;
    if (name === "hello" && early !== undefined) {
      void this.answer(name, handler, early, (reply) => this.notify(EVENT_WELCOME, reply));
    }
  }

  /**
   * The offer the client put in its handshake (with the candidates gathered by then), once:
   * later calls return undefined. A malformed one is a violation, and is not answered.
   */
  takeHandshakeOffer(): SignalMessage[] | undefined {
    const auth = (this.socket.handshake.auth ?? {}) as { offer?: unknown };
    const offer = auth.offer;
    if (offer === undefined) return undefined;
    auth.offer = undefined;
    try {
      return parseHandshakeOffer(offer);
    } catch (err) {
      this.violation("handshake offer", err);
      return undefined;
    }
  }

  sendSignal(message: SignalMessage): void {
    if (this.connected) this.socket.emit(EVENT_SIGNAL, message);
  }

  /** The relay transport over this connection (see peer/relay.ts). */
  relay(): RelayTransport {
    return {
      send: (lane, frame, delivered) => {
        if (this.connected) this.socket.emit(EVENT_RELAY, lane, frame, () => delivered());
      },
      receive: (handler) => {
        this.relayHandler = handler;
        return () => {
          if (this.relayHandler === handler) this.relayHandler = undefined;
        };
      },
    };
  }

  notify(event: string, payload: unknown): void {
    if (this.connected) this.socket.emit(event, payload);
  }

  disconnect(): void {
    this.socket.disconnect(true);
  }

  private async answer<K extends RequestName>(
    name: K,
    handler: Handler<K>,
    payload: unknown,
    reply: (reply: Reply<Requests[K]["reply"]>) => void,
  ): Promise<void> {
    try {
      const request = parseRequest[name](payload);
      reply({ ok: true, ...(await handler(request)) });
    } catch (err) {
      if (!(err instanceof ConduitError)) debug("%s %s handler failed: %O", this.id, name, err);
      if (
        err instanceof ConduitError &&
        (err.code === "PROTOCOL_ERROR" || err.code === "INVALID_ARGUMENT")
      ) {
        this.violation(name, err);
      }
      reply({ ok: false, error: toErrorReply(err) });
    }
  }

  private violation(event: string, err: unknown): void {
    this.violations++;
    debug("%s bad %s: %s", this.id, event, err instanceof Error ? err.message : err);
    if (this.violations >= MAX_VIOLATIONS) this.disconnect();
  }
}

interface SignalingServerEvents {
  connection: [ClientSignaling];
}

/** Socket.IO server: authenticates in the handshake, then hands out ClientSignaling instances. */
export class SignalingServer extends Emitter<SignalingServerEvents> {
  readonly http: HttpServer;
  private readonly io: IoServer;
  private readonly limiter = new AuthRateLimiter();
  /** Handshakes refused: for their Origin (before authentication), or by authentication. */
  readonly refused = { origin: 0, auth: 0 };

  constructor(options: SignalingServerOptions) {
    super();
    // Socket.IO takes its own paths and passes every other request to this handler.
    this.http = createServer((req, res) => {
      if (options.httpHandler) options.httpHandler(req, res);
      else res.writeHead(404).end();
    });
    this.io = new IoServer(this.http, {
      serveClient: false,
      // A relay frame is the largest message: one data-channel frame and a little framing.
      maxHttpBufferSize: Math.max(MAX_SIGNALING_MESSAGE_BYTES, MAX_FRAME_BYTES + 1024),
      pingInterval: options.pingIntervalMs,
      pingTimeout: options.pingTimeoutMs,
      // Checked on every handshake, WebSocket included (browsers do not apply CORS to
      // WebSockets): a refused origin never reaches authentication.
      allowRequest: (req, callback) => {
        const origin = req.headers.origin;
        const allowed =
          !options.allowedOrigins || !origin || options.allowedOrigins.includes(origin);
        if (!allowed) {
          this.refused.origin++;
          debug("refused origin %s", origin);
        }
        callback(allowed ? null : "origin not allowed", allowed);
      },
      ...(options.allowedOrigins ? { cors: { origin: options.allowedOrigins } } : {}),
    });
    const key = options.tokenSecret === undefined ? undefined : secretKey(options.tokenSecret);
    if (options.password === undefined && key === undefined) {
      debug("no password or token secret set: every client is accepted");
    }
    this.io.use((socket, next) => {
      if (options.password === undefined && key === undefined) return next();
      const address = socket.handshake.address;
      if (this.limiter.isBlocked(address)) {
        this.refused.auth++;
        debug("refused %s: too many failed attempts", address);
        return next(
          authError(
            new AuthenticationError("too many failed attempts; try again later", "RATE_LIMITED"),
          ),
        );
      }
      const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
      const refuse = (err: AuthenticationError) => {
        this.refused.auth++;
        this.limiter.recordFailure(address);
        debug("refused %s: %s", address, err.message);
        next(authError(err));
      };
      const accept = (access: Access) => {
        this.limiter.recordSuccess(address);
        socket.data = { access };
        next();
      };
      if (key !== undefined && typeof auth.token === "string") {
        verifyToken(key, auth.token).then(accept, (err: unknown) =>
          refuse(
            err instanceof AuthenticationError ? err : new AuthenticationError("invalid token"),
          ),
        );
      } else if (
        options.password !== undefined &&
        passwordMatches(options.password, auth.password)
      ) {
        accept(FULL_ACCESS);
      } else {
        refuse(
          new AuthenticationError(
            options.password === undefined ? "a token is required" : "wrong password",
          ),
        );
      }
    });
    this.io.on("connection", (socket) => {
      const connection = new ClientSignaling(socket);
      debug("%s connected from %s", connection.id, connection.address);
      this.emit("connection", connection);
    });
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.http.once("error", onError);
      this.http.listen(port, host, () => {
        this.http.off("error", onError);
        resolve();
      });
    });
    return (this.http.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.io.disconnectSockets(true);
    await new Promise<void>((resolve) => {
      this.io.close(() => resolve());
    });
    this.removeAllListeners();
  }
}

/** Socket.IO passes `data` to the client's connect_error handler. */
function authError(err: AuthenticationError): Error & { data: unknown } {
  return Object.assign(new Error(err.message), { data: { code: err.code } });
}
