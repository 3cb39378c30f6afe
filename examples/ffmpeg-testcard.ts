// Real encoded video from Node: ffmpeg draws its test card and encodes it as VP8, and each
// frame goes to viewers through a VideoRelay (the Video page shows it: /video.html?stream=testcard).
// Needs ffmpeg: apt-get install ffmpeg (Debian), brew install ffmpeg (macOS).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import type { VideoRelay } from "conduit-rtc";

const WIDTH = 320;
const HEIGHT = 240;
const FPS = 30;
/** A running ffmpeg cannot be asked for a keyframe: it makes one every second instead. */
const KEYFRAME_EVERY = FPS;

/** Why ffmpeg cannot run here (with how to install it), or undefined when it can. */
export function ffmpegMissing(): string | undefined {
  try {
    execFileSync("ffmpeg", ["-version"], { stdio: "pipe" });
    return undefined;
  } catch {
    return "ffmpeg not found: apt-get install ffmpeg (Debian) or brew install ffmpeg (macOS)";
  }
}

/** ffmpeg's arguments for `frames` frames of its test card as VP8 in IVF on stdout (all of
 * them at once, or live at 30 fps with `live`). */
export function testcardArgs(frames: number | undefined, live: boolean): string[] {
  return [
    ...["-hide_banner", "-loglevel", "fatal", ...(live ? ["-re"] : [])],
    ...["-f", "lavfi", "-i", `testsrc2=size=${WIDTH}x${HEIGHT}:rate=${FPS}`],
    ...(frames === undefined ? [] : ["-frames:v", String(frames)]),
    ...["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "600k"],
    ...["-g", String(KEYFRAME_EVERY), "-f", "ivf", "pipe:1"],
  ];
}

/** The test card's frame `n` (from 1) as a VideoChunk. */
export function testcardChunk(n: number, data: Uint8Array, pts: number) {
  return {
    // VP8's frame tag: bit 0 of the first byte is 0 for a keyframe (RFC 6386 §9.1).
    key: ((data[0] as number) & 1) === 0,
    frame: n,
    timestamp: Math.round((pts * 1_000_000) / FPS),
    codec: "vp8",
    width: WIDTH,
    height: HEIGHT,
    data,
  };
}

/** Starts ffmpeg and pushes its frames to `relay` until the returned function stops it. */
export function startTestcard(relay: VideoRelay): () => void {
  const missing = ffmpegMissing();
  if (missing) throw new Error(missing);
  const ffmpeg: ChildProcess = spawn("ffmpeg", testcardArgs(undefined, true), {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let frame = 0;
  const reader = new IvfReader((data, pts) => void relay.push(testcardChunk(++frame, data, pts)));
  ffmpeg.stdout?.on("data", (bytes: Buffer) => reader.take(bytes));
  return () => {
    ffmpeg.kill("SIGTERM");
  };
}

/** Splits ffmpeg's IVF output into frames: a 32-byte file header, then per frame a 12-byte
 * header (size, u32 LE; timestamp, u64 LE) and the frame. */
export class IvfReader {
  private buffered = Buffer.alloc(0);
  private headerSeen = false;

  constructor(private readonly onFrame: (data: Uint8Array, pts: number) => void) {}

  take(bytes: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, bytes]);
    if (!this.headerSeen) {
      if (this.buffered.length < 32) return;
      this.buffered = this.buffered.subarray(32);
      this.headerSeen = true;
    }
    while (this.buffered.length >= 12) {
      const size = this.buffered.readUInt32LE(0);
      if (this.buffered.length < 12 + size) return;
      const pts = Number(this.buffered.readBigUInt64LE(4));
      this.onFrame(new Uint8Array(this.buffered.subarray(12, 12 + size)), pts);
      this.buffered = this.buffered.subarray(12 + size);
    }
  }
}
