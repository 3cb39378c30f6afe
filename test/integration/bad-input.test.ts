// Malformed signaling and data frames: typed errors, counted, and the server keeps serving.
import { afterEach, describe, expect, it } from "vitest";
import { MAX_LINK_RESTARTS_PER_MINUTE } from "../../src/core/defaults.js";
import { encodeBody } from "../../src/wire/codec.js";
import { HEADER_BYTES, writeHeader } from "../../src/wire/frame.js";
import { OutgoingMessage } from "../../src/wire/outgoing.js";
import { connectClient, PASSWORD, pattern, Resources, startServer, until } from "../helpers/net.js";
import { rawPeer } from "../helpers/raw-peer.js";
import { connectedSocket, rawSocket } from "../helpers/raw-socket.js";

const res = new Resources();
afterEach(() => res.closeAll());

/** A frame with a hand-made header, for inputs the encoder would never produce. */
function frame(
  h: { streamId: number; seq: number; index: number; count: number; total: number },
  payload: Uint8Array,
) {
  const out = new Uint8Array(HEADER_BYTES + payload.byteLength);
  writeHeader(out, 0, {
    streamId: h.streamId,
    seq: h.seq,
    chunkIndex: h.index,
    chunkCount: h.count,
    totalBytes: h.total,
  });
  out.set(payload, HEADER_BYTES);
  return out;
}

describe("bad input", () => {
  it("malformed requests get typed error replies; the connection survives until it abuses the limit", async () => {
    const { server, streams } = await startServer(res, "node-datachannel");
    streams.create("ok");
    const socket = await connectedSocket(res, server.port);
    const ask = (event: string, payload: unknown) =>
      socket.timeout(5000).emitWithAck(event, payload);
    const cases: [string, unknown, string][] = [
      ["subscribe", null, "PROTOCOL_ERROR"],
      ["subscribe", 42, "PROTOCOL_ERROR"],
      ["subscribe", { stream: "" }, "INVALID_ARGUMENT"],
      ["subscribe", { stream: "x".repeat(1000) }, "INVALID_ARGUMENT"],
      ["subscribe", { stream: 5 }, "INVALID_ARGUMENT"],
      ["subscribe", { stream: "ok", wait: "yes" }, "PROTOCOL_ERROR"],
      ["subscribe", { stream: "ok" }, "NOT_CONNECTED"], // no WebRTC offer yet
      ["publish", { stream: "up", delivery: "bogus" }, "INVALID_ARGUMENT"],
      ["unsubscribe", [], "PROTOCOL_ERROR"],
      ["hello", {}, "PROTOCOL_ERROR"],
      ["list", "nope", "PROTOCOL_ERROR"],
    ];
    for (const [event, payload, code] of cases) {
      const reply = await ask(event, payload);
      expect(reply, `${event} ${JSON.stringify(payload)}`).toMatchObject({
        ok: false,
        error: { code },
      });
      expect(typeof reply.error.message).toBe("string");
    }
    // Garbage signals are refused without reaching the engine unchecked.
    socket.emit("signal", { kind: "description", type: "offer", sdp: 17 });
    socket.emit("signal", "not an object");
    socket.emit("subscribe", { stream: "ok" }); // no acknowledgement callback
    const list = await ask("list", {});
    expect(list.ok).toBe(true);
    const violations = server.clientStats()[0]?.protocolViolations ?? 0;
    expect(violations).toBeGreaterThanOrEqual(cases.length - 1);

    // Keep going past the limit: the server drops this connection, and only it.
    const disconnected = new Promise<void>((r) => socket.once("disconnect", () => r()));
    for (let i = 0; i < 30; i++) socket.emit("signal", { kind: "nonsense" });
    await disconnected;
    const { streams: good } = await connectClient(res, server, "node-datachannel");
    expect((await good.listServerStreams()).map((s) => s.name)).toEqual(["ok"]);
  });

  it("a malformed hello in the handshake gets a typed error as its welcome, and counts as a violation", async () => {
    const { server } = await startServer(res, "node-datachannel");
    const socket = rawSocket(res, server.port, { password: PASSWORD, hello: { protocol: "3" } });
    const welcome = await new Promise<Record<string, unknown>>((resolve) =>
      socket.once("welcome", resolve),
    );
    expect(welcome).toMatchObject({ ok: false, error: { code: "PROTOCOL_ERROR" } });
    expect(server.clientStats()[0]?.protocolViolations).toBe(1);
    // The connection stays, and a proper hello is still answered.
    const hello = await socket.timeout(5000).emitWithAck("hello", { protocol: 3 });
    expect(hello).toMatchObject({ ok: true, protocol: 3 });
  });

  it("a signaling message over the size limit closes that socket only", async () => {
    const { server } = await startServer(res, "node-datachannel");
    const socket = await connectedSocket(res, server.port);
    const disconnected = new Promise<void>((r) => socket.once("disconnect", () => r()));
    socket.emit("signal", { kind: "description", type: "offer", sdp: "v".repeat(200_000) });
    await disconnected;
    const { streams } = await connectClient(res, server, "node-datachannel");
    expect(await streams.listServerStreams()).toEqual([]);
  });

  it("an invalid SDP offer is counted and the server stays up", async () => {
    const { server } = await startServer(res, "node-datachannel");
    const socket = await connectedSocket(res, server.port);
    socket.emit("signal", { kind: "description", type: "offer", sdp: "this is not SDP" });
    await until(() => (server.clientStats()[0]?.protocolViolations ?? 0) > 0, "violation counted");
    const { streams } = await connectClient(res, server, "node-datachannel");
    expect(await streams.listServerStreams()).toEqual([]);
  });

  it.each(["node-datachannel", "werift"] as const)(
    "garbage data frames are counted and dropped; valid ones still arrive (%s server)",
    async (engine) => {
      const { server, streams } = await startServer(res, engine);
      const got: unknown[] = [];
      streams.onClientStream("up", (_id, data) => {
        got.push(data);
      });
      // The attacker runs node-datachannel: it can send anything, empty messages included.
      const raw = await rawPeer(res, server.port, "node-datachannel");
      const published = await raw.request("publish", { stream: "up", delivery: "reliable" });
      const id = published.streamId as number;

      const junk: Uint8Array[] = [
        new Uint8Array(0),
        Uint8Array.of(1, 2, 3),
        pattern(5000, 1), // random-ish bytes, bad version
        frame({ streamId: id, seq: 1, index: 0, count: 2, total: 2_000_000_000 }, pattern(100, 2)), // huge total
        frame({ streamId: id, seq: 2, index: 5, count: 2, total: 100 }, pattern(50, 3)), // index ≥ count
        frame({ streamId: id, seq: 3, index: 0, count: 1, total: 99 }, pattern(50, 4)), // length mismatch
        frame({ streamId: 999, seq: 4, index: 0, count: 1, total: 4 }, encodeBody("who")), // unknown stream
        frame({ streamId: id, seq: 5, index: 0, count: 1, total: 2 }, Uint8Array.of(0x92, 0x01)), // bad body
      ];
      // Messages that never complete: 200 first chunks, far more partials than are kept.
      for (let seq = 100; seq < 300; seq++) {
        junk.push(
          frame({ streamId: id, seq, index: 0, count: 3, total: 6000 }, pattern(2000, seq)),
        );
      }
      for (const j of junk) raw.channels.reliable.send(j);
      const valid = new OutgoingMessage(id, 2000, { fine: true }, 1 << 20).frames(65536);
      for (const f of valid) raw.channels.reliable.send(f);

      await until(() => got.length === 1, "the valid message");
      expect(got).toEqual([{ fine: true }]);
      const stats = server.clientStats()[0];
      const link = stats?.link?.reliable;
      expect(link?.framesInvalid).toBeGreaterThanOrEqual(4);
      expect(stats?.rejectedMessages).toBe(2);
      // Partial messages were bounded, not accumulated.
      expect(link?.messagesIncomplete).toBeGreaterThanOrEqual(200 - 64);
      // And the server still serves others.
      const other = await connectClient(res, server, engine);
      await other.streams.pushToServer("up", { from: "other" }, { delivery: "reliable" });
      await until(() => got.length === 2, "the other client's message");
    },
  );
  it("link restarts are refused before any link, and bounded per minute; the session survives", async () => {
    const { server } = await startServer(res, "node-datachannel");
    const early = await connectedSocket(res, server.port);
    await early.timeout(5000).emitWithAck("hello", { protocol: 2 });
    const before = await early.timeout(5000).emitWithAck("restart", { resume: [] });
    expect(before).toMatchObject({ ok: false, error: { code: "PROTOCOL_ERROR" } });

    const raw = await rawPeer(res, server.port, "node-datachannel");
    const replies: string[] = [];
    for (let i = 0; i < MAX_LINK_RESTARTS_PER_MINUTE + 2; i++) {
      const reply = await raw.request("restart", { resume: [] });
      replies.push(reply.ok ? "ok" : (reply.error?.code ?? "?"));
    }
    console.log(`restart replies: ${replies.join(" ")}`);
    expect(replies).toEqual([
      ...Array(MAX_LINK_RESTARTS_PER_MINUTE).fill("ok"),
      "LIMIT_EXCEEDED",
      "LIMIT_EXCEEDED",
    ]);
    // The old link was dropped at the first restart; the session itself is still there.
    await until(() => server.clientStats().every((c) => !c.peerOpen), "old link closed");
    expect((await raw.request("list", {})).ok).toBe(true);
    expect(server.clientStats()).toHaveLength(2);
  });
});

describe("TURN credentials", () => {
  it("are minted per client after authentication, and never reach an unauthenticated socket", async () => {
    const { server } = await startServer(res, "node-datachannel", {
      turn: { urls: ["turn:127.0.0.1:3478"], secret: "shared", ttlSeconds: 60 },
    });
    await expect(connectedSocket(res, server.port, "wrong")).rejects.toMatchObject({
      data: { code: "AUTH_FAILED" },
    });
    const socket = await connectedSocket(res, server.port);
    const hello = await socket.timeout(5000).emitWithAck("hello", { protocol: 1 });
    const turn = hello.iceServers.find((s: { username?: string }) => s.username);
    const [expiry, clientId] = turn.username.split(":");
    expect(clientId).toBe(hello.clientId);
    expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(55);
    expect(Number(expiry) - Date.now() / 1000).toBeLessThanOrEqual(60);
  });
});
