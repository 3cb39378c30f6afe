import { encodeRepair, MAX_REPAIR_PIECES, MAX_SOURCE_PIECES } from "./erasure.js";
import { FRAME_VERSION, FrameError } from "./frame.js";

/**
 * Coded realtime frames (protocol 3, docs/PROTOCOL.md §5.3): a message cut into pieces that
 * each fit one SCTP packet, in groups of at most 128 source pieces, each group followed by
 * its repair pieces. Header, 32 bytes, big-endian:
 *
 *   0  u8  version (1)            16 u32 total body bytes
 *   1  u8  kind (3 = piece)       20 u32 sent at (sender's clock, ms, mod 2^32)
 *   2  u16 piece index in group   24 u16 max age ms (0 = no bound)
 *   4  u16 source pieces in group 26 u16 piece bytes
 *   6  u8  repair pieces in group 28 u16 held ms: how long the message waited at the sender
 *   7  u8  group index                    before this piece went to its engine
 *   8  u32 stream id                30 u16 reserved (0)
 *   12 u32 sequence number
 */
export const FRAME_KIND_PIECE = 3;
export const PIECE_HEADER_BYTES = 32;
/** libdatachannel's default SCTP MTU leaves 1076 bytes of user data in a packet (1200 − SCTP,
 * DTLS, UDP and IPv6 headers − the DATA chunk header): 1024 + 32 fits, with room to spare for
 * Chromium's dcSCTP (1191) and werift (1200). */
export const PIECE_BYTES = 1024;

export interface PieceHeader {
  streamId: number;
  seq: number;
  group: number;
  index: number;
  sourceCount: number;
  repairCount: number;
  totalBytes: number;
  sentAt: number;
  maxAgeMs: number;
  pieceBytes: number;
  /** Set per send (see withHeldMs); 0 as cut. */
  heldMs: number;
}

export interface Piece extends PieceHeader {
  payload: Uint8Array;
}

/** How a message of `totalBytes` is split: the source-piece count of each group. */
export function groupSizes(totalBytes: number, pieceBytes: number): number[] {
  const pieces = Math.max(1, Math.ceil(totalBytes / pieceBytes));
  const groups = Math.ceil(pieces / MAX_SOURCE_PIECES);
  const base = Math.ceil(pieces / groups);
  return Array.from({ length: groups }, (_, g) => Math.min(base, pieces - g * base));
}

export function writePieceHeader(target: Uint8Array, offset: number, h: PieceHeader): void {
  const view = new DataView(target.buffer, target.byteOffset + offset, PIECE_HEADER_BYTES);
  view.setUint8(0, FRAME_VERSION);
  view.setUint8(1, FRAME_KIND_PIECE);
  view.setUint16(2, h.index);
  view.setUint16(4, h.sourceCount);
  view.setUint8(6, h.repairCount);
  view.setUint8(7, h.group);
  view.setUint32(8, h.streamId);
  view.setUint32(12, h.seq);
  view.setUint32(16, h.totalBytes);
  view.setUint32(20, h.sentAt >>> 0);
  view.setUint16(24, h.maxAgeMs);
  view.setUint16(26, h.pieceBytes);
  view.setUint16(28, h.heldMs);
  view.setUint16(30, 0);
}

/** Parses and validates one piece frame (kind already checked). The payload is a view. */
export function readPiece(data: Uint8Array, maxMessageBytes: number): Piece {
  if (data.byteLength < PIECE_HEADER_BYTES) throw new FrameError("piece shorter than its header");
  const view = new DataView(data.buffer, data.byteOffset, PIECE_HEADER_BYTES);
  const h: PieceHeader = {
    index: view.getUint16(2),
    sourceCount: view.getUint16(4),
    repairCount: view.getUint8(6),
    group: view.getUint8(7),
    streamId: view.getUint32(8),
    seq: view.getUint32(12),
    totalBytes: view.getUint32(16),
    sentAt: view.getUint32(20),
    maxAgeMs: view.getUint16(24),
    pieceBytes: view.getUint16(26),
    heldMs: view.getUint16(28),
  };
  const payload = data.subarray(PIECE_HEADER_BYTES);
  if (h.totalBytes > maxMessageBytes) throw new FrameError("message larger than maxMessageBytes");
  if (h.pieceBytes === 0 || payload.byteLength !== h.pieceBytes) {
    throw new FrameError("piece of the wrong size");
  }
  const sizes = groupSizes(h.totalBytes, h.pieceBytes);
  if (h.group >= sizes.length || sizes[h.group] !== h.sourceCount) {
    throw new FrameError("bad group index or size");
  }
  if (h.repairCount > MAX_REPAIR_PIECES || h.index >= h.sourceCount + h.repairCount) {
    throw new FrameError("bad piece index");
  }
  return { ...h, payload };
}

/**
 * Cuts a body into piece frames: each group's sources (the last one zero-padded), then its
 * `repairFor(sourceCount)` repair pieces. Frames are views into one buffer, in send order.
 */
export function cutPieces(
  body: Uint8Array,
  header: Pick<PieceHeader, "streamId" | "seq" | "sentAt" | "maxAgeMs">,
  repairFor: (sourceCount: number) => number,
  pieceBytes = PIECE_BYTES,
): Uint8Array[] {
  const sizes = groupSizes(body.byteLength, pieceBytes);
  const repairs = sizes.map((k) => Math.min(MAX_REPAIR_PIECES, repairFor(k)));
  const frameBytes = PIECE_HEADER_BYTES + pieceBytes;
  const count = sizes.reduce((sum, k, g) => sum + k + (repairs[g] as number), 0);
  const buffer = new Uint8Array(count * frameBytes);
  const frames: Uint8Array[] = [];
  let sourceStart = 0;
  sizes.forEach((sourceCount, group) => {
    const repairCount = repairs[group] as number;
    const payloads: Uint8Array[] = [];
    for (let index = 0; index < sourceCount + repairCount; index++) {
      const offset = frames.length * frameBytes;
      writePieceHeader(buffer, offset, {
        ...header,
        group,
        index,
        sourceCount,
        repairCount,
        totalBytes: body.byteLength,
        pieceBytes,
        heldMs: 0,
      });
      const payload = buffer.subarray(offset + PIECE_HEADER_BYTES, offset + frameBytes);
      if (index < sourceCount) {
        const start = sourceStart + index * pieceBytes;
        payload.set(body.subarray(start, Math.min(body.byteLength, start + pieceBytes)));
        payloads.push(payload);
      } else {
        encodeRepair(payloads, index - sourceCount, payload);
      }
      frames.push(buffer.subarray(offset, offset + frameBytes));
    }
    sourceStart += sourceCount * pieceBytes;
  });
  return frames;
}

/** A copy of a piece frame that says it waited `heldMs` at the sender: the receiver takes
 * that out of the delay it reports, so a queue in conduit (the pacer's) is not mistaken for
 * one on the path. A copy, because cut pieces are shared by every subscriber. */
export function withHeldMs(piece: Uint8Array, heldMs: number): Uint8Array {
  const copy = piece.slice();
  new DataView(copy.buffer).setUint16(28, Math.min(0xffff, Math.max(0, Math.round(heldMs))));
  return copy;
}

/** Repair is planned for at most this loss: past it, more repair mostly adds to the load of a
 * path that is already failing (10 % of 49 pieces asks for 13 repair pieces). */
const MAX_PLANNED_LOSS = 0.1;

/**
 * Repair pieces for a group of `sourceCount` pieces when a share `loss` of pieces is lost
 * independently: the fewest with which the group is rebuilt at least 99.5 % of the time.
 */
export function repairCount(sourceCount: number, loss: number): number {
  if (loss <= 0) return 0;
  const p = Math.min(loss, MAX_PLANNED_LOSS);
  for (let r = 0; r < MAX_REPAIR_PIECES; r++) {
    if (lossTail(sourceCount + r, r, p) <= 0.005) return r;
  }
  return MAX_REPAIR_PIECES;
}

/** P[more than r of n pieces lost], each lost with probability p. */
function lossTail(n: number, r: number, p: number): number {
  let term = (1 - p) ** n; // P[0 lost]
  let atMost = term;
  for (let lost = 1; lost <= r; lost++) {
    term *= ((n - lost + 1) / lost) * (p / (1 - p));
    atMost += term;
  }
  return Math.max(0, 1 - atMost);
}
