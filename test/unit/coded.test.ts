// Coded realtime frames (protocol 3): the erasure code, pieces, their reassembly with repair,
// the loss they measure, the reports, and the pacer that follows them.
import { describe, expect, it } from "vitest";
import { DelayTracker } from "../../src/peer/delay-tracker.js";
import { RealtimePacer } from "../../src/peer/pacer.js";
import { PathFeedback } from "../../src/peer/path-feedback.js";
import { clockMs } from "../../src/util/clock.js";
import { encodeRepair, rebuildSources } from "../../src/wire/erasure.js";
import { FrameError } from "../../src/wire/frame.js";
import { OutgoingMessage } from "../../src/wire/outgoing.js";
import {
  cutPieces,
  groupSizes,
  PIECE_BYTES,
  PIECE_HEADER_BYTES,
  type Piece,
  readPiece,
  repairCount,
  withHeldMs,
} from "../../src/wire/pieces.js";
import { Reassembler } from "../../src/wire/reassembler.js";
import { readReport, writeReport } from "../../src/wire/report.js";

/** A seeded generator (LCG), so every run drops the same pieces. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomBytes(n: number, random: () => number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
}

const reassembler = (onFirstPiece?: (piece: Piece) => void) =>
  new Reassembler(
    {
      maxMessageBytes: 16 * 1024 * 1024,
      maxPartials: 64,
      maxPartialBytes: 32 * 1024 * 1024,
      maxAgeMs: 5000,
      dropStale: true,
    },
    Date.now,
    onFirstPiece,
  );

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array) =>
  a !== undefined && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe("erasure code", () => {
  it("rebuilds the sources from any k of k + r pieces (300 seeded cases)", () => {
    const random = seeded(11);
    for (let trial = 0; trial < 300; trial++) {
      const k = 1 + Math.floor(random() * 128);
      const r = Math.floor(random() * 16);
      const sources = Array.from({ length: k }, () => randomBytes(32, random));
      const repairs = Array.from({ length: r }, (_, j) => {
        const piece = new Uint8Array(32);
        encodeRepair(sources, j, piece);
        return piece;
      });
      // Lose r pieces at random, sources and repairs alike.
      const lost = new Set<number>();
      while (lost.size < r) lost.add(Math.floor(random() * (k + r)));
      const held = sources.map((s, i) => (lost.has(i) ? undefined : s));
      const heldRepairs = new Map<number, Uint8Array>();
      repairs.forEach((p, j) => {
        if (!lost.has(k + j)) heldRepairs.set(j, p);
      });
      expect(rebuildSources(held, heldRepairs, 32)).toBe(true);
      for (const [i, piece] of held.entries()) {
        expect(sameBytes(piece, sources[i] as Uint8Array)).toBe(true);
      }
    }
  });

  it("says so when fewer than k pieces are left, and changes nothing", () => {
    const sources = [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])];
    const repair = new Uint8Array(1);
    encodeRepair(sources, 0, repair);
    const held = [undefined, undefined, sources[2]];
    expect(rebuildSources(held, new Map([[0, repair]]), 1)).toBe(false);
    expect(held).toEqual([undefined, undefined, sources[2]]);
  });
});

describe("pieces", () => {
  it("fit one SCTP packet, carry the age bound and timestamp, and split big messages into groups", () => {
    const body = new Uint8Array(500_000);
    const frames = cutPieces(body, { streamId: 3, seq: 9, sentAt: 123, maxAgeMs: 250 }, () => 2);
    const sizes = groupSizes(body.byteLength, PIECE_BYTES);
    expect(sizes.length).toBe(4); // 489 pieces in groups of at most 128
    expect(sizes).toEqual([123, 123, 123, 120]);
    expect(frames.length).toBe(489 + 4 * 2);
    for (const frame of frames) expect(frame.byteLength).toBe(PIECE_HEADER_BYTES + PIECE_BYTES);
    expect(readPiece(frames[0] as Uint8Array, 1 << 20)).toMatchObject({
      streamId: 3,
      seq: 9,
      sentAt: 123,
      maxAgeMs: 250,
      totalBytes: 500_000,
      heldMs: 0,
    });
  });

  it("a piece sent after a wait says so in a copy; the shared piece is untouched", () => {
    const [piece] = cutPieces(
      new Uint8Array(3000),
      { streamId: 1, seq: 1, sentAt: 5, maxAgeMs: 0 },
      () => 0,
    );
    const sent = withHeldMs(piece as Uint8Array, 42.4);
    expect(readPiece(sent, 1 << 20)).toMatchObject({ heldMs: 42, sentAt: 5 });
    expect(readPiece(piece as Uint8Array, 1 << 20).heldMs).toBe(0);
    expect(readPiece(withHeldMs(piece as Uint8Array, 1e9), 1 << 20).heldMs).toBe(0xffff);
    // The receiver learns the wait of the piece that came first, to take it out of the delay,
    // once per message, and whether or not the message ever completes.
    const firstPieces: Piece[] = [];
    const listening = reassembler((p) => firstPieces.push(p));
    const [, second, third] = cutPieces(
      new Uint8Array(3000),
      { streamId: 1, seq: 2, sentAt: 5, maxAgeMs: 0 },
      () => 0,
    );
    expect(listening.push(withHeldMs(second as Uint8Array, 7))).toBeUndefined();
    expect(listening.push(third as Uint8Array)).toBeUndefined();
    expect(firstPieces.map((p) => [p.seq, p.heldMs])).toEqual([[2, 7]]);
  });

  it("plan no repair on a clean path, and more as the loss grows", () => {
    expect(repairCount(49, 0)).toBe(0);
    const at = [0.005, 0.02, 0.1].map((loss) => repairCount(49, loss));
    expect(at[0]).toBeGreaterThan(0);
    expect(at[1]).toBeGreaterThan(at[0] as number);
    expect(at[2]).toBeGreaterThan(at[1] as number);
  });

  it("are refused with a FrameError when malformed: short, wrong size, bad group or index", () => {
    const [frame] = cutPieces(
      new Uint8Array(3000),
      { streamId: 1, seq: 1, sentAt: 0, maxAgeMs: 0 },
      () => 1,
    );
    const good = frame as Uint8Array;
    const bad = (edit: (view: DataView) => void) => {
      const copy = Uint8Array.from(good);
      edit(new DataView(copy.buffer));
      return copy;
    };
    expect(() => readPiece(good.subarray(0, 20), 1 << 20)).toThrow(FrameError);
    expect(() => readPiece(good.subarray(0, good.byteLength - 1), 1 << 20)).toThrow(FrameError);
    expect(() =>
      readPiece(
        bad((v) => v.setUint8(7, 1)),
        1 << 20,
      ),
    ).toThrow(FrameError); // group
    expect(() =>
      readPiece(
        bad((v) => v.setUint16(4, 2)),
        1 << 20,
      ),
    ).toThrow(FrameError); // k
    expect(() =>
      readPiece(
        bad((v) => v.setUint16(2, 4)),
        1 << 20,
      ),
    ).toThrow(FrameError); // index
    expect(() => readPiece(good, 2999)).toThrow(FrameError); // over maxMessageBytes
  });
});

describe("coded reassembly", () => {
  it("rebuilds frames that lost pieces on a seeded 3 % lossy link, and counts the loss", () => {
    const random = seeded(5);
    const r = reassembler();
    let whole = 0;
    let sent = 0;
    for (let seq = 1; seq <= 200; seq++) {
      const body = randomBytes(50_000, random);
      const message = new OutgoingMessage(1, seq, undefined, 1 << 20, 100, withRoom(body));
      expect(message.pieces(0)).toHaveLength(1); // a clean path: one piece, no repair
      const pieces = message.pieces(0.03);
      sent += pieces.length;
      let out: Uint8Array | undefined;
      for (const piece of pieces) {
        if (random() < 0.03) continue;
        out = r.push(piece)?.body ?? out;
      }
      if (sameBytes(out, body)) whole++;
    }
    expect(r.stats.messagesRebuilt).toBeGreaterThan(100); // 0.97^50 = 22 % lose nothing
    expect(whole).toBeGreaterThanOrEqual(195);
    expect(r.stats.messagesCompleted).toBe(whole);
    expect(sent).toBeGreaterThan(200 * 49);
  });

  it("a piece that does not match its message's first piece is counted invalid", () => {
    const r = reassembler();
    const header = { streamId: 1, seq: 1, sentAt: 5, maxAgeMs: 0 };
    const [first] = cutPieces(new Uint8Array(5000), header, () => 0);
    const [, other] = cutPieces(new Uint8Array(5000), { ...header, sentAt: 6 }, () => 0);
    r.push(first as Uint8Array);
    r.push(other as Uint8Array);
    expect(r.stats.framesInvalid).toBe(1);
  });
});

describe("path reports", () => {
  it("round-trip, and a malformed one is a FrameError", () => {
    const report = {
      loss: 0.021,
      sentAt: 4_000_000_000,
      echo: { sentAt: 17, heldMs: 3 },
      bytesReceived: 123_456,
      intervalMs: 101,
      queueDelayMs: 12,
      piecesSent: 4_294_967_295,
      packetsSent: 7,
    };
    expect(readReport(writeReport(report))).toEqual(report);
    const empty = { ...report, loss: undefined, echo: undefined, queueDelayMs: undefined };
    expect(readReport(writeReport(empty))).toEqual(empty);
    expect(() => readReport(new Uint8Array(10))).toThrow(FrameError);
    const badLoss = writeReport(report);
    new DataView(badLoss.buffer).setUint16(2, 5000);
    expect(() => readReport(badLoss)).toThrow(FrameError);
  });

  it("tell the sender the share of its packets lost, from its own counts", () => {
    const lossSeen = (pieceBytes: number, sent: number, came: number) => {
      const a = new PathFeedback();
      const b = new PathFeedback();
      b.onReport(readReport(a.nextReport())); // b starts counting
      for (let i = 0; i < sent; i++) a.sent(new Uint8Array(pieceBytes));
      for (let i = 0; i < came; i++) b.received(pieceBytes, true);
      b.received(32, false); // a report or keepalive is not a piece
      b.onReport(readReport(a.nextReport())); // a's counts have grown; b compares
      expect(a.loss).toBe(0);
      a.onReport(readReport(b.nextReport()));
      return a.loss;
    };
    expect(lossSeen(1056, 300, 225)).toBeCloseTo(0.25);
    // Frame-sized pieces of 49 packets: 63 % of them lost is 2 % of the packets.
    expect(lossSeen(49 * 1056, 100, 37)).toBeCloseTo(0.02, 3);
  });

  it("give each end the round trip and a clock offset once a report is echoed", () => {
    const a = new PathFeedback();
    const b = new PathFeedback();
    expect(a.ageOf(0)).toBeUndefined();
    b.onReport(readReport(a.nextReport()));
    a.onReport(readReport(b.nextReport()));
    expect(a.stats.rttMs).toBeGreaterThanOrEqual(0);
    expect(Math.abs(a.stats.clockOffsetMs as number)).toBeLessThanOrEqual(a.stats.rttMs as number);
    a.setClockOffset(1000);
    expect(a.stats.clockOffsetMs).toBe(1000);
  });
});

describe("queueing delay and pacing", () => {
  it("the delay tracker reports the excess over the shortest delay seen, whatever the clock offset", () => {
    const delays = new DelayTracker();
    const offset = 987_654; // the two clocks differ by this much
    for (const [at, oneWay] of [
      [0, 25],
      [100, 27],
      [200, 60],
      [300, 26],
    ] as const) {
      delays.add(offset + oneWay, at);
    }
    expect(delays.take()).toBe(35);
    expect(delays.take()).toBeUndefined();
  });

  it("the receiver's report carries the queue its first pieces waited in, completed or not", () => {
    const feedback = new PathFeedback();
    // Two messages' first pieces: one went to the engine 20 ms ago, one a second before it
    // arrived. Neither message completes: the queue is still reported.
    feedback.firstPieceCame(clockMs() - 20);
    feedback.firstPieceCame(clockMs() - 1020);
    const { queueDelayMs } = readReport(feedback.nextReport());
    expect(queueDelayMs).toBeGreaterThanOrEqual(950);
    expect(queueDelayMs).toBeLessThanOrEqual(1050);
    expect(readReport(feedback.nextReport()).queueDelayMs).toBeUndefined();
  });

  it("on a long path the pacer starts at 32 KB per round trip, doubles while no queue builds, and leaves a clean path at its first loss sample", () => {
    const pacer = new RealtimePacer();
    // No round trip measured yet: unpaced, but the advice is the start rate of a 100 ms path.
    pacer.onReport(5, 100_000, 0);
    expect(pacer.bytesPerSecond).toBe(Number.POSITIVE_INFINITY);
    expect(pacer.payloadBytesPerSecond).toBe((32 * 1024) / 0.1);
    pacer.roundTrip(60);
    expect(pacer.bytesPerSecond).toBe((32 * 1024) / 0.06);
    expect(pacer.payloadBytesPerSecond).toBe((32 * 1024) / 0.06);
    pacer.roundTrip(70); // only a shorter one counts, and only the first sets the rate
    pacer.roundTrip(50);
    expect(pacer.bytesPerSecond).toBe((32 * 1024) / 0.06);
    pacer.onReport(5, 1_000_000, 0);
    expect(pacer.bytesPerSecond).toBe((2 * 32 * 1024) / 0.06);
    pacer.onReport(5, 1_000_000, 0); // doubling stops at twice what arrived
    expect(pacer.bytesPerSecond).toBe(2_000_000);
    pacer.onReport(80, 1_000_000, 0); // a queue: held, not cut, before the loss is known
    expect(pacer.bytesPerSecond).toBe(2_000_000);
    pacer.onReport(80, 1_000_000, 0, 0); // the first loss sample: none
    expect(pacer.bytesPerSecond).toBe(Number.POSITIVE_INFINITY);
    pacer.roundTrip(40); // after the start, round trips do not pace
    expect(pacer.bytesPerSecond).toBe(Number.POSITIVE_INFINITY);
  });

  it("a short round trip leaves the lane unpaced from the start, even after a longer first one", () => {
    const pacer = new RealtimePacer();
    pacer.roundTrip(45); // a first sample taken while the peers were still busy
    expect(Number.isFinite(pacer.bytesPerSecond)).toBe(true);
    pacer.roundTrip(2);
    expect(pacer.bytesPerSecond).toBe(Number.POSITIVE_INFINITY);
    pacer.onReport(5, 1_000_000, 0);
    expect(pacer.bytesPerSecond).toBe(Number.POSITIVE_INFINITY);
  });

  it("a pacer whose first loss sample shows loss stays paced, and cuts when the path queues", () => {
    const pacer = new RealtimePacer();
    pacer.roundTrip(50);
    pacer.onReport(80, 500_000, 0.02, 0.02);
    expect(pacer.bytesPerSecond).toBe(425_000);
  });

  it("after its start, the pacer leaves a clean path alone, cuts to below what arrived when a lossy path queues, and grows back", () => {
    const pacer = new RealtimePacer();
    pacer.onReport(5, 1_000_000, 0, 0);
    pacer.onReport(80, 1_000_000, 0); // a queue without loss: the engine's to handle
    expect(pacer.bytesPerSecond).toBe(Number.POSITIVE_INFINITY);
    expect(pacer.delayMs()).toBe(0);
    pacer.onReport(80, 1_000_000, 0.02, 0.02);
    expect(pacer.bytesPerSecond).toBe(850_000);
    pacer.spend(85_000, 85_000); // 100 ms worth
    expect(pacer.delayMs()).toBeGreaterThan(50);
    pacer.onReport(5, 1_000_000, 0.02);
    expect(pacer.bytesPerSecond).toBeGreaterThan(850_000);
    expect(pacer.bytesPerSecond).toBeLessThanOrEqual(2_000_000);
  });

  it("on the RTP lane, across a lossy path the start goes on doubling until the path queues", () => {
    const pacer = new RealtimePacer();
    pacer.keepsPacing = true;
    pacer.roundTrip(50);
    pacer.onReport(5, 10_000_000, 0.02, 0.02); // lossy, no queue: still starting
    expect(pacer.bytesPerSecond).toBe((2 * 32 * 1024) / 0.05);
    pacer.onReport(5, 10_000_000, 0.02);
    expect(pacer.bytesPerSecond).toBe((4 * 32 * 1024) / 0.05);
    pacer.onReport(80, 1_000_000, 0.02, 0.02); // the path queues: the start ends in a cut
    expect(pacer.bytesPerSecond).toBe(850_000);
    pacer.onReport(5, 1_000_000, 0.02);
    expect(pacer.bytesPerSecond).toBe(850_000 * 1.05);
  });

  it("a loss sample over 25 % cuts a paced rate with no queue (a policer)", () => {
    const pacer = new RealtimePacer();
    pacer.roundTrip(50);
    pacer.onReport(5, 600_000, 0.4, 0.4); // a short queue, 40 % dropped
    expect(pacer.bytesPerSecond).toBe(510_000);
  });

  it("while the lane has the RTP path, a clean first loss sample leaves a long path paced", () => {
    const pacer = new RealtimePacer();
    pacer.keepsPacing = true;
    pacer.roundTrip(50);
    pacer.onReport(5, 1_000_000, 0, 0);
    expect(pacer.bytesPerSecond).toBe((2 * 32 * 1024) / 0.05);
  });

  it("a paced path plans repair for 2 % loss until its first loss sample; an unpaced one for none", () => {
    const paced = new PathFeedback();
    paced.pacer.roundTrip(50);
    expect(paced.loss).toBe(0.02);
    const unpaced = new PathFeedback();
    unpaced.pacer.roundTrip(5);
    expect(unpaced.loss).toBe(0);
  });

  it("the capacity offered is the pacing rate less what repair and headers take of it", () => {
    const pacer = new RealtimePacer();
    pacer.onReport(80, 1_000_000, 0.02, 0.02);
    expect(pacer.payloadBytesPerSecond).toBe(850_000);
    for (let i = 0; i < 100; i++) pacer.spend(60_000, 50_000); // a 50 KB frame and its repair
    expect(pacer.payloadBytesPerSecond).toBeCloseTo((850_000 * 5) / 6, -2);
  });
});

/** A body with the header room OutgoingMessage expects in front of an encoding. */
function withRoom(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(20 + body.byteLength);
  out.set(body, 20);
  return out;
}
