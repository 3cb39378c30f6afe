// The browser client in real Chromium (in a network namespace the test creates), against
// real servers: streams both ways, the demo pages, wrong passwords, closed tabs.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { staticFiles } from "../../examples/static-files.js";
import {
  type ClientOptions,
  type ConnectTimings,
  Server,
  ServerDescriptor,
  type ServerOptions,
  StreamManager,
  VideoRelay,
} from "../../src/index.js";
import { launchChromium } from "../helpers/browser.js";
import { createImpairedLink, type ImpairedLink } from "../helpers/impaired-link.js";
import { PASSWORD, PATTERN_BYTE_JS, pattern, Resources, until } from "../helpers/net.js";
import { createNamespace, createWrapper, type Namespace } from "../helpers/netns.js";
import { lineMatching, runTs } from "../helpers/process.js";
import { numberedPusher } from "../helpers/resume-run.js";
import { requireSystem } from "../helpers/system.js";

const res = new Resources();
let ns: Namespace;
let browser: Browser;

beforeAll(async () => {
  ns = createNamespace();
  browser = await launchChromium(ns);
});
afterAll(async () => {
  await browser?.close();
  ns?.close();
});
afterEach(() => res.closeAll());

/** Third-party browser libraries, served from their npm packages' own prebuilt files. */
const VENDOR: Record<string, string> = {
  "/vendor/simplepeer.min.js": "simple-peer/simplepeer.min.js",
  "/vendor/socket.io.min.js": "socket.io-client/dist/socket.io.min.js",
  "/vendor/msgpack.min.js": "@msgpack/msgpack/dist.umd/msgpack.min.js",
};
const webFiles = staticFiles(new URL("../../web/", import.meta.url));
const vendorFiles = staticFiles(new URL("../../node_modules/", import.meta.url));
function testPages(req: IncomingMessage, res: ServerResponse): void {
  const vendor = VENDOR[req.url ?? ""];
  if (vendor) {
    req.url = `/${vendor}`;
    vendorFiles(req, res);
  } else webFiles(req, res);
}

async function startServer(
  host = ns.hostAddress,
  options: ServerOptions = {},
): Promise<{ server: Server; streams: StreamManager; url: string }> {
  const server = new Server(
    new ServerDescriptor({
      host,
      port: 0,
      password: PASSWORD,
      iceBindAddress: host,
      httpHandler: testPages,
      ...options,
    }),
  );
  const streams = new StreamManager();
  streams.registerServerHandlers(server);
  await server.run();
  res.add(() => server.stop());
  return { server, streams, url: `http://${host}:${server.port}` };
}

/** Each page's console errors since it opened (a 404 for a favicon is one). */
const consoleErrorsOf = new WeakMap<Page, string[]>();
const consoleErrors = (page: Page) => consoleErrorsOf.get(page) ?? [];

async function openPage(
  url: string,
  inBrowser: { newPage(): Promise<Page> } = browser,
  serverAddress = ns.hostAddress,
): Promise<Page> {
  const page = await inBrowser.newPage();
  res.add(() => page.close());
  const errors: string[] = [];
  consoleErrorsOf.set(page, errors);
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  // WebCodecs and the camera need a secure context: a page asked for at http://localhost is
  // one. Chromium's localhost is not the server's address in the namespace, so such pages are
  // fetched from the server here (the page then connects to the server by its own address).
  await page.route(/^http:\/\/localhost:\d+\//, async (route) => {
    const real = new URL(route.request().url());
    real.hostname = serverAddress;
    await route.fulfill({ response: await route.fetch({ url: real.href }) });
  });
  page.on("pageerror", (err) => {
    console.error("page error:", err.message);
    errors.push(err.message);
  });
  if (process.env.PAGE_CONSOLE) page.on("console", (m) => console.log("page:", m.text()));
  await page.goto(url);
  return page;
}

/** In-page code that connects with the browser bundle; `body` runs with `client` and `streams`. */
function inPage(port: number, password: string, body: string, options: ClientOptions = {}): string {
  const descriptor = { serverPort: port, password, ...options };
  return `(async () => {
    if (${JSON.stringify(!!process.env.PAGE_CONSOLE)}) localStorage.debug = "conduit:*";
    const C = await import("/dist/conduit-rtc.js");
    const client = new C.Client(new C.ClientDescriptor({ serverHost: location.hostname, ...${JSON.stringify(descriptor)} }));
    const streams = new C.StreamManager();
    streams.registerClientHandlers(client);
    await client.connect();
    window.__client = client;
    ${body}
  })()`;
}

/** Frame n of the test pattern (pages check it with PATTERN_BYTE_JS). */
const frame = (n: number, size = 100_000) => pattern(size, n);

describe("browser client in Chromium", () => {
  it.each(["reliable", "realtime"] as const)(
    "subscribes to 30 fps 100 KB frames and receives them intact (%s)",
    async (delivery) => {
      const { server, streams, url } = await startServer();
      const stream = streams.create("frames", { delivery, bufferSize: 60 });
      const page = await openPage(`${url}/index.html`);
      const FRAMES = 60;
      stream.onSubscribe(() => {
        let n = 0;
        const timer = setInterval(() => {
          n++;
          void stream.push({ n, frame: frame(n) });
          if (n === FRAMES) clearInterval(timer);
        }, 1000 / 30);
        res.add(() => clearInterval(timer));
      });
      const result = (await page.evaluate(
        inPage(
          server.port,
          PASSWORD,
          `const pattern = ${PATTERN_BYTE_JS};
           const seen = []; let bad = 0;
           for await (const m of streams.subscribe("frames")) {
             if (m.frame.byteLength !== 100000) bad++;
             else for (let i = 0; i < m.frame.length; i += 1) if (m.frame[i] !== pattern(m.n, i)) { bad++; break; }
             seen.push(m.n);
             if (m.n === ${FRAMES}) break;
           }
           return { seen, bad, timings: client.connectStats() };`,
        ),
      )) as { seen: number[]; bad: number; timings: ConnectTimings };
      expect(result.bad).toBe(0);
      // The page's offer rode in the handshake (this server has no TURN to hand out first).
      expect(result.timings).toMatchObject({ link: "webrtc", offerInHandshake: true });
      if (delivery === "reliable") {
        expect(result.seen).toEqual(Array.from({ length: FRAMES }, (_, i) => i + 1));
      } else {
        expect(result.seen.length).toBeGreaterThan(0);
        expect([...result.seen].sort((a, b) => a - b)).toEqual(result.seen); // stale ones dropped
      }
    },
  );

  it("pushes frames and metrics to server handlers", async () => {
    const { server, streams, url } = await startServer();
    const page = await openPage(`${url}/index.html`);
    const frames: { clientId: string; n: number; ok: boolean }[] = [];
    const metrics = new Promise<[string, unknown]>((resolve) =>
      streams.onClientStream("browser_metrics", (id, data) => resolve([id, data])),
    );
    const allFrames = new Promise<void>((resolve) =>
      streams.onClientStream("video_frames", (clientId, data: { n: number; frame: Uint8Array }) => {
        const expected = frame(data.n);
        frames.push({
          clientId,
          n: data.n,
          ok: Buffer.compare(Buffer.from(data.frame), Buffer.from(expected)) === 0,
        });
        if (frames.length === 30) resolve();
      }),
    );
    const clientId = (await page.evaluate(
      inPage(
        server.port,
        PASSWORD,
        `const pattern = ${PATTERN_BYTE_JS};
         for (let n = 1; n <= 30; n++) {
           const f = new Uint8Array(100000);
           for (let i = 0; i < f.length; i++) f[i] = pattern(n, i);
           await streams.pushToServer("video_frames", { n, frame: f }, { delivery: "reliable" });
           await new Promise((r) => setTimeout(r, 1000 / 30));
         }
         await streams.pushToServer("browser_metrics", { fps: 30, heap: 1 }, { delivery: "reliable" });
         return client.id;`,
      ),
    )) as string;
    await allFrames;
    expect(frames.every((f) => f.ok && f.clientId === clientId)).toBe(true);
    expect(frames.map((f) => f.n)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(await metrics).toEqual([clientId, { fps: 30, heap: 1 }]);
  });

  it("closing the page frees the server-side peer", async () => {
    const { server, streams, url } = await startServer();
    const stream = streams.create("s");
    const page = await openPage(`${url}/index.html`);
    const subscribed = new Promise<string>((r) => stream.onSubscribe(r));
    await page.evaluate(
      inPage(server.port, PASSWORD, `window.__sub = streams.subscribe("s"); window.__sub.next();`),
    );
    const id = await subscribed;
    expect(server.clientCount).toBe(1);
    const gone = new Promise<string>((r) => server.on("clientDisconnected", r));
    const unsubscribed = new Promise<string>((r) => stream.onUnsubscribe(r));
    await page.close();
    expect(await gone).toBe(id);
    expect(await unsubscribed).toBe(id);
    expect(server.clientCount).toBe(0);
  });
});

/** Chromium in the far namespace of `link`; both are closed with the test's resources. */
async function chromiumBehind(link: ImpairedLink) {
  res.add(() => link.close().then(() => undefined));
  const dir = mkdtempSync(join(tmpdir(), "conduit-chromium-"));
  res.add(() => rmSync(dir, { recursive: true, force: true }));
  const browser = await launchChromium({
    wrapper: (executable) => createWrapper(link.ns, executable, dir),
  });
  res.add(() => browser.close());
  return browser;
}
describe("browser link restart", () => {
  it("Chromium: UDP blocked mid-stream, then back: a new link in the same session, nothing lost", async () => {
    const link = await createImpairedLink({ delayMs: 1, loss: 0 });
    const behindLink = await chromiumBehind(link);
    const { server, streams, url } = await startServer(link.hostAddress, { linkTimeoutMs: 1000 });
    const sessions: string[] = [];
    server.on("clientConnected", (id) => sessions.push(`connected ${id}`));
    server.on("clientDisconnected", (id) => sessions.push(`disconnected ${id}`));
    const stream = streams.create("frames", { delivery: "reliable", bufferSize: 600 });
    const page = await openPage(`${url}/index.html`, behindLink);
    const received = page.evaluate(
      inPage(
        server.port,
        PASSWORD,
        `window.__statuses = [];
         client.on("status", (s) => window.__statuses.push(s.state));
         const seqs = [];
         const sub = streams.subscribe("frames");
         for await (const m of sub) seqs.push(m.n);
         return { seqs, lost: sub.stats.lost, id: client.id };`,
        { connectTimeoutMs: 2000, fallbackAfterMs: false, reconnect: { initialDelayMs: 100 } },
      ),
    ) as Promise<{ seqs: number[]; lost: number; id: string }>;
    await until(() => stream.subscriberCount === 1, "the page subscribed", 20_000);
    const statuses = () => page.evaluate("window.__statuses") as Promise<string[]>;

    const pusher = numberedPusher(stream);
    await pusher.pushFor(500);
    link.blockUdp(true);
    const noticedAfter = await pusher.pushUntil(
      async () => (await statuses()).includes("reconnecting"),
      "link failure noticed",
    );
    link.blockUdp(false);
    const backAfter = await pusher.pushUntil(
      async () => (await statuses()).includes("connected"),
      "link restarted",
    );
    await pusher.pushFor(500);
    const during = [...sessions];
    await stream.close();
    const { seqs, lost, id } = await received;
    console.log(
      `Chromium link restart: noticed ${Math.round(noticedAfter)} ms after UDP was blocked ` +
        `(linkTimeoutMs 1000), back ${Math.round(backAfter)} ms after it was unblocked; ` +
        `statuses ${(await statuses()).join(" → ")}; ` +
        `${seqs.length}/${pusher.sent()} frames`,
    );
    // Restart attempts made while UDP was still blocked may fail first.
    const seen = await statuses();
    expect(new Set(seen)).toEqual(new Set(["reconnecting", "connected"]));
    expect(seen.at(-1)).toBe("connected");
    expect(during).toEqual([`connected ${id}`]);
    expect(seqs).toEqual(Array.from({ length: pusher.sent() }, (_, i) => i + 1));
    expect(lost).toBe(0);
  });
});

describe("browser on a lossy link", () => {
  it("Chromium rebuilds realtime frames that lost packets from their repair pieces", async () => {
    const link = await createImpairedLink({ delayMs: 5, loss: 0, seed: 3 });
    const behindLink = await chromiumBehind(link);
    const { server, streams, url } = await startServer(link.hostAddress);
    const stream = streams.create("frames", { maxAgeMs: 5000, bufferSize: 300 });
    const page = await openPage(`${url}/index.html`, behindLink);
    const received = page.evaluate(
      inPage(
        server.port,
        PASSWORD,
        `const pattern = ${PATTERN_BYTE_JS};
         let intact = 0, broken = 0;
         window.__rebuilt = () => window.__client.linkStats()?.lanes.realtime.messagesRebuilt ?? 0;
         const sub = streams.subscribe("frames");
         for await (const m of sub) {
           if (m.frame.every((b, i) => b === pattern(m.n, i))) intact++; else broken++;
         }
         return { intact, broken, rebuilt: window.__rebuilt() };`,
      ),
    ) as Promise<{ intact: number; broken: number; rebuilt: number }>;
    await until(() => stream.subscriberCount === 1, "the page subscribed", 20_000);
    let n = 0;
    const push = async (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        await stream.push({ n: ++n, frame: frame(n, 20_000) });
        await new Promise((r) => setTimeout(r, 1000 / 30));
      }
    };
    // 3 % of packets lost each way: the server sees it in the page's reports and adds repair.
    link.setLoss(0.03);
    const rebuilt = () => page.evaluate("window.__rebuilt?.() ?? 0") as Promise<number>;
    const start = performance.now();
    while ((await rebuilt()) < 5) {
      await push(200);
      if (performance.now() - start > 20_000) throw new Error("no frame rebuilt in 20 s");
    }
    link.setLoss(0);
    await stream.close();
    const result = await received;
    console.log(`Chromium on a 3 % lossy link: ${JSON.stringify(result)} of ${n} frames`);
    expect(result.rebuilt).toBeGreaterThanOrEqual(5);
    expect(result.broken).toBe(0);
    expect(result.intact).toBeGreaterThan(0);
  });
});

describe("demo pages", () => {
  async function startDemo(): Promise<string> {
    const demo = runTs(res, "examples/demo-server.ts", { HOST: ns.hostAddress, PORT: "0" });
    const [, port] = await lineMatching(demo, /demo: http:\/\/localhost:(\d+)\//);
    return `http://${ns.hostAddress}:${port}`;
  }

  /** The demo page at `path`, asked for at localhost (a secure context: WebCodecs). */
  function secure(url: string, path: string): string {
    const { port } = new URL(url);
    const sep = path.includes("?") ? "&" : "?";
    return `http://localhost:${port}${path}${sep}server=${ns.hostAddress}:${port}`;
  }

  async function login(page: Page, password: string): Promise<void> {
    await page.waitForSelector("#login:not([hidden])");
    await page.fill("#password", password);
    await page.click("#login button");
  }

  it("Dashboard: metrics charts and the stream table fill in live (screenshot)", async () => {
    const url = await startDemo();
    const page = await openPage(`${url}/dashboard.html`);
    await login(page, "secret");
    await page.waitForFunction(() => Number(document.body.dataset.samples ?? 0) >= 2, undefined, {
      timeout: 15_000,
    });
    await page.waitForSelector('tr[data-stream="system_metrics"]');
    const row = await page.textContent('tr[data-stream="system_metrics"]');
    expect(row).toMatch(/system_metrics\s*server → clients\s*realtime\s*1/);
    // Every client by a readable name, with its transport; client streams too.
    await page.waitForSelector("tr[data-client]");
    expect(await page.textContent("#clients")).toMatch(/[a-z]+ [a-z]+ \(this page\).*WebRTC/);
    expect(await page.locator(".uplot").count()).toBe(2);
    expect(await page.textContent("#cpu-value")).toMatch(/^[\d.]+$/);
    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: "test-results/dashboard.png", fullPage: true });
    expect(consoleErrors(page)).toEqual([]);
  });

  it("a wrong password shows a clear message", async () => {
    const url = await startDemo();
    const page = await openPage(`${url}/dashboard.html`);
    await login(page, "not-the-password");
    await page.waitForSelector("#status.error");
    expect(await page.textContent("#status")).toMatch(/Wrong password/);
    expect(await page.isVisible("#login")).toBe(true);
  });

  it("Frames: 30 fps frames are drawn with fps and latency shown", async () => {
    const url = await startDemo();
    const page = await openPage(`${url}/frames.html`);
    await login(page, "secret");
    await page.waitForFunction(
      () => Number(document.getElementById("count")?.textContent) >= 30,
      undefined,
      { timeout: 15_000 },
    );
    await page.waitForFunction(() =>
      /^\d+$/.test(document.getElementById("fps")?.textContent ?? ""),
    );
    expect(Number(await page.textContent("#fps"))).toBeGreaterThan(0);
    expect(await page.textContent("#latency")).toMatch(/^[\d.]+$/);
  });

  /** Waits until the Video page has decoded `frames` frames. */
  async function decodedOn(page: Page, frames: number): Promise<void> {
    await page.waitForFunction((n) => Number(document.body.dataset.decoded ?? 0) >= n, frames, {
      timeout: 20_000,
    });
  }

  it("Upload and Video: encoded in one browser, decoded in another, figures shown (screenshots)", async () => {
    const url = await startDemo();
    const upload = await openPage(secure(url, "/upload.html?nocamera"));
    await login(upload, "secret");
    await upload.waitForFunction(
      () => Number(document.getElementById("server-fps")?.textContent) > 0,
      undefined,
      { timeout: 15_000 },
    );
    expect(await upload.textContent("#source")).toBe("canvas animation");
    expect(await upload.textContent("#codec")).not.toBe("–");
    const context = await browser.newContext();
    res.add(() => context.close());
    const video = await openPage(secure(url, "/video.html"), context);
    await login(video, "secret");
    await decodedOn(video, 60);
    expect(await video.textContent("#fps")).toMatch(/^\d+$/);
    expect(await video.textContent("#latency")).toMatch(/^\d+ \/ \d+ ms$/);
    expect(await video.textContent("#transport")).toMatch(/WebRTC data channels/);
    // The dashboard has the video stream's age as its viewer reports it, and both clients.
    const dashboard = await openPage(secure(url, "/dashboard.html"));
    await login(dashboard, "secret");
    await dashboard.waitForFunction(
      () => /\d+ ms$/.test(document.querySelector('tr[data-stream="video"]')?.textContent ?? ""),
      undefined,
      { timeout: 15_000 },
    );
    expect(await dashboard.locator("tr[data-client]").count()).toBe(3);
    await dashboard.waitForFunction(() => Number(document.body.dataset.samples ?? 0) >= 4);
    mkdirSync("test-results", { recursive: true });
    await dashboard.screenshot({ path: "test-results/dashboard-video.png", fullPage: true });
    await video.screenshot({ path: "test-results/video.png", fullPage: true });
    await upload.screenshot({ path: "test-results/upload.png", fullPage: true });
    expect([
      ...consoleErrors(upload),
      ...consoleErrors(video),
      ...consoleErrors(dashboard),
    ]).toEqual([]);
  });

  it("Video: ffmpeg's test card, encoded in Node, decoded in the browser", async () => {
    requireSystem("the ffmpeg video test", { tools: ["ffmpeg"] });
    const url = await startDemo();
    const video = await openPage(secure(url, "/video.html?stream=testcard"), browser);
    await login(video, "secret");
    await decodedOn(video, 30);
    expect(await video.textContent("#codec")).toMatch(/^vp8 320×240$/);
  });

  it("a page opened over plain http at another address says video needs a secure context", async () => {
    const url = await startDemo();
    const page = await openPage(`${url}/video.html`);
    await page.waitForSelector("#status.error");
    expect(await page.textContent("#status")).toMatch(/secure context/);
  });
});

describe("encoded video (WebCodecs)", () => {
  /** In-page: a VideoSender encoding an animated canvas at 30 fps, its scheduled keyframes a
   * minute apart (so every other keyframe is one somebody asked for), at a fixed bitrate. */
  const sendVideo = (minBitrate = 500_000, maxBitrate = 500_000) => `
    const canvas = new OffscreenCanvas(320, 240);
    const ctx = canvas.getContext("2d");
    const sender = await C.VideoSender.start(client, streams, {
      clientStream: "camera_in", stream: "camera", width: 320, height: 240,
      keyframeIntervalMs: 60000, minBitrate: ${minBitrate}, maxBitrate: ${maxBitrate},
    });
    window.__sender = sender;
    let n = 0;
    setInterval(() => {
      n++;
      ctx.fillStyle = "hsl(" + ((n * 3) % 360) + " 60% 45%)";
      ctx.fillRect(0, 0, 320, 240);
      ctx.fillStyle = "#fff";
      ctx.fillRect((n * 4) % 280, 100, 40, 40);
      sender.encode(new VideoFrame(canvas, { timestamp: n * 33333 }));
    }, 1000 / 30);`;

  /** In-page: a VideoReceiver drawing to a canvas; window.__video says what it decoded. */
  const receiveVideo = `
    const canvas = new OffscreenCanvas(320, 240);
    const ctx = canvas.getContext("2d");
    const receiver = new C.VideoReceiver(streams, {
      stream: "camera",
      onFrame: (frame) => { ctx.drawImage(frame, 0, 0); frame.close(); },
    });
    window.__video = { receiver, colours: () => {
      const { data } = ctx.getImageData(0, 0, 320, 240);
      const seen = new Set();
      for (let i = 0; i < data.length; i += 4 * 97) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      return seen.size;
    } };`;

  async function videoPages() {
    const { server, streams } = await startServer();
    const relay = new VideoRelay(streams, { stream: "camera", fromClientStream: "camera_in" });
    res.add(() => relay.close());
    // At localhost (a secure context, for WebCodecs), connecting to the server's address.
    const page = `http://localhost:${server.port}/index.html`;
    const at = { serverHost: ns.hostAddress };
    const source = await openPage(page);
    await source.evaluate(inPage(server.port, PASSWORD, sendVideo(), at));
    // Another browser context: its own connection, as another person's browser would be.
    const context = await browser.newContext();
    res.add(() => context.close());
    const viewer = await openPage(page, context);
    await viewer.evaluate(inPage(server.port, PASSWORD, receiveVideo, at));
    const decoded = () =>
      viewer.evaluate(
        () =>
          (window as never as { __video: { receiver: { stats: { framesDecoded: number } } } })
            .__video.receiver.stats.framesDecoded,
      );
    return { relay, source, viewer, decoded };
  }

  it("a page's encoded video is decoded in another browser: a real picture, not a blank", async () => {
    const { viewer, source } = await videoPages();
    // The source's scheduled keyframes are a minute apart: the viewer decodes at once only
    // because the relay asked for a keyframe when it subscribed.
    await viewer.waitForFunction(
      () =>
        (window as never as { __video: { receiver: { stats: { framesDecoded: number } } } }).__video
          .receiver.stats.framesDecoded >= 30,
      undefined,
      { timeout: 20_000 },
    );
    const colours = await viewer.evaluate(() =>
      (window as never as { __video: { colours(): number } }).__video.colours(),
    );
    expect(colours).toBeGreaterThan(1);
    const sent = await source.evaluate(
      () =>
        (window as never as { __sender: { stats: { codec: string; requestedKeyframes: number } } })
          .__sender.stats,
    );
    expect(sent.codec).not.toBe("");
    expect(sent.requestedKeyframes).toBeGreaterThanOrEqual(1);
  });

  it("the encoder's bitrate follows what the path to the server carries", {
    timeout: 60_000,
  }, async () => {
    const link = await createImpairedLink({ delayMs: 25, loss: 0 });
    const behindLink = await chromiumBehind(link);
    const { server, streams } = await startServer(link.hostAddress);
    const relay = new VideoRelay(streams, { stream: "camera", fromClientStream: "camera_in" });
    res.add(() => relay.close());
    const page = await openPage(
      `http://localhost:${server.port}/index.html`,
      behindLink,
      link.hostAddress,
    );
    // Allowed far more than the path carries: only the advice can bring it down.
    const MAX = 50_000_000;
    await page.evaluate(
      inPage(server.port, PASSWORD, sendVideo(100_000, MAX), { serverHost: link.hostAddress }),
    );
    // A 40 kB/s (320 kbit/s) bottleneck that also loses 1 %: the encoder makes more than it
    // carries, the queue builds, and conduit's pacer finds the rate.
    link.setRate(40_000);
    link.setLoss(0.01);
    const sender = () =>
      page.evaluate(() => {
        const w = window as never as {
          __sender: { stats: { bitrate: number } };
          __client: { linkStats(): { path?: { capacityBytesPerSecond?: number } } | undefined };
        };
        return {
          bitrate: w.__sender.stats.bitrate,
          capacity: w.__client.linkStats()?.path?.capacityBytesPerSecond,
        };
      });
    await until(async () => (await sender()).bitrate < MAX, "the bitrate lowered", 20_000);
    const { bitrate, capacity } = await sender();
    console.log(`video: encoder at ${bitrate} bit/s for a path capacity of ${capacity} B/s`);
    expect(capacity).toBeDefined();
  });

  it("a viewer that loses a chunk skips to a keyframe it asks for, and decodes on", async () => {
    const { relay, viewer, decoded } = await videoPages();
    await viewer.waitForFunction(
      () =>
        (window as never as { __video: { receiver: { stats: { framesDecoded: number } } } }).__video
          .receiver.stats.framesDecoded >= 10,
      undefined,
      { timeout: 20_000 },
    );
    const keyframesBefore = await viewer.evaluate(
      () =>
        (window as never as { __video: { receiver: { stats: { keyframes: number } } } }).__video
          .receiver.stats.keyframes,
    );
    const requestsBefore = relay.keyframeRequests;
    // A gap: a delta numbered far ahead, as if the chunks between were lost.
    await relay.push({
      key: false,
      frame: 1_000_000,
      timestamp: 0,
      codec: "vp8",
      width: 320,
      height: 240,
      data: new Uint8Array(10),
    });
    const gapAt = Date.now();
    await until(() => relay.keyframeRequests > requestsBefore, "the viewer's keyframe request");
    const before = await decoded();
    await viewer.waitForFunction(
      (k) =>
        (window as never as { __video: { receiver: { stats: { keyframes: number } } } }).__video
          .receiver.stats.keyframes > k,
      keyframesBefore,
      { timeout: 20_000 },
    );
    console.log(`video: decoding again ${Date.now() - gapAt} ms after a forced gap`);
    const stats = await viewer.evaluate(
      () =>
        (window as never as { __video: { receiver: { stats: Record<string, number> } } }).__video
          .receiver.stats,
    );
    expect(stats.framesSkipped).toBeGreaterThanOrEqual(1);
    expect(stats.keyframeRequests).toBeGreaterThanOrEqual(1);
    await until(async () => (await decoded()) > before + 10, "frames decoded after the keyframe");
  });
});

describe("interop: a client nobody here wrote", () => {
  // simple-peer for WebRTC, socket.io-client for signaling, @msgpack/msgpack for bodies:
  // written from docs/PROTOCOL.md alone, with none of conduit's code.
  const interopClient = (password: string) => `(async () => {
    for (const src of ["/vendor/socket.io.min.js", "/vendor/simplepeer.min.js", "/vendor/msgpack.min.js"]) {
      await new Promise((resolve, reject) => {
        const s = document.createElement("script");
        s.src = src; s.onload = resolve; s.onerror = reject;
        document.head.append(s);
      });
    }
    const socket = io(location.origin, { auth: { password: ${JSON.stringify(password)} }, transports: ["websocket"] });
    await new Promise((resolve, reject) => { socket.once("connect", resolve); socket.once("connect_error", reject); });
    const ask = (event, payload) => socket.timeout(5000).emitWithAck(event, payload);
    const hello = await ask("hello", { protocol: 1 });
    const keepalive = new Uint8Array(20);
    keepalive[0] = 1; keepalive[1] = 2; // version 1, kind 2 (PROTOCOL.md §5.1)
    // One negotiated channel is enough: id 1, the reliable one (PROTOCOL.md §4).
    const peer = new SimplePeer({
      initiator: true,
      channelName: "conduit-reliable",
      channelConfig: { negotiated: true, id: 1, ordered: true },
      config: { iceServers: hello.iceServers },
    });
    peer.on("signal", (d) => {
      if (d.type === "offer") socket.emit("signal", { kind: "description", type: "offer", sdp: d.sdp });
      else if (d.candidate) socket.emit("signal", { kind: "candidate", candidate: d.candidate.candidate, mid: d.candidate.sdpMid ?? "0" });
    });
    socket.on("signal", (m) => {
      if (m.kind === "description") peer.signal({ type: m.type, sdp: m.sdp });
      else peer.signal({ type: "candidate", candidate: { candidate: m.candidate, sdpMid: m.mid } });
    });
    await new Promise((resolve) => peer.once("connect", resolve));
    // Only channel 1 is open: the server's keepalives (channel 0) never reach us, and we send
    // ours on channel 1 at least every linkTimeoutMs (PROTOCOL.md §4).
    setInterval(() => peer.send(keepalive), hello.linkTimeoutMs / 5);

    // Receive: frames of a 20-byte header + MessagePack chunks (PROTOCOL.md §5).
    const partial = new Map();
    const received = (window.interopReceived = []);
    const seqs = [];
    let wanted = 3;
    let reached;
    const reach = (n) => { wanted = n; return new Promise((r) => { reached = r; }); };
    const gotThree = reach(3);
    peer.on("data", (data) => {
      const b = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const h = new DataView(b.buffer, b.byteOffset, 20);
      const index = h.getUint16(2), count = h.getUint16(4), total = h.getUint32(16);
      const key = h.getUint32(8) + ":" + h.getUint32(12);
      if (index === 0) seqs.push(h.getUint32(12));
      const p = partial.get(key) ?? { chunks: new Array(count), n: 0 };
      partial.set(key, p);
      p.chunks[index] = b.slice(20);
      if (++p.n < count) return;
      partial.delete(key);
      const body = new Uint8Array(total);
      let at = 0;
      for (const c of p.chunks) { body.set(c, at); at += c.length; }
      received.push(MessagePack.decode(body));
      if (received.length === wanted) reached();
    });
    const sub = await ask("subscribe", { stream: "interop" });
    if (!sub.ok) throw new Error(JSON.stringify(sub));
    await ask("start", { stream: "interop" });
    // A second subscribe changes nothing: the same reply, and delivery goes on.
    const again = await ask("subscribe", { stream: "interop" });
    await gotThree;
    const gotFour = reach(4);

    // Send: publish a client stream, then one frame.
    const pub = await ask("publish", { stream: "from_browser", delivery: "reliable" });
    const body = MessagePack.encode({
      hello: "from simple-peer",
      bytes: new Uint8Array([1, 2, 3]),
      // Beyond 32 bits, within 2^53: a server handler gets a number (PROTOCOL.md §5).
      big: 2 ** 40 + 1,
    });
    const frame = new Uint8Array(20 + body.length);
    const w = new DataView(frame.buffer);
    w.setUint8(0, 1); w.setUint8(1, 1); w.setUint16(2, 0); w.setUint16(4, 1); w.setUint16(6, 0);
    w.setUint32(8, pub.streamId); w.setUint32(12, 1); w.setUint32(16, body.length);
    frame.set(body, 20);
    peer.send(frame);
    await gotFour; // the server pushes the fourth once it has our message
    const big = received[2].frame;
    let bigOk = big.length === 150000;
    for (let i = 0; bigOk && i < big.length; i++) bigOk = big[i] === ((i * 7 + 3 * 13) & 255); // the test's pattern, frame 3
    return {
      first: received[0],
      second: received[1],
      fourth: received[3],
      bigOk,
      streamId: sub.streamId,
      secondSubscribe: again.streamId,
      seqs,
    };
  })()`;

  it("simple-peer + socket.io-client + @msgpack/msgpack subscribe and publish", async () => {
    const LINK_TIMEOUT_MS = 600;
    const { server, streams, url } = await startServer(ns.hostAddress, {
      linkTimeoutMs: LINK_TIMEOUT_MS,
    });
    const stream = streams.create("interop", { delivery: "reliable" });
    // Pushed before anyone subscribes: sequence numbers are the stream's, so the client's
    // first message is number 3.
    await stream.push({ i: -1 });
    await stream.push({ i: 0 });
    stream.onSubscribe(() => {
      void stream.push({ i: 1, text: "hello" });
      void stream.push({ i: 2, list: [1, 2, 3] });
      void stream.push({ i: 3, frame: frame(3, 150_000) });
    });
    const fromBrowser = new Promise<[string, unknown]>((resolve) =>
      streams.onClientStream("from_browser", (id, data) => {
        resolve([id, data]);
        void stream.push({ i: 4 });
      }),
    );
    const page = await openPage(`${url}/index.html`);
    const result = (await page.evaluate(interopClient(PASSWORD))) as Record<string, unknown>;
    expect(result).toEqual({
      first: { i: 1, text: "hello" },
      second: { i: 2, list: [1, 2, 3] },
      fourth: { i: 4 },
      bigOk: true,
      streamId: stream.id,
      secondSubscribe: stream.id,
      seqs: [3, 4, 5, 6],
    });
    const [clientId, data] = await fromBrowser;
    expect(server.clientStats().map((c) => c.clientId)).toContain(clientId);
    const { hello, bytes, big } = data as { hello: string; bytes: Uint8Array; big: unknown };
    expect(hello).toBe("from simple-peer");
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect([...bytes]).toEqual([1, 2, 3]);
    expect(big).toBe(2 ** 40 + 1);
    // The client's keepalives on channel 1 keep its link up for three times linkTimeoutMs.
    const heard = () => server.clientStats()[0]?.keepalivesReceived ?? 0;
    await until(() => heard() >= 15, "fifteen keepalives from the page");
    expect(server.clientStats()[0]?.peerOpen).toBe(true);
    await stream.push({ i: 5 });
    await page.waitForFunction(
      () => (window as { interopReceived?: unknown[] }).interopReceived?.length === 5,
    );
  });
});
