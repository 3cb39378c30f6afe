// VideoRelay on a server's StreamManager, in one process: chunks out to viewers, bad ones
// counted and dropped, keyframe requests merged and sent to the source.
import { afterEach, describe, expect, it } from "vitest";
import { StreamManager, type VideoChunk, VideoRelay } from "../../src/index.js";
import { controlOf } from "../../src/video/chunk.js";
import { Resources, until } from "../helpers/net.js";

const res = new Resources();
afterEach(() => res.closeAll());

const chunk = (frame: number, key = false): VideoChunk => ({
  key,
  frame,
  timestamp: frame * 33_333,
  codec: "vp8",
  width: 320,
  height: 240,
  data: new Uint8Array([frame & 0xff, 1, 2]),
});

function relayOn(streams: StreamManager, keyframeIntervalMs: number) {
  const relay = new VideoRelay(streams, { stream: "cam", keyframeIntervalMs });
  res.add(() => relay.close());
  return relay;
}

describe("VideoRelay", () => {
  it("relays chunks to every viewer; anything else is counted and dropped", async () => {
    const streams = new StreamManager({ owner: "server" });
    const relay = relayOn(streams, 0);
    const a = streams.subscribe("cam");
    const b = streams.subscribe("cam");
    expect(await relay.push(chunk(1, true))).toBe(2);
    for (const bad of [null, "frame", { ...chunk(2), data: [1, 2] }, { ...chunk(2), codec: "" }]) {
      expect(await relay.push(bad)).toBe(0);
    }
    expect(relay.malformed).toBe(4);
    await relay.push(chunk(2));
    for (const viewer of [a, b]) {
      expect(((await viewer.next()).value as VideoChunk).frame).toBe(1);
      expect(((await viewer.next()).value as VideoChunk).frame).toBe(2);
    }
  });

  it("a new viewer and a viewer's request each ask the source for a keyframe, merged when close", async () => {
    const streams = new StreamManager({ owner: "server" });
    const relay = relayOn(streams, 60_000);
    const asked: number[] = [];
    relay.on("keyframeRequest", () => asked.push(asked.length));
    const control = streams.subscribe(controlOf("cam"));
    streams.subscribe("cam"); // a viewer joins: the first request goes at once
    await until(() => asked.length === 1, "the first request");
    expect((await control.next()).value).toEqual({ keyframe: true });
    // More within the interval are one, held until it has passed: none now.
    relay.requestKeyframe();
    streams.subscribe("cam");
    relay.requestKeyframe();
    expect(asked).toHaveLength(1);
    expect(relay.keyframeRequests).toBe(1);
  });

  it("with no interval, every request reaches the source", async () => {
    const streams = new StreamManager({ owner: "server" });
    const relay = relayOn(streams, 0);
    for (let i = 0; i < 3; i++) relay.requestKeyframe();
    expect(relay.keyframeRequests).toBe(3);
  });
});
