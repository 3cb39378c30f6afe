// "Client Streaming to Server": a client pushes 30 fps synthetic 100 KB frames; the server
// handler receives them and prints the rate each second.
//   DURATION seconds (default 5), ENGINE (node-datachannel | werift)
import {
  Client,
  ClientDescriptor,
  type EngineName,
  Server,
  ServerDescriptor,
  StreamManager,
} from "conduit-rtc";

const seconds = Number(process.env.DURATION ?? 5);
const engine = (process.env.ENGINE ?? "node-datachannel") as EngineName;
const FRAME_BYTES = 100_000;

// Server side - consume client stream
const server = new Server(
  new ServerDescriptor({ host: "127.0.0.1", port: 0, password: "secret", engine }),
);
const serverStreams = new StreamManager({ owner: "server" });
serverStreams.registerServerHandlers(server);

let framesThisSecond = 0;
let bytesThisSecond = 0;
let latencySum = 0;
serverStreams.onClientStream(
  "video_frames",
  async (_clientId, data: { frame: Uint8Array; timestamp: number }) => {
    framesThisSecond++;
    bytesThisSecond += data.frame.byteLength;
    latencySum += Date.now() - data.timestamp;
  },
);
await server.run();

// Client side - push video frames
const client = new Client(
  new ClientDescriptor({
    serverHost: "127.0.0.1",
    serverPort: server.port,
    password: "secret",
    engine,
  }),
);
const streams = new StreamManager();
streams.registerClientHandlers(client);
await client.connect();

const report = setInterval(() => {
  const avg = framesThisSecond ? (latencySum / framesThisSecond).toFixed(1) : "-";
  console.log(
    `server received ${framesThisSecond} fps, ${(bytesThisSecond / 1e6).toFixed(1)} MB/s, mean one-way ${avg} ms`,
  );
  framesThisSecond = 0;
  bytesThisSecond = 0;
  latencySum = 0;
}, 1000);

const frame = new Uint8Array(FRAME_BYTES);
const end = Date.now() + seconds * 1000;
let n = 0;
while (Date.now() < end) {
  // A moving test pattern: each frame differs, as a camera's would.
  frame.fill(n & 0xff);
  await streams.pushToServer("video_frames", { frame, timestamp: Date.now() });
  n++;
  await new Promise((r) => setTimeout(r, 1000 / 30)); // 30 FPS
}

clearInterval(report);
await client.close();
await server.stop();
console.log(`pushed ${n} frames`);
