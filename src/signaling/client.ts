import { io, type Socket } from "socket.io-client";
import { MAX_FRAME_BYTES, REQUEST_TIMEOUT_MS } from "../core/defaults.js";
import {
  AuthenticationError,
  type ConduitError,
  ConnectionError,
  type ConnectionFailure,
  type ErrorReply,
  fromErrorReply,
} from "../core/errors.js";
import type { SignalMessage } from "../peer/engine.js";
import type { RelayTransport } from "../peer/relay.js";
import { Emitter } from "../util/emitter.js";
import { log } from "../util/log.js";
import {
  EVENT_LINK_LOST,
  EVENT_RELAY,
  EVENT_SIGNAL,
  EVENT_STREAM_CLOSED,
  EVENT_TOKEN_EXPIRED,
  EVENT_WELCOME,
  type HelloReply,
  parseRelayFrame,
  parseSignal,
  type Reply,
  type RequestName,
  type Requests,
  type StreamClosedNotice,
} from "./protocol.js";

const debug = log("signaling");

interface SignalingClientEvents {
  signal: [SignalMessage];
  streamClosed: [StreamClosedNotice];
  /** The server's end of the data link failed. */
  linkLost: [];
  /** Signaling ended: `error` is what its users see (TOKEN_EXPIRED when the token ran out). */
  disconnect: [reason: string, error: ConduitError];
}

/** The client's Socket.IO connection: authenticates, sends requests, relays signals. */
export class SignalingClient extends Emitter<SignalingClientEvents> {
  private socket: Socket | undefined;
  /** The hello in the handshake, and the server's reply to it once it came. */
  private greeting:
    | { request: Requests["hello"]["request"]; welcome: Promise<Reply<HelloReply>> }
    | undefined;

  /**
   * Resolves once authenticated; rejects with AuthenticationError or ConnectionError. The
   * `hello` rides in the handshake (see hello()), and the WebRTC `offer` if given (see
   * client/handshake-offer.ts).
   */
  async connect(
    url: string,
    handshake: {
      password?: string | undefined;
      token?: string | undefined;
      hello: Requests["hello"]["request"];
    },
    timeoutMs: number,
    offer?: () => Promise<SignalMessage[] | undefined>,
  ): Promise<void> {
    // Only what was given: an undefined field would be sent as null.
    const auth = JSON.parse(JSON.stringify(handshake));
    const socket = io(url, {
      // Socket.IO asks for it when it sends the handshake: the offer is made by then.
      auth: offer
        ? (send: (data: object) => void) => {
            offer().then(
              (signals) => send(signals ? { ...auth, offer: signals } : auth),
              () => send(auth),
            );
          }
        : auth,
      transports: ["websocket"],
      reconnection: false,
      timeout: timeoutMs,
      forceNew: true,
    });
    this.socket = socket;
    this.greeting = {
      request: handshake.hello,
      welcome: new Promise((resolve) => socket.once(EVENT_WELCOME, resolve)),
    };
    // Before the connect: what follows it (the welcome, the answer to a handshake offer) can
    // come in the same read, ahead of any continuation of this function.
    socket.on(EVENT_SIGNAL, (payload: unknown) => {
      try {
        this.emit("signal", parseSignal(payload));
      } catch (err) {
        debug("bad signal from server: %O", err);
      }
    });
    socket.on(EVENT_STREAM_CLOSED, (notice: StreamClosedNotice) => {
      if (
        typeof notice?.stream === "string" &&
        typeof notice.streamId === "number" &&
        typeof notice.lastSeq === "number" &&
        (notice.cutOffAfterMs === undefined || typeof notice.cutOffAfterMs === "number")
      ) {
        this.emit("streamClosed", notice);
      }
    });
    socket.on(EVENT_LINK_LOST, () => this.emit("linkLost"));
    let tokenExpired = false;
    socket.on(EVENT_TOKEN_EXPIRED, () => {
      tokenExpired = true;
    });
    socket.on("disconnect", (reason) => {
      const error = tokenExpired
        ? new AuthenticationError("the token expired", "TOKEN_EXPIRED")
        : new ConnectionError(`connection to the server was lost (${reason})`, "lost");
      this.emit("disconnect", tokenExpired ? "token expired" : String(reason), error);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => {
        socket.off("connect_error");
        resolve();
      });
      socket.once("connect_error", (err: ConnectError) => {
        socket.close();
        const code = err.data?.code;
        if (code === "AUTH_FAILED" || code === "RATE_LIMITED" || code === "TOKEN_EXPIRED") {
          reject(new AuthenticationError(err.message, code));
        } else {
          reject(
            new ConnectionError(
              `cannot reach signaling server at ${url}: ${connectFailure(err, timeoutMs)}`,
              "unreachable",
              { cause: err },
            ),
          );
        }
      });
    });
  }

  /**
   * The reply to the handshake's hello. This server sends it unasked right after accepting
   * the handshake, a round trip sooner than a request's reply; one that does not (older
   * versions) answers the request sent beside it. Whichever comes first is used.
   */
  async hello(timeoutMs: number): Promise<Requests["hello"]["reply"]> {
    const greeting = this.greeting;
    if (!greeting) {
      throw new ConnectionError("not connected; call connect() first", "not-connected");
    }
    const asked = this.request("hello", greeting.request, timeoutMs);
    const reply = await Promise.race([greeting.welcome, asked]);
    if ("error" in reply) throw fromErrorReply(reply.error);
    return reply;
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /**
   * Sends a request and returns its reply, or throws the typed error the server sent. Throws
   * ConnectionError when no reply comes within `timeoutMs` (Infinity: none is due, such as a
   * subscribe that waits for its stream) or when the connection drops first.
   */
  async request<K extends RequestName>(
    name: K,
    payload: Requests[K]["request"],
    timeoutMs = REQUEST_TIMEOUT_MS,
    stream?: string,
  ): Promise<Requests[K]["reply"]> {
    const socket = this.socket;
    if (!socket?.connected)
      throw new ConnectionError("not connected; call connect() first", "not-connected");
    const reply = await new Promise<Reply<Requests[K]["reply"]>>((resolve, reject) => {
      const fail = (why: string, reason: ConnectionFailure) => {
        settle();
        reject(new ConnectionError(`no reply to "${name}": ${why}`, reason));
      };
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => fail(`none within ${timeoutMs} ms`, "timeout"), timeoutMs)
        : undefined;
      const onDisconnect = (reason: string) => fail(`the connection was lost (${reason})`, "lost");
      const settle = () => {
        clearTimeout(timer);
        socket.off("disconnect", onDisconnect);
      };
      socket.on("disconnect", onDisconnect);
      socket.emit(name, payload, (r: Reply<Requests[K]["reply"]>) => {
        settle();
        resolve(r);
      });
    });
    if (!reply.ok) throw fromErrorReply(reply.error as ErrorReply, stream);
    return reply;
  }

  sendSignal(message: SignalMessage): void {
    this.socket?.emit(EVENT_SIGNAL, message);
  }

  /** The relay transport over this connection (see peer/relay.ts). */
  relay(): RelayTransport {
    return {
      send: (lane, frame, delivered) =>
        this.socket?.emit(EVENT_RELAY, lane, frame, () => delivered()),
      receive: (handler) => {
        const socket = this.socket;
        const listener = (lane: unknown, frame: unknown, ack: unknown) => {
          if (typeof ack === "function") ack();
          try {
            handler(...parseRelayFrame(lane, frame, MAX_FRAME_BYTES));
          } catch (err) {
            debug("bad relay frame from server: %O", err);
          }
        };
        socket?.on(EVENT_RELAY, listener);
        return () => socket?.off(EVENT_RELAY, listener);
      },
    };
  }

  /** Disconnects, and forgets every listener. */
  close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.removeAllListeners();
  }
}

/** Socket.IO's connect_error: the transport's own error, if any, is in `description`. */
type ConnectError = Error & {
  data?: { code?: string };
  description?: { error?: Error; message?: string } | Error;
};

/** The real cause (ECONNREFUSED, ENOTFOUND, a timeout), not only Socket.IO's "websocket error". */
function connectFailure(err: ConnectError, timeoutMs: number): string {
  if (err.message === "timeout") return `no answer within ${timeoutMs} ms`;
  const description = err.description;
  const cause = description && "error" in description ? description.error : description;
  return cause instanceof Error && cause.message
    ? `${cause.message} (${err.message})`
    : err.message;
}
