// Bursts on loopback between werift peers, run by werift-burst.ts inside a namespace of its
// own so that the kernel's UDP counters are this process's alone. Prints "result <json>":
// datagrams the kernel dropped for a full receive buffer, and
//   MODE=raw:     two bare peers, a reliable channel, 200 KB frames as 13 × 16 KiB messages at
//                 30 fps: frames received within 10 s of the last one sent, DATA chunks sent
//                 more than once, and the one-way latency.
//   MODE=conduit: a conduit server and client, a realtime stream of 200 KB frames at 30 fps:
//                 frames the subscription counted lost.
import { readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { connectClient, Resources, startServer } from "../test/helpers/net.js";
import { sendFrames } from "../test/helpers/timed-frames.js";
import { associationOf, channelPair, filterDataChunks } from "../test/helpers/werift-pair.js";

const FRAMES = 90;
const FRAME_BYTES = 200_000;
/** How long after the last frame is sent the run waits for the rest. */
const DRAIN_MS = 10_000;

function udpReceiveBufferErrors(): number {
  const [names, values] = readFileSync("/proc/net/snmp", "utf8")
    .split("\n")
    .filter((line) => line.startsWith("Udp:"))
    .map((line) => line.split(" "));
  return Number(values?.[names?.indexOf("RcvbufErrors") ?? -1]);
}

async function raw(res: Resources) {
  const { a, aChannel, bChannel } = await channelPair(res, { id: 1 });
  let retransmitted = 0;
  filterDataChunks(associationOf(a), (_chunk, transmission) => {
    if (transmission > 1) retransmitted++;
    return true;
  });
  const latencies: number[] = [];
  bChannel.onMessage.subscribe((m) => {
    const message = m as Buffer;
    if (message.readUInt8(4) === 12) latencies.push(performance.now() - message.readDoubleBE(8));
  });
  const start = performance.now();
  for (let frame = 0; frame < FRAMES; frame++) {
    const sentAt = performance.now();
    for (let part = 0; part < 13; part++) {
      const message = Buffer.alloc(16384);
      message.writeUInt8(part, 4);
      message.writeDoubleBE(sentAt, 8);
      aChannel.send(message);
    }
    await delay(Math.max(0, start + ((frame + 1) * 1000) / 30 - performance.now()));
  }
  const deadline = performance.now() + DRAIN_MS;
  while (latencies.length < FRAMES && performance.now() < deadline) await delay(20);
  latencies.sort((x, y) => x - y);
  return {
    received: latencies.length,
    retransmitted,
    p50: latencies[latencies.length >> 1],
    max: latencies[latencies.length - 1],
  };
}

async function conduit(res: Resources) {
  const { server, streams } = await startServer(res, "werift");
  const stream = streams.create("frames", { delivery: "realtime" });
  const { streams: remote } = await connectClient(res, server, "werift");
  const subscription = remote.subscribe("frames");
  const received = (async () => {
    let count = 0;
    for await (const message of subscription) if (typeof message === "object") count++;
    return count;
  })();
  await new Promise<void>((resolve) => {
    if (stream.subscriberCount > 0) resolve();
    else stream.onSubscribe(() => resolve());
  });
  await sendFrames(FRAMES, 30, FRAME_BYTES, (m) => stream.push(m));
  // Small messages after the frames reveal any lost at the end: once one is accounted for,
  // every frame has arrived or been counted lost.
  const deadline = performance.now() + DRAIN_MS;
  while (
    subscription.stats.received + subscription.stats.lost <= FRAMES &&
    performance.now() < deadline
  ) {
    await stream.push("after");
    await delay(20);
  }
  await stream.close();
  return { received: await received, lost: subscription.stats.lost };
}

const res = new Resources();
const before = udpReceiveBufferErrors();
const result = process.env.MODE === "conduit" ? await conduit(res) : await raw(res);
const receiveBufferErrors = udpReceiveBufferErrors() - before;
await res.closeAll();
console.log(`result ${JSON.stringify({ ...result, receiveBufferErrors })}`);
process.exit(0);
