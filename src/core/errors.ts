/** Stable machine-readable error codes; also sent over the wire in control replies. */
export const ERROR_CODES = [
  "INVALID_ARGUMENT",
  "AUTH_FAILED",
  "RATE_LIMITED",
  "TOKEN_EXPIRED",
  "FORBIDDEN",
  "STREAM_NOT_FOUND",
  "STREAM_EXISTS",
  "STREAM_CLOSED",
  "SUBSCRIBER_TOO_SLOW",
  "CONNECTION_FAILED",
  "NOT_CONNECTED",
  "MESSAGE_TOO_LARGE",
  "PROTOCOL_ERROR",
  "LIMIT_EXCEEDED",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Base class of every error conduit-rtc throws. `code` is stable; `message` is for people. */
export class ConduitError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad argument or option at a call site; the message says what to fix. */
export class InvalidArgumentError extends ConduitError {
  constructor(message: string) {
    super("INVALID_ARGUMENT", message);
  }
}

/**
 * The server refused the credentials (or refused to check them yet: `RATE_LIMITED`), or the
 * token they were given expired (`TOKEN_EXPIRED`, also when it expires mid-session).
 */
export class AuthenticationError extends ConduitError {
  constructor(
    message: string,
    code: "AUTH_FAILED" | "RATE_LIMITED" | "TOKEN_EXPIRED" = "AUTH_FAILED",
  ) {
    super(code, message);
  }
}

/** The client's token does not grant this stream (to subscribe to, or to publish). */
export class ForbiddenError extends ConduitError {
  constructor(
    message: string,
    readonly stream?: string,
  ) {
    super("FORBIDDEN", message);
  }
}

export class StreamNotFoundError extends ConduitError {
  readonly stream: string;
  /** `hint`: what the caller may have missed, added to the message. */
  constructor(stream: string, hint?: string) {
    super("STREAM_NOT_FOUND", `stream "${stream}" does not exist${hint ? `: ${hint}` : ""}`);
    this.stream = stream;
  }
}

export class StreamExistsError extends ConduitError {
  readonly stream: string;
  constructor(stream: string) {
    super(
      "STREAM_EXISTS",
      `stream "${stream}" already exists; close it first or pick another name`,
    );
    this.stream = stream;
  }
}

export class StreamClosedError extends ConduitError {
  readonly stream: string;
  constructor(stream: string) {
    super("STREAM_CLOSED", `stream "${stream}" is closed`);
    this.stream = stream;
  }
}

/** Overflow "wait" ran out of patience. On a subscription: it stayed full past the stream's
 * bound and was cut off (the messages after it never reached it). On a client stream: the
 * queue to the server had no room in time, and the push that waited was not sent. */
export class SlowSubscriberError extends ConduitError {
  readonly stream: string;
  constructor(stream: string, message: string) {
    super("SUBSCRIBER_TOO_SLOW", message);
    this.stream = stream;
  }

  static cutOff(stream: string, waitedMs: number): SlowSubscriberError {
    return new SlowSubscriberError(
      stream,
      `subscription of "${stream}" was full for ${waitedMs} ms and was cut off`,
    );
  }

  static pushRefused(stream: string, waitedMs: number): SlowSubscriberError {
    return new SlowSubscriberError(
      stream,
      `client stream "${stream}": the queue to the server was full for ${waitedMs} ms; this push was not sent`,
    );
  }
}

/** Signaling or the WebRTC link could not be set up, or was lost. */
/** Why a connection failed, or is not there: machine-readable, finer than `code`. */
export type ConnectionFailure =
  /** The signaling server could not be reached (refused, no answer, bad URL). */
  | "unreachable"
  /** No reply, or no open data link, within the time allowed. */
  | "timeout"
  /** The data link (ICE, DTLS, SCTP, or the relay) failed to open or broke. */
  | "link-failed"
  /** An open connection to the server was lost. */
  | "lost"
  /** Ended on purpose: the client was closed, or the server ended the session. */
  | "closed"
  /** Used before connect(), or after close(). */
  | "not-connected"
  /** Client and server share no protocol version. */
  | "incompatible";

/** Connecting failed, or the connection is not there; `reason` says which way. */
export class ConnectionError extends ConduitError {
  readonly reason: ConnectionFailure;

  constructor(message: string, reason: ConnectionFailure, options?: { cause?: unknown }) {
    super(reason === "not-connected" ? "NOT_CONNECTED" : "CONNECTION_FAILED", message, options);
    this.reason = reason;
  }
}

export class MessageTooLargeError extends ConduitError {
  constructor(message: string) {
    super("MESSAGE_TOO_LARGE", message);
  }

  static of(size: number, limit: number): MessageTooLargeError {
    return new MessageTooLargeError(`message of ${size} bytes exceeds maxMessageBytes (${limit})`);
  }
}

/** The peer broke the protocol, or a per-client limit was hit. */
export class ProtocolError extends ConduitError {
  constructor(message: string, code: "PROTOCOL_ERROR" | "LIMIT_EXCEEDED" = "PROTOCOL_ERROR") {
    super(code, message);
  }
}

/** Wire form of an error in a control reply. */
export interface ErrorReply {
  code: ErrorCode;
  message: string;
}

export function toErrorReply(err: unknown): ErrorReply {
  if (err instanceof ConduitError) return { code: err.code, message: err.message };
  return { code: "PROTOCOL_ERROR", message: "internal error" };
}

/** Rebuilds the typed error a server reply describes: every code has its class. */
export function fromErrorReply(reply: ErrorReply, stream?: string): ConduitError {
  const { code, message } = reply;
  switch (code) {
    case "STREAM_NOT_FOUND":
      return new StreamNotFoundError(stream ?? "?");
    case "STREAM_EXISTS":
      return new StreamExistsError(stream ?? "?");
    case "STREAM_CLOSED":
      return new StreamClosedError(stream ?? "?");
    case "SUBSCRIBER_TOO_SLOW":
      return new SlowSubscriberError(stream ?? "?", message);
    case "AUTH_FAILED":
    case "RATE_LIMITED":
    case "TOKEN_EXPIRED":
      return new AuthenticationError(message, code);
    case "INVALID_ARGUMENT":
      return new InvalidArgumentError(message);
    case "FORBIDDEN":
      return new ForbiddenError(message, stream);
    // The server's end: a session that closed, or a request before the link was offered.
    case "CONNECTION_FAILED":
      return new ConnectionError(message, "closed");
    case "NOT_CONNECTED":
      return new ConnectionError(message, "not-connected");
    case "MESSAGE_TOO_LARGE":
      return new MessageTooLargeError(message);
    case "PROTOCOL_ERROR":
    case "LIMIT_EXCEEDED":
      return new ProtocolError(message, code);
    default:
      return new ProtocolError(`unknown error code ${String(code)}: ${message}`);
  }
}

/** An error from connecting as the typed error users see: a ConduitError stays as it is. */
export function asConduitError(err: unknown): ConduitError {
  return err instanceof ConduitError
    ? err
    : new ConnectionError(`connect failed: ${String(err)}`, "link-failed", { cause: err });
}
