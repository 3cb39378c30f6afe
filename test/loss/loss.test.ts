// Streams over a slow, lossy link (2 % loss and 25 ms each way) between this process and a
// viewer process in its own namespace: realtime frames that lose pieces are rebuilt from
// repair, and none arrives older than its bound; reliable loses nothing; plain Socket.IO on
// the same link is the comparison.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createImpairedLink, type ImpairedLink } from "../helpers/impaired-link.js";
import { FPS, streamConduit, streamSocketIo } from "../helpers/lossy-stream.js";
import { ENGINES, Resources } from "../helpers/net.js";

const DELAY_MS = 25;
const LOSS = 0.02;
const FRAMES = 150;
/** 30 fps × 50 KB is more than one association carries through this link at 2 % loss: frames
 * wait, and the bound is tested. */
const MAX_AGE_MS = 300;
/** The receiver's clock estimate may be off by up to half the round trip, and the viewer
 * measures after decoding: what it sees may exceed the bound by that much. */
const AGE_SLACK_MS = DELAY_MS + 50;
/** werift's SCTP carries ~0.1 MB/s on this link, with stalls of seconds when a retransmission
 * is lost too (its RTO starts at 1 s and doubles): the reliable run is 600 KB, so that it
 * tests delivery, not werift's throughput against the test's timeout. */
const RELIABLE_FRAMES = 60;
/** 10 s of frames: the capacity estimate has the first half to settle. */
const CAPACITY_FRAMES = 300;
const RELIABLE_FRAME_BYTES = 10_000;
const BOTTLENECK_BYTES_PER_S = 1_500_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe(`${LOSS * 100} % loss, ${DELAY_MS} ms each way`, { timeout: 90_000 }, () => {
  const res = new Resources();
  let link: ImpairedLink;
  const realtimeP99: Record<string, number> = {};

  beforeAll(async () => {
    link = await createImpairedLink({ delayMs: DELAY_MS, loss: 0, seed: 7 });
  });
  afterAll(async () => {
    await res.closeAll();
    if (link) console.log("link:", JSON.stringify(await link.close()));
  });

  for (const engine of ENGINES) {
    it(`realtime on ${engine}: frames that lose pieces are rebuilt; none is older than its bound`, async () => {
      const run = await streamConduit(res, link, engine, "realtime", FRAMES, LOSS, {
        maxAgeMs: MAX_AGE_MS,
      });
      const { received } = run;
      console.log(`realtime ${engine}:`, JSON.stringify(run));
      if (received.count > 0) realtimeP99[engine] = received.p99;
      expect(run.viewerExitCode).toBe(0);
      expect(received.intact).toBe(true);
      expect(received.duplicates).toBe(0);
      // Every frame from the first one received arrived whole, or was counted lost (never
      // came) or expired (came too old); counting may start at an expired one before it.
      const { lost = -1, expired = -1 } = received;
      const accounted = received.count + lost + expired;
      if (received.count > 0) expect(accounted).toBeGreaterThanOrEqual(FRAMES - received.first + 1);
      expect(accounted).toBeLessThanOrEqual(FRAMES);
      // Whatever arrived is within its bound: by the receiver's clock estimate, and by ours.
      if (received.count > 0) expect(received.ageP99).toBeLessThanOrEqual(MAX_AGE_MS);
      expect(received.max ?? 0).toBeLessThanOrEqual(MAX_AGE_MS + AGE_SLACK_MS);
      // A 50 KB frame is 49 pieces: at 2 % loss, 0.98^49 = 37 % arrive without a loss.
      expect(received.rebuilt).toBeGreaterThan(0);
      expect(received.count).toBeGreaterThan(0);
      // Between Node ends the paced pieces take the RTP lane, and so do the viewer's path
      // reports the other way (its own lane is paced on this long path too).
      expect(run.rtpLane?.open).toBe(true);
      expect(run.rtpLane?.packetsSent).toBeGreaterThan(0);
      expect(received.rtpPacketsReceived).toBeGreaterThan(0);
      expect(run.rtpLane?.packetsReceived).toBeGreaterThan(0);
    });

    it(`capacity on ${engine}: a sender that sends what it offers gets that through, within 30 %`, async () => {
      // Frames sized to the whole capacity offered, up to 100 KB (3 MB/s: more than the path
      // carries, a bottleneck of BOTTLENECK_BYTES_PER_S behind the loss).
      link.setRate(BOTTLENECK_BYTES_PER_S);
      const run = await streamConduit(res, link, engine, "realtime", CAPACITY_FRAMES, LOSS, {
        followAdvice: true,
        adviceShare: 1,
        frameBytes: 100_000,
      }).finally(() => link.setRate(0));
      expect(run.viewerExitCode).toBe(0);
      // Compared second by second over the second half (the first is the estimate
      // converging): what was offered while a second's frames went, against what of them
      // arrived. The estimate follows the reports, so a sudden collapse of the path (an SCTP
      // timeout) makes one second miss; the estimate is judged by its typical second.
      const arrived = new Set(run.received.seen);
      const seconds = [];
      for (let start = CAPACITY_FRAMES / 2; start < CAPACITY_FRAMES; start += FPS) {
        const frames = (run.sent ?? []).slice(start, start + FPS);
        const offered = frames.map((f) => f.capacity).filter(Number.isFinite);
        const goodput = frames.reduce(
          (sum, f, i) => sum + (arrived.has(start + i + 1) ? f.bytes : 0),
          0,
        );
        seconds.push({ offered: offered.length > FPS / 2 ? median(offered) : Number.NaN, goodput });
      }
      // A second with no estimate or nothing arrived is as far off as can be.
      const errors = seconds.map(({ offered, goodput }) =>
        goodput > 0 && Number.isFinite(offered) ? Math.abs(offered - goodput) / goodput : Infinity,
      );
      console.log(`capacity ${engine}, second by second (B/s):`, JSON.stringify(seconds));
      expect(median(errors)).toBeLessThanOrEqual(0.3);
    });

    it(`reliable on ${engine}: every message arrives, in order, once`, async () => {
      const run = await streamConduit(res, link, engine, "reliable", RELIABLE_FRAMES, LOSS, {
        frameBytes: RELIABLE_FRAME_BYTES,
        // A stall then fails with what arrived and the server's view, not a bare timeout (the
        // one seen, werift holding the last message, is fixed in werift-reassembly.ts).
        deadlineMs: 60_000,
      });
      console.log(`reliable ${engine}:`, JSON.stringify(run.received), JSON.stringify(run.sender));
      expect(run.viewerExitCode).toBe(0);
      expect(run.received).toMatchObject({
        count: RELIABLE_FRAMES,
        first: 1,
        last: RELIABLE_FRAMES,
        inOrder: true,
        duplicates: 0,
        intact: true,
        lost: 0,
      });
    });
  }

  it("Socket.IO on the same link: everything arrives, behind any lost packet", async () => {
    const { received, viewerExitCode } = await streamSocketIo(res, link, FRAMES, LOSS);
    console.log("socket.io:", JSON.stringify(received));
    for (const [engine, p99] of Object.entries(realtimeP99)) {
      console.log(
        `p99 one-way: conduit realtime on ${engine} ${p99.toFixed(1)} ms, Socket.IO ${received.p99.toFixed(1)} ms (ratio ${(p99 / received.p99).toFixed(2)})`,
      );
    }
    expect(viewerExitCode).toBe(0);
    expect(received).toMatchObject({ count: FRAMES, inOrder: true, duplicates: 0, intact: true });
  });
});
