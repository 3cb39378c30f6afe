import { seqAfter } from "../core/delivery.js";
import { CodedPartial } from "./coded-partial.js";
import { type Frame, FrameError, readFrame } from "./frame.js";
import { FRAME_KIND_PIECE, type Piece, readPiece } from "./pieces.js";

export interface ReassemblerLimits {
  maxMessageBytes: number;
  /** Partial messages held at once; beyond it the oldest is dropped. */
  maxPartials: number;
  /** Payload bytes held across all partial messages. */
  maxPartialBytes: number;
  /** A partial message older than this is dropped when the next frame arrives. */
  maxAgeMs: number;
  /** Drop a message older than one already delivered on its stream (realtime channels). */
  dropStale: boolean;
}

/** The first piece of a coded message came (whether or not the message completes). */
export type FirstPieceListener = (piece: Piece) => void;

export interface Reassembled {
  streamId: number;
  seq: number;
  body: Uint8Array;
  /** Coded messages: when the sender pushed it (its clock, ms mod 2^32), and its age bound. */
  sentAt?: number;
  maxAgeMs?: number;
}

export interface ReassemblerStats {
  framesReceived: number;
  framesInvalid: number;
  messagesCompleted: number;
  /** Messages dropped because a chunk never came (lost, evicted or too old). */
  messagesIncomplete: number;
  /** Messages dropped because a newer one on the same stream was already delivered. */
  messagesStale: number;
  /** Coded messages delivered whole thanks to repair pieces. */
  messagesRebuilt: number;
}

/** A chunked message (kind 1) being gathered. */
interface ChunkedPartial {
  kind: "chunks";
  chunks: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  totalBytes: number;
}

type Partial = { streamId: number; seq: number; startedAt: number } & (
  | ChunkedPartial
  | { kind: "coded"; coded: CodedPartial; readonly bytes: number }
);

/**
 * Turns frames back into message bodies. Bounded in partial count, bytes and age;
 * with no timers: age is checked as frames arrive, and `clear()` frees the rest.
 */
export class Reassembler {
  readonly stats: ReassemblerStats = {
    framesReceived: 0,
    framesInvalid: 0,
    messagesCompleted: 0,
    messagesIncomplete: 0,
    messagesStale: 0,
    messagesRebuilt: 0,
  };

  /** Insertion order = start order, so the oldest partial is first. */
  private readonly partials = new Map<string, Partial>();
  private partialBytes = 0;
  private readonly lastDelivered = new Map<number, number>();

  constructor(
    private readonly limits: ReassemblerLimits,
    private readonly now: () => number = Date.now,
    private readonly onFirstPiece?: FirstPieceListener,
  ) {}

  /** Returns a completed message, or undefined (frame held, or dropped and counted). */
  push(data: Uint8Array): Reassembled | undefined {
    this.stats.framesReceived++;
    let frame: Frame | Piece;
    try {
      frame =
        data[1] === FRAME_KIND_PIECE
          ? readPiece(data, this.limits.maxMessageBytes)
          : readFrame(data, this.limits.maxMessageBytes);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.stats.framesInvalid++;
      return undefined;
    }
    if ("pieceBytes" in frame) return this.addPiece(frame);
    if (this.isStale(frame.streamId, frame.seq)) {
      if (frame.chunkIndex === 0) this.stats.messagesStale++;
      return undefined;
    }
    if (frame.chunkCount === 1) return this.complete(frame.streamId, frame.seq, frame.payload);
    return this.addChunk(frame);
  }

  private addPiece(piece: Piece): Reassembled | undefined {
    const key = `${piece.streamId}:${piece.seq}`;
    // A message already delivered, or older than one delivered, takes no more pieces.
    if (this.isStale(piece.streamId, piece.seq)) return undefined;
    this.expireOld();
    let p = this.partials.get(key);
    if (!p) {
      const coded = new CodedPartial(piece);
      p = {
        kind: "coded",
        streamId: piece.streamId,
        seq: piece.seq,
        startedAt: this.now(),
        coded,
        get bytes() {
          return coded.bytes;
        },
      };
      this.partials.set(key, p);
      this.onFirstPiece?.(piece);
    } else if (p.kind !== "coded" || !p.coded.matches(piece)) {
      this.stats.framesInvalid++;
      return undefined;
    }
    const coded = p.coded;
    const before = coded.bytes;
    const whole = coded.add(piece);
    this.partialBytes += coded.bytes - before;
    if (!whole) {
      this.enforceBounds(key);
      return undefined;
    }
    this.partials.delete(key);
    this.partialBytes -= coded.bytes;
    if (coded.rebuilt) this.stats.messagesRebuilt++;
    return {
      ...this.complete(piece.streamId, piece.seq, coded.body()),
      sentAt: coded.sentAt,
      maxAgeMs: coded.maxAgeMs,
    };
  }

  /** Forgets a stream's delivery history (after unsubscribe or stream close). */
  forgetStream(streamId: number): void {
    this.lastDelivered.delete(streamId);
    for (const [key, p] of this.partials) {
      if (p.streamId === streamId) this.drop(key, p);
    }
  }

  clear(): void {
    for (const [key, p] of this.partials) this.drop(key, p);
    this.lastDelivered.clear();
  }

  get heldBytes(): number {
    return this.partialBytes;
  }

  get heldMessages(): number {
    return this.partials.size;
  }

  private isStale(streamId: number, seq: number): boolean {
    if (!this.limits.dropStale) return false;
    const last = this.lastDelivered.get(streamId);
    return last !== undefined && !seqAfter(seq, last);
  }

  private addChunk(frame: Frame): Reassembled | undefined {
    this.expireOld();
    const key = `${frame.streamId}:${frame.seq}`;
    let p = this.partials.get(key);
    if (!p) {
      p = {
        kind: "chunks",
        streamId: frame.streamId,
        seq: frame.seq,
        chunks: new Array(frame.chunkCount),
        received: 0,
        bytes: 0,
        totalBytes: frame.totalBytes,
        startedAt: this.now(),
      };
      this.partials.set(key, p);
    } else if (
      p.kind !== "chunks" ||
      p.chunks.length !== frame.chunkCount ||
      p.totalBytes !== frame.totalBytes
    ) {
      this.stats.framesInvalid++;
      return undefined;
    }
    if (p.chunks[frame.chunkIndex] !== undefined) return undefined; // duplicate chunk
    if (p.bytes + frame.payload.byteLength > p.totalBytes) {
      this.stats.framesInvalid++;
      this.drop(key, p);
      return undefined;
    }
    p.chunks[frame.chunkIndex] = frame.payload;
    p.received++;
    p.bytes += frame.payload.byteLength;
    this.partialBytes += frame.payload.byteLength;
    this.enforceBounds(key);
    if (p.received < p.chunks.length) return undefined;
    this.partials.delete(key);
    this.partialBytes -= p.bytes;
    if (p.bytes !== p.totalBytes) {
      this.stats.framesInvalid++;
      this.stats.messagesIncomplete++;
      return undefined;
    }
    return this.complete(p.streamId, p.seq, concat(p.chunks as Uint8Array[], p.totalBytes));
  }

  private complete(streamId: number, seq: number, body: Uint8Array): Reassembled {
    this.stats.messagesCompleted++;
    if (this.limits.dropStale) {
      this.lastDelivered.set(streamId, seq);
      // Older partials of this stream can no longer be delivered: free them now.
      for (const [key, p] of this.partials) {
        if (p.streamId === streamId && !seqAfter(p.seq, seq)) this.drop(key, p);
      }
    }
    return { streamId, seq, body };
  }

  private expireOld(): void {
    const cutoff = this.now() - this.limits.maxAgeMs;
    for (const [key, p] of this.partials) {
      if (p.startedAt > cutoff) break;
      this.drop(key, p);
    }
  }

  private enforceBounds(keep: string): void {
    for (const [key, p] of this.partials) {
      const over =
        this.partials.size > this.limits.maxPartials ||
        this.partialBytes > this.limits.maxPartialBytes;
      if (!over) break;
      if (key !== keep) this.drop(key, p);
    }
    const current = this.partials.get(keep);
    if (current && this.partialBytes > this.limits.maxPartialBytes) this.drop(keep, current);
  }

  private drop(key: string, p: Partial): void {
    this.partials.delete(key);
    this.partialBytes -= p.bytes;
    this.stats.messagesIncomplete++;
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
