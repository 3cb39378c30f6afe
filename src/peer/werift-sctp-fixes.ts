// Fixes to werift's SCTP association (a private class, reached through the first one made):
// malformed packets, receive-window overruns, SACK gap blocks across the TSN wrap, and the
// retransmission timer. Applied by werift-fixes.ts.

import { SCTP_RECEIVE_OVERRUN_BYTES } from "../core/defaults.js";
import { log } from "../util/log.js";
import type { InboundStream } from "./werift-reassembly.js";

const debug = log("peer");

const TSN_MODULO = 2 ** 32;
const HALF_TSN = 2 ** 31;
const DATA_LAST_FRAGMENT = 1;
const DATA_FIRST_FRAGMENT = 2;
const SACK_CHUNK = 3;
/** Chunk types werift parses, and where their TLV parameters start (RFC 9260 §3.2). */
const KNOWN_CHUNKS = new Map<number, number | undefined>([
  [0, undefined], // DATA
  [1, 16], // INIT
  [2, 16], // INIT ACK
  [3, undefined], // SACK
  [4, 0], // HEARTBEAT
  [5, 0], // HEARTBEAT ACK
  [6, 0], // ABORT
  [7, undefined], // SHUTDOWN
  [8, undefined], // SHUTDOWN ACK
  [9, 0], // ERROR
  [10, undefined], // COOKIE ECHO
  [11, undefined], // COOKIE ACK
  [14, undefined], // SHUTDOWN COMPLETE
  [130, 0], // RE-CONFIG
  [192, undefined], // FORWARD TSN
]);

const tsnPlusOne = (tsn: number) => (tsn + 1) % TSN_MODULO;
const tsnAfter = (a: number, b: number) =>
  (a < b && b - a > HALF_TSN) || (a > b && a - b < HALF_TSN);
const tsnAtOrAfter = (a: number, b: number) => a === b || tsnAfter(a, b);

/** The parts of werift's SCTP association (private, untyped) that the fixes touch. */
interface SentChunk {
  tsn: number;
  flags: number;
  streamId: number;
  streamSeqNum: number;
  bookSize: number;
  sentCount: number;
  maxRetransmits?: number;
  expiry?: number;
  abandoned?: boolean;
  retransmit?: boolean;
  inFlight?: boolean;
  /** Acknowledged in a gap block. */
  acked?: boolean;
}
export interface Sctp {
  lastReceivedTsn: number;
  advertisedRwnd: number;
  sackNeeded: boolean;
  sackImmediate: boolean;
  sackPacketCount: number;
  sackMisOrdered: Set<number>;
  sackDuplicates: number[];
  flightSize: number;
  sentQueue: SentChunk[];
  inboundStreams: Record<number, InboundStream>;
  isStopped: boolean;
  timer3Expired: () => void;
  timer3Handle: unknown;
  rto: number;
  cwnd: number;
  ssthresh: number;
  partialBytesAcked: number;
  fastRecoveryExit: number | undefined;
  maybeAbandon(chunk: SentChunk): boolean;
  updateAdvancedPeerAckPoint(): void;
  transmit(): Promise<void>;
  getInboundStream(streamId: number): InboundStream;
  receive(streamId: number, ppId: number, data: Buffer): void;
  sendChunk(chunk: { type: number; bytes: Buffer }): Promise<void>;
  stop(): Promise<void>;
  handleData(data: Buffer): Promise<void>;
  receiveDataChunk(chunk: { tsn: number; userData: Buffer }): void;
}
export type SctpMethods = Record<string, unknown> & Sctp;

export function fixSctpPrototype(sctp: SctpMethods, crc32c: (data: Buffer) => number): void {
  // Malformed packets: a chunk or parameter length under 4 looped for ever, an overrun threw
  // out of an un-awaited promise (killing the process), and an unknown chunk type threw.
  wrap(
    sctp,
    "handleData",
    (handleData) =>
      async function (this: Sctp, data: Buffer) {
        const packet = sanitizePacket(data, crc32c);
        if (!packet) return;
        try {
          await handleData.call(this, packet);
        } catch (err) {
          debug("werift: dropped an SCTP packet: %s", (err as Error).message);
        }
      },
  );

  // RFC 9260 §6.2: data beyond the receive window is dropped (the SACK says so), except the
  // next TSN in sequence, so held out-of-order data cannot deadlock the window. Data held far
  // past the window (a message larger than it, or a peer ignoring it) aborts the association.
  wrap(
    sctp,
    "receiveDataChunk",
    (receiveDataChunk) =>
      function (this: Sctp, chunk: { tsn: number; userData: Buffer }) {
        if (
          chunk.userData.length > this.advertisedRwnd &&
          chunk.tsn !== tsnPlusOne(this.lastReceivedTsn)
        ) {
          this.sackNeeded = true;
          this.sackImmediate = true;
          return;
        }
        receiveDataChunk.call(this, chunk);
        if (this.advertisedRwnd < -SCTP_RECEIVE_OVERRUN_BYTES) {
          debug("werift: receive window overrun, aborting the association");
          this.stop().catch((err: Error) => debug("werift: abort failed: %s", err.message));
        }
      },
  );

  // TSNs were sorted as strings: the cumulative TSN stalled where the digit count changes and
  // at the 2^32 wrap, and SACK gap blocks came out of order.
  sctp.markReceived = function (this: Sctp, tsn: number): boolean {
    if (tsnAtOrAfter(this.lastReceivedTsn, tsn) || this.sackMisOrdered.has(tsn)) {
      this.sackDuplicates.push(tsn);
      return true;
    }
    this.sackMisOrdered.add(tsn);
    advanceCumulativeTsn(this);
    this.sackDuplicates = this.sackDuplicates.filter((t) => tsnAfter(t, this.lastReceivedTsn));
    return false;
  };
  sctp.receiveForwardTsnChunk = function (
    this: Sctp,
    chunk: { cumulativeTsn: number; streams: [number, number][] },
  ): void {
    this.sackNeeded = true;
    this.sackImmediate = true;
    if (tsnAtOrAfter(this.lastReceivedTsn, chunk.cumulativeTsn)) return;
    this.lastReceivedTsn = chunk.cumulativeTsn;
    const pending = (t: number) => tsnAfter(t, this.lastReceivedTsn);
    this.sackMisOrdered = new Set([...this.sackMisOrdered].filter(pending));
    advanceCumulativeTsn(this);
    this.sackDuplicates = this.sackDuplicates.filter(pending);
    for (const [streamId, streamSeqNum] of chunk.streams) {
      const inbound = this.getInboundStream(streamId);
      inbound.streamSequenceNumber = (streamSeqNum + 1) & 0xffff;
      for (const message of inbound.popMessages()) {
        this.advertisedRwnd += message[2].length;
        this.receive(...message);
      }
    }
    // Only what the sender gave up on is dropped: fragments up to its new cumulative TSN. The
    // cumulative TSN may have gone further, over data that had come out of order; a message
    // among that data still missing a fragment is still coming (werift pruned it too).
    for (const inbound of Object.values(this.inboundStreams)) {
      this.advertisedRwnd += inbound.pruneChunks(chunk.cumulativeTsn);
    }
  };
  sctp.sendSack = async function (this: Sctp): Promise<void> {
    if (this.isStopped || !this.sackNeeded) return;
    try {
      await this.sendChunk({ type: SACK_CHUNK, bytes: sackChunk(this) });
    } catch (err) {
      debug("werift: sending a SACK failed: %s", (err as Error).message);
    }
    this.sackDuplicates = [];
    this.sackNeeded = false;
    this.sackPacketCount = 0;
    this.sackImmediate = false;
  };

  // Each chunk leaves the flight once. Abandoned chunks stayed counted, and once the count
  // passed cwnd the association never sent again.
  sctp.flightSizeIncrease = function (this: Sctp, chunk: SentChunk): void {
    this.flightSize += chunk.bookSize;
    chunk.inFlight = true;
  };
  sctp.flightSizeDecrease = function (this: Sctp, chunk: SentChunk): void {
    if (!chunk.inFlight) return;
    chunk.inFlight = false;
    this.flightSize = Math.max(0, this.flightSize - chunk.bookSize);
  };
  wrap(
    sctp,
    "updateAdvancedPeerAckPoint",
    (update) =>
      function (this: SctpMethods) {
        // werift drops the abandoned chunks at the head of the queue without leaving the flight.
        for (const chunk of this.sentQueue) {
          if (!chunk.abandoned) break;
          (this.flightSizeDecrease as (c: SentChunk) => void).call(this, chunk);
        }
        return update.call(this);
      },
  );

  // werift's round-trip estimate (RFC 9260 §6.3.1), with RTO_MIN_S under the timeout.
  wrap(
    sctp,
    "updateRto",
    (updateRto) =>
      function (this: Sctp & { srtt: number; rttvar: number }, r: number) {
        updateRto.call(this, r);
        this.rto = Math.max(RTO_MIN_S, Math.min(this.srtt + 4 * this.rttvar, RTO_MAX_S));
      },
  );

  // maxRetransmits 0 was read as "unlimited" and an expiry never checked when it was 0; and
  // abandoning a chunk marked the first chunk of the same type, not the chunk's own message.
  sctp.maybeAbandon = function (this: Sctp, chunk: SentChunk): boolean {
    if (chunk.abandoned) return true;
    const spent =
      (chunk.maxRetransmits !== undefined && chunk.maxRetransmits < chunk.sentCount) ||
      (chunk.expiry !== undefined && chunk.expiry < Date.now() / 1000);
    if (!spent) return false;
    // The whole message, and only it: its fragments have consecutive TSNs on its stream,
    // from its first fragment to its last. The chunks beside it in the queue may be another
    // stream's (a reliable message's): those are not abandoned.
    const at = this.sentQueue.indexOf(chunk);
    const fragment = (step: number) => {
      const other = this.sentQueue[at + step];
      const adjacent = other?.tsn === (chunk.tsn + step + TSN_MODULO) % TSN_MODULO;
      return adjacent && other.streamId === chunk.streamId ? other : undefined;
    };
    const abandon = (other: SentChunk) => {
      other.abandoned = true;
      other.retransmit = false;
    };
    abandon(chunk);
    for (let step = -1, current = chunk; !(current.flags & DATA_FIRST_FRAGMENT); step--) {
      const previous = fragment(step);
      if (!previous) break;
      abandon(previous);
      current = previous;
    }
    for (let step = 1, current = chunk; !(current.flags & DATA_LAST_FRAGMENT); step++) {
      const next = fragment(step);
      if (!next) break;
      abandon(next);
      current = next;
    }
    return true;
  };
}

/** werift's timeout never goes under RFC 9260's 1 s: on a 50 ms path that is a second of
 * silence each time a retransmission is lost too, and realtime messages die of age in it.
 * Half a second less still leaves a spurious timeout rare (the timeout is srtt + 4 × rttvar
 * above it), and it doubles as each one fires. */
const RTO_MIN_S = 0.2;
const RTO_MAX_S = 60;
/** werift's DATA chunk payload size: the window after a timeout is one of these. */
const CHUNK_BYTES = 1200;

/**
 * The retransmission timer (an instance field, so fixed per association). werift's marks
 * every chunk in the sent queue for sending again, those the peer already acknowledged in gap
 * blocks too: with the window floor of werift-window.ts, a timeout then sent a window's worth
 * of data the peer had. And it never backed off. Now (RFC 9260 §6.3.3): only chunks not
 * acknowledged go again, and the timeout doubles.
 */
export function fixRetransmissionTimeout(sctp: Sctp): void {
  sctp.timer3Expired = () => {
    if (sctp.isStopped) return;
    sctp.timer3Handle = undefined;
    sctp.rto = Math.min(RTO_MAX_S, sctp.rto * 2);
    for (const chunk of sctp.sentQueue) {
      chunk.inFlight = false;
      if (!sctp.maybeAbandon(chunk) && !chunk.acked) chunk.retransmit = true;
    }
    sctp.updateAdvancedPeerAckPoint();
    sctp.fastRecoveryExit = undefined;
    sctp.flightSize = 0;
    sctp.partialBytesAcked = 0;
    sctp.ssthresh = Math.max(Math.floor(sctp.cwnd / 2), 4 * CHUNK_BYTES);
    sctp.cwnd = CHUNK_BYTES;
    sctp.transmit().catch((err: Error) => debug("werift: retransmission failed: %s", err.message));
  };
}

/** A SACK chunk (RFC 9260 §3.3.4), its gap blocks in TSN order across the 2^32 wrap. */
function sackChunk(sctp: Sctp): Buffer {
  const base = sctp.lastReceivedTsn;
  const offset = (tsn: number) => (tsn - base + TSN_MODULO) % TSN_MODULO;
  const gaps: [number, number][] = [];
  for (const at of [...sctp.sackMisOrdered].map(offset).sort((a, b) => a - b)) {
    const last = gaps[gaps.length - 1];
    if (last && last[1] + 1 === at) last[1] = at;
    else gaps.push([at, at]);
  }
  const duplicates = sctp.sackDuplicates;
  const chunk = Buffer.alloc(16 + 4 * gaps.length + 4 * duplicates.length);
  chunk.writeUInt8(SACK_CHUNK, 0);
  chunk.writeUInt16BE(chunk.length, 2);
  chunk.writeUInt32BE(base, 4);
  chunk.writeUInt32BE(Math.max(0, sctp.advertisedRwnd), 8);
  chunk.writeUInt16BE(gaps.length, 12);
  chunk.writeUInt16BE(duplicates.length, 14);
  let pos = 16;
  for (const [start, end] of gaps) {
    chunk.writeUInt16BE(start & 0xffff, pos);
    chunk.writeUInt16BE(end & 0xffff, pos + 2);
    pos += 4;
  }
  for (const tsn of duplicates) {
    chunk.writeUInt32BE(tsn, pos);
    pos += 4;
  }
  return chunk;
}

function advanceCumulativeTsn(sctp: Sctp): void {
  let next = tsnPlusOne(sctp.lastReceivedTsn);
  while (sctp.sackMisOrdered.delete(next)) {
    sctp.lastReceivedTsn = next;
    next = tsnPlusOne(next);
  }
}

/**
 * Checks a packet's chunk and parameter lengths before werift parses it. Returns the packet,
 * the packet without unknown chunks that RFC 9260 §3.2 says to skip (0x80 bit set), or
 * undefined to drop it (malformed, or an unknown chunk that says to discard the packet).
 */
export function sanitizePacket(data: Buffer, crc32c: (data: Buffer) => number): Buffer | undefined {
  if (data.length < 12) return undefined;
  const kept: Buffer[] = [];
  let skipped = false;
  let pos = 12;
  while (pos + 4 <= data.length) {
    const type = data.readUInt8(pos);
    const length = data.readUInt16BE(pos + 2);
    if (length < 4 || pos + length > data.length) return undefined;
    const end = Math.min(data.length, pos + length + ((4 - (length % 4)) % 4));
    if (!KNOWN_CHUNKS.has(type)) {
      if ((type & 0x80) === 0) return undefined;
      skipped = true;
    } else {
      const paramsAt = KNOWN_CHUNKS.get(type);
      if (
        paramsAt !== undefined &&
        !paramsWellFormed(data.subarray(pos + 4 + paramsAt, pos + length))
      ) {
        return undefined;
      }
      kept.push(data.subarray(pos, end));
    }
    pos = end;
  }
  if (!skipped) return data; // werift checks the checksum itself
  // Rebuilt without the skipped chunks: only a packet whose checksum held gets a new one.
  if (data.readUInt32LE(8) !== crc32c(withZeroChecksum(data))) return undefined;
  const packet = Buffer.concat([data.subarray(0, 12), ...kept]);
  packet.writeUInt32LE(crc32c(withZeroChecksum(packet)), 8);
  return packet;
}

function withZeroChecksum(packet: Buffer): Buffer {
  const copy = Buffer.from(packet);
  copy.writeUInt32LE(0, 8);
  return copy;
}

function paramsWellFormed(body: Buffer): boolean {
  let pos = 0;
  while (pos + 4 <= body.length) {
    const length = body.readUInt16BE(pos + 2);
    if (length < 4 || pos + length > body.length) return false;
    pos += length + ((4 - (length % 4)) % 4);
  }
  return true;
}

/** Replaces `target[method]` with what `make` builds around the original. */
export function wrap<T extends object>(
  target: T,
  method: string,
  make: (original: (...args: unknown[]) => unknown) => (this: never, ...args: never[]) => unknown,
): void {
  const methods = target as Record<string, unknown>;
  const original = methods[method] as (...args: unknown[]) => unknown;
  methods[method] = make(original);
}
