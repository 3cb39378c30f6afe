// video-30fps: encoded video to a browser. ffmpeg's VP8 test card (320×240, a keyframe a
// second), encoded once before the run, is replayed at 30 fps through a VideoRelay in this
// process to headless Chromium at the far end of the impaired link, which decodes it with
// VideoReceiver. Per link profile: one-way latency p50/p99 (the subscription's own, push to
// arrival, over its last 256 messages), frames decoded per second, frames skipped after a loss.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ffmpegMissing,
  IvfReader,
  testcardArgs,
  testcardChunk,
} from "../examples/ffmpeg-testcard.js";
import { staticFiles } from "../examples/static-files.js";
import {
  Server,
  ServerDescriptor,
  StreamManager,
  type VideoChunk,
  VideoRelay,
} from "../src/index.js";
import { launchChromium } from "../test/helpers/browser.js";
import type { ImpairedLink } from "../test/helpers/impaired-link.js";
import type { Resources } from "../test/helpers/net.js";
import { createWrapper } from "../test/helpers/netns.js";

const FPS = 30;
const webFiles = staticFiles(new URL("../web/", import.meta.url));

export function videoUnavailable(): string | undefined {
  return ffmpegMissing();
}

export interface VideoResult {
  p50: number | undefined;
  p99: number | undefined;
  fps: number;
  skipped: number;
  sent: number;
}

/** `frames` frames of the test card, encoded. */
async function encodeTestcard(frames: number): Promise<VideoChunk[]> {
  const chunks: VideoChunk[] = [];
  const reader = new IvfReader((data, pts) =>
    chunks.push(testcardChunk(chunks.length + 1, data, pts)),
  );
  const ffmpeg = spawn("ffmpeg", testcardArgs(frames, false), {
    stdio: ["ignore", "pipe", "inherit"],
  });
  ffmpeg.stdout.on("data", (bytes: Buffer) => reader.take(bytes));
  const code = await new Promise((r) => ffmpeg.once("close", r));
  if (code !== 0) throw new Error(`ffmpeg exited with ${code}`);
  return chunks;
}

export async function videoRun(
  res: Resources,
  link: ImpairedLink,
  seconds: number,
): Promise<VideoResult> {
  const chunks = await encodeTestcard(seconds * FPS);
  const dir = mkdtempSync(join(tmpdir(), "conduit-bench-video-"));
  res.add(() => rmSync(dir, { recursive: true, force: true }));
  const browser = await launchChromium({ wrapper: (exe) => createWrapper(link.ns, exe, dir) });
  res.add(() => browser.close());
  const server = new Server(
    new ServerDescriptor({
      host: link.hostAddress,
      port: 0,
      password: "bench",
      iceBindAddress: link.hostAddress,
      httpHandler: webFiles,
    }),
  );
  const streams = new StreamManager();
  streams.registerServerHandlers(server);
  await server.run();
  res.add(() => server.stop());
  const relay = new VideoRelay(streams, { stream: "video" });
  relay.stream.onSubscribe(async () => {
    const start = performance.now();
    for (const [i, chunk] of chunks.entries()) {
      await relay.push(chunk);
      const due = start + ((i + 1) * 1000) / FPS;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    }
    await relay.close();
  });
  const page = await browser.newPage();
  // WebCodecs needs a secure context: the page is asked for at localhost, fetched from the server.
  await page.route(/^http:\/\/localhost:\d+\//, async (route) => {
    const real = new URL(route.request().url());
    real.hostname = link.hostAddress;
    await route.fulfill({ response: await route.fetch({ url: real.href }) });
  });
  await page.goto(`http://localhost:${server.port}/index.html`);
  const result = (await page.evaluate(`(async () => {
    const C = await import("/dist/conduit-rtc.js");
    const client = new C.Client(new C.ClientDescriptor({
      serverHost: ${JSON.stringify(link.hostAddress)}, serverPort: ${server.port}, password: "bench" }));
    const streams = new C.StreamManager();
    streams.registerClientHandlers(client);
    await client.connect();
    let first, last;
    const receiver = new C.VideoReceiver(streams, {
      stream: "video",
      onFrame: (frame) => { first ??= performance.now(); last = performance.now(); frame.close(); },
    });
    await receiver.done;
    const age = receiver.subscriptionStats.ageMs;
    await client.close();
    return { decoded: receiver.stats.framesDecoded, skipped: receiver.stats.framesSkipped,
      ms: last - first, p50: age?.p50, p99: age?.p99 };
  })()`)) as { decoded: number; skipped: number; ms: number; p50?: number; p99?: number };
  return {
    p50: result.p50,
    p99: result.p99,
    fps: result.ms > 0 ? (result.decoded * 1000) / result.ms : 0,
    skipped: result.skipped,
    sent: chunks.length,
  };
}
