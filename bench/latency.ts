// One-way latency of 30 fps frames, sender and receiver in this process on loopback.
// Each system sends `frames` messages of `size` bytes at 30 fps; the receiver records
// now - sentAt (performance.now(), same clock). Returns the latencies in ms.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server as IoServer } from "socket.io";
import { io as ioClient } from "socket.io-client";
import type { EngineName } from "../src/index.js";
import { Resources } from "../test/helpers/net.js";
import { channelPair } from "../test/helpers/werift-pair.js";
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

/** Raw frames are cut by hand into messages the engines accept (conduit cuts at 64 KiB too). */
const RAW_MESSAGE_BYTES = 64 * 1024;

/**
 * Sends `frames` frames of `size` bytes at 30 fps through `send`, each cut into messages that
 * start with the send time and end with a last-part flag; `onMessage` feeds what arrives.
 * Returns the latency of each frame whose last part arrived.
 */
async function rawLatency(
  size: number,
  frames: number,
  send: (message: Buffer) => void,
  onMessage: (receive: (message: Buffer) => void) => void,
): Promise<number[]> {
  const latencies: number[] = [];
  const done = new Promise<void>((resolve) => {
    onMessage((message) => {
      if (message.readUInt8(8) !== 1) return;
      latencies.push(performance.now() - message.readDoubleBE(0));
      if (latencies.length === frames) resolve();
    });
  });
  const parts = Math.ceil(size / RAW_MESSAGE_BYTES);
  const part = Buffer.alloc(Math.min(size, RAW_MESSAGE_BYTES));
  for (let i = 0; i < frames; i++) {
    const sentAt = performance.now();
    for (let p = 0; p < parts; p++) {
      part.writeDoubleBE(sentAt, 0);
      part.writeUInt8(p === parts - 1 ? 1 : 0, 8);
      send(part);
    }
    await tick();
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
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
  try {
    return await rawLatency(
      size,
      frames,
      (m) => a.sendMessageBinary(m),
      (receive) => b.onMessage((m) => receive(m as Buffer)),
    );
  } finally {
    close();
  }
}

/** A bare werift unordered channel, the same way. */
export async function rawWeriftLatency(size: number, frames: number): Promise<number[]> {
  const res = new Resources();
  try {
    const { aChannel, bChannel } = await channelPair(res, {
      id: 0,
      ordered: false,
      maxRetransmits: 0,
    });
    return await rawLatency(
      size,
      frames,
      (m) => aChannel.send(Buffer.from(m)),
      (receive) => bChannel.onMessage.subscribe((m) => receive(m as Buffer)),
    );
  } finally {
    await res.closeAll();
  }
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
