/**
 * Socket.IO events and payloads. docs/PROTOCOL.md is the prose form of this file;
 * keep the two in step. Every inbound payload is checked against a schema here (zod).
 */
// zod/mini: the same schemas, a fraction of the browser bundle.
import * as z from "zod/mini";
import {
  MAX_CANDIDATE_LENGTH,
  MAX_HELD_CANDIDATES,
  MAX_SDP_LENGTH,
  MAX_SUBSCRIPTIONS_PER_CLIENT,
} from "../core/defaults.js";
import type { Delivery, StreamSummary } from "../core/delivery.js";
import { type ErrorReply, InvalidArgumentError, ProtocolError } from "../core/errors.js";
import { validateDelivery, validateStreamName } from "../core/validation.js";
import { candidateAttribute, type IceServer, type SignalMessage } from "../peer/engine.js";

export interface HelloReply {
  clientId: string;
  protocol: number;
  iceServers: IceServer[];
  maxMessageBytes: number;
  /** A WebRTC link silent this long is dead (both ends send keepalives; see PeerLink). */
  linkTimeoutMs: number;
  /** The offer in the handshake was answered: its answer follows as a `signal`. */
  offerAnswered?: boolean;
}
export interface SubscribeRequest {
  stream: string;
  /** Wait for the stream to be created instead of failing with STREAM_NOT_FOUND. */
  wait: boolean;
  /** After a reconnect: the stream instance (`epoch`) and the last sequence number received.
   * A reliable stream of the same epoch first resends what it still holds after it. */
  resume?: { epoch: string; after: number } | undefined;
}
export interface SubscribeReply {
  streamId: number;
  delivery: Delivery;
  bufferSize: number;
  /** Tells one instance of a stream name from the next (e.g. across a server restart). */
  epoch: string;
  /** When resuming: messages gone from the stream's buffer before they could be resent. */
  missed: number;
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
  /** Reliable client streams: the last sequence number the server took from this client
   * instance on this stream, before a reconnect; the client resends what came after. */
  after?: number | undefined;
}
export interface RestartRequest {
  /** Reliable subscriptions, including those the client was told are closing: the last
   * sequence number received on each (none if it received nothing). */
  resume: { stream: string; after?: number | undefined }[];
}
export interface RestartReply {
  /** Reliable subscriptions whose lost messages were gone from the stream's buffer. */
  missed: { stream: string; missed: number }[];
  /** Reliable client streams: the last sequence number the server took on each. */
  published: { stream: string; after: number }[];
  /** Streams in `resume` the server no longer holds anything of: end them. */
  gone: string[];
}
export interface ListReply {
  streams: StreamSummary[];
}

/** Requests from client to server, each answered through the Socket.IO acknowledgement. */
export interface Requests {
  /** `instance`: the client's random id, the same across its reconnects. */
  hello: { request: { protocol: number; instance?: string | undefined }; reply: HelloReply };
  subscribe: { request: SubscribeRequest; reply: SubscribeReply };
  /** Sent once the client knows the stream id from the subscribe reply: only then does the
   * server start sending, so no message arrives under an id the client cannot place. */
  start: { request: StreamRequest; reply: Record<string, never> };
  unsubscribe: { request: StreamRequest; reply: Record<string, never> };
  list: { request: Record<string, never>; reply: ListReply };
  publish: { request: PublishRequest; reply: PublishReply };
  /** WebRTC did not connect (or is off): carry the data over this connection instead. */
  relay: { request: Record<string, never>; reply: Record<string, never> };
  /** The data link failed while this connection stayed up: the server drops its end, and the
   * client sends a new offer (or asks for the relay) in the same session. What the old link
   * may have lost on reliable streams is sent again. */
  restart: { request: RestartRequest; reply: RestartReply };
  /** Protocol 3: the server's clock (wall-clock ms), for the client to compare with its own;
   * `offsetMs` tells the server what the client found (server clock − client clock), so
   * both ends can tell a realtime message's age from its timestamp. */
  clock: { request: { offsetMs?: number | undefined }; reply: { now: number } };
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
  /** Realtime: the age bound of the stream's messages. The client waits up to this long for
   * `lastSeq`, which may still be on its way; a message older than that cannot arrive. */
  maxAgeMs?: number;
  /** The subscription was cut off, not the stream closed: its queue stayed full this long
   * (overflow "wait"). The client ends it with SlowSubscriberError once it has `lastSeq`. */
  cutOffAfterMs?: number;
}

export const EVENT_SIGNAL = "signal";
/** A data frame over the relay: (lane, frame bytes, acknowledgement). */
export const EVENT_RELAY = "relay_frame";
export const EVENT_STREAM_CLOSED = "stream_closed";
/** Sent just before the server drops a client whose token expired. */
export const EVENT_TOKEN_EXPIRED = "token_expired";
/** The server's end of the data link failed; the client restarts it (see `restart`). */
export const EVENT_LINK_LOST = "link_lost";
/** The reply to a `hello` the client put in its handshake, sent right after it is accepted:
 * it saves the round trip of asking (docs/PROTOCOL.md §3.1). */
export const EVENT_WELCOME = "welcome";

/** A field a schema checks with one of the validators above: they say what is wrong. */
const checkedBy = (validate: (value: unknown) => unknown) =>
  z.unknown().check(
    z.superRefine((value, ctx) => {
      try {
        validate(value);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message, input: value });
      }
    }),
  );
const streamName = checkedBy(validateStreamName) as unknown as z.ZodMiniType<string>;
const delivery = checkedBy(validateDelivery) as unknown as z.ZodMiniType<Delivery>;
/** Fields whose errors are the caller's arguments (INVALID_ARGUMENT), not the protocol's. */
const ARGUMENT_FIELDS = new Set<PropertyKey>(["stream", "delivery"]);

const seqNumber = z.number().check(z.int(), z.gte(0), z.lte(0xffffffff));

/** The schema of every inbound payload. Objects are strict: unknown fields are refused. */
const schemas = {
  clock: z.strictObject({
    offsetMs: z.optional(z.number().check(z.int(), z.gte(-(2 ** 31)), z.lte(2 ** 31 - 1))),
  }),
  hello: z.strictObject({
    protocol: z.number(),
    instance: z.optional(z.string().check(z.minLength(16), z.maxLength(64))),
  }),
  subscribe: z.strictObject({
    stream: streamName,
    wait: z.optional(z.boolean()),
    resume: z.optional(
      z.strictObject({
        epoch: z.string().check(z.maxLength(64)),
        after: seqNumber,
      }),
    ),
  }),
  start: z.strictObject({ stream: streamName }),
  unsubscribe: z.strictObject({ stream: streamName }),
  list: z.union([z.strictObject({}), z.null(), z.undefined()]),
  relay: z.union([z.strictObject({}), z.null(), z.undefined()]),
  restart: z.strictObject({
    resume: z
      .array(z.strictObject({ stream: streamName, after: z.optional(seqNumber) }))
      .check(z.maxLength(MAX_SUBSCRIPTIONS_PER_CLIENT)),
  }),
  publish: z.strictObject({ stream: streamName, delivery }),
  signal: z.discriminatedUnion("kind", [
    z.strictObject({
      kind: z.literal("description"),
      type: z.enum(["offer", "answer"]),
      sdp: z.string().check(z.minLength(1), z.maxLength(MAX_SDP_LENGTH)),
    }),
    z.strictObject({
      kind: z.literal("candidate"),
      candidate: z.string().check(z.maxLength(MAX_CANDIDATE_LENGTH)),
      mid: z.string().check(z.maxLength(64)),
    }),
  ]),
};

/** Parses `payload` with the schema of `event`; a mismatch throws a typed error saying why. */
function parse<K extends keyof typeof schemas>(
  event: K,
  payload: unknown,
): z.output<(typeof schemas)[K]> {
  const result = z.safeParse(schemas[event], payload);
  if (result.success) return result.data as z.output<(typeof schemas)[K]>;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  const where = issue.path.length > 0 ? `${event}.${issue.path.join(".")}` : `"${event}" payload`;
  if (issue.code === "custom" && ARGUMENT_FIELDS.has(issue.path[0] as PropertyKey)) {
    throw new InvalidArgumentError(issue.message);
  }
  throw new ProtocolError(`${where}: ${issue.message}`);
}

/** Parsers for inbound requests (server side). */
export const parseRequest: { [K in RequestName]: (payload: unknown) => Requests[K]["request"] } = {
  hello: (p) => parse("hello", p),
  subscribe: (p) => {
    const r = parse("subscribe", p);
    return { stream: r.stream, wait: r.wait === true, resume: r.resume };
  },
  start: (p) => parse("start", p),
  unsubscribe: (p) => parse("unsubscribe", p),
  list: (p) => {
    parse("list", p);
    return {};
  },
  publish: (p) => parse("publish", p),
  relay: (p) => {
    parse("relay", p);
    return {};
  },
  restart: (p) => parse("restart", p),
  clock: (p) => parse("clock", p),
};

/** A relay frame's lane and bytes, or a typed error; `maxBytes` bounds the frame. */
export function parseRelayFrame(
  lane: unknown,
  frame: unknown,
  maxBytes: number,
): [number, Uint8Array] {
  if (lane !== 0 && lane !== 1) throw new ProtocolError("relay lane must be 0 or 1");
  const bytes =
    frame instanceof Uint8Array
      ? frame
      : frame instanceof ArrayBuffer
        ? new Uint8Array(frame)
        : undefined;
  if (!bytes) throw new ProtocolError("relay frame must be binary");
  if (bytes.byteLength > maxBytes) {
    throw new ProtocolError(`relay frame of ${bytes.byteLength} bytes; the limit is ${maxBytes}`);
  }
  return [lane, bytes];
}

/** The handshake's `offer`: the offer, then the candidates gathered when it was sent. */
export function parseHandshakeOffer(payload: unknown): SignalMessage[] {
  if (!Array.isArray(payload) || payload.length === 0 || payload.length > 1 + MAX_HELD_CANDIDATES) {
    throw new ProtocolError(
      `handshake offer: a list of 1 to ${1 + MAX_HELD_CANDIDATES} signals expected`,
    );
  }
  const [offer, ...candidates] = payload.map(parseSignal);
  if (offer?.kind !== "description" || offer.type !== "offer") {
    throw new ProtocolError("handshake offer: the first signal must be the offer");
  }
  if (candidates.some((c) => c.kind !== "candidate")) {
    throw new ProtocolError("handshake offer: only candidates may follow the offer");
  }
  return [offer, ...candidates];
}

export function parseSignal(payload: unknown): SignalMessage {
  const message = parse("signal", payload);
  if (message.kind !== "candidate") return message;
  return { ...message, candidate: candidateAttribute(message.candidate) };
}
