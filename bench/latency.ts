// One-way latency of 30 fps frames, sender and receiver in this process on loopback.
// Each system sends `frames` messages of `size` bytes at 30 fps; the receiver records
// now - sentAt (performance.now(), same clock). Returns the latencies in ms.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server as IoServer } from "socket.io";
import { io as ioClient } from "socket.io-client";
import type { EngineName } from "../src/index.js";
import { connectConduitClient, startConduitServer } from "./conduit.js";
import { ndcPair } from "./ndc-pair.js";

const FPS = 30;
const tick = () => new Promise((r) => setTimeout(r, 1000 / FPS));

export async function conduitLatency(
  engine: EngineName,
  size: number,
  frames: number,
): Promise<number[]> {
  const { server, streams } = await startConduitServer(engine);
  const stream = streams.create("frames", { bufferSize: 10 });
  const { client, streams: clientStreams } = await connectConduitClient(server, engine);
  const latencies: number[] = [];
  const subscribed = new Promise<void>((r) => stream.onSubscribe(() => r()));
  const done = (async () => {
    for await (const m of clientStreams.subscribe("frames")) {
      const { sentAt, last } = m as { sentAt: number; last: boolean };
      latencies.push(performance.now() - sentAt);
      if (last) break;
    }
  })();
  await subscribed;
  const frame = new Uint8Array(size);
  for (let i = 0; i < frames; i++) {
    await stream.push({ sentAt: performance.now(), last: i === frames - 1, frame });
    await tick();
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
  await client.close();
  await server.stop();
  return latencies;
}

/** A bare node-datachannel unordered channel: what conduit is built on, with no conduit. */
export async function rawNdcLatency(size: number, frames: number): Promise<number[]> {
  const { a, b, close } = await ndcPair({
    negotiated: true,
    id: 0,
    unordered: true,
    maxRetransmits: 0,
  });
  const latencies: number[] = [];
  const done = new Promise<void>((resolve) => {
    b.onMessage((msg) => {
      latencies.push(performance.now() - (msg as Buffer).readDoubleBE(0));
      if (latencies.length === frames) resolve();
    });
  });
  const frame = Buffer.alloc(size);
  for (let i = 0; i < frames; i++) {
    frame.writeDoubleBE(performance.now(), 0);
    a.sendMessageBinary(frame);
    await tick();
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
  close();
  return latencies;
}

/** Socket.IO over WebSocket: what users reach for instead. */
export async function socketIoLatency(size: number, frames: number): Promise<number[]> {
  const http = createServer();
  const io = new IoServer(http, { maxHttpBufferSize: 1e8 });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  const port = (http.address() as AddressInfo).port;
  const latencies: number[] = [];
  const connected = new Promise<import("socket.io").Socket>((r) => io.on("connection", r));
  const client = ioClient(`http://127.0.0.1:${port}`, {
    transports: ["websocket"],
    forceNew: true,
  });
  const serverSocket = await connected;
  const done = new Promise<void>((resolve) => {
    client.on("frame", (m: { sentAt: number }) => {
      latencies.push(performance.now() - m.sentAt);
      if (latencies.length === frames) resolve();
    });
  });
  const frame = new Uint8Array(size);
  for (let i = 0; i < frames; i++) {
    serverSocket.emit("frame", { sentAt: performance.now(), frame });
    await tick();
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
  client.close();
  await new Promise<void>((r) => io.close(() => r()));
  return latencies;
}
