import { describe, expect, it, vi } from "vitest";
import {
  ClientDescriptor,
  InvalidArgumentError,
  ServerDescriptor,
  SlowSubscriberError,
  StreamClosedError,
  StreamExistsError,
  StreamManager,
  StreamNotFoundError,
} from "../../src/index.js";
import type { PushedMessage, Subscriber } from "../../src/streams/stream.js";
import { encodeBody } from "../../src/wire/codec.js";

/** A remote subscriber that keeps what it is given, as a client's session would send it. */
function remoteSubscriber(id: string, seen: PushedMessage[]): Subscriber {
  return {
    id,
    remote: true,
    deliver: (m) => seen.push(m),
    end: () => {},
    stats: { messagesSent: 0, bytesSent: 0, dropped: 0, stale: 0, expired: 0, depth: 0 },
    hasRoom: () => true,
    whenRoom: () => Promise.resolve(),
    cutOff: () => {},
  };
}

describe("validation", () => {
  const streams = new StreamManager();

  it.each([
    ["", /must not be empty/],
    ["x".repeat(129), /limit is 128/],
    ["has space", /may use only/],
    ["/leading-slash", /may use only/],
    ["emoji🙂", /may use only/],
  ])("rejects stream name %j", (name, message) => {
    expect(() => streams.create(name)).toThrow(InvalidArgumentError);
    expect(() => streams.create(name)).toThrow(message);
  });

  it("accepts names up to 128 characters with path-like punctuation", () => {
    expect(streams.create("x".repeat(128)).name).toHaveLength(128);
    expect(streams.create("video/cam-1:left.v2_a").name).toBe("video/cam-1:left.v2_a");
  });

  it.each([0, -1, 1.5, Number.NaN, "10"])("rejects bufferSize %j", (bufferSize) => {
    expect(() => streams.create("b", { bufferSize: bufferSize as number })).toThrow(
      /bufferSize must be/,
    );
  });

  it("rejects an unknown delivery class", () => {
    expect(() => streams.create("d", { delivery: "fast" as "realtime" })).toThrow(
      /delivery must be/,
    );
  });

  it("rejects a duplicate create with StreamExistsError", () => {
    streams.create("dup");
    expect(() => streams.create("dup")).toThrow(StreamExistsError);
  });

  it.each([
    [{ port: -1 }, /port must be an integer from 0 to 65535/],
    [{ port: 70000 }, /port must be/],
    [{ port: 80.5 }, /port must be/],
    [{ engine: "libwebrtc" }, /engine must be one of/],
    [{ iceServers: [{ urls: "http://example" }] }, /not a stun:/],
    [{ password: "" }, /password must be a non-empty string/],
  ])("ServerDescriptor rejects %j", (options, message) => {
    expect(() => new ServerDescriptor(options as never)).toThrow(message);
  });

  it("ClientDescriptor rejects port 0 and builds the signaling URL", () => {
    expect(() => new ClientDescriptor({ serverPort: 0 })).toThrow(InvalidArgumentError);
    expect(new ClientDescriptor({ serverHost: "::1", serverPort: 9 }).url).toBe("http://[::1]:9");
    expect(new ClientDescriptor().url).toBe("http://localhost:8080");
  });
});

describe("streams in one process", () => {
  it("push returns the subscriber count and subscribers get every message", async () => {
    const streams = new StreamManager({ owner: "server" });
    const stream = streams.create("my_stream", { bufferSize: 50 });
    expect(await stream.push({ value: 0 })).toBe(0);
    const a = streams.subscribe("my_stream");
    const b = streams.subscribe("my_stream");
    expect(await stream.push({ value: 42 })).toBe(2);
    expect((await a.next()).value).toEqual({ value: 42 });
    expect((await b.next()).value).toEqual({ value: 42 });
    expect(stream.info).toMatchObject({ name: "my_stream", owner: "server", messageCount: 2 });
    expect(stream.subscriberCount).toBe(2);
    expect(stream.isActive).toBe(true);
  });

  it("fires onSubscribe/onUnsubscribe with the subscriber id; break unsubscribes", async () => {
    const streams = new StreamManager();
    const stream = streams.create("life");
    const events: string[] = [];
    stream.onSubscribe(async (id) => {
      events.push(`+${id}`);
    });
    stream.onUnsubscribe((id) => {
      events.push(`-${id}`);
    });
    const sub = streams.subscribe("life");
    await stream.push(1);
    for await (const _ of sub) break;
    expect(events).toEqual([`+${sub.id}`, `-${sub.id}`]);
    expect(stream.subscriberCount).toBe(0);
  });

  it("onSubscribe/onUnsubscribe return a remover; a callback that throws is reported, the others run", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const streams = new StreamManager();
      const stream = streams.create("hooks");
      const calls: string[] = [];
      stream.onSubscribe(() => {
        throw new Error("application bug");
      });
      const removeSubscribe = stream.onSubscribe(() => {
        calls.push("subscribe");
      });
      const removeUnsubscribe = stream.onUnsubscribe(() => {
        calls.push("unsubscribe");
      });
      streams.subscribe("hooks").close();
      removeSubscribe();
      removeUnsubscribe();
      streams.subscribe("hooks").close();
      expect(calls).toEqual(["subscribe", "unsubscribe"]);
      expect(errors).toHaveBeenCalledTimes(2);
      expect(String(errors.mock.calls[0]?.[0])).toContain('subscriber callback of "hooks"');
    } finally {
      errors.mockRestore();
    }
  });

  it("close() ends every iterator after what is buffered, and push then throws", async () => {
    const streams = new StreamManager();
    const stream = streams.create("closing");
    const sub = streams.subscribe("closing");
    await stream.push("a");
    await stream.push("b");
    await stream.close();
    const seen: unknown[] = [];
    for await (const v of sub) seen.push(v);
    expect(seen).toEqual(["a", "b"]);
    expect(stream.isActive).toBe(false);
    expect(streams.get("closing")).toBeUndefined();
    await expect(stream.push("c")).rejects.toThrow(StreamClosedError);
  });

  it("an unknown stream rejects with StreamNotFoundError, or waits when asked", async () => {
    const streams = new StreamManager();
    await expect(streams.subscribe("nope").next()).rejects.toThrow(StreamNotFoundError);
    const waiting = streams.subscribe("later", { wait: true });
    const first = waiting.next();
    const stream = streams.create("later");
    await stream.push("hello");
    expect((await first).value).toBe("hello");
    waiting.close();
  });

  it("a paused subscriber holds at most bufferSize messages and counts drops", async () => {
    const streams = new StreamManager();
    const stream = streams.create("paused", { bufferSize: 5 });
    const slow = streams.subscribe("paused");
    const fast = streams.subscribe("paused", { bufferSize: 1000 });
    for (let i = 0; i < 100; i++) await stream.push(i);
    expect(slow.stats).toEqual({
      received: 100,
      dropped: 95,
      depth: 5,
      lost: 0,
      expired: 0,
      ageMs: undefined,
    });
    const kept: unknown[] = [];
    for (let i = 0; i < 5; i++) kept.push((await slow.next()).value);
    expect(kept).toEqual([95, 96, 97, 98, 99]);
    expect(fast.stats).toMatchObject({ received: 100, dropped: 0, depth: 100 });
  });

  it("listStreams reports every stream with its subscribers", () => {
    const streams = new StreamManager();
    streams.create("a");
    streams.create("b", { delivery: "reliable", bufferSize: 7 });
    streams.subscribe("b");
    const list = streams.listStreams();
    expect(list.map((s) => [s.name, s.subscribers, s.delivery, s.bufferSize])).toEqual([
      ["a", 0, "realtime", 100],
      ["b", 1, "reliable", 7],
    ]);
  });

  it("encodes a push once, whatever the number of remote subscribers", async () => {
    const streams = new StreamManager();
    const stream = streams.create("fanout");
    const seen: PushedMessage[] = [];
    for (let i = 0; i < 5; i++) stream.addSubscriber(remoteSubscriber(`c${i}`, seen));
    expect(await stream.push({ big: new Uint8Array(100_000) })).toBe(5);
    const encodings = new Set(seen.map((m) => m.outgoing));
    const bodies = new Set(seen.map((m) => m.outgoing.body));
    expect(encodings.size).toBe(1);
    expect(bodies.size).toBe(1);
  });

  it("a mirror's encoded push goes out as it came; in-process subscribers get the value", async () => {
    const streams = new StreamManager();
    const stream = streams.create("mirrored");
    const remote: PushedMessage[] = [];
    stream.addSubscriber(remoteSubscriber("c1", remote));
    const local = streams.subscribe("mirrored");
    const body = encodeBody({ reading: 21.5, at: 1234 });
    expect(await stream.pushEncoded(body)).toBe(2);
    expect([...(remote[0]?.outgoing.body ?? [])]).toEqual([...body]);
    expect((await local.next()).value).toEqual({ reading: 21.5, at: 1234 });
    // Bytes that are not MessagePack reach the remote subscriber as they are (its client
    // counts them undecodable); the local one counts a lost message and goes on.
    const bad = new Uint8Array([0x92, 0x01]); // an array of two, cut after one
    await stream.pushEncoded(bad);
    await stream.push("after");
    expect([...(remote[1]?.outgoing.body ?? [])]).toEqual([...bad]);
    expect((await local.next()).value).toBe("after");
    expect(local.stats.lost).toBe(1);
  });
});

describe("overflow", () => {
  /** Reads `subscription` to its end, a macrotask per message (slower than a push loop). */
  async function slowlyRead(subscription: AsyncIterable<unknown>): Promise<unknown[]> {
    const seen: unknown[] = [];
    for await (const m of subscription) {
      seen.push(m);
      await new Promise((r) => setImmediate(r));
    }
    return seen;
  }

  it("reliable streams wait by default: a slow subscriber gets every message, in order", async () => {
    const streams = new StreamManager();
    const stream = streams.create("files", { delivery: "reliable", bufferSize: 4 });
    expect(stream.overflow).toEqual({ mode: "wait", waitMs: 10_000 });
    const read = slowlyRead(streams.subscribe("files"));
    for (let i = 0; i < 200; i++) await stream.push(i);
    await stream.close();
    expect(await read).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(stream.summary().dropped).toBe(0);
  });

  it("pushes not awaited still arrive in order, none dropped", async () => {
    const streams = new StreamManager();
    const stream = streams.create("burst", { delivery: "reliable", bufferSize: 2 });
    const read = slowlyRead(streams.subscribe("burst"));
    const pushes = Array.from({ length: 50 }, (_, i) => stream.push(i));
    expect(await Promise.all(pushes)).toEqual(new Array(50).fill(1));
    await stream.close();
    expect(await read).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("a subscriber full past overflowWaitMs is cut off and told; the others go on", async () => {
    const streams = new StreamManager();
    const stream = streams.create("logs", {
      delivery: "reliable",
      bufferSize: 2,
      overflowWaitMs: 50,
    });
    const stuck = streams.subscribe("logs");
    const read = slowlyRead(streams.subscribe("logs"));
    for (let i = 0; i < 10; i++) await stream.push(i);
    expect(stream.subscriberCount).toBe(1);
    await stream.close();
    expect(await read).toEqual(Array.from({ length: 10 }, (_, i) => i));
    // What it had buffered, then the error.
    expect((await stuck.next()).value).toBe(0);
    expect((await stuck.next()).value).toBe(1);
    const error = await stuck.next().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SlowSubscriberError);
    expect(error).toMatchObject({ code: "SUBSCRIBER_TOO_SLOW", stream: "logs" });
  });

  it("a push waiting on a full subscriber resolves when the stream closes or it leaves", async () => {
    const streams = new StreamManager();
    const stream = streams.create("held", { delivery: "reliable", bufferSize: 1 });
    const full = streams.subscribe("held");
    await stream.push("a");
    const waiting = stream.push("b");
    full.close();
    expect(await waiting).toBe(0);
    const other = streams.subscribe("held");
    await stream.push("c");
    const waitingAgain = stream.push("d");
    await stream.close();
    expect(await waitingAgain).toBe(0);
    expect((await other.next()).value).toBe("c");
  });

  it("drop-oldest keeps the newest, as realtime streams do by default", async () => {
    const streams = new StreamManager();
    expect(streams.create("video").overflow.mode).toBe("drop-oldest");
    const stream = streams.create("log", {
      delivery: "reliable",
      bufferSize: 2,
      overflow: "drop-oldest",
    });
    const paused = streams.subscribe("log");
    for (let i = 0; i < 5; i++) await stream.push(i);
    expect(paused.stats).toMatchObject({ dropped: 3, depth: 2 });
  });

  it("rejects wait on a realtime stream, and bad policies or bounds", () => {
    const streams = new StreamManager();
    for (const options of [
      { overflow: "wait" },
      { delivery: "reliable", overflow: "block" },
      { delivery: "reliable", overflowWaitMs: 0 },
      { delivery: "reliable", overflowWaitMs: 1.5 },
      { delivery: "reliable", overflowWaitMs: 1e9 },
    ]) {
      expect(() => streams.create("x", options as never), JSON.stringify(options)).toThrow(
        InvalidArgumentError,
      );
    }
  });
});
