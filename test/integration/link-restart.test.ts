// The WebRTC link fails while the Socket.IO connection stays up (UDP blocked by a firewall, a
// changed network path): keepalives notice within linkTimeoutMs, and the client sets up a new
// link in the same session. Nothing reliable is lost; the server never sees the client leave.
import { afterEach, describe, expect, it } from "vitest";
import type { EngineName, Server } from "../../src/index.js";
import { readFrame } from "../../src/wire/frame.js";
import { createImpairedLink } from "../helpers/impaired-link.js";
import { connectClient, Resources, startServer, until } from "../helpers/net.js";
import { rawPeer } from "../helpers/raw-peer.js";
import { numberedPusher, startResumeViewer } from "../helpers/resume-run.js";

const res = new Resources();
afterEach(() => res.closeAll());

const LINK_TIMEOUT_MS = 1000;
const ENGINES: EngineName[] = ["node-datachannel", "werift"];

/** Counts the sessions the server opens and closes: a restart must do neither. */
function sessionEvents(server: Server) {
  const events: string[] = [];
  server.on("clientConnected", (id) => events.push(`connected ${id}`));
  server.on("clientDisconnected", (id) => events.push(`disconnected ${id}`));
  return events;
}

/** One session throughout: a second would mean the client reconnected instead. The viewer
 * closes its client once done, which may or may not have reached the server yet. */
function expectOneSession(sessions: string[], clientId: string | undefined): void {
  expect(sessions[0]).toBe(`connected ${clientId}`);
  expect(sessions.slice(1)).toEqual(sessions.length > 1 ? [`disconnected ${clientId}`] : []);
}

async function setUp(engine: EngineName, viewerEnv: Record<string, string>) {
  const link = await createImpairedLink({ delayMs: 1, loss: 0 });
  res.add(() => link.close().then(() => undefined));
  const { server, streams } = await startServer(res, engine, {
    host: link.hostAddress,
    iceBindAddress: link.hostAddress,
    linkTimeoutMs: LINK_TIMEOUT_MS,
  });
  const sessions = sessionEvents(server);
  const stream = streams.create("frames", { delivery: "reliable", bufferSize: 600 });
  const ups: number[] = [];
  streams.onClientStream("up", (_id, d) => ups.push((d as { n: number }).n));
  const viewer = startResumeViewer(res, link, server, engine, viewerEnv);
  await until(() => stream.subscriberCount === 1, "viewer subscribed", 20_000);
  const clientId = server.clientStats()[0]?.clientId;
  expect(viewer.statuses.map((l) => l.split(" ")[1])).toEqual(["connecting", "connected"]);
  return { link, server, stream, ups, viewer, sessions, clientId };
}

describe("link restart", () => {
  it.each(ENGINES)(
    "%s: UDP blocked mid-stream, then back: a new WebRTC link in the same session, nothing lost",
    async (engine) => {
      const { link, server, stream, ups, viewer, sessions, clientId } = await setUp(engine, {
        FALLBACK_AFTER_MS: "off",
      });
      const pusher = numberedPusher(stream);
      await pusher.pushFor(1000);

      link.blockUdp(true);
      // Frames keep coming while the link is down: the server queues them for the session.
      const noticedAfter = await pusher.pushUntil(
        () => viewer.statuses.some((l) => l.startsWith("status reconnecting")),
        "link failure noticed",
      );
      await pusher.pushFor(1000); // link restarts fail while UDP stays blocked
      link.blockUdp(false);
      const restoredAfter = await pusher.pushUntil(
        () => viewer.statuses.filter((l) => l.startsWith("status connected")).length === 2,
        "link restarted",
      );
      await pusher.pushFor(1000);
      await stream.close();
      const { seqs, lost } = await viewer.result;

      console.log(
        `${engine}: link failure noticed ${Math.round(noticedAfter)} ms after UDP was blocked ` +
          `(linkTimeoutMs ${LINK_TIMEOUT_MS}); WebRTC back ${Math.round(restoredAfter)} ms after ` +
          `it was unblocked; ${seqs.length}/${pusher.sent()} frames; ${ups.length} client pushes; ` +
          `statuses: ${viewer.statuses.join(" | ")}`,
      );
      // Noticed by keepalives: at this end, or at the server's, which then says so.
      expect(viewer.statuses.find((l) => l.startsWith("status reconnecting"))).toMatch(
        new RegExp(
          `the data link failed: (no data for ${LINK_TIMEOUT_MS} ms|the server lost its end)`,
        ),
      );
      // One session throughout: the server never saw the client go, nor a second one come.
      expectOneSession(sessions, clientId);
      // Every frame, in order, once; every client push too.
      expect(seqs).toEqual(Array.from({ length: pusher.sent() }, (_, i) => i + 1));
      expect(lost).toBe(0);
      expect(ups.length).toBeGreaterThan(0);
      expect(ups).toEqual(Array.from({ length: ups.length }, (_, i) => i + 1));
    },
  );

  it("node-datachannel: only the client's packets are lost: the server notices, the session recovers", async () => {
    const { link, server, stream, viewer, sessions, clientId } = await setUp("node-datachannel", {
      FALLBACK_AFTER_MS: "off",
    });
    const pusher = numberedPusher(stream);
    await pusher.pushFor(500);
    link.blockUdp(true, "from-ns");
    // The server hears nothing from the client; the client still hears the server.
    const serverNoticedAfter = await pusher.pushUntil(
      () => server.clientStats()[0]?.peerOpen === false,
      "the server noticed",
    );
    link.blockUdp(false);
    await pusher.pushUntil(
      () => viewer.statuses.filter((l) => l.startsWith("status connected")).length >= 2,
      "link restarted",
    );
    await pusher.pushFor(500);
    await stream.close();
    const { seqs, lost } = await viewer.result;
    console.log(
      `server noticed ${Math.round(serverNoticedAfter)} ms after the client's UDP was blocked; ` +
        `statuses: ${viewer.statuses.join(" | ")}`,
    );
    expectOneSession(sessions, clientId);
    expect(seqs).toEqual(Array.from({ length: pusher.sent() }, (_, i) => i + 1));
    expect(lost).toBe(0);
  });

  it("node-datachannel: a stream closed while the link is down still delivers its tail, then ends the loop", async () => {
    const { link, stream, viewer, sessions, clientId } = await setUp("node-datachannel", {
      FALLBACK_AFTER_MS: "off",
    });
    const pusher = numberedPusher(stream);
    await pusher.pushFor(500);
    link.blockUdp(true);
    await pusher.pushFor(300); // in flight, or queued for the dead link
    await stream.close();
    await until(
      () => viewer.statuses.some((l) => l.startsWith("status reconnecting")),
      "link failure noticed",
      10_000,
    );
    link.blockUdp(false);
    const { seqs, lost } = await viewer.result;
    console.log(`closed while down: ${seqs.length}/${pusher.sent()} received, ${lost} lost`);
    expectOneSession(sessions, clientId);
    expect(seqs).toEqual(Array.from({ length: pusher.sent() }, (_, i) => i + 1));
    expect(lost).toBe(0);
  });

  it("node-datachannel: UDP gone for good: the same session carries on over the relay", async () => {
    const { link, stream, viewer, sessions, clientId } = await setUp("node-datachannel", {
      // Above the viewer's 2 s connect timeout: WebRTC gets 2 s, then the relay its own 2 s.
      FALLBACK_AFTER_MS: "3000",
      UPGRADE_AFTER_MS: "60000",
    });
    const pusher = numberedPusher(stream);
    await pusher.pushFor(500);
    link.blockUdp(true);
    const relayedAfter = await pusher.pushUntil(
      () => viewer.statuses.some((l) => l.startsWith("status fallback")),
      "relaying",
    );
    await pusher.pushFor(1000);
    await stream.close();
    const { seqs, lost } = await viewer.result;
    console.log(
      `relaying ${Math.round(relayedAfter)} ms after UDP was blocked; statuses: ${viewer.statuses.join(" | ")}`,
    );
    expectOneSession(sessions, clientId);
    expect(seqs).toEqual(Array.from({ length: pusher.sent() }, (_, i) => i + 1));
    expect(lost).toBe(0);
  });
});

describe("the restart request", () => {
  it("resends a closed stream's tail from its buffer, counts what is gone from it, and names streams it holds nothing of", async () => {
    const { server, streams } = await startServer(res, "node-datachannel");
    const stream = streams.create("orders", { delivery: "reliable", bufferSize: 10 });
    const first = await rawPeer(res, server.port, "node-datachannel");
    expect((await first.request("subscribe", { stream: "orders" })).ok).toBe(true);
    expect((await first.request("start", { stream: "orders" })).ok).toBe(true);
    for (let n = 1; n <= 15; n++) await stream.push({ n });
    await until(() => first.received.length === 15, "15 frames on the first link");
    await stream.close();

    // As if the link had lost everything after 2: 3, 4 and 5 are gone from the buffer of 10.
    const reply = await first.request("restart", {
      resume: [{ stream: "orders", after: 2 }, { stream: "never-subscribed" }],
    });
    expect(reply).toEqual({
      ok: true,
      missed: [{ stream: "orders", missed: 3 }],
      published: [],
      gone: ["never-subscribed"],
    });
    first.detach();
    const second = await rawPeer(res, server.port, "node-datachannel", { socket: first.socket });
    await until(() => second.received.length === 10, "the tail on the new link");
    const seqs = second.received.map((f) => readFrame(f, 1 << 20).seq);
    expect(seqs).toEqual(Array.from({ length: 10 }, (_, i) => i + 6));
    expect(server.clientStats()).toHaveLength(1);
  });
});

describe("keepalives", () => {
  it.each(ENGINES)("%s: an idle link outlives linkTimeoutMs many times over", async (engine) => {
    const { server, streams } = await startServer(res, engine, { linkTimeoutMs: 300 });
    const stream = streams.create("quiet", { delivery: "reliable" });
    const { client, streams: clientStreams } = await connectClient(res, server, engine);
    const statuses: string[] = [];
    client.on("status", (s) => statuses.push(s.state));
    const first = clientStreams.subscribe("quiet");
    await until(() => stream.subscriberCount === 1, "subscribed");
    // Nothing but keepalives (one each fifth of the timeout) for ten times the timeout:
    // without them both ends would give up.
    const heard = () => client.linkStats()?.keepalivesReceived ?? 0;
    const before = heard();
    await until(() => heard() >= before + 50, "fifty keepalives", 30_000);
    await stream.push({ still: "here" });
    expect((await first.next()).value).toEqual({ still: "here" });
    expect(statuses).toEqual([]);
    expect(server.clientStats()[0]?.peerOpen).toBe(true);
  });
});
