// Reliable streams wait for room by default: a pusher faster than the path loses nothing, and a
// subscriber whose queue stays full past the bound is cut off and told, while the others go on.
import { afterEach, describe, expect, it } from "vitest";
import { InvalidArgumentError, SlowSubscriberError } from "../../src/index.js";
import type { StreamClosedNotice } from "../../src/signaling/protocol.js";
import { connectClient, ENGINES, pattern, Resources, startServer, until } from "../helpers/net.js";
import { rawPeer } from "../helpers/raw-peer.js";

const res = new Resources();
afterEach(() => res.closeAll());

/** Sequence numbers `n` of what `subscription` yields, until `count` or the loop ends. */
async function readNumbers(
  subscription: AsyncIterable<unknown>,
  count: number,
): Promise<{ seen: number[]; error?: unknown }> {
  const seen: number[] = [];
  try {
    for await (const m of subscription) {
      seen.push((m as { n: number }).n);
      if (seen.length === count) break;
    }
  } catch (error) {
    return { seen, error };
  }
  return { seen };
}

describe.each(ENGINES)("overflow (%s)", (engine) => {
  it("a pusher faster than the path: every message of a reliable stream, in order", async () => {
    const { server, streams } = await startServer(res, engine);
    const body = pattern(20_000, 7);
    const count = engine === "werift" ? 400 : 1500;
    // The same pusher on a drop-oldest stream: it outruns the path (a push that does not wait
    // never yields to I/O), so its queue drops.
    const dropping = streams.create("dropping", {
      delivery: "reliable",
      bufferSize: 8,
      overflow: "drop-oldest",
    });
    const waiting = streams.create("files", { delivery: "reliable", bufferSize: 8 });
    const { streams: client } = await connectClient(res, server, engine);
    const droppingSub = client.subscribe("dropping");
    const read = readNumbers(client.subscribe("files"), count);
    await until(() => dropping.subscriberCount === 1 && waiting.subscriberCount === 1, "subs");
    for (let n = 0; n < 200; n++) await dropping.push({ n, body });
    expect(dropping.summary().dropped).toBeGreaterThan(0);
    droppingSub.close();

    for (let n = 0; n < count; n++) await waiting.push({ n, body });
    const { seen, error } = await read;
    expect(error).toBeUndefined();
    expect(seen).toEqual(Array.from({ length: count }, (_, n) => n));
    expect(waiting.summary().dropped).toBe(0);
  });

  it("a subscriber that stays full is cut off and told; the others get everything", async () => {
    const { server, streams } = await startServer(res, engine);
    const stream = streams.create("logs", {
      delivery: "reliable",
      bufferSize: 4,
      overflowWaitMs: 200,
    });
    // A client that subscribes but never says `start`: its queue fills and stays full.
    const stuck = await rawPeer(res, server.port, "node-datachannel");
    const notices: StreamClosedNotice[] = [];
    stuck.socket.on("stream_closed", (notice: StreamClosedNotice) => notices.push(notice));
    expect((await stuck.request("subscribe", { stream: "logs" })).ok).toBe(true);
    const { streams: client } = await connectClient(res, server, engine);
    const read = readNumbers(client.subscribe("logs"), 30);
    await until(() => stream.subscriberCount === 2, "two subscribers");

    for (let n = 0; n < 30; n++) await stream.push({ n });
    await until(() => notices.length === 1, "the cut-off notice");
    expect(notices[0]).toMatchObject({ stream: "logs", cutOffAfterMs: 200 });
    const { seen, error } = await read;
    expect(error).toBeUndefined();
    expect(seen).toEqual(Array.from({ length: 30 }, (_, n) => n));
  });

  it("a client pushing faster than the path: every message of a reliable client stream, in order", async () => {
    const { server, streams } = await startServer(res, engine);
    const got: Record<string, number[]> = { dropping: [], files: [] };
    for (const name of ["dropping", "files"]) {
      streams.onClientStream(name, (_id, d) => got[name]?.push((d as { n: number }).n));
    }
    const { client, streams: clientStreams } = await connectClient(res, server, engine);
    const body = pattern(20_000, 5);
    // The same pusher with drop-oldest outruns the path (a push that does not wait never
    // yields to I/O): its queue drops.
    const dropping = { delivery: "reliable", bufferSize: 8, overflow: "drop-oldest" } as const;
    for (let n = 0; n < 200; n++)
      await clientStreams.pushToServer("dropping", { n, body }, dropping);
    expect(client.publishStats().dropping?.dropped).toBeGreaterThan(0);

    const count = engine === "werift" ? 400 : 1500;
    const waiting = { delivery: "reliable", bufferSize: 8 } as const;
    for (let n = 0; n < count; n++) await clientStreams.pushToServer("files", { n, body }, waiting);
    await until(() => got.files?.length === count, "every message at the server");
    expect(got.files).toEqual(Array.from({ length: count }, (_, n) => n));
    expect(client.publishStats().files?.dropped).toBe(0);
  });
});

it("a client stream push that finds no room in time is refused, unsent; the others arrive in order", async () => {
  const { server, streams } = await startServer(res, "node-datachannel");
  const got: number[] = [];
  streams.onClientStream("big", (_id, d) => got.push((d as { n: number }).n));
  const { streams: clientStreams } = await connectClient(res, server, "node-datachannel");
  // One message of room and 1 ms of patience: room comes only as the engine drains below its
  // low-water mark, hundreds of kilobytes later, so a push soon finds the queue full too long.
  const options = { delivery: "reliable", bufferSize: 1, overflowWaitMs: 1 } as const;
  const body = pattern(60_000, 3);
  const sent: number[] = [];
  let refused: unknown;
  for (let n = 0; refused === undefined && n < 10_000; n++) {
    try {
      await clientStreams.pushToServer("big", { n, body }, options);
      sent.push(n);
    } catch (err) {
      refused = err;
    }
  }
  expect(refused).toBeInstanceOf(SlowSubscriberError);
  expect((refused as SlowSubscriberError).stream).toBe("big");
  // Pushes not awaited, after the refusal: they go out in order behind the ones before.
  const more = [sent.length + 1, sent.length + 2];
  const settled = await Promise.allSettled(
    more.map((n) => clientStreams.pushToServer("big", { n, body }, options)),
  );
  for (const [i, n] of more.entries()) if (settled[i]?.status === "fulfilled") sent.push(n);
  await until(() => got.length === sent.length, "every push that was not refused");
  expect(got).toEqual(sent);
  expect(sent.length).toBeGreaterThan(0);
});

it("overflow wait is refused for a realtime client stream", async () => {
  const { server } = await startServer(res, "node-datachannel");
  const { streams: clientStreams } = await connectClient(res, server, "node-datachannel");
  await expect(clientStreams.pushToServer("cam", {}, { overflow: "wait" })).rejects.toThrow(
    InvalidArgumentError,
  );
  await expect(
    clientStreams.pushToServer("log", {}, { delivery: "reliable", overflowWaitMs: 0 }),
  ).rejects.toThrow(InvalidArgumentError);
});

it("a Client cut off gets what was queued for it in order, then SlowSubscriberError", async () => {
  const { server, streams } = await startServer(res, "node-datachannel");
  // One message in the queue and 1 ms of patience: room comes only as the engine drains
  // below its low-water mark, hundreds of kilobytes later, so the first full queue cuts off.
  const stream = streams.create("big", { delivery: "reliable", bufferSize: 1, overflowWaitMs: 1 });
  const { streams: client } = await connectClient(res, server, "node-datachannel");
  const read = readNumbers(client.subscribe("big"), Number.POSITIVE_INFINITY);
  await until(() => stream.subscriberCount === 1, "the subscriber");
  const body = pattern(60_000, 3);
  let n = 0;
  while (stream.subscriberCount === 1 && n < 10_000) await stream.push({ n: n++, body });
  const { seen, error } = await read;
  expect(error).toBeInstanceOf(SlowSubscriberError);
  expect((error as SlowSubscriberError).stream).toBe("big");
  // Nothing skipped before the cut: what it got is a prefix of what was pushed.
  expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i));
  expect(seen.length).toBeGreaterThan(0);
});
