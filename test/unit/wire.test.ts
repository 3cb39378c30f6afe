import { describe, expect, it } from "vitest";
import { seqAfter } from "../../src/core/delivery.js";
import { InvalidArgumentError, MessageTooLargeError } from "../../src/core/errors.js";
import { decodeBody, encodeBody } from "../../src/wire/codec.js";
import { FrameError, HEADER_BYTES, readFrame } from "../../src/wire/frame.js";
import { OutgoingMessage } from "../../src/wire/outgoing.js";
import { Reassembler, type ReassemblerLimits } from "../../src/wire/reassembler.js";

const MAX_FRAME = 64 * 1024;
const limits = (over: Partial<ReassemblerLimits> = {}): ReassemblerLimits => ({
  maxMessageBytes: 16 * 1024 * 1024,
  maxPartials: 64,
  maxPartialBytes: 32 * 1024 * 1024,
  maxAgeMs: 5000,
  dropStale: true,
  ...over,
});

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

describe("codec", () => {
  it("round-trips binary values byte for byte inside plain MessagePack", () => {
    const frame = bytes(100_000);
    const decoded = decodeBody(
      encodeBody({ frame, t: 1.5, tags: ["a"], nested: { ok: true } }),
    ) as {
      frame: Uint8Array;
      t: number;
      tags: string[];
      nested: { ok: boolean };
    };
    expect(decoded.frame).toBeInstanceOf(Uint8Array);
    expect(Buffer.compare(Buffer.from(decoded.frame), Buffer.from(frame))).toBe(0);
    expect(decoded).toMatchObject({ t: 1.5, tags: ["a"], nested: { ok: true } });
  });

  it("writes plain MessagePack only: undefined is nil, and unencodable values throw a typed error", () => {
    expect([...encodeBody(undefined)]).toEqual([0xc0]);
    expect(decodeBody(encodeBody({ a: undefined }))).toEqual({ a: null });
    expect(encodeBody({ a: undefined }).includes(0xd4)).toBe(false); // no fixext extension
    expect(() => encodeBody(10n ** 30n)).toThrow(InvalidArgumentError);
  });

  it("maps numbers as a JS handler expects: 64-bit integers within 2^53 are numbers", () => {
    // What another library (Python's msgpack) writes for 2^40 and 2^60 as uint64 (0xcf), and
    // for -2^40 as int64 (0xd3).
    const uint64 = (n: bigint) => {
      const out = new Uint8Array(9);
      out[0] = 0xcf;
      new DataView(out.buffer).setBigUint64(1, n);
      return out;
    };
    const int64 = new Uint8Array(9);
    int64[0] = 0xd3;
    new DataView(int64.buffer).setBigInt64(1, -(2n ** 40n));
    expect(decodeBody(uint64(2n ** 40n))).toBe(2 ** 40);
    expect(decodeBody(int64)).toBe(-(2 ** 40));
    expect(JSON.stringify({ n: decodeBody(uint64(2n ** 53n)) })).toBe(`{"n":${2 ** 53}}`);
    // Beyond 2^53 a number would not be exact: a BigInt, as before.
    expect(decodeBody(uint64(2n ** 60n))).toBe(2n ** 60n);
    // A whole-valued double from JS goes as an integer (JS cannot tell 3.0 from 3), and an
    // integer beyond 32 bits as a 64-bit float: exact, and a number again here.
    expect(encodeBody(3.0)).toEqual(encodeBody(3));
    expect(decodeBody(encodeBody(2 ** 40))).toBe(2 ** 40);
  });

  it("throws on malformed bodies", () => {
    expect(() => decodeBody(new Uint8Array([0x92, 0x01]))).toThrow(); // array of 2, one element
    expect(() => decodeBody(new Uint8Array([0x01, 0x02]))).toThrow(); // trailing bytes
    expect(() => decodeBody(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]))).toThrow(); // 4G-element array, no data
  });
});

describe("frames", () => {
  it("a renumbered copy of a message already cut leaves the original's frame as it was", () => {
    const original = new OutgoingMessage(7, 1, { small: true }, 1 << 20);
    const [sent] = original.frames(MAX_FRAME); // one frame: the header written in place
    const copy = original.renumbered(9, 5);
    const [resent] = copy.frames(MAX_FRAME);
    expect(readFrame(sent as Uint8Array, 1 << 20)).toMatchObject({ streamId: 7, seq: 1 });
    expect(readFrame(resent as Uint8Array, 1 << 20)).toMatchObject({ streamId: 9, seq: 5 });
  });

  it("cuts a 500 KB message into frames no larger than the limit, and reassembles it", () => {
    const value = { frame: bytes(500_000) };
    const message = new OutgoingMessage(7, 42, value, 16 * 1024 * 1024);
    const frames = message.frames(MAX_FRAME);
    expect(frames.length).toBe(Math.ceil(message.byteLength / (MAX_FRAME - HEADER_BYTES)));
    for (const f of frames) expect(f.byteLength).toBeLessThanOrEqual(MAX_FRAME);
    // Cut once per frame size: the same arrays come back.
    expect(message.frames(MAX_FRAME)).toBe(frames);

    const r = new Reassembler(limits());
    const shuffled = [...frames].reverse();
    const results = shuffled.map((f) => r.push(f)).filter((x) => x !== undefined);
    expect(results).toHaveLength(1);
    expect(results[0]?.streamId).toBe(7);
    expect(results[0]?.seq).toBe(42);
    const decoded = decodeBody(results[0]?.body as Uint8Array) as { frame: Uint8Array };
    expect(Buffer.compare(Buffer.from(decoded.frame), Buffer.from(value.frame))).toBe(0);
    expect(r.heldMessages).toBe(0);
    expect(r.heldBytes).toBe(0);
  });

  it("sends a one-frame message from its encoding buffer, header in front, without a copy", () => {
    const value = { frame: bytes(50_000) };
    const message = new OutgoingMessage(3, 9, value, 16 * 1024 * 1024);
    const [frame, ...rest] = message.frames(MAX_FRAME);
    expect(rest).toHaveLength(0);
    expect(frame?.buffer).toBe(message.body.buffer);
    expect(frame?.byteOffset).toBe(message.body.byteOffset - HEADER_BYTES);
    const done = new Reassembler(limits()).push(frame as Uint8Array);
    expect(done?.streamId).toBe(3);
    expect(done?.seq).toBe(9);
    const decoded = decodeBody(done?.body as Uint8Array) as { frame: Uint8Array };
    expect(Buffer.compare(Buffer.from(decoded.frame), Buffer.from(value.frame))).toBe(0);
  });

  it("refuses a message over maxMessageBytes at push time", () => {
    expect(() => new OutgoingMessage(1, 1, bytes(2000), 1000)).toThrow(MessageTooLargeError);
  });

  it("rejects short, foreign and inconsistent frames with FrameError", () => {
    const good = new OutgoingMessage(1, 1, "hi", 1000).frames(MAX_FRAME)[0] as Uint8Array;
    expect(() => readFrame(good.subarray(0, 10), 1000)).toThrow(FrameError);
    const badVersion = Uint8Array.from(good);
    badVersion[0] = 9;
    expect(() => readFrame(badVersion, 1000)).toThrow(FrameError);
    const badIndex = Uint8Array.from(good);
    badIndex[3] = 5; // chunk index 5 of 1
    expect(() => readFrame(badIndex, 1000)).toThrow(FrameError);
    expect(() => readFrame(good, 1)).toThrow(FrameError); // over the size limit
    expect(readFrame(good, 1000).payload.byteLength).toBe(good.byteLength - HEADER_BYTES);
  });
});

describe("reassembler", () => {
  const frameSet = (seq: number, size = 200_000, streamId = 1) =>
    new OutgoingMessage(streamId, seq, bytes(size, seq), 16 * 1024 * 1024).frames(MAX_FRAME);

  it("drops a realtime message whose chunk is missing, whole, and counts it", () => {
    const r = new Reassembler(limits());
    const first = frameSet(1);
    const second = frameSet(2);
    for (const f of first.slice(1)) expect(r.push(f)).toBeUndefined(); // chunk 0 lost
    const delivered = second.map((f) => r.push(f)).filter(Boolean);
    expect(delivered.map((d) => d?.seq)).toEqual([2]);
    expect(r.stats.messagesIncomplete).toBe(1);
    expect(r.heldMessages).toBe(0);
    // The lost chunk arriving late is stale now, and never delivers a partial message.
    expect(r.push(first[0] as Uint8Array)).toBeUndefined();
    expect(r.stats.messagesStale).toBe(1);
  });

  it("holds at most maxPartials partial messages and maxPartialBytes bytes", () => {
    const r = new Reassembler(limits({ maxPartials: 4, maxPartialBytes: 300_000 }));
    for (let seq = 1; seq <= 20; seq++) {
      r.push(frameSet(seq, 100_000, seq)[0] as Uint8Array); // first chunk only, distinct streams
      expect(r.heldMessages).toBeLessThanOrEqual(4);
      expect(r.heldBytes).toBeLessThanOrEqual(300_000);
    }
    expect(r.stats.messagesIncomplete).toBeGreaterThanOrEqual(16);
  });

  it("forgets partial messages older than maxAgeMs as new frames arrive", () => {
    let now = 0;
    const r = new Reassembler(limits({ maxAgeMs: 1000 }), () => now);
    r.push(frameSet(1, 100_000, 1)[0] as Uint8Array);
    expect(r.heldMessages).toBe(1);
    now = 1500;
    r.push(frameSet(1, 100_000, 2)[0] as Uint8Array);
    expect(r.heldMessages).toBe(1);
    expect(r.stats.messagesIncomplete).toBe(1);
    r.clear();
    expect(r.heldBytes).toBe(0);
  });

  it("on reliable channels delivers every message, even older sequence numbers", () => {
    const r = new Reassembler(limits({ dropStale: false }));
    const m5 = new OutgoingMessage(1, 5, "five", 1000).frames(MAX_FRAME)[0] as Uint8Array;
    const m4 = new OutgoingMessage(1, 4, "four", 1000).frames(MAX_FRAME)[0] as Uint8Array;
    expect(r.push(m5)?.seq).toBe(5);
    expect(r.push(m4)?.seq).toBe(4);
  });

  it("counts random garbage as invalid frames and never throws", () => {
    const r = new Reassembler(limits({ maxMessageBytes: 1 << 20 }));
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed;
    };
    for (let i = 0; i < 5000; i++) {
      const junk = new Uint8Array(rand() % 200);
      for (let j = 0; j < junk.length; j++) junk[j] = rand() & 0xff;
      if (junk.length > 1 && i % 2 === 0) {
        junk[0] = 1;
        junk[1] = 1;
      }
      expect(() => r.push(junk)).not.toThrow();
    }
    expect(r.stats.framesInvalid).toBeGreaterThan(0);
    expect(r.heldMessages).toBeLessThanOrEqual(64);
  });

  it("compares sequence numbers across the u32 wrap", () => {
    expect(seqAfter(1, 0xffffffff)).toBe(true);
    expect(seqAfter(0xffffffff, 1)).toBe(false);
    expect(seqAfter(5, 5)).toBe(false);
  });
});
