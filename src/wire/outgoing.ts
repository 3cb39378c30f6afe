import { MAX_FRAME_BYTES } from "../core/defaults.js";
import { MessageTooLargeError } from "../core/errors.js";
import { encodeBody } from "./codec.js";
import { HEADER_BYTES, MAX_CHUNKS, writeHeader } from "./frame.js";
import { cutPieces, PIECE_BYTES, PIECE_HEADER_BYTES, repairCount } from "./pieces.js";

/** Repair is planned for loss rounded up to these steps, so fan-out encodes a few variants. */
const LOSS_STEP = 0.005;

/**
 * One pushed message, encoded once. Every subscriber receives the same frame bytes;
 * they are cut once per distinct frame size (in practice: once).
 */
export class OutgoingMessage {
  readonly body: Uint8Array;
  /** The body with HEADER_BYTES free in front of it. */
  private readonly roomy: Uint8Array;
  private readonly framesBySize = new Map<number, Uint8Array[]>();
  private readonly piecesByLoss = new Map<number, Uint8Array[]>();

  constructor(
    readonly streamId: number,
    readonly seq: number,
    value: unknown,
    maxMessageBytes: number,
    /** Realtime: how old it may be when delivered (0: no bound). */
    readonly maxAgeMs = 0,
    /** An encoding made already (see renumbered). */
    encoded?: Uint8Array,
    /** When it was pushed (performance.now()): its age counts from here. */
    readonly createdAt = performance.now(),
  ) {
    this.roomy = encoded ?? encodeBody(value, HEADER_BYTES);
    this.body = this.roomy.subarray(HEADER_BYTES);
    if (this.body.byteLength > maxMessageBytes) {
      throw MessageTooLargeError.of(this.body.byteLength, maxMessageBytes);
    }
  }

  /** A message from a body encoded elsewhere (copied once, behind room for the header). */
  static ofBody(
    streamId: number,
    seq: number,
    body: Uint8Array,
    maxMessageBytes: number,
    maxAgeMs: number,
  ): OutgoingMessage {
    const roomy = new Uint8Array(HEADER_BYTES + body.byteLength);
    roomy.set(body, HEADER_BYTES);
    return new OutgoingMessage(streamId, seq, undefined, maxMessageBytes, maxAgeMs, roomy);
  }

  /** The same encoded message under another stream id and sequence number (a reconnect may
   * renumber streams; a client stream's id is known only after its first push is checked).
   * The encoding is shared unless this message was cut already: a one-frame message's frame
   * is its own buffer, header written in place, and the copy writes its own header there. */
  renumbered(streamId: number, seq = this.seq): OutgoingMessage {
    return new OutgoingMessage(
      streamId,
      seq,
      undefined,
      Number.POSITIVE_INFINITY,
      this.maxAgeMs,
      // A copy (a Node Buffer's slice() would share the memory).
      this.framesBySize.size > 0 ? new Uint8Array(this.roomy) : this.roomy,
      this.createdAt,
    );
  }

  /** Past its age bound: not worth sending any more of it. */
  expired(now = performance.now()): boolean {
    return this.maxAgeMs > 0 && now - this.createdAt > this.maxAgeMs;
  }

  /** Coded piece frames (protocol 3) with repair for a path that loses `loss` of its pieces. */
  pieces(loss: number): Uint8Array[] {
    const steps = Math.ceil(loss / LOSS_STEP - 1e-9);
    let pieces = this.piecesByLoss.get(steps);
    if (!pieces) {
      const header = {
        streamId: this.streamId,
        seq: this.seq,
        sentAt: Math.floor(performance.timeOrigin + this.createdAt),
        maxAgeMs: this.maxAgeMs,
      };
      // On a clean path, pieces as large as a frame (evenly cut, so little is padding): no
      // repair, and no more sends than before.
      const largest = MAX_FRAME_BYTES - PIECE_HEADER_BYTES;
      const total = this.body.byteLength;
      const pieceBytes =
        steps === 0 ? Math.max(1, Math.ceil(total / Math.ceil(total / largest))) : PIECE_BYTES;
      const repair = (k: number) => repairCount(k, steps * LOSS_STEP);
      pieces = cutPieces(this.body, header, repair, pieceBytes);
      this.piecesByLoss.set(steps, pieces);
    }
    return pieces;
  }

  private get header() {
    return { streamId: this.streamId, seq: this.seq };
  }

  get byteLength(): number {
    return this.body.byteLength;
  }

  /** Frames no larger than `maxFrameBytes`: views into one buffer, laid out back to back. */
  frames(maxFrameBytes: number): Uint8Array[] {
    let frames = this.framesBySize.get(maxFrameBytes);
    if (!frames) {
      frames = this.cut(maxFrameBytes);
      this.framesBySize.set(maxFrameBytes, frames);
    }
    return frames;
  }

  private cut(maxFrameBytes: number): Uint8Array[] {
    const chunkBytes = maxFrameBytes - HEADER_BYTES;
    const total = this.body.byteLength;
    const count = Math.max(1, Math.ceil(total / chunkBytes));
    if (count > MAX_CHUNKS) throw MessageTooLargeError.of(total, MAX_CHUNKS * chunkBytes);
    if (count === 1) {
      // The header goes in the room left in front of the body: no copy.
      writeHeader(this.roomy, 0, {
        ...this.header,
        chunkIndex: 0,
        chunkCount: 1,
        totalBytes: total,
      });
      return [this.roomy];
    }
    const buffer = new Uint8Array(total + count * HEADER_BYTES);
    const frames: Uint8Array[] = [];
    let offset = 0;
    for (let index = 0; index < count; index++) {
      const start = index * chunkBytes;
      const end = Math.min(total, start + chunkBytes);
      writeHeader(buffer, offset, {
        ...this.header,
        chunkIndex: index,
        chunkCount: count,
        totalBytes: total,
      });
      buffer.set(this.body.subarray(start, end), offset + HEADER_BYTES);
      const frameEnd = offset + HEADER_BYTES + (end - start);
      frames.push(buffer.subarray(offset, frameEnd));
      offset = frameEnd;
    }
    return frames;
  }
}
