// Chromium rows of the WAN matrix: headless Chromium at the far end of the impaired link,
// receiving 30 fps × 50 KB realtime frames from a server in this process, or pushing them to
// it as a client stream. Measured as the Node viewer measures (one-way, against the wall
// clock both processes share); the page loads conduit's browser bundle from the server.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { staticFiles } from "../examples/static-files.js";
import {
  type Delivery,
  type EngineName,
  Server,
  ServerDescriptor,
  StreamManager,
} from "../src/index.js";
import { launchChromium } from "../test/helpers/browser.js";
import type { ImpairedLink } from "../test/helpers/impaired-link.js";
import { FPS, type LossyRun } from "../test/helpers/lossy-stream.js";
import { pattern, type Resources } from "../test/helpers/net.js";
import { createWrapper } from "../test/helpers/netns.js";
import {
  adviceFrameBytes,
  type FrameMessage,
  sendFrames,
  summarize,
} from "../test/helpers/timed-frames.js";
import type { BulkRun, Run } from "./wan.js";

const FRAME_BYTES = 50_000;
/** The bulk rows' message size, as bulkConduit's. */
const BULK_MESSAGE_BYTES = 64_000;
const PASSWORD = "bench";
const webFiles = staticFiles(new URL("../web/", import.meta.url));
const BUNDLE = fileURLToPath(new URL("../web/dist/conduit-rtc.js", import.meta.url));

/** Teardown that may stall (seen: server.stop() with Chromium connected across the lossy
 * link, not yet understood) is given this long, so that the matrix goes on. */
const TEARDOWN_MS = 10_000;

async function within(closing: Promise<unknown>, what: string): Promise<void> {
  const stalled = delay(TEARDOWN_MS, "stalled", { ref: false });
  if ((await Promise.race([closing.then(() => "done"), stalled])) === "stalled") {
    console.error(`wan-browser: ${what} did not finish within ${TEARDOWN_MS} ms`);
  }
}

interface Arrivals {
  seen: number[];
  latencies: number[];
  bytes: number;
}

function asRun({ seen, latencies, bytes }: Arrivals): LossyRun {
  return {
    received: { ...summarize(seen, latencies, bytes), intact: true, seen, latencies },
    viewerExitCode: 0,
  };
}

async function setUp(res: Resources, link: ImpairedLink, engine: EngineName) {
  if (!existsSync(BUNDLE)) throw new Error(`no browser bundle at ${BUNDLE}: npm run build:web`);
  const dir = mkdtempSync(join(tmpdir(), "conduit-bench-chromium-"));
  res.add(() => rmSync(dir, { recursive: true, force: true }));
  const browser = await launchChromium({
    wrapper: (executable) => createWrapper(link.ns, executable, dir),
  });
  res.add(() => within(browser.close(), "browser.close()"));
  const server = new Server(
    new ServerDescriptor({
      host: link.hostAddress,
      port: 0,
      password: PASSWORD,
      engine,
      iceBindAddress: link.hostAddress,
      httpHandler: webFiles,
    }),
  );
  const streams = new StreamManager();
  streams.registerServerHandlers(server);
  await server.run();
  res.add(() => within(server.stop(), "server.stop()"));
  const page = await browser.newPage();
  await page.goto(`http://${link.hostAddress}:${server.port}/index.html`);
  // The page's client, kept on `window` for the evaluations that follow.
  await page.evaluate(`(async () => {
    const C = await import("/dist/conduit-rtc.js");
    const client = new C.Client(new C.ClientDescriptor({
      serverHost: location.hostname, serverPort: ${server.port}, password: "${PASSWORD}" }));
    window.streams = new C.StreamManager();
    window.streams.registerClientHandlers(client);
    await client.connect();
    window.client = client;
  })()`);
  return { server, streams, page };
}

/** Chromium subscribes; the server (on `engine`) pushes. */
export function chromiumReceives(
  engine: EngineName,
  delivery: Delivery,
  followAdvice = false,
): Run {
  return async (res, link, frames, loss, graceMs) => {
    const { server, streams, page } = await setUp(res, link, engine);
    // Reliable: a buffer for every frame, as the Node viewer's rows have.
    const stream = streams.create("frames", { delivery, bufferSize: frames });
    const subscribed = new Promise<void>((resolve) => stream.onSubscribe(() => resolve()));
    const deadlineMs = (frames / FPS) * 1000 + graceMs;
    const arrivals = page.evaluate(`(async () => {
      const seen = [], latencies = [];
      let bytes = 0;
      const sub = window.streams.subscribe("frames");
      setTimeout(() => sub.close(), ${deadlineMs});
      for await (const m of sub) {
        latencies.push(performance.timeOrigin + performance.now() - m.sentAt);
        seen.push(m.n);
        bytes += m.frame.byteLength;
      }
      // Closing has stalled here (see TEARDOWN_MS): the page does not wait on it for long.
      await Promise.race([window.client.close(), new Promise((r) => setTimeout(r, ${TEARDOWN_MS}))]);
      return { seen, latencies, bytes };
    })()`) as Promise<Arrivals>;
    await subscribed;
    link.setLoss(loss);
    try {
      const frameBytes = () =>
        followAdvice
          ? adviceFrameBytes(
              server.clientStats()[0]?.path?.capacityBytesPerSecond,
              FPS,
              FRAME_BYTES,
            )
          : FRAME_BYTES;
      await sendFrames(frames, FPS, frameBytes, (m) => stream.push(m));
      await stream.close();
      const result = await Promise.race([
        arrivals,
        delay(deadlineMs + 2 * TEARDOWN_MS, undefined, { ref: false }).then(() => {
          throw new Error("the page did not return its frames");
        }),
      ]);
      return asRun(result);
    } finally {
      link.setLoss(0);
    }
  };
}

/** Chromium pushes a client stream; the server (on `engine`) receives it. */
export function chromiumSends(engine: EngineName): Run {
  return async (res, link, frames, loss, graceMs) => {
    const { streams, page } = await setUp(res, link, engine);
    const arrivals: Arrivals = { seen: [], latencies: [], bytes: 0 };
    let lastArrived = () => {};
    const lastFrame = new Promise<void>((resolve) => {
      lastArrived = resolve;
    });
    streams.onClientStream("frames", (_clientId, data) => {
      const m = data as FrameMessage;
      arrivals.latencies.push(performance.timeOrigin + performance.now() - m.sentAt);
      arrivals.seen.push(m.n);
      arrivals.bytes += m.frame.byteLength;
      if (m.n === frames) lastArrived();
    });
    link.setLoss(loss);
    try {
      await page.evaluate(`(async () => {
        const start = performance.now();
        for (let n = 1; n <= ${frames}; n++) {
          const wait = start + (n - 1) * ${1000 / FPS} - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          const sentAt = performance.timeOrigin + performance.now();
          await window.streams.pushToServer("frames",
            { n, sentAt, frame: new Uint8Array(${FRAME_BYTES}) }, { delivery: "realtime" });
        }
      })()`);
      // What is in flight has the grace period to arrive (the last frame ends it sooner).
      await Promise.race([lastFrame, delay(graceMs, undefined, { ref: false })]);
      await within(page.evaluate("window.client.close()"), "the page's client.close()");
      return asRun(arrivals);
    } finally {
      link.setLoss(0);
    }
  };
}

/** Chromium subscribes to a reliable stream that the server (on `engine`) pushes 64 KB
 * messages into as fast as it takes them (overflow "wait"), for `durationMs`. */
export function chromiumBulk(engine: EngineName): BulkRun {
  return async (res, link, durationMs, loss) => {
    const { streams, page } = await setUp(res, link, engine);
    const stream = streams.create("bulk", { delivery: "reliable" });
    const subscribed = new Promise<void>((resolve) => stream.onSubscribe(() => resolve()));
    const received = page.evaluate(`(async () => {
      let bytes = 0, next = 1, inOrder = true;
      const sub = window.streams.subscribe("bulk");
      setTimeout(() => sub.close(), ${durationMs});
      for await (const m of sub) {
        if (m.n !== next++) inOrder = false;
        bytes += m.frame.byteLength;
      }
      await Promise.race([window.client.close(), new Promise((r) => setTimeout(r, ${TEARDOWN_MS}))]);
      return { bytes, inOrder };
    })()`) as Promise<{ bytes: number; inOrder: boolean }>;
    let ended = false;
    void received.finally(() => {
      ended = true;
    });
    await subscribed;
    link.setLoss(loss);
    try {
      const start = performance.now();
      // Until the page leaves (its deadline): that ends any wait for room. A push with no
      // subscriber left never waits, so the count is checked too: `ended` needs I/O to flip.
      for (let n = 1; !ended && stream.subscriberCount > 0; n++) {
        await stream.push({ n, frame: pattern(BULK_MESSAGE_BYTES, n) });
      }
      const seconds = (performance.now() - start) / 1000;
      const { bytes, inOrder } = await received;
      return { mbPerS: bytes / 1e6 / seconds, intact: inOrder };
    } finally {
      link.setLoss(0);
      await stream.close();
    }
  };
}
