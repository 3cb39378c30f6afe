// The live demo (`npm start`): web pages and the signaling server on one port.
//   PORT (default 8080; 0 = any free port), HOST (default 0.0.0.0), CONDUIT_PASSWORD (default "secret")
// Streams: system_metrics (1 Hz), server_stats (1 Hz: streams, client streams, clients), frames (30 fps, 100 KB RGBA test pattern), upload_stats (1 Hz),
// video (the Upload page's encoded video, relayed to every Video page);
// client streams: upload_video, browser_metrics, viewer_ages (what a viewer page's subscription
// says of the age of what it receives, each second).
import { isVideoChunk, Server, ServerDescriptor, StreamManager, VideoRelay } from "conduit-rtc";
import { clientName } from "./client-names.js";
import { ffmpegMissing, startTestcard } from "./ffmpeg-testcard.js";
import { staticFiles } from "./static-files.js";
import { cpuPercent, diskPercent, memoryPercent } from "./system-metrics.js";

const password = process.env.CONDUIT_PASSWORD ?? "secret";
const server = new Server(
  new ServerDescriptor({
    host: process.env.HOST ?? "0.0.0.0",
    port: Number(process.env.PORT ?? 8080),
    password,
    httpHandler: staticFiles(new URL("../web/", import.meta.url)),
  }),
);
const streams = new StreamManager();
streams.registerServerHandlers(server);

const metrics = streams.create("system_metrics");
const frames = streams.create("frames", { bufferSize: 3 });
const uploadStats = streams.create("upload_stats", { delivery: "reliable", bufferSize: 10 });
const serverStats = streams.create("server_stats", { delivery: "reliable", bufferSize: 5 });

/** Per second: every stream and client stream with its rates, and every client by name with
 * its transport and path. Rates are this second's, from the running totals. */
const previous = new Map<string, { messages: number; bytes: number }>();
function rate(key: string, messages: number, bytes: number) {
  const last = previous.get(key) ?? { messages, bytes };
  previous.set(key, { messages, bytes });
  return { messagesPerSecond: messages - last.messages, bytesPerSecond: bytes - last.bytes };
}
/** The viewers' latest age p99 per server stream, with when it was said. */
const viewerAges = new Map<string, Map<string, { p99: number; at: number }>>();
streams.onClientStream("viewer_ages", (clientId, data: { stream: string; p99: number }) => {
  if (typeof data?.stream !== "string" || typeof data.p99 !== "number") return;
  const byClient = viewerAges.get(data.stream) ?? new Map();
  byClient.set(clientId, { p99: data.p99, at: Date.now() });
  viewerAges.set(data.stream, byClient);
});
/** The worst age p99 a viewer of `stream` said in the last 3 s. */
function ageP99Of(stream: string): number | undefined {
  let worst: number | undefined;
  for (const { p99, at } of viewerAges.get(stream)?.values() ?? []) {
    if (Date.now() - at < 3000) worst = Math.max(worst ?? 0, p99);
  }
  return worst;
}

function serverSnapshot() {
  const clientStats = server.clientStats();
  const clientStreams = new Map<
    string,
    { clients: number; received: number; dropped: number; ageP99: number | undefined }
  >();
  for (const s of streams.clientStreamStats()) {
    const e = clientStreams.get(s.stream) ?? {
      clients: 0,
      received: 0,
      dropped: 0,
      ageP99: undefined,
    };
    e.clients++;
    e.received += s.received;
    e.dropped += s.dropped;
    if (s.ageMs) e.ageP99 = Math.max(e.ageP99 ?? 0, s.ageMs.p99);
    clientStreams.set(s.stream, e);
  }
  return {
    streams: streams.listStreams().map((s) => ({
      name: s.name,
      direction: "server → clients",
      delivery: s.delivery,
      subscribers: s.subscribers,
      ...rate(`s:${s.name}`, s.messageCount, s.bytesSent),
      dropped: s.dropped,
      ageP99: ageP99Of(s.name),
    })),
    clientStreams: [...clientStreams].map(([name, e]) => ({
      name,
      direction: "clients → server",
      clients: e.clients,
      ...rate(`c:${name}`, e.received, 0),
      dropped: e.dropped,
      ageP99: e.ageP99,
    })),
    clients: clientStats.map((c) => ({
      name: clientName(c.clientId),
      id: c.clientId,
      address: c.address,
      transport: c.transport,
      rttMs: c.path?.rttMs,
      capacityBytesPerSecond: c.path?.capacityBytesPerSecond,
      loss: c.path?.loss,
      subscriptions: c.subscriptions.length,
    })),
    t: Date.now(),
  };
}

// A moving test pattern: 200 x 125 RGBA = 100,000 bytes a frame.
const WIDTH = 200;
const HEIGHT = 125;
let frameSeq = 0;
function testPattern(n: number): Uint8Array {
  const rgba = new Uint8Array(WIDTH * HEIGHT * 4);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 4;
      rgba[i] = (x + n * 4) & 0xff;
      rgba[i + 1] = (y * 2 + n) & 0xff;
      rgba[i + 2] = ((x ^ y) + n * 2) & 0xff;
      rgba[i + 3] = 255;
    }
  }
  return rgba;
}

const received = new Map<string, { frames: number; bytes: number; metrics?: unknown }>();
const entry = (id: string) => {
  let e = received.get(id);
  if (!e) {
    e = { frames: 0, bytes: 0 };
    received.set(id, e);
  }
  return e;
};
// The Upload page's encoded chunks: relayed to viewers, and counted per uploader.
const video = new VideoRelay(streams, { stream: "video" });
streams.onClientStream("upload_video", (clientId, chunk: unknown) => {
  if (!isVideoChunk(chunk)) return;
  const e = entry(clientId);
  e.frames++;
  e.bytes += chunk.data.byteLength;
  void video.push(chunk);
});
streams.onClientStream("browser_metrics", (clientId, data: unknown) => {
  entry(clientId).metrics = data;
});
server.on("clientDisconnected", (id) => {
  received.delete(id);
  for (const byClient of viewerAges.values()) byClient.delete(id);
});

// Video encoded in Node: ffmpeg's test card, on /video.html?stream=testcard (with ffmpeg).
const testcard = new VideoRelay(streams, { stream: "testcard" });
const ffmpeg = ffmpegMissing();
if (ffmpeg) console.log(`no test card video: ${ffmpeg}`);

server.onStartup((srv) => {
  setInterval(() => {
    void metrics.push({
      cpu: cpuPercent(),
      memory: memoryPercent(),
      disk: diskPercent("/"),
      t: Date.now(),
    });
    const clients: Record<string, { fps: number; bytesPerSecond: number; metrics?: unknown }> = {};
    for (const [id, e] of received) {
      clients[id] = { fps: e.frames, bytesPerSecond: e.bytes, metrics: e.metrics };
      e.frames = 0;
      e.bytes = 0;
    }
    void uploadStats.push({ clients, t: Date.now() });
    void serverStats.push(serverSnapshot());
  }, 1000);
  setInterval(() => {
    if (frames.subscriberCount === 0) return;
    frameSeq++;
    void frames.push({
      seq: frameSeq,
      sentAt: Date.now(),
      width: WIDTH,
      height: HEIGHT,
      rgba: testPattern(frameSeq),
    });
  }, 1000 / 30);
  if (!ffmpeg) {
    const stop = startTestcard(testcard);
    process.once("exit", stop);
  }
  console.log(`conduit-rtc demo: http://localhost:${srv.port}/  (password "${password}")`);
});

await server.run();
