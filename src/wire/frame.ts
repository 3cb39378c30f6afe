/**
 * Data-channel frame: a fixed 20-byte big-endian header, then a slice of the
 * MessagePack body. See docs/PROTOCOL.md §Frames.
 *
 *   0  u8  version (1)         8  u32 stream id
 *   1  u8  kind (1 = message)  12 u32 sequence number
 *   2  u16 chunk index         16 u32 total body bytes
 *   4  u16 chunk count
 *   6  u16 reserved (0)
 */
export const FRAME_VERSION = 1;
export const FRAME_KIND_MESSAGE = 1;
/** A header and nothing else, sent on an idle link so the other end can tell it is alive. */
export const FRAME_KIND_KEEPALIVE = 2;
export const HEADER_BYTES = 20;
export const MAX_CHUNKS = 0xffff;

export interface FrameHeader {
  streamId: number;
  seq: number;
  chunkIndex: number;
  chunkCount: number;
  totalBytes: number;
}

export interface Frame extends FrameHeader {
  payload: Uint8Array;
}

export function writeHeader(target: Uint8Array, offset: number, h: FrameHeader): void {
  const view = new DataView(target.buffer, target.byteOffset + offset, HEADER_BYTES);
  view.setUint8(0, FRAME_VERSION);
  view.setUint8(1, FRAME_KIND_MESSAGE);
  view.setUint16(2, h.chunkIndex);
  view.setUint16(4, h.chunkCount);
  view.setUint16(6, 0);
  view.setUint32(8, h.streamId);
  view.setUint32(12, h.seq);
  view.setUint32(16, h.totalBytes);
}

export const KEEPALIVE_FRAME: Uint8Array = (() => {
  const frame = new Uint8Array(HEADER_BYTES);
  frame[0] = FRAME_VERSION;
  frame[1] = FRAME_KIND_KEEPALIVE;
  return frame;
})();

export function isKeepalive(data: Uint8Array): boolean {
  return (
    data.byteLength === HEADER_BYTES &&
    data[0] === FRAME_VERSION &&
    data[1] === FRAME_KIND_KEEPALIVE
  );
}

/** Why a frame was rejected; the receiver counts these and drops the frame. */
export class FrameError extends Error {}

/** Parses and validates one frame. The payload is a view into `data`, not a copy. */
export function readFrame(data: Uint8Array, maxMessageBytes: number): Frame {
  if (data.byteLength < HEADER_BYTES) throw new FrameError("frame shorter than its header");
  const view = new DataView(data.buffer, data.byteOffset, HEADER_BYTES);
  if (view.getUint8(0) !== FRAME_VERSION) throw new FrameError("unsupported frame version");
  if (view.getUint8(1) !== FRAME_KIND_MESSAGE) throw new FrameError("unknown frame kind");
  const chunkIndex = view.getUint16(2);
  const chunkCount = view.getUint16(4);
  const totalBytes = view.getUint32(16);
  const payload = data.subarray(HEADER_BYTES);
  if (chunkCount === 0 || chunkIndex >= chunkCount) throw new FrameError("bad chunk index/count");
  if (totalBytes > maxMessageBytes) throw new FrameError("message larger than maxMessageBytes");
  if (payload.byteLength > totalBytes) throw new FrameError("chunk larger than its message");
  if (chunkCount === 1 && payload.byteLength !== totalBytes) {
    throw new FrameError("single-chunk frame with wrong length");
  }
  return {
    streamId: view.getUint32(8),
    seq: view.getUint32(12),
    chunkIndex,
    chunkCount,
    totalBytes,
    payload,
  };
}
