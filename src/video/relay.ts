import { InvalidArgumentError } from "../core/errors.js";
import type { StreamManager } from "../streams/manager.js";
import type { Stream } from "../streams/stream.js";
import { Emitter } from "../util/emitter.js";
import { controlOf, isVideoChunk, keyframeRequestsOf, type VideoChunk } from "./chunk.js";

export interface VideoRelayOptions {
  /** The stream viewers subscribe to. */
  stream: string;
  /** The client stream a browser source pushes to (omit when the server itself is the source:
   * push with `relay.push()`). */
  fromClientStream?: string | undefined;
  /** How old a chunk may be when delivered. @default 500 */
  maxAgeMs?: number | undefined;
  /** Keyframe requests closer together than this are merged into one. @default 500 */
  keyframeIntervalMs?: number | undefined;
}

interface VideoRelayEvents {
  /** The source should make its next chunk a keyframe (a viewer asked, or a new one came). */
  keyframeRequest: [];
}

/**
 * Serves one video source to many viewers: chunks from a browser's client stream (or pushed
 * here from Node) go out on a realtime stream; viewers' keyframe requests, and each new
 * viewer, make the source send a keyframe soon, at most one request per keyframeIntervalMs.
 */
export class VideoRelay extends Emitter<VideoRelayEvents> {
  readonly stream: Stream;
  private readonly control: Stream;
  private readonly keyframeIntervalMs: number;
  private lastRequest = Number.NEGATIVE_INFINITY;
  private pending: ReturnType<typeof setTimeout> | undefined;
  private readonly removers: (() => void)[] = [];
  /** Chunks refused for their shape. */
  malformed = 0;
  /** Keyframe requests sent to the source (after merging). */
  keyframeRequests = 0;

  constructor(streams: StreamManager, options: VideoRelayOptions) {
    super();
    const maxAgeMs = options.maxAgeMs ?? 500;
    this.keyframeIntervalMs = options.keyframeIntervalMs ?? 500;
    if (!(this.keyframeIntervalMs >= 0)) {
      throw new InvalidArgumentError("keyframeIntervalMs must be a number of ms, 0 or more");
    }
    this.stream = streams.create(options.stream, { delivery: "realtime", maxAgeMs });
    this.control = streams.create(controlOf(options.stream), {
      delivery: "reliable",
      bufferSize: 4,
      overflow: "drop-oldest",
    });
    if (options.fromClientStream !== undefined) {
      this.removers.push(
        streams.onClientStream(options.fromClientStream, (_clientId, chunk: unknown) => {
          void this.push(chunk).catch(() => undefined);
        }),
      );
    }
    this.removers.push(
      streams.onClientStream(keyframeRequestsOf(options.stream), () => this.requestKeyframe()),
      this.stream.onSubscribe(() => this.requestKeyframe()),
    );
  }

  /** Sends a chunk to every viewer; one that is not a VideoChunk is counted and dropped. */
  async push(chunk: unknown): Promise<number> {
    if (!isVideoChunk(chunk)) {
      this.malformed++;
      return 0;
    }
    return this.stream.push(chunk satisfies VideoChunk);
  }

  /** Asks the source for a keyframe: now, or when keyframeIntervalMs since the last has passed. */
  requestKeyframe(): void {
    if (this.pending) return;
    const wait = this.lastRequest + this.keyframeIntervalMs - performance.now();
    const send = () => {
      this.pending = undefined;
      this.lastRequest = performance.now();
      this.keyframeRequests++;
      this.emit("keyframeRequest");
      if (this.control.isActive) void this.control.push({ keyframe: true }).catch(() => undefined);
    };
    if (wait <= 0) send();
    else this.pending = setTimeout(send, wait);
  }

  async close(): Promise<void> {
    clearTimeout(this.pending);
    for (const remove of this.removers) remove();
    await this.stream.close();
    await this.control.close();
  }
}
