// browser-100KB: headless Chromium (in a network namespace: it gathers no loopback candidates)
// receiving 30 fps × 100 KB frames from a server in this process, through conduit's browser
// bundle or through Socket.IO's browser client. The page records each frame's one-way latency
// against the wall clock both processes share.
import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Server as IoServer } from "socket.io";
import { staticFiles } from "../examples/static-files.js";
import { Server, ServerDescriptor, StreamManager } from "../src/index.js";
import { CHROMIUM, launchChromium } from "../test/helpers/browser.js";
import { createNamespace, type Namespace } from "../test/helpers/netns.js";

const FRAME_BYTES = 100_000;
const FPS = 30;

/** Why the browser case cannot run here, or undefined when it can. */
export function browserUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root to put Chromium in a network namespace";
  if (!existsSync(CHROMIUM)) return `needs Chromium at ${CHROMIUM}: apt-get install chromium`;
  return undefined;
}

const webFiles = staticFiles(new URL("../web/", import.meta.url));
const socketIoClient = staticFiles(
  new URL("../node_modules/socket.io-client/dist/", import.meta.url),
);
function pages(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === "/socket.io.min.js") socketIoClient(req, res);
  else webFiles(req, res);
}

/** Sends `frames` frames at 30 fps through `push`, each stamped with the wall-clock time. */
async function sendFrames(
  frames: number,
  push: (m: { sentAt: number; frame: Uint8Array }) => void,
) {
  const frame = new Uint8Array(FRAME_BYTES);
  const start = performance.now();
  for (let i = 0; i < frames; i++) {
    push({ sentAt: performance.timeOrigin + performance.now(), frame });
    const due = start + ((i + 1) * 1000) / FPS;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
  }
}

/** In-page: receives frames until the sender says it is done, returns their latencies. */
const RECEIVE = `
  const latencies = [];
  const receive = (m) => latencies.push(performance.timeOrigin + performance.now() - m.sentAt);`;

export async function browserLatencies(frames: number): Promise<Record<string, number[]>> {
  const ns: Namespace = createNamespace();
  const browser = await launchChromium(ns);
  try {
    const page = await browser.newPage();
    return {
      "conduit:node-datachannel": await conduitInBrowser(ns, page, frames),
      "socket.io": await socketIoInBrowser(ns, page, frames),
    };
  } finally {
    await browser.close();
    ns.close();
  }
}

type Page = Awaited<ReturnType<Awaited<ReturnType<typeof launchChromium>>["newPage"]>>;

async function conduitInBrowser(ns: Namespace, page: Page, frames: number): Promise<number[]> {
  const server = new Server(
    new ServerDescriptor({
      host: ns.hostAddress,
      port: 0,
      password: "bench",
      iceBindAddress: ns.hostAddress,
      httpHandler: pages,
    }),
  );
  const streams = new StreamManager();
  streams.registerServerHandlers(server);
  await server.run();
  try {
    const url = `http://${ns.hostAddress}:${server.port}`;
    await page.goto(`${url}/index.html`);
    const stream = streams.create("frames", { delivery: "realtime", bufferSize: 4 });
    stream.onSubscribe(async () => {
      await sendFrames(frames, (m) => void stream.push(m));
      await stream.close();
    });
    return (await page.evaluate(`(async () => {
      const C = await import("/dist/conduit-rtc.js");
      const client = new C.Client(new C.ClientDescriptor({
        serverHost: location.hostname, serverPort: ${server.port}, password: "bench" }));
      const streams = new C.StreamManager();
      streams.registerClientHandlers(client);
      await client.connect();
      ${RECEIVE}
      for await (const m of streams.subscribe("frames")) receive(m);
      await client.close();
      return latencies;
    })()`)) as number[];
  } finally {
    await server.stop();
  }
}

async function socketIoInBrowser(ns: Namespace, page: Page, frames: number): Promise<number[]> {
  const http = createServer(pages);
  const io = new IoServer(http, { maxHttpBufferSize: 1e8 });
  await new Promise<void>((r) => http.listen(0, ns.hostAddress, () => r()));
  try {
    const { port } = http.address() as AddressInfo;
    await page.goto(`http://${ns.hostAddress}:${port}/index.html`);
    io.on("connection", async (socket) => {
      await sendFrames(frames, (m) => socket.emit("frame", m));
      socket.emit("end");
    });
    return (await page.evaluate(`(async () => {
      await new Promise((resolve) => {
        const script = document.createElement("script");
        script.src = "/socket.io.min.js";
        script.onload = resolve;
        document.head.append(script);
      });
      ${RECEIVE}
      const socket = io({ transports: ["websocket"] });
      await new Promise((resolve) => {
        socket.on("frame", receive);
        socket.on("end", resolve);
      });
      socket.close();
      return latencies;
    })()`)) as number[];
  } finally {
    // Closes the HTTP server too.
    await new Promise<void>((r) => io.close(() => r()));
  }
}
