/**
 * Socket.IO events and payloads. docs/PROTOCOL.md is the prose form of this file;
 * keep the two in step. Every inbound payload goes through a parser here.
 */
import { STREAM_NAME_MAX_LENGTH } from "../defaults.js";
import { type ErrorReply, InvalidArgumentError, ProtocolError } from "../errors.js";
import type { IceServer, SignalMessage } from "../peer/engine.js";
import type { Delivery } from "../peer/link.js";

export interface HelloReply {
  clientId: string;
  protocol: number;
  iceServers: IceServer[];
  maxMessageBytes: number;
}
export interface SubscribeRequest {
  stream: string;
  /** Wait for the stream to be created instead of failing with STREAM_NOT_FOUND. */
  wait: boolean;
}
export interface SubscribeReply {
  streamId: number;
  delivery: Delivery;
  bufferSize: number;
}
export interface StreamRequest {
  stream: string;
}
export interface PublishRequest {
  stream: string;
  delivery: Delivery;
}
export interface PublishReply {
  streamId: number;
}
export interface StreamSummary {
  name: string;
  owner: string;
  delivery: Delivery;
  subscribers: number;
  messageCount: number;
  bytesSent: number;
  dropped: number;
  bufferSize: number;
  active: boolean;
}
export interface ListReply {
  streams: StreamSummary[];
}

/** Requests from client to server, each answered through the Socket.IO acknowledgement. */
export interface Requests {
  hello: { request: { protocol: number }; reply: HelloReply };
  subscribe: { request: SubscribeRequest; reply: SubscribeReply };
  /** Sent once the client knows the stream id from the subscribe reply: only then does the
   * server start sending, so no message arrives under an id the client cannot place. */
  start: { request: StreamRequest; reply: Record<string, never> };
  unsubscribe: { request: StreamRequest; reply: Record<string, never> };
  list: { request: Record<string, never>; reply: ListReply };
  publish: { request: PublishRequest; reply: PublishReply };
}
export type RequestName = keyof Requests;

/** What every acknowledgement carries. */
export type Reply<T> = ({ ok: true } & T) | { ok: false; error: ErrorReply };

export interface StreamClosedNotice {
  stream: string;
  streamId: number;
  /** Sequence number of the last message queued for this client; 0 if none. On a reliable
   * stream the client ends the subscription once it has received it. */
  lastSeq: number;
}

export const EVENT_SIGNAL = "signal";
export const EVENT_STREAM_CLOSED = "stream_closed";
/** Sent just before the server drops a client whose token expired. */
export const EVENT_TOKEN_EXPIRED = "token_expired";

const STREAM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.\-/:]*$/;

/** Throws InvalidArgumentError saying what is wrong with a stream name. */
export function validateStreamName(name: unknown): string {
  if (typeof name !== "string") throw new InvalidArgumentError("stream name must be a string");
  if (name.length === 0) throw new InvalidArgumentError("stream name must not be empty");
  if (name.length > STREAM_NAME_MAX_LENGTH) {
    throw new InvalidArgumentError(
      `stream name is ${name.length} characters; the limit is ${STREAM_NAME_MAX_LENGTH}`,
    );
  }
  if (!STREAM_NAME.test(name)) {
    throw new InvalidArgumentError(
      `stream name "${name}" may use only letters, digits and _ . - / :, and must not start with . - / :`,
    );
  }
  return name;
}

export function validateDelivery(value: unknown): Delivery {
  if (value === "realtime" || value === "reliable") return value;
  throw new InvalidArgumentError(
    `delivery must be "realtime" or "reliable", not ${JSON.stringify(value)}`,
  );
}

function record(payload: unknown, event: string): Record<string, unknown> {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw new ProtocolError(`"${event}" payload must be an object`);
  }
  return payload as Record<string, unknown>;
}

/** Parsers for inbound requests (server side). */
export const parseRequest: { [K in RequestName]: (payload: unknown) => Requests[K]["request"] } = {
  hello: (p) => {
    const r = record(p, "hello");
    if (typeof r.protocol !== "number") throw new ProtocolError("hello.protocol must be a number");
    return { protocol: r.protocol };
  },
  subscribe: (p) => {
    const r = record(p, "subscribe");
    if (r.wait !== undefined && typeof r.wait !== "boolean") {
      throw new ProtocolError("subscribe.wait must be a boolean");
    }
    return { stream: validateStreamName(r.stream), wait: r.wait === true };
  },
  start: (p) => ({ stream: validateStreamName(record(p, "start").stream) }),
  unsubscribe: (p) => ({ stream: validateStreamName(record(p, "unsubscribe").stream) }),
  list: (p) => {
    if (p !== undefined && p !== null) record(p, "list");
    return {};
  },
  publish: (p) => {
    const r = record(p, "publish");
    return { stream: validateStreamName(r.stream), delivery: validateDelivery(r.delivery) };
  },
};

const MAX_SDP_LENGTH = 32 * 1024;
const MAX_CANDIDATE_LENGTH = 1024;

export function parseSignal(payload: unknown): SignalMessage {
  const r = record(payload, EVENT_SIGNAL);
  if (r.kind === "description") {
    if (r.type !== "offer" && r.type !== "answer") {
      throw new ProtocolError('signal.type must be "offer" or "answer"');
    }
    if (typeof r.sdp !== "string" || r.sdp.length === 0 || r.sdp.length > MAX_SDP_LENGTH) {
      throw new ProtocolError(
        `signal.sdp must be a non-empty string of at most ${MAX_SDP_LENGTH} characters`,
      );
    }
    return { kind: "description", type: r.type, sdp: r.sdp };
  }
  if (r.kind === "candidate") {
    if (typeof r.candidate !== "string" || r.candidate.length > MAX_CANDIDATE_LENGTH) {
      throw new ProtocolError("signal.candidate must be a string of at most 1024 characters");
    }
    if (typeof r.mid !== "string" || r.mid.length > 64) {
      throw new ProtocolError("signal.mid must be a short string");
    }
    return { kind: "candidate", candidate: r.candidate, mid: r.mid };
  }
  throw new ProtocolError('signal.kind must be "description" or "candidate"');
}
