/** Every default in one place. Option interfaces refer here in their `@default` docs. */

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = "0.0.0.0";
export const DEFAULT_SERVER_HOST = "localhost";

/** Messages each subscriber may hold before the oldest is dropped. */
export const DEFAULT_BUFFER_SIZE = 100;
export const DEFAULT_DELIVERY = "realtime";

/** Largest single pushed message after MessagePack encoding. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Largest data-channel message we send: header + chunk payload. 64 KiB is what every engine accepts. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** A peer's max-message-size when its SDP does not say (RFC 8841's default). */
export const DEFAULT_PEER_MAX_MESSAGE_BYTES = 65536;

/** Stop handing bytes to an engine above this; resume when it drains below the low mark. */
export const HIGH_WATER_BYTES = 1024 * 1024;
/** node-datachannel: each association's SCTP receive buffer, its window (see node-datachannel.ts). */
export const SCTP_RECEIVE_BUFFER_BYTES = 2 * 1024 * 1024;
export const LOW_WATER_BYTES = 256 * 1024;
/**
 * The realtime channel's engine buffer is kept small: what waits in the engine
 * cannot be dropped for being stale, and on a slow or lossy link it becomes pure latency.
 */
export const REALTIME_HIGH_WATER_BYTES = 256 * 1024;
export const REALTIME_LOW_WATER_BYTES = 64 * 1024;
/**
 * A realtime message that has waited this long in a subscriber's queue, with a newer one
 * behind it, is dropped unsent (counted in the queue's `stale`): the link is behind.
 */
export const REALTIME_STALE_AFTER_MS = 100;
/** How old a realtime message may be when delivered; older ones are dropped where they wait:
 * the sender's queue, the engine (by packet lifetime) and the receiver (by its timestamp). */
export const DEFAULT_MAX_AGE_MS = 500;
/** The largest age bound a frame can carry (u16). */
export const MAX_AGE_LIMIT_MS = 60_000;
/** Each end of a coded link reports loss, clock and delivered bytes this often. */
export const REPORT_INTERVAL_MS = 100;
/** Round trips over signaling to compare clocks with the server; the quickest one counts. */
export const CLOCK_SAMPLES = 5;
export const CLOCK_TIMEOUT_MS = 5_000;
/** A request to the server that has no deadline of its own fails after this long without a
 * reply (and at once if the connection drops). */
export const REQUEST_TIMEOUT_MS = 10_000;
/**
 * node-datachannel's realtime channel retransmits for this long instead of never: usrsctp
 * halves its congestion window for every chunk abandoned under `maxRetransmits: 0`, but not
 * for one whose lifetime ran out, so at 2 % loss it carries ~4× more (README, "On a lossy path").
 */
export const REALTIME_PACKET_LIFETIME_MS = 100;

/** Reassembly bounds per link: partial messages held at once, their bytes, their age. */
export const MAX_PARTIAL_MESSAGES = 64;
export const MAX_PARTIAL_AGE_MS = 5_000;

export const STREAM_NAME_MAX_LENGTH = 128;

/** Time for `client.connect()`: auth, offer/answer, ICE, DTLS, SCTP, both channels open. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
/** WebRTC not connected after this long: relay the data over Socket.IO instead. */
export const DEFAULT_FALLBACK_AFTER_MS = 5_000;
/** While relaying, try WebRTC again after this long. */
export const DEFAULT_UPGRADE_AFTER_MS = 30_000;
/** The client's reconnect policy: the first attempt after 250 ms, doubling (with jitter) up
 * to 5 s, for ever. */
export const DEFAULT_RECONNECT = {
  initialDelayMs: 250,
  maxDelayMs: 5_000,
  maxAttempts: Number.POSITIVE_INFINITY,
} as const;
/** Pauses before each new WebRTC setup when one fails outright (ICE/DTLS failure) or stalls
 * during connect(): five attempts in all, within the deadline. Three were spent in 0.6 s on a
 * loaded machine, and the client fell back to the relay with a direct path there. */
export const LINK_RETRY_DELAYS_MS: readonly number[] = [50, 250, 500, 1000];
/** The handshake waits at most this long for the offer to put in it (it is made in a few ms);
 * past it the client connects without, and offers after hello. */
export const HANDSHAKE_OFFER_WAIT_MS = 1000;
/** A stream with overflow "wait": how long push() waits for a full subscriber to make room
 * before cutting it off. */
export const DEFAULT_OVERFLOW_WAIT_MS = 10_000;
export const MAX_OVERFLOW_WAIT_MS = 300_000;
/** A WebRTC setup whose DTLS and SCTP are not done this long after ICE connects is tried
 * again: base + round trips × the offer/answer exchange's time. */
export const TRANSPORT_STALL_BASE_MS = 100;
export const TRANSPORT_STALL_ROUND_TRIPS = 6;
/** A WebRTC link that hears nothing (not even a keepalive) for this long is dead: the client
 * sets up a new one in the same session. */
export const DEFAULT_LINK_TIMEOUT_MS = 5_000;
/** Reliable subscriptions whose stream closed, kept per client (at most this many, for this
 * long) so that a link restart can still resend the tail the failed link lost. Each pins its
 * closed stream's buffer meanwhile. */
export const ENDED_SUBSCRIPTIONS_KEPT = 64;
export const ENDED_SUBSCRIPTION_KEPT_MS = 60_000;
/** Link restarts one session may ask for per minute (each one builds a peer connection). */
export const MAX_LINK_RESTARTS_PER_MINUTE = 30;
/** Socket.IO heartbeat: a vanished client is noticed within interval + timeout. */
export const DEFAULT_PING_INTERVAL_MS = 5_000;
export const DEFAULT_PING_TIMEOUT_MS = 5_000;

/** Failed password attempts one address may make per window before being refused unchecked. */
export const AUTH_MAX_FAILURES = 5;
export const AUTH_FAILURE_WINDOW_MS = 60_000;
/** Addresses tracked by the limiter at once (bounded memory under a spray of sources). */
export const AUTH_TRACKED_ADDRESSES = 10_000;
/** An HS256 token secret must be at least as long as the hash: 32 bytes. */
export const MIN_TOKEN_SECRET_BYTES = 32;

/** Per-client control-plane limits. */
export const MAX_SUBSCRIPTIONS_PER_CLIENT = 256;
export const MAX_PUBLISHED_STREAMS_PER_CLIENT = 64;
export const MAX_PENDING_WAITS_PER_CLIENT = 64;
/** Largest Socket.IO message accepted (SDP and control payloads are small). */
export const MAX_SIGNALING_MESSAGE_BYTES = 64 * 1024;
/** Largest SDP and ICE candidate a signal may carry. */
export const MAX_SDP_LENGTH = 32 * 1024;
export const MAX_CANDIDATE_LENGTH = 1024;
/** Remote candidates held while a peer has no remote description yet; later ones are dropped. */
export const MAX_HELD_CANDIDATES = 256;
/** Protocol violations one connection may make before it is dropped. */
export const MAX_VIOLATIONS = 20;
/** Lifetime of the TURN credentials the server hands out, unless its options say. */
export const DEFAULT_TURN_TTL_SECONDS = 3600;
/** Reliable client streams whose progress the server remembers for reconnecting clients. */
export const MAX_TRACKED_CLIENT_STREAMS = 100_000;

/** The newest protocol version, agreed in hello (docs/PROTOCOL.md §1). */
export const PROTOCOL_VERSION = 3;
/** The oldest protocol either end still speaks: 2 has no coded realtime frames or reports. */
export const OLDEST_PROTOCOL_VERSION = 2;
/** A cluster node announces its streams this often (and at once when they change). */
export const CLUSTER_ANNOUNCE_MS = 1_000;
/** A node not heard from for this long is gone, and its streams with it. */
export const CLUSTER_NODE_TIMEOUT_MS = 3_000;

/** What conduit asks of the kernel for each werift UDP socket: bursts overflowed the default
 * (~208 KB) receive buffer and were lost silently. The kernel caps it at net.core.rmem_max. */
export const WERIFT_RECV_BUFFER_BYTES = 4 * 1024 * 1024;
/** How far past its receive window a werift association may hold data before it is aborted. */
export const SCTP_RECEIVE_OVERRUN_BYTES = 64 * 1024;

/** What an application configures, with its default: exported as `defaults` (the rest of
 * this module is internal and may change). */
export const PUBLIC_DEFAULTS = {
  DEFAULT_PORT,
  DEFAULT_HOST,
  DEFAULT_SERVER_HOST,
  DEFAULT_BUFFER_SIZE,
  DEFAULT_DELIVERY,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_AGE_MS,
  MAX_AGE_LIMIT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FALLBACK_AFTER_MS,
  DEFAULT_UPGRADE_AFTER_MS,
  DEFAULT_RECONNECT,
  DEFAULT_OVERFLOW_WAIT_MS,
  MAX_OVERFLOW_WAIT_MS,
  DEFAULT_LINK_TIMEOUT_MS,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_TURN_TTL_SECONDS,
} as const;
