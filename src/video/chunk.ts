// What crosses conduit for encoded video: one message per encoded chunk, on a realtime stream.
// Both ends (browser or Node) and the server's relay agree on these names and this shape.

/** One encoded video chunk (WebCodecs' EncodedVideoChunk, or a frame from ffmpeg). */
export interface VideoChunk {
  /** A keyframe decodes on its own; a delta needs every chunk since the last keyframe. */
  key: boolean;
  /** Counts up by one per chunk from the source: a gap means a chunk was lost. */
  frame: number;
  /** Presentation time, microseconds. */
  timestamp: number;
  /** The WebCodecs codec string, e.g. "vp8" or "avc1.42001f". */
  codec: string;
  width: number;
  height: number;
  data: Uint8Array;
  /** A keyframe made because a viewer asked for one (not the scheduled one). */
  requested?: boolean;
}

/** Where viewers ask for a keyframe: a client stream the relay handles. */
export const keyframeRequestsOf = (stream: string) => `${stream}/keyframe`;
/** Where the relay tells the source to make one: a stream the source subscribes to. */
export const controlOf = (stream: string) => `${stream}/control`;

/** The shape checked, so a malformed push from a client is dropped rather than relayed. */
export function isVideoChunk(value: unknown): value is VideoChunk {
  const c = value as VideoChunk;
  return (
    typeof c === "object" &&
    c !== null &&
    typeof c.key === "boolean" &&
    Number.isInteger(c.frame) &&
    typeof c.timestamp === "number" &&
    typeof c.codec === "string" &&
    c.codec.length > 0 &&
    c.codec.length <= 64 &&
    Number.isInteger(c.width) &&
    Number.isInteger(c.height) &&
    c.data instanceof Uint8Array
  );
}
