// What docs/PROTOCOL.md promises a client written from it alone, checked with the raw client
// (test/helpers/raw-peer.ts: socket.io-client and a bare engine peer, none of conduit's
// client code).
import { afterEach, describe, expect, it } from "vitest";
import { parseSignal } from "../../src/signaling/protocol.js";
import { ENGINES, Resources, startServer } from "../helpers/net.js";
import { rawPeer } from "../helpers/raw-peer.js";

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
