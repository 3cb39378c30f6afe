import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/core/errors.js";
import { loadEngine } from "../../src/peer/engines.js";
import { isMdnsCandidate, parseIceUrl } from "../../src/peer/ice-servers.js";

describe("engines", () => {
  it("werift gets an explicit empty ICE server list: its built-in public STUN server is never used", async () => {
    const engine = await loadEngine("werift");
    const peer = engine.createPeer(
      "t",
      { iceServers: [], iceTransportPolicy: "all" },
      { signal: () => {}, stateChange: () => {}, iceConnected: () => {}, dtlsConnected: () => {} },
    );
    const config = (peer as unknown as { pc: { config: { iceServers: unknown[] } } }).pc.config;
    expect(config.iceServers).toEqual([]);
    peer.close();
  });

  it("an unknown engine name is a typed error", async () => {
    await expect(loadEngine("libwebrtc" as "werift")).rejects.toThrow(InvalidArgumentError);
  });

  it("parses STUN/TURN URLs with default ports and transports", () => {
    expect(parseIceUrl("stun:example.org")).toEqual({
      scheme: "stun",
      host: "example.org",
      port: 3478,
      transport: undefined,
    });
    expect(parseIceUrl("turns:[::1]:443?transport=tcp")).toEqual({
      scheme: "turns",
      host: "::1",
      port: 443,
      transport: "tcp",
    });
    expect(() => parseIceUrl("http://x")).toThrow();
  });

  it("recognises mDNS host candidates, which are skipped", () => {
    expect(
      isMdnsCandidate(
        "candidate:1 1 udp 2113937151 4b1c2d3e-aaaa-bbbb-cccc-0123456789ab.local 54321 typ host",
      ),
    ).toBe(true);
    expect(isMdnsCandidate("candidate:1 1 udp 2113937151 10.0.0.2 54321 typ host")).toBe(false);
  });
});
