import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { AuthenticationError, ConnectionError, StreamNotFoundError } from "../../src/index.js";
import {
  childEnv,
  clientFor,
  connectClient,
  ENGINES,
  pattern,
  Resources,
  startServer,
  until,
} from "../helpers/net.js";

const res = new Resources();
afterEach(() => res.closeAll());

describe.each(ENGINES)("streams over real peers (%s)", (engine) => {
  it("server → client: push returns the subscriber count, data arrives", async () => {
    const { server, streams } = await startServer(res, engine);
    const sensors = streams.create("sensors", { bufferSize: 100, delivery: "reliable" });
    const { streams: clientStreams } = await connectClient(res, server, engine);
    const subscribed = new Promise<string>((r) => sensors.onSubscribe(r));
    const iterator = clientStreams.subscribe("sensors");
    const firstValue = iterator.next();
    await subscribed;
    // A direct path: host candidates on loopback, no TURN.
    expect(server.clientStats()[0]?.transport).toBe("webrtc");
    expect(await sensors.push({ temperature: 21.5, humidity: 40, timestamp: 1 })).toBe(1);
    expect((await firstValue).value).toEqual({ temperature: 21.5, humidity: 40, timestamp: 1 });
    expect(sensors.info.messageCount).toBe(1);
    iterator.close();
  });

  it("a realtime stream's last message arrives though the close notice overtakes it", async () => {
    const { server, streams } = await startServer(res, engine);
    const stream = streams.create("frames", { delivery: "realtime", maxAgeMs: 10_000 });
    const { streams: clientStreams } = await connectClient(res, server, engine);
    const subscribed = new Promise<string>((r) => stream.onSubscribe(r));
    const subscription = clientStreams.subscribe("frames");
    const received: number[] = [];
    const ended = (async () => {
      for await (const m of subscription) received.push((m as { n: number }).n);
    })();
    await subscribed;
    // Megabytes ahead of the last message on the data channel; the notice is a few bytes on
    // Socket.IO and comes first.
    for (let n = 1; n <= 20; n++) await stream.push({ n, body: pattern(200_000, n) });
    await stream.close();
    await ended;
    expect(received.at(-1)).toBe(20);
    expect(subscription.stats.expired).toBe(0);
  });

  it("three subscribers on a reliable stream get every message, in order", async () => {
    const { server, streams } = await startServer(res, engine);
    const stream = streams.create("ordered", { delivery: "reliable", bufferSize: 1000 });
    const clients = await Promise.all([0, 1, 2].map(() => connectClient(res, server, engine)));
    let subscribed = 0;
    const allSubscribed = new Promise<void>((resolve) =>
      stream.onSubscribe(() => {
        if (++subscribed === 3) resolve();
      }),
    );
    const received = clients.map(({ streams: s }) =>
      (async () => {
        const got: number[] = [];
        for await (const v of s.subscribe("ordered")) {
          got.push((v as { i: number }).i);
          if (got.length === 500) break;
        }
        return got;
      })(),
    );
    await allSubscribed;
    for (let i = 0; i < 500; i++) expect(await stream.push({ i, pad: pattern(2000, i) })).toBe(3);
    const expected = Array.from({ length: 500 }, (_, i) => i);
    for (const got of await Promise.all(received)) expect(got).toEqual(expected);
  });

  it("lifecycle callbacks fire with the client ids; close() ends client loops", async () => {
    const { server, streams } = await startServer(res, engine);
    const stream = streams.create("life", { delivery: "reliable" });
    const a = await connectClient(res, server, engine);
    const b = await connectClient(res, server, engine);
    const subs: string[] = [];
    const unsubs: string[] = [];
    stream.onSubscribe((id) => {
      subs.push(id);
    });
    const bLeft = new Promise<void>((resolve) =>
      stream.onUnsubscribe((id) => {
        unsubs.push(id);
        if (id === b.client.id) resolve();
      }),
    );
    const aLoop = (async () => {
      const seen: unknown[] = [];
      for await (const v of a.streams.subscribe("life")) seen.push(v);
      return seen;
    })();
    const bSub = b.streams.subscribe("life");
    await until(() => stream.subscriberCount === 2, "two subscribers");
    expect(subs.sort()).toEqual([a.client.id, b.client.id].sort());

    // b breaks out: the server sees it unsubscribe.
    await stream.push("one");
    for await (const _ of bSub) break;
    await bLeft;
    expect(unsubs).toEqual([b.client.id]);
    expect(stream.subscriberCount).toBe(1);

    await stream.push("two");
    await stream.close();
    // a's loop ends after the messages sent before close.
    expect(await aLoop).toEqual(["one", "two"]);
    expect(unsubs.sort()).toEqual([a.client.id, b.client.id].sort());
  });

  it("listStreams is right on the server and through a client", async () => {
    const { server, streams } = await startServer(res, engine);
    streams.create("alpha");
    const beta = streams.create("beta", { delivery: "reliable", bufferSize: 10 });
    const { streams: clientStreams } = await connectClient(res, server, engine);
    const sub = clientStreams.subscribe("beta");
    const first = sub.next();
    await until(() => beta.subscriberCount === 1, "subscriber");
    await beta.push("x");
    await first;
    const local = streams.listStreams();
    const remote = await clientStreams.listServerStreams();
    expect(remote).toEqual(local);
    expect(remote.map((s) => [s.name, s.subscribers, s.messageCount, s.delivery])).toEqual([
      ["alpha", 0, 0, "realtime"],
      ["beta", 1, 1, "reliable"],
    ]);
    sub.close();
  });

  it("a wrong password rejects connect() with AuthenticationError and opens nothing", async () => {
    const { server } = await startServer(res, engine);
    const connected: string[] = [];
    server.on("clientConnected", (id) => connected.push(id));
    const client = clientFor(server, engine, { password: "wrong" });
    res.add(() => client.close());
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).code).toBe("AUTH_FAILED");
    expect(client.status.state).toBe("closed");
    expect(connected).toEqual([]);
    expect(server.clientCount).toBe(0);
  });

  it("repeated wrong passwords from one address are rate-limited, even the right one", async () => {
    const { server } = await startServer(res, engine);
    for (let i = 0; i < 5; i++) {
      const c = clientFor(server, engine, { password: `wrong-${i}` });
      await expect(c.connect()).rejects.toMatchObject({ code: "AUTH_FAILED" });
    }
    const right = clientFor(server, engine);
    await expect(right.connect()).rejects.toMatchObject({ code: "RATE_LIMITED" });
    expect(server.clientCount).toBe(0);
  });

  it("subscribing to an unknown stream rejects, or waits for it when asked", async () => {
    const { server, streams } = await startServer(res, engine);
    const { streams: clientStreams } = await connectClient(res, server, engine);
    await expect(clientStreams.subscribe("missing").next()).rejects.toThrow(StreamNotFoundError);
    const waiting = clientStreams.subscribe("later", { wait: true });
    const first = waiting.next();
    const later = streams.create("later", { delivery: "reliable" });
    await until(() => later.subscriberCount === 1, "waiting subscriber attached");
    await later.push({ hello: "world" });
    expect((await first).value).toEqual({ hello: "world" });
    waiting.close();
  });

  it.each(["realtime", "reliable"] as const)(
    "500 KB binary frames arrive intact both ways (%s)",
    async (delivery) => {
      const { server, streams } = await startServer(res, engine);
      const frames = streams.create("frames", { delivery, bufferSize: 10 });
      const { client, streams: clientStreams } = await connectClient(res, server, engine);
      const sub = clientStreams.subscribe("frames");
      const next = sub.next();
      await until(() => frames.subscriberCount === 1, "subscriber");
      const down = pattern(500_000, 3);
      await frames.push({ frame: down, n: 1 });
      const got = (await next).value as { frame: Uint8Array; n: number };
      expect(got.n).toBe(1);
      expect(Buffer.compare(Buffer.from(got.frame), Buffer.from(down))).toBe(0);
      sub.close();

      const up = pattern(500_000, 9);
      const received = new Promise<[string, { frame: Uint8Array }]>((resolve) =>
        streams.onClientStream("video_frames", (clientId, data) => resolve([clientId, data])),
      );
      await clientStreams.pushToServer(
        "video_frames",
        { frame: up, timestamp: Date.now() },
        { delivery },
      );
      const [from, data] = await received;
      expect(from).toBe(client.id);
      expect(Buffer.compare(Buffer.from(data.frame), Buffer.from(up))).toBe(0);
    },
  );

  it("client → server streams reach the handler in order with the client id", async () => {
    const { server, streams } = await startServer(res, engine);
    const { client, streams: clientStreams } = await connectClient(res, server, engine);
    const got: [string, number][] = [];
    const done = new Promise<void>((resolve) =>
      streams.onClientStream("metrics", async (clientId, data: { i: number }) => {
        got.push([clientId, data.i]);
        if (got.length === 200) resolve();
      }),
    );
    for (let i = 0; i < 200; i++) {
      await clientStreams.pushToServer("metrics", { i, cpu: 0.5 }, { delivery: "reliable" });
    }
    await done;
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => [client.id, i]));
    expect(client.publishStats().metrics).toMatchObject({ messagesSent: 200, dropped: 0 });
  });

  it("a paused subscriber (bufferSize 5) holds at most 5 and counts drops; a fast one gets all", async () => {
    const { server, streams } = await startServer(res, engine);
    const stream = streams.create("paced", { delivery: "reliable", bufferSize: 5 });
    const fast = await connectClient(res, server, engine);
    const paused = await connectClient(res, server, engine);
    const fastSub = fast.streams.subscribe("paced", { bufferSize: 1000 });
    const pausedSub = paused.streams.subscribe("paced");
    const fastGot: number[] = [];
    const fastDone = (async () => {
      for await (const v of fastSub) {
        fastGot.push(v as number);
        if (fastGot.length === 300) return;
      }
    })();
    await until(() => stream.subscriberCount === 2, "two subscribers");
    for (let i = 0; i < 300; i++) {
      await stream.push(i);
      // Let the event loop run, as a real 1 kHz producer would; a fast consumer keeps up.
      await new Promise((r) => setImmediate(r));
    }
    await fastDone;
    expect(fastGot).toEqual(Array.from({ length: 300 }, (_, i) => i));
    // Everything the server did not drop for the paused client reaches its process.
    const serverSide = () => stream.subscriberStats()[paused.client.id as string];
    await until(
      () => pausedSub.stats.received + (serverSide()?.dropped ?? 0) === 300,
      "paused client received everything the server sent it",
    );
    expect(pausedSub.stats.depth).toBeLessThanOrEqual(5);
    expect(pausedSub.stats.dropped).toBeGreaterThan(0);
    // What it holds is the newest.
    const depth = pausedSub.stats.depth;
    const held: number[] = [];
    for (let i = 0; i < depth; i++) held.push((await pausedSub.next()).value as number);
    expect(held).toEqual(Array.from({ length: depth }, (_, i) => 300 - depth + i));
    pausedSub.close();
  });

  it("a client killed mid-stream is cleaned up on the server", async () => {
    const { server, streams } = await startServer(res, engine);
    const stream = streams.create("live", { delivery: "realtime" });
    const child = spawn(process.execPath, ["--import", "tsx", "test/helpers/killable-client.ts"], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...childEnv("127.0.0.1", server.port, engine, { STREAM: "live" }) },
    });
    res.add(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    let ready = "";
    const readyLine = new Promise<string>((resolve) =>
      child.stdout.on("data", (chunk: Buffer) => {
        ready += chunk.toString();
        if (ready.includes("\n")) resolve(ready.trim());
      }),
    );
    await until(() => stream.subscriberCount === 1, "child subscribed", 20_000);
    const pusher = setInterval(() => void stream.push({ frame: pattern(50_000, 1) }), 33);
    res.add(() => clearInterval(pusher));
    const childId = (await readyLine).split(" ")[1];
    const gone = new Promise<string>((resolve) => server.on("clientDisconnected", resolve));
    const unsubscribed = new Promise<string>((resolve) => stream.onUnsubscribe(resolve));
    child.kill("SIGKILL");
    const killedAt = performance.now();
    await once(child, "exit");
    expect(await gone).toBe(childId);
    console.log(
      `${engine}: SIGKILLed client released after ${Math.round(performance.now() - killedAt)} ms`,
    );
    expect(await unsubscribed).toBe(childId);
    expect(stream.subscriberCount).toBe(0);
    expect(server.clientCount).toBe(0);
    clearInterval(pusher);
  });

  it("two iterators on one client share one server subscription; closing one keeps the other", async () => {
    const { server, streams } = await startServer(res, engine);
    const stream = streams.create("shared", { delivery: "reliable" });
    const { streams: clientStreams } = await connectClient(res, server, engine);
    const first = clientStreams.subscribe("shared");
    const second = clientStreams.subscribe("shared");
    const a1 = first.next();
    const b1 = second.next();
    await until(() => stream.subscriberCount === 1, "one server-side subscriber");
    expect(await stream.push("m1")).toBe(1);
    expect([(await a1).value, (await b1).value]).toEqual(["m1", "m1"]);
    first.close();
    await stream.push("m2");
    expect((await second.next()).value).toBe("m2");
    expect(stream.subscriberCount).toBe(1);
    const left = new Promise<string>((r) => stream.onUnsubscribe(r));
    second.close();
    await left;
    expect(stream.subscriberCount).toBe(0);
  });

  it("operations before connect() fail with a typed error", async () => {
    const { server } = await startServer(res, engine);
    const { Client, StreamManager, ClientDescriptor } = await import("../../src/index.js");
    const client = new Client(new ClientDescriptor({ serverPort: server.port }));
    const streams = new StreamManager();
    streams.registerClientHandlers(client);
    await expect(streams.subscribe("x").next()).rejects.toThrow(ConnectionError);
    await expect(streams.pushToServer("x", 1)).rejects.toThrow(ConnectionError);
  });
});
