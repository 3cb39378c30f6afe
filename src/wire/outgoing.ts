import { MessageTooLargeError } from "../errors.js";
import { encodeBody } from "./codec.js";
import { HEADER_BYTES, MAX_CHUNKS, writeHeader } from "./frame.js";

/**
 * One pushed message, encoded once. Every subscriber receives the same frame bytes;
 * they are cut once per distinct frame size (in practice: once).
 */
export class OutgoingMessage {
  readonly body: Uint8Array;
  /** The body with HEADER_BYTES free in front of it. */
  private readonly roomy: Uint8Array;
  /** When it was made (performance.now()): how long it has waited to be sent. */
  readonly createdAt = performance.now();
  private readonly framesBySize = new Map<number, Uint8Array[]>();

  constructor(
    readonly streamId: number,
    readonly seq: number,
    value: unknown,
    maxMessageBytes: number,
    /** An encoding made already (see renumbered). */
    encoded?: Uint8Array,
  ) {
    this.roomy = encoded ?? encodeBody(value, HEADER_BYTES);
    this.body = this.roomy.subarray(HEADER_BYTES);
    if (this.body.byteLength > maxMessageBytes) {
      throw new MessageTooLargeError(this.body.byteLength, maxMessageBytes);
    }
  }

  /** The same encoded message under another stream id and sequence number (a reconnect may
   * renumber streams; a client stream's id is known only after its first push is checked). */
  renumbered(streamId: number, seq = this.seq): OutgoingMessage {
    return new OutgoingMessage(streamId, seq, undefined, Number.POSITIVE_INFINITY, this.roomy);
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
    if (count > MAX_CHUNKS) throw new MessageTooLargeError(total, MAX_CHUNKS * chunkBytes);
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
