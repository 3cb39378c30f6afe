// One-way latency of 30 fps frames, sender and receiver in this process on loopback.
// Each system sends `frames` messages of `size` bytes at 30 fps, server to client ("down") or
// client to server ("up"); the receiver records now - sentAt (performance.now(), same clock).
// Returns the latencies in ms.

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

/** down: server → client (a stream); up: client → server (a client stream). */
export type Direction = "down" | "up";
const tick = () => new Promise((r) => setTimeout(r, 1000 / FPS));

export async function conduitLatency(
  engine: EngineName,
  size: number,
  frames: number,
  direction: Direction,
): Promise<number[]> {
  const { server, streams } = await startConduitServer(engine);
  const { client, streams: clientStreams } = await connectConduitClient(server, engine);
  const latencies: number[] = [];
  let allArrived: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    allArrived = resolve;
  });
  const receive = (m: unknown) => {
    latencies.push(performance.now() - (m as { sentAt: number }).sentAt);
    if (latencies.length === frames) allArrived();
  };
  let push: (m: unknown) => Promise<unknown>;
  if (direction === "down") {
    const stream = streams.create("frames", { bufferSize: 10 });
    const subscribed = new Promise<void>((r) => stream.onSubscribe(() => r()));
    void (async () => {
      for await (const m of clientStreams.subscribe("frames")) receive(m);
    })();
    await subscribed;
    push = (m) => stream.push(m);
  } else {
    streams.onClientStream("frames", (_id, m) => receive(m));
    push = (m) => clientStreams.pushToServer("frames", m, { bufferSize: 10 });
  }
  const frame = new Uint8Array(size);
  for (let i = 0; i < frames; i++) {
    await push({ sentAt: performance.now(), frame });
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
export async function rawNdcLatency(
  size: number,
  frames: number,
  direction: Direction,
): Promise<number[]> {
  const pair = await ndcPair({ negotiated: true, id: 0, unordered: true, maxRetransmits: 0 });
  // The offerer plays the server.
  const [a, b] = direction === "down" ? [pair.a, pair.b] : [pair.b, pair.a];
  try {
    return await rawLatency(
      size,
      frames,
      (m) => a.sendMessageBinary(m),
      (receive) => b.onMessage((m) => receive(m as Buffer)),
    );
  } finally {
    pair.close();
  }
}

/** A bare werift unordered channel, the same way. */
export async function rawWeriftLatency(
  size: number,
  frames: number,
  direction: Direction,
): Promise<number[]> {
  const res = new Resources();
  try {
    const pair = await channelPair(res, { id: 0, ordered: false, maxRetransmits: 0 });
    const [aChannel, bChannel] =
      direction === "down" ? [pair.aChannel, pair.bChannel] : [pair.bChannel, pair.aChannel];
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
export async function socketIoLatency(
  size: number,
  frames: number,
  direction: Direction,
): Promise<number[]> {
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
  const [sender, receiver] = direction === "down" ? [serverSocket, client] : [client, serverSocket];
  const done = new Promise<void>((resolve) => {
    receiver.on("frame", (m: { sentAt: number }) => {
      latencies.push(performance.now() - m.sentAt);
      if (latencies.length === frames) resolve();
    });
  });
  const frame = new Uint8Array(size);
  for (let i = 0; i < frames; i++) {
    sender.emit("frame", { sentAt: performance.now(), frame });
    await tick();
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
  client.close();
  await new Promise<void>((r) => io.close(() => r()));
  return latencies;
}
