// Browser (or any WebCodecs runtime): frames → VideoEncoder → one realtime message per chunk.
import type { Client } from "../client/client.js";
import { InvalidArgumentError } from "../core/errors.js";
import type { StreamManager } from "../streams/manager.js";
import { controlOf, type VideoChunk } from "./chunk.js";

export interface VideoSenderOptions {
  /** The client stream the server's VideoRelay takes chunks from. */
  clientStream: string;
  /** The stream the relay serves to viewers (its keyframe requests come back on it). */
  stream: string;
  width: number;
  height: number;
  /** Codecs to try, in order: the first this browser encodes is used. */
  codecs?: string[] | undefined;
  framerate?: number | undefined;
  /** Bits per second at most; the path's advice may lower it. @default 1_000_000 */
  maxBitrate?: number | undefined;
  /** @default 100_000 */
  minBitrate?: number | undefined;
  /** A keyframe at least this often, asked for or not. @default 5000 */
  keyframeIntervalMs?: number | undefined;
  /** How old a chunk may be when delivered. @default 500 */
  maxAgeMs?: number | undefined;
}

export interface VideoSenderStats {
  framesEncoded: number;
  keyframes: number;
  /** Keyframes made because a viewer (or the relay, for a new viewer) asked. */
  requestedKeyframes: number;
  /** Frames not encoded because the encoder was behind. */
  framesSkipped: number;
  /** The encoder's target now, bits per second. */
  bitrate: number;
  codec: string;
}

/** The path carries this share of its capacity as video; the rest is headroom for repair. */
const CAPACITY_SHARE = 0.7;
/** A new target within this fraction of the current one does not reconfigure the encoder. */
const BITRATE_STEP = 0.2;
const DEFAULT_CODECS = ["vp8", "avc1.42001f", "vp09.00.10.08"];

/**
 * Encodes frames with WebCodecs and pushes each chunk to the server, with a keyframe when
 * the relay asks for one (a viewer lost a chunk, or a new viewer came) and at least every
 * keyframeIntervalMs. The bitrate follows conduit's capacity advice for the path to the
 * server: on a slow or lossy path the picture gets softer, not late.
 */
export class VideoSender {
  private encoder: VideoEncoder | undefined;
  private config: VideoEncoderConfig | undefined;
  private frame = 0;
  private lastKeyAt = Number.NEGATIVE_INFINITY;
  /** A viewer asked for a keyframe (through the relay). */
  private keyRequested = false;
  /** The encoder was reconfigured: its next frame must be a keyframe. */
  private keyNeeded = false;
  /** Keyframes on their way out of the encoder that were asked for, in order. */
  private readonly askedKeys: boolean[] = [];
  private closed = false;
  private readonly removers: (() => void)[] = [];
  readonly stats: VideoSenderStats;

  private constructor(
    private readonly client: Client,
    private readonly streams: StreamManager,
    private readonly options: VideoSenderOptions,
  ) {
    this.stats = {
      framesEncoded: 0,
      keyframes: 0,
      requestedKeyframes: 0,
      framesSkipped: 0,
      bitrate: options.maxBitrate ?? 1_000_000,
      codec: "",
    };
  }

  /** Finds a codec this runtime encodes, and starts listening for keyframe requests. */
  static async start(
    client: Client,
    streams: StreamManager,
    options: VideoSenderOptions,
  ): Promise<VideoSender> {
    if (typeof VideoEncoder === "undefined") {
      throw new InvalidArgumentError(
        "VideoSender needs WebCodecs (VideoEncoder): not in this runtime",
      );
    }
    const sender = new VideoSender(client, streams, options);
    await sender.configure(sender.stats.bitrate);
    sender.listen();
    return sender;
  }

  /** Encodes `frame` (and closes it). Skipped while the encoder is behind: a late frame is
   * worth less than the next one. */
  encode(frame: VideoFrame): void {
    const encoder = this.encoder;
    if (this.closed || !encoder || encoder.state !== "configured" || encoder.encodeQueueSize > 2) {
      this.stats.framesSkipped++;
      frame.close();
      return;
    }
    const now = performance.now();
    const scheduled = now - this.lastKeyAt >= (this.options.keyframeIntervalMs ?? 5000);
    const keyFrame = this.keyRequested || this.keyNeeded || scheduled;
    if (keyFrame) {
      const asked = this.keyRequested && !scheduled;
      if (asked) this.stats.requestedKeyframes++;
      this.askedKeys.push(asked);
      this.keyRequested = false;
      this.keyNeeded = false;
      this.lastKeyAt = now;
    }
    encoder.encode(frame, { keyFrame });
    frame.close();
  }

  /** The next frame is encoded as a keyframe. */
  requestKeyframe(): void {
    this.keyRequested = true;
  }

  close(): void {
    this.closed = true;
    for (const remove of this.removers) remove();
    if (this.encoder && this.encoder.state !== "closed") this.encoder.close();
  }

  private async configure(bitrate: number): Promise<void> {
    const { width, height, framerate = 30 } = this.options;
    let chosen: VideoEncoderConfig | undefined = this.config && { ...this.config, bitrate };
    for (const codec of chosen ? [] : (this.options.codecs ?? DEFAULT_CODECS)) {
      const candidate: VideoEncoderConfig = {
        codec,
        width,
        height,
        bitrate,
        framerate,
        latencyMode: "realtime",
        ...(codec.startsWith("avc1") ? { avc: { format: "annexb" as const } } : {}),
      };
      if ((await VideoEncoder.isConfigSupported(candidate)).supported) {
        chosen = candidate;
        break;
      }
    }
    if (!chosen) throw new InvalidArgumentError("no codec this browser can encode was offered");
    this.encoder ??= new VideoEncoder({
      output: (chunk) => this.send(chunk),
      error: (err) => console.error("conduit VideoSender: encoder failed:", err),
    });
    this.encoder.configure(chosen);
    this.config = chosen;
    this.stats.bitrate = bitrate;
    this.stats.codec = chosen.codec;
    // After a reconfigure, the next frame starts a new sequence.
    this.keyNeeded = true;
  }

  private listen(): void {
    const control = this.streams.subscribe(controlOf(this.options.stream), { wait: true });
    this.removers.push(() => control.close());
    void (async () => {
      for await (const _request of control) this.requestKeyframe();
    })().catch(() => undefined);
    this.removers.push(
      this.client.on("path", ({ capacityBytesPerSecond }) => {
        if (capacityBytesPerSecond === undefined || !this.config) return;
        const max = this.options.maxBitrate ?? 1_000_000;
        const min = this.options.minBitrate ?? 100_000;
        const target = Math.max(min, Math.min(max, capacityBytesPerSecond * 8 * CAPACITY_SHARE));
        if (Math.abs(target - this.stats.bitrate) / this.stats.bitrate < BITRATE_STEP) return;
        void this.configure(Math.round(target));
      }),
    );
  }

  private send(chunk: EncodedVideoChunk): void {
    if (this.closed || !this.config) return;
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    const key = chunk.type === "key";
    const requested = key && (this.askedKeys.shift() ?? false);
    this.stats.framesEncoded++;
    if (key) this.stats.keyframes++;
    const message: VideoChunk = {
      key,
      frame: ++this.frame,
      timestamp: chunk.timestamp,
      codec: this.config.codec,
      width: this.config.width,
      height: this.config.height,
      data,
      ...(requested ? { requested } : {}),
    };
    void this.streams
      .pushToServer(this.options.clientStream, message, {
        delivery: "realtime",
        maxAgeMs: this.options.maxAgeMs ?? 500,
      })
      .catch(() => undefined);
  }
}
