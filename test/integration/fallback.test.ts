// The fallback: data relayed over the Socket.IO connection when WebRTC is off or cannot
// connect (UDP blocked), with the same API and delivery, and the move back to WebRTC.
import { afterEach, describe, expect, it } from "vitest";
import { createImpairedLink } from "../helpers/impaired-link.js";
import { connectClient, pattern, Resources, startServer, until } from "../helpers/net.js";
import { numberedPusher, startResumeViewer } from "../helpers/resume-run.js";

const res = new Resources();
afterEach(() => res.closeAll());

describe("webrtc: false", () => {
  it("relays both ways over Socket.IO: same API, reliable in order, large messages whole", async () => {
    const { server, streams } = await startServer(res, "node-datachannel");
    const bulk = streams.create("bulk", { delivery: "reliable", bufferSize: 40 });
    const live = streams.create("live", { delivery: "realtime" });
    const { client, streams: clientStreams } = await connectClient(
      res,
      server,
      "node-datachannel",
      {
        webrtc: false,
      },
    );
    expect(client.status.state).toBe("fallback");
    expect(server.clientStats()[0]?.transport).toBe("relay");
    expect((await clientStreams.listServerStreams()).map((s) => s.name).sort()).toEqual([
      "bulk",
      "live",
    ]);

    // 20 × 300 KB: each cut into five frames, acknowledged and flow-controlled.
    const got: { n: number; ok: boolean }[] = [];
    const bulkDone = (async () => {
      for await (const m of clientStreams.subscribe("bulk")) {
        const { n, data } = m as { n: number; data: Uint8Array };
        got.push({
          n,
          ok: Buffer.compare(Buffer.from(data), Buffer.from(pattern(300_000, n))) === 0,
        });
        if (n === 20) break;
      }
    })();
    const liveFirst = clientStreams.subscribe("live").next();
    await until(() => bulk.subscriberCount === 1 && live.subscriberCount === 1, "subscribed");
    for (let n = 1; n <= 20; n++) await bulk.push({ n, data: pattern(300_000, n) });
    await live.push({ now: 1 });
    await bulkDone;
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => ({ n: i + 1, ok: true })));
    expect((await liveFirst).value).toEqual({ now: 1 });

    // Client streams too.
    const ups: number[] = [];
    streams.onClientStream("up", (_id, d) => ups.push((d as { n: number }).n));
    for (let n = 1; n <= 50; n++)
      await clientStreams.pushToServer("up", { n }, { delivery: "reliable" });
    await until(() => ups.length === 50, "client stream over the relay");
    expect(ups).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(server.clientStats()[0]?.protocolViolations ?? 0).toBe(0);
  });
});

describe("UDP blocked", () => {
  it.each(["node-datachannel", "werift"] as const)(
    "%s: falls back to the relay, data flows, and it moves to WebRTC once UDP is back",
    async (engine) => {
      const link = await createImpairedLink({ delayMs: 1, loss: 0 });
      res.add(() => link.close().then(() => undefined));
      link.blockUdp(true);
      const { server, streams } = await startServer(res, engine, {
        host: link.hostAddress,
        iceBindAddress: link.hostAddress,
      });
      const stream = streams.create("frames", { delivery: "reliable", bufferSize: 600 });
      const ups: number[] = [];
      streams.onClientStream("up", (_id, d) => ups.push((d as { n: number }).n));
      const { statuses, result } = startResumeViewer(res, link, server, engine, {
        FALLBACK_AFTER_MS: "1500",
        UPGRADE_AFTER_MS: "1000",
      });
      await until(() => stream.subscriberCount === 1, "viewer subscribed over the relay", 20_000);
      expect(statuses.some((l) => l.startsWith("status fallback"))).toBe(true);

      const pusher = numberedPusher(stream);
      await pusher.pushFor(1500);
      const relayedUps = ups.length;
      link.blockUdp(false);
      const unblockedAt = performance.now();
      await until(() => statuses.some((l) => l.startsWith("status connected")), "upgraded", 20_000);
      const upgradedAfter = performance.now() - unblockedAt;
      await pusher.pushFor(1500);
      await stream.close();
      const { seqs, lost } = await result;
      console.log(
        `${engine}: UDP blocked → ${statuses.join(", ")}; upgraded ${Math.round(upgradedAfter)} ms ` +
          `after UDP came back; ${seqs.length}/${pusher.sent()} received; client pushes ${relayedUps} relayed, ${ups.length} in all`,
      );
      // Every frame, in order, once, across the move from the relay to WebRTC; pushes too.
      expect(seqs).toEqual(Array.from({ length: pusher.sent() }, (_, i) => i + 1));
      expect(lost).toBe(0);
      expect(relayedUps).toBeGreaterThan(0);
      expect(ups).toEqual(Array.from({ length: ups.length }, (_, i) => i + 1));
    },
  );
});
