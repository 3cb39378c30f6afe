// Sustained throughput of a reliable stream: `count` messages of `size` bytes, as fast as the
// link takes them; MB/s = bytes / (last arrival - first send). Sender and receiver in this process.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server as IoServer, type Socket } from "socket.io";
import { io as ioClient } from "socket.io-client";
import { HIGH_WATER_BYTES, LOW_WATER_BYTES } from "../src/core/defaults.js";
import type { EngineName } from "../src/index.js";
import { connectConduitClient, startConduitServer } from "./conduit.js";
import { ndcPair } from "./ndc-pair.js";

const mbPerS = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

export async function conduitThroughput(
  engine: EngineName,
  size: number,
  count: number,
): Promise<number> {
  const { server, streams } = await startConduitServer(engine);
  // The default buffer: a pusher faster than the link waits for room (overflow "wait").
  const stream = streams.create("bulk", { delivery: "reliable" });
  const { client, streams: clientStreams } = await connectConduitClient(server, engine);
  const subscribed = new Promise<void>((r) => stream.onSubscribe(() => r()));
  let received = 0;
  const done = (async () => {
    for await (const _ of clientStreams.subscribe("bulk", { bufferSize: count })) {
      if (++received === count) break;
    }
    return performance.now();
  })();
  await subscribed;
  const payload = new Uint8Array(size);
  const start = performance.now();
  for (let i = 0; i < count; i++) await stream.push(payload);
  const end = await done;
  await client.close();
  await server.stop();
  return mbPerS(size * count, end - start);
}

export async function rawNdcThroughput(size: number, count: number): Promise<number> {
  const { a, b, close } = await ndcPair({ negotiated: true, id: 1 });
  let received = 0;
  const done = new Promise<number>((resolve) => {
    b.onMessage(() => {
      if (++received === count) resolve(performance.now());
    });
  });
  a.setBufferedAmountLowThreshold(LOW_WATER_BYTES);
  const payload = Buffer.alloc(size);
  const start = performance.now();
  let sent = 0;
  // The same flow control conduit uses: stop at the high-water mark, resume when low.
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < count && a.bufferedAmount() < HIGH_WATER_BYTES) {
        a.sendMessageBinary(payload);
        sent++;
      }
      if (sent === count) resolve();
    };
    a.onBufferedAmountLow(pump);
    pump();
  });
  const end = await done;
  close();
  return mbPerS(size * count, end - start);
}

export async function socketIoThroughput(size: number, count: number): Promise<number> {
  const http = createServer();
  const io = new IoServer(http, { maxHttpBufferSize: 1e8 });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  const port = (http.address() as AddressInfo).port;
  const connected = new Promise<Socket>((r) => io.on("connection", r));
  const client = ioClient(`http://127.0.0.1:${port}`, {
    transports: ["websocket"],
    forceNew: true,
  });
  const serverSocket = await connected;
  let received = 0;
  const done = new Promise<number>((resolve) => {
    client.on("bulk", () => {
      if (++received === count) resolve(performance.now());
    });
  });
  const payload = new Uint8Array(size);
  const start = performance.now();
  for (let i = 0; i < count; i++) serverSocket.emit("bulk", payload);
  const end = await done;
  client.close();
  await new Promise<void>((r) => io.close(() => r()));
  return mbPerS(size * count, end - start);
}
