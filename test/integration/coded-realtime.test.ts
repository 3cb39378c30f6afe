// Protocol 3's coded realtime lane between real peers on loopback: negotiated in hello, so a
// protocol-2 client still gets plain frames; ages and path figures reach the application.
import { afterEach, describe, expect, it } from "vitest";
import type { PathReport } from "../../src/index.js";
import { FRAME_KIND_MESSAGE, readFrame } from "../../src/wire/frame.js";
import { FRAME_KIND_PIECE } from "../../src/wire/pieces.js";
import { Reassembler } from "../../src/wire/reassembler.js";
import { FRAME_KIND_REPORT } from "../../src/wire/report.js";
import { connectClient, ENGINES, Resources, startServer, until } from "../helpers/net.js";
import { rawPeer } from "../helpers/raw-peer.js";

const res = new Resources();
afterEach(() => res.closeAll());

const frame = (n: number) => ({ n, data: new Uint8Array(20_000).fill(n) });

describe.each(ENGINES)("coded realtime (%s)", (engine) => {
  it("a protocol-2 client gets plain frames and no reports; a protocol-3 one on the same stream gets pieces and reports", async () => {
    const { server, streams } = await startServer(res, engine);
    const stream = streams.create("video");
    const peers = {
      old: await rawPeer(res, server.port, engine, { protocol: 2 }),
      coded: await rawPeer(res, server.port, engine, { protocol: 3 }),
    };
    for (const peer of Object.values(peers)) {
      expect((await peer.request("subscribe", { stream: "video" })).ok).toBe(true);
      expect((await peer.request("start", { stream: "video" })).ok).toBe(true);
    }
    // 20 KB: one plain frame, or 20 pieces.
    const kinds = (p: (typeof peers)["old"]) => new Set(p.received.map((f) => f[1]));
    const coded = new Reassembler({
      maxMessageBytes: 1 << 20,
      maxPartials: 64,
      maxPartialBytes: 1 << 22,
      maxAgeMs: 5000,
      dropStale: true,
    });
    let n = 0;
    // Pushed until the coded peer has seen a report too (they come every 100 ms).
    await until(async () => {
      await stream.push(frame(++n));
      return kinds(peers.coded).has(FRAME_KIND_REPORT) && peers.old.received.length >= 3;
    }, "frames on both peers, and a report on the coded one");
    expect([...kinds(peers.old)]).toEqual([FRAME_KIND_MESSAGE]);
    for (const f of peers.old.received) expect(readFrame(f, 1 << 20).chunkCount).toBe(1);
    expect([...kinds(peers.coded)].sort()).toEqual([FRAME_KIND_PIECE, FRAME_KIND_REPORT]);
    const bodies = peers.coded.received
      .filter((f) => f[1] === FRAME_KIND_PIECE)
      .map((f) => coded.push(f))
      .filter((m) => m !== undefined);
    expect(bodies.length).toBeGreaterThanOrEqual(1);
    expect(bodies[0]?.maxAgeMs).toBe(500); // the default bound travels with each piece
  });

  it("a Client sees the age of what it receives and the path figures; so does the server", async () => {
    const { server, streams } = await startServer(res, engine);
    const stream = streams.create("video", { maxAgeMs: 2000 });
    const received: number[] = [];
    streams.onClientStream("up", () => {});
    const serverHeard = new Promise<PathReport>((resolve) =>
      server.on("path", (_clientId, report) => report.rttMs !== undefined && resolve(report)),
    );
    const { client, streams: clientStreams } = await connectClient(res, server, engine);
    const clientHeard = new Promise<PathReport>((resolve) =>
      client.on("path", (report) => report.rttMs !== undefined && resolve(report)),
    );
    const subscription = clientStreams.subscribe("video");
    await until(() => stream.subscriberCount === 1, "subscribed");
    (async () => {
      for await (const m of subscription) received.push((m as { n: number }).n);
    })();
    let n = 0;
    await until(async () => {
      await stream.push(frame(++n));
      await clientStreams.pushToServer("up", frame(n));
      const path = client.linkStats()?.path;
      const serverPath = server.clientStats()[0]?.path;
      return path?.rttMs !== undefined && serverPath?.rttMs !== undefined && received.length >= 3;
    }, "reports both ways, and three frames");
    const ages = subscription.stats.ageMs;
    expect(ages?.p50).toBeGreaterThanOrEqual(0);
    expect(ages?.p99).toBeLessThanOrEqual(2000);
    expect(subscription.stats.expired).toBe(0);
    expect(client.linkStats()?.lanes.realtime.messagesCompleted).toBeGreaterThanOrEqual(3);
    expect(server.clientStats()[0]?.path?.clockOffsetMs).toBeDefined();
    // The same figures come as events, for an application to follow.
    expect((await clientHeard).rttMs).toBeGreaterThanOrEqual(0);
    expect((await serverHeard).rttMs).toBeGreaterThanOrEqual(0);
  });
});
