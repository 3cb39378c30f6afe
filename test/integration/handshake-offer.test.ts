// The client's WebRTC offer rides in the Socket.IO handshake (docs/PROTOCOL.md §2): a server
// with no ICE servers to hand out answers it at once; one with TURN credentials declines it and
// the client offers again after hello; a malformed one is counted and not answered.
import type { Socket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import type { EnginePeer, SignalMessage } from "../../src/peer/engine.js";
import { loadEngine } from "../../src/peer/engines.js";
import { logged } from "../helpers/debug-log.js";
import { connectClient, ENGINES, PASSWORD, Resources, startServer, until } from "../helpers/net.js";
import { rawSocket } from "../helpers/raw-socket.js";

const res = new Resources();
afterEach(() => res.closeAll());

/** A message pushed on the server reaches the client over the link. */
async function expectDataFlows(
  streams: Awaited<ReturnType<typeof startServer>>["streams"],
  clientStreams: Awaited<ReturnType<typeof connectClient>>["streams"],
): Promise<void> {
  const stream = streams.create("readings", { delivery: "reliable" });
  const subscribed = new Promise<string>((r) => stream.onSubscribe(r));
  const iterator = clientStreams.subscribe("readings");
  const first = iterator.next();
  await subscribed;
  expect(await stream.push({ n: 1 })).toBe(1);
  expect((await first).value).toEqual({ n: 1 });
  iterator.close();
}

/** A real offer, with its candidates, from a bare node-datachannel peer with conduit's two
 * negotiated channels (docs/PROTOCOL.md §4). */
async function realOffer(): Promise<{ signals: SignalMessage[]; peer: EnginePeer }> {
  const engine = await loadEngine("node-datachannel");
  const signals: SignalMessage[] = [];
  let offered!: () => void;
  const made = new Promise<void>((r) => {
    offered = r;
  });
  const peer = engine.createPeer(
    "offer",
    { iceServers: [], bindAddress: "127.0.0.1", iceTransportPolicy: "all" },
    {
      signal: (m) => {
        signals.push(m);
        if (m.kind === "description") offered();
      },
      stateChange: () => {},
      iceConnected: () => {},
      dtlsConnected: () => {},
    },
  );
  res.add(() => peer.close());
  const handlers = { open() {}, close() {}, message() {}, bufferedAmountLow() {} };
  peer.createChannel(
    { id: 0, ordered: false, maxRetransmits: 0, label: "conduit-realtime" },
    handlers,
  );
  peer.createChannel({ id: 1, ordered: true, label: "conduit-reliable" }, handlers);
  await peer.startOffer();
  await made;
  // Bound to 127.0.0.1: one host candidate, which the handshake carries.
  await until(() => signals.some((m) => m.kind === "candidate"), "the host candidate");
  // As docs/PROTOCOL.md §3.2 advises, the offerer asks to be the DTLS client.
  const documented = signals.map((m) =>
    m.kind === "description"
      ? { ...m, sdp: m.sdp.replace(/^a=setup:actpass(?=\r?$)/gm, "a=setup:active") }
      : m,
  );
  return { signals: documented, peer };
}

/** The welcome a raw socket gets for `auth`. */
async function welcomeFor(port: number, auth: Record<string, unknown>) {
  const socket: Socket = rawSocket(res, port, auth);
  const welcome = await new Promise<Record<string, unknown>>((r) => socket.once("welcome", r));
  return { socket, welcome };
}

describe("the offer in the handshake", () => {
  for (const engine of ENGINES) {
    it(`is answered at once by a server without TURN: one offer, no round trip after hello (${engine})`, async () => {
      const { server, streams } = await startServer(res, engine);
      let connected!: Awaited<ReturnType<typeof connectClient>>;
      const lines = await logged("conduit:peer", async () => {
        connected = await connectClient(res, server, engine);
      });
      const timings = connected.client.connectStats();
      expect(timings, JSON.stringify(timings)).toMatchObject({
        link: "webrtc",
        offerInHandshake: true,
      });
      // A setup lost to a race (see link-setup.ts) is offered again the usual way: one offer
      // per attempt, the first the handshake's.
      const attempts = timings?.attempts ?? 0;
      expect(lines.filter((l) => l.includes("local offer"))).toHaveLength(attempts);
      expect(lines.filter((l) => l.includes("remote offer"))).toHaveLength(attempts);
      expect(server.clientStats()[0]?.protocolViolations).toBe(0);
      await expectDataFlows(streams, connected.streams);
    });
  }

  it("is declined by a server with TURN credentials to give: the client offers again with them", async () => {
    const { server, streams } = await startServer(res, "node-datachannel", {
      // No TURN server listens here: the host candidates connect on loopback.
      turn: { urls: ["turn:127.0.0.1:9"], secret: "shared", ttlSeconds: 60 },
    });
    let connected!: Awaited<ReturnType<typeof connectClient>>;
    const lines = await logged("conduit:peer,conduit:client", async () => {
      connected = await connectClient(res, server, "node-datachannel");
    });
    // On failure: the timings and why each setup failed (the peer log says).
    const failure = `${JSON.stringify(connected.client.connectStats())}\n${lines.join("\n")}`;
    expect(connected.client.connectStats(), failure).toMatchObject({
      link: "webrtc",
      offerInHandshake: false,
    });
    // The handshake's offer and the one after hello were made; only the second was answered.
    expect(lines.filter((l) => l.includes("local offer")).length).toBeGreaterThanOrEqual(2);
    expect(lines.filter((l) => l.includes("local answer"))).toHaveLength(
      connected.client.connectStats()?.attempts ?? 0,
    );
    await expectDataFlows(streams, connected.streams);
  });

  it("is not answered for a protocol 2 session, which takes no coded link", async () => {
    const { server } = await startServer(res, "node-datachannel");
    const { signals } = await realOffer();
    const { welcome } = await welcomeFor(server.port, {
      password: PASSWORD,
      hello: { protocol: 2 },
      offer: signals,
    });
    expect(welcome).toMatchObject({ ok: true, protocol: 2 });
    expect(welcome.offerAnswered).toBeUndefined();
  });

  it("a client written from docs/PROTOCOL.md alone gets offerAnswered in welcome, then the answer as a signal", async () => {
    const { server } = await startServer(res, "node-datachannel");
    const { signals, peer } = await realOffer();
    const socket = rawSocket(res, server.port, {
      password: PASSWORD,
      hello: { protocol: 3 },
      offer: signals,
    });
    const order: string[] = [];
    socket.on("welcome", (w: { offerAnswered?: boolean }) =>
      order.push(`welcome ${w.offerAnswered}`),
    );
    const answer = new Promise<SignalMessage>((resolve) => {
      socket.on("signal", (m: SignalMessage) => {
        if (m.kind !== "description") return;
        order.push(m.type);
        resolve(m);
      });
    });
    // The answer is one this peer takes. (Its channels opening is the Client's test above, which
    // offers again when libdatachannel loses a handshake under load; this peer would not.)
    await peer.applyRemote(await answer);
    expect(order).toEqual(["welcome true", "answer"]);
  });

  it("a malformed one is counted, not answered, and the session goes on", async () => {
    const { server } = await startServer(res, "node-datachannel");
    const [description] = (await realOffer()).signals;
    const malformed: unknown[] = [
      "v=0",
      [],
      [{ kind: "candidate", candidate: "candidate:1 1 UDP 1 127.0.0.1 9 typ host", mid: "0" }],
      [{ ...description, type: "answer" }],
      [description, description],
      [{ kind: "description", type: "offer", sdp: 17 }],
    ];
    for (const offer of malformed) {
      const { socket, welcome } = await welcomeFor(server.port, {
        password: PASSWORD,
        hello: { protocol: 3 },
        offer,
      });
      expect(welcome, JSON.stringify(offer)).toMatchObject({ ok: true });
      expect(welcome.offerAnswered).toBeUndefined();
      const stats = server.clientStats().find((s) => s.clientId === welcome.clientId);
      expect(stats?.protocolViolations).toBe(1);
      // The session stays: a request is still answered.
      expect(await socket.timeout(5000).emitWithAck("list", {})).toMatchObject({ ok: true });
      socket.close();
    }
  });

  it("an offer the engine refuses is counted like a bad signal, and the server stays up", async () => {
    const { server, streams } = await startServer(res, "node-datachannel");
    const { welcome } = await welcomeFor(server.port, {
      password: PASSWORD,
      hello: { protocol: 3 },
      offer: [{ kind: "description", type: "offer", sdp: "this is not SDP" }],
    });
    expect(welcome).toMatchObject({ ok: true, offerAnswered: true });
    const stats = () => server.clientStats().find((s) => s.clientId === welcome.clientId);
    await expect
      .poll(() => stats()?.protocolViolations, { timeout: 10_000, interval: 5 })
      .toBeGreaterThan(0);
    const { streams: clientStreams } = await connectClient(res, server, "node-datachannel");
    await expectDataFlows(streams, clientStreams);
  });
});
