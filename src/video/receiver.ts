// Browser (or any WebCodecs runtime): one realtime message per chunk → VideoDecoder → frames.
import { InvalidArgumentError } from "../core/errors.js";
import type { StreamManager } from "../streams/manager.js";
import type { Subscription } from "../streams/subscription.js";
import { isVideoChunk, keyframeRequestsOf, type VideoChunk } from "./chunk.js";

export interface VideoReceiverOptions {
  /** The stream a VideoRelay serves. */
  stream: string;
  /** Each decoded frame; close it once drawn. */
  onFrame: (frame: VideoFrame) => void;
  /** Keyframe requests closer together than this are not sent. @default 300 */
  keyframeRequestIntervalMs?: number | undefined;
}

export interface VideoReceiverStats {
  framesDecoded: number;
  keyframes: number;
  /** Chunks not decoded: a chunk before them was lost, so they would decode wrong. */
  framesSkipped: number;
  keyframeRequests: number;
  bytes: number;
  codec: string;
  width: number;
  height: number;
}

/**
 * Receives a VideoRelay's stream and decodes it. A lost chunk breaks the deltas after it: they
 * are skipped (counted) until the next keyframe, which is asked for at once, so the picture
 * stops for a moment rather than showing corruption.
 */
export class VideoReceiver {
  private decoder: VideoDecoder | undefined;
  private configured = "";
  private lastFrame: number | undefined;
  private waitingForKey = true;
  private lastRequestAt = Number.NEGATIVE_INFINITY;
  readonly stats: VideoReceiverStats = {
    framesDecoded: 0,
    keyframes: 0,
    framesSkipped: 0,
    keyframeRequests: 0,
    bytes: 0,
    codec: "",
    width: 0,
    height: 0,
  };
  /** Resolves when the stream ends; rejects if the subscription fails. */
  readonly done: Promise<void>;

  constructor(
    private readonly streams: StreamManager,
    private readonly options: VideoReceiverOptions,
  ) {
    if (typeof VideoDecoder === "undefined") {
      throw new InvalidArgumentError(
        "VideoReceiver needs WebCodecs (VideoDecoder): not in this runtime",
      );
    }
    this.subscription = streams.subscribe(options.stream, { wait: true });
    this.done = this.run();
    this.done.catch(() => undefined); // for whoever does not await it
  }

  private readonly subscription: Subscription;

  /** The subscription's own stats: ageMs (one-way latency), lost, expired. */
  get subscriptionStats(): Subscription["stats"] {
    return this.subscription.stats;
  }

  /** Asks the source for a keyframe (at most once per keyframeRequestIntervalMs). */
  requestKeyframe(): void {
    const now = performance.now();
    if (now - this.lastRequestAt < (this.options.keyframeRequestIntervalMs ?? 300)) return;
    this.lastRequestAt = now;
    this.stats.keyframeRequests++;
    void this.streams
      .pushToServer(keyframeRequestsOf(this.options.stream), {}, { delivery: "realtime" })
      .catch(() => undefined);
  }

  close(): void {
    this.subscription.close();
    if (this.decoder && this.decoder.state !== "closed") this.decoder.close();
  }

  private async run(): Promise<void> {
    for await (const message of this.subscription) {
      if (!isVideoChunk(message)) continue;
      try {
        this.take(message);
      } catch {
        this.restart(); // a codec or size this decoder refused
      }
    }
  }

  private take(chunk: VideoChunk): void {
    this.stats.bytes += chunk.data.byteLength;
    const gap = this.lastFrame !== undefined && chunk.frame !== this.lastFrame + 1;
    this.lastFrame = chunk.frame;
    if (chunk.key) this.waitingForKey = false;
    else if (gap || this.waitingForKey) {
      this.waitingForKey = true;
      this.stats.framesSkipped++;
      this.requestKeyframe();
      return;
    }
    const decoder = this.decoderFor(chunk);
    if (chunk.key) this.stats.keyframes++;
    decoder.decode(
      new EncodedVideoChunk({
        type: chunk.key ? "key" : "delta",
        timestamp: chunk.timestamp,
        data: chunk.data,
      }),
    );
  }

  /** A chunk could not be decoded: start again, with a new decoder, from the next keyframe. */
  private restart(): void {
    if (this.decoder && this.decoder.state !== "closed") this.decoder.close();
    this.decoder = undefined;
    this.configured = "";
    this.waitingForKey = true;
    this.requestKeyframe();
  }

  /** The decoder, configured for this chunk's codec and size (a keyframe may change them). */
  private decoderFor(chunk: VideoChunk): VideoDecoder {
    this.decoder ??= new VideoDecoder({
      output: (frame) => {
        this.stats.framesDecoded++;
        this.options.onFrame(frame);
      },
      error: () => this.restart(),
    });
    const config = `${chunk.codec} ${chunk.width}x${chunk.height}`;
    if (chunk.key && config !== this.configured) {
      this.decoder.configure({
        codec: chunk.codec,
        codedWidth: chunk.width,
        codedHeight: chunk.height,
        optimizeForLatency: true,
      });
      this.configured = config;
      this.stats.codec = chunk.codec;
      this.stats.width = chunk.width;
      this.stats.height = chunk.height;
    }
    return this.decoder;
  }
}
