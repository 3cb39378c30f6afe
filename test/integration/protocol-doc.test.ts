// What docs/PROTOCOL.md promises a client written from it alone, checked with the raw client
// (test/helpers/raw-peer.ts: socket.io-client and a bare engine peer, none of conduit's
// client code).
import { decode, encode } from "@msgpack/msgpack";
import { afterEach, describe, expect, it } from "vitest";
import { parseSignal } from "../../src/signaling/protocol.js";
import { ENGINES, PASSWORD, Resources, startServer, until } from "../helpers/net.js";
import { rawPeer } from "../helpers/raw-peer.js";
import { connectedSocket, rawSocket } from "../helpers/raw-socket.js";

const res = new Resources();
afterEach(() => res.closeAll());

describe.each(ENGINES)("a client written from the document (server on %s)", (engine) => {
  it('gets every candidate as "candidate:…", and may send them as SDP lines ("a=candidate:…")', async () => {
    const { server } = await startServer(res, engine);
    // The raw client's own engine is node-datachannel; its candidates go out as "a=…" lines.
    const raw = await rawPeer(res, server.port, "node-datachannel", { sdpCandidates: true });
    const candidates = raw.signals.flatMap((m) => (m.kind === "candidate" ? [m.candidate] : []));
    expect(candidates.length).toBeGreaterThan(0);
    for (const c of candidates) expect(c).toMatch(/^candidate:\S+ \d \S+ \d+ \S+ \d+ typ \w+/);
    // The channels opened (rawPeer waits for them): the server took the "a=" form.
    expect(raw.channels.reliable.isOpen()).toBe(true);
  });
});

it('a candidate is taken in either form and handed on as "candidate:…"', () => {
  const line = "candidate:1 1 UDP 2122317823 127.0.0.1 50000 typ host";
  for (const candidate of [line, `a=${line}`]) {
    expect(parseSignal({ kind: "candidate", candidate, mid: "0" })).toEqual({
      kind: "candidate",
      candidate: line,
      mid: "0",
    });
  }
});

it("a hello in the handshake is answered unasked, with welcome, as the request would be (§3.1)", async () => {
  const { server } = await startServer(res, "node-datachannel");
  const socket = rawSocket(res, server.port, { password: PASSWORD, hello: { protocol: 3 } });
  // Listening from before the handshake ends: the welcome comes right after it.
  const welcome = new Promise<Record<string, unknown>>((resolve) =>
    socket.once("welcome", resolve),
  );
  const reply = await welcome;
  expect(reply).toMatchObject({ ok: true, protocol: 3, iceServers: [], linkTimeoutMs: 5000 });
  expect(reply.clientId).toBe(server.clientStats()[0]?.clientId);
  // Asking as well is allowed, and answered alike.
  const asked = await socket.timeout(5000).emitWithAck("hello", { protocol: 3 });
  expect(asked).toEqual(reply);
  expect(server.clientStats()[0]?.protocolViolations).toBe(0);
});

describe("a client over the relay, written from the document (§4.1, §5)", () => {
  // socket.io-client and @msgpack/msgpack only: frames are parsed and built by hand here.
  const frameOf = (streamId: number, seq: number, body: Uint8Array): Uint8Array => {
    const frame = new Uint8Array(20 + body.length);
    const h = new DataView(frame.buffer);
    h.setUint8(0, 1); // version
    h.setUint8(1, 1); // message chunk
    h.setUint16(2, 0); // chunk 0
    h.setUint16(4, 1); // of 1
    h.setUint32(8, streamId);
    h.setUint32(12, seq);
    h.setUint32(16, body.length);
    frame.set(body, 20);
    return frame;
  };

  it("relay is asked for, counts as the offer, and carries both lanes as binary attachments with bare acks", async () => {
    const { server, streams } = await startServer(res, "node-datachannel");
    const reliable = streams.create("doc_reliable", { delivery: "reliable" });
    const realtime = streams.create("doc_realtime", { delivery: "realtime" });
    const socket = await connectedSocket(res, server.port);
    const ask = (event: string, payload: unknown) =>
      socket.timeout(5000).emitWithAck(event, payload) as Promise<Record<string, unknown>>;
    await ask("hello", { protocol: 2 });

    // Before the offer or the relay, subscribe is refused, and a relay frame is a violation.
    const early = await ask("subscribe", { stream: "doc_reliable" });
    expect(early).toMatchObject({ ok: false, error: { code: "NOT_CONNECTED" } });
    socket.emit("relay_frame", 1, frameOf(1, 1, encode({})), () => {});
    await until(() => server.clientStats()[0]?.protocolViolations === 1, "the early frame counted");

    // The relay's acknowledgement is { ok: true } and nothing else.
    expect(await ask("relay", {})).toEqual({ ok: true });

    // Frames come as (lane, binary frame, ack); the ack takes no arguments.
    const arrived: { lane: number; streamId: number; seq: number; body: unknown }[] = [];
    const unacked: number[] = [];
    socket.on("relay_frame", (lane: number, frame: unknown, ack: () => void) => {
      expect(frame).toBeInstanceOf(Buffer); // a Socket.IO binary attachment
      const b = frame as Buffer;
      const h = new DataView(b.buffer, b.byteOffset, 20);
      expect([h.getUint8(0), h.getUint16(2), h.getUint16(4)]).toEqual([1, 0, 1]);
      if (h.getUint8(1) === 1) {
        const body = decode(b.subarray(20, 20 + h.getUint32(16)));
        arrived.push({ lane, streamId: h.getUint32(8), seq: h.getUint32(12), body });
        // Until we ack, the frame counts in the lane's bufferedAmount on the server.
        const link = server.clientStats()[0]?.link;
        unacked.push((lane === 0 ? link?.realtime : link?.reliable)?.bufferedAmount ?? 0);
      }
      ack();
    });
    const subscribed = [await ask("subscribe", { stream: "doc_reliable" })];
    subscribed.push(await ask("subscribe", { stream: "doc_realtime" }));
    expect(subscribed.map((s) => s.ok)).toEqual([true, true]);
    await ask("start", { stream: "doc_reliable" });
    await ask("start", { stream: "doc_realtime" });
    expect(server.clientStats()[0]?.transport).toBe("relay");

    await reliable.push({ n: 1, text: "reliable" });
    await realtime.push({ n: 2, text: "realtime" });
    await until(() => arrived.length === 2, "both messages over the relay");
    expect(arrived).toContainEqual({
      lane: 1,
      streamId: reliable.id,
      seq: 1,
      body: { n: 1, text: "reliable" },
    });
    expect(arrived).toContainEqual({
      lane: 0,
      streamId: realtime.id,
      seq: 1,
      body: { n: 2, text: "realtime" },
    });
    for (const bytes of unacked) expect(bytes).toBeGreaterThan(20);
    // Our acks emptied the server's relay lanes: nothing is left in flight.
    await until(() => {
      const link = server.clientStats()[0]?.link;
      return link?.realtime.bufferedAmount === 0 && link.reliable.bufferedAmount === 0;
    }, "relay lanes drained by the acks");

    // Sending: a client stream over lane 1, acknowledged with no arguments.
    const fromClient = new Promise<unknown>((resolve) =>
      streams.onClientStream("doc_up", (_id, data) => resolve(data)),
    );
    const pub = await ask("publish", { stream: "doc_up", delivery: "reliable" });
    const ackArgs = await new Promise<unknown[]>((resolve) =>
      socket.emit(
        "relay_frame",
        1,
        frameOf(pub.streamId as number, 1, encode({ up: true })),
        (...args: unknown[]) => resolve(args),
      ),
    );
    expect(ackArgs).toEqual([]);
    expect(await fromClient).toEqual({ up: true });
  });
});
