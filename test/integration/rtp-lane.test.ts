// The RTP lane (docs/PROTOCOL.md §5.5): between Node ends (node-datachannel or werift, in
// any pairing), coded realtime pieces can go as RTP packets beside the data channels. The
// offer carries its media section; the answerer takes it and both ends hear each other on
// it; a browser answers it rejected in its place, and the link opens without it.
import { afterEach, describe, expect, it } from "vitest";
import { RTP_LANE_MID, withLaneSsrc } from "../../src/peer/rtp-lane-sdp.js";
import { rtpPayload, writeRtpPacket } from "../../src/wire/rtp.js";
import { connectClient, Resources, startServer, until } from "../helpers/net.js";

const res = new Resources();
afterEach(() => res.closeAll());

/** A realtime message pushed on the server reaches the client. */
async function expectRealtimeFlows(
  streams: Awaited<ReturnType<typeof startServer>>["streams"],
  clientStreams: Awaited<ReturnType<typeof connectClient>>["streams"],
): Promise<void> {
  const stream = streams.create("frames", { delivery: "realtime" });
  const subscribed = new Promise<string>((r) => stream.onSubscribe(r));
  const iterator = clientStreams.subscribe("frames");
  const first = iterator.next();
  await subscribed;
  // Realtime may lose a message: push until one arrives.
  const pushes = setInterval(() => void stream.push({ n: 1 }), 20);
  try {
    expect((await first).value).toEqual({ n: 1 });
  } finally {
    clearInterval(pushes);
    iterator.close();
  }
}

describe("RTP lane", () => {
  it.each([
    ["node-datachannel", "node-datachannel"],
    ["node-datachannel", "werift"],
    ["werift", "node-datachannel"],
    ["werift", "werift"],
  ] as const)(
    "a %s client and a %s server: each end hears the other on the lane, and realtime flows",
    async (clientEngine, serverEngine) => {
      const { server, streams } = await startServer(res, serverEngine);
      const { client, streams: clientStreams } = await connectClient(res, server, clientEngine);
      await until(
        () =>
          client.linkStats()?.rtpLane?.open === true &&
          server.clientStats()[0]?.rtpLane?.open === true,
        "the lane open at both ends",
      );
      expect(server.clientStats()[0]?.transport).toBe("webrtc");
      await expectRealtimeFlows(streams, clientStreams);
      // On loopback the lane is not paced, so pieces and reports stay on the channel; what
      // the lane carries across a long path, each way, test/loss checks.
    },
  );

  it("libdatachannel's answer names the SSRC its end of the lane sends with (werift routes by it)", () => {
    const answer = [
      "v=0",
      "m=video 9 UDP/TLS/RTP/SAVPF 96",
      `a=mid:${RTP_LANE_MID}`,
      "a=rtpmap:96 conduit/90000",
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
      "a=mid:0",
      "",
    ].join("\r\n");
    const named = withLaneSsrc(answer, 1234);
    expect(named.match(/^a=ssrc:.*$/gm)).toEqual(["a=ssrc:1234 cname:conduit"]);
    expect(named.indexOf("a=ssrc:1234")).toBeLessThan(named.indexOf("m=application"));
    // Named once; a description without the lane is left as it is.
    expect(withLaneSsrc(named, 99)).toBe(named);
    const plain = answer.replace(/m=video[\s\S]*?(?=m=application)/, "");
    expect(withLaneSsrc(plain, 1234)).toBe(plain);
  });
});

describe("RTP packets", () => {
  const header = { payloadType: 96, sequence: 65_535, timestamp: 2 ** 32 + 5, ssrc: 0xdeadbeef };

  it("carry a piece whole, and only of the lane's payload type", () => {
    const piece = Uint8Array.from([1, 2, 3, 4, 5]);
    const packet = writeRtpPacket(header, piece);
    expect(packet.byteLength).toBe(17);
    expect(rtpPayload(packet, 96)).toEqual(piece);
    expect(rtpPayload(packet, 97)).toBeUndefined();
    expect(rtpPayload(writeRtpPacket(header, new Uint8Array(0)), 96)).toEqual(new Uint8Array(0));
  });

  it("past CSRCs, an extension and padding; a packet shorter than its header says is refused", () => {
    // Version 2, padding, extension, one CSRC; payload type 96.
    const head = [0xb1, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
    const csrc = [0, 0, 0, 9];
    const extension = [0xbe, 0xde, 0, 1, 7, 7, 7, 7];
    const packet = Uint8Array.from([...head, ...csrc, ...extension, 42, 43, 0, 0, 3]);
    expect(rtpPayload(packet, 96)).toEqual(Uint8Array.from([42, 43]));
    for (const length of [0, 11, 16, 20, 23]) {
      expect(rtpPayload(packet.subarray(0, length), 96)).toBeUndefined();
    }
    // An extension longer than the packet, padding longer than the payload, RTCP, version 1.
    const long = Uint8Array.from([0x90, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xbe, 0xde, 0, 9, 1]);
    const padded = Uint8Array.from([0xa0, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 200]);
    const rtcp = Uint8Array.from([0x80, 200, 0, 6, ...new Array(24).fill(0)]);
    const v1 = Uint8Array.from([0x40, 96, ...new Array(14).fill(0)]);
    for (const bad of [long, padded, rtcp, v1]) expect(rtpPayload(bad, 96)).toBeUndefined();
    // Random bytes: never a throw.
    for (let i = 0; i < 2000; i++) {
      const random = Uint8Array.from({ length: i % 40 }, () => Math.floor(Math.random() * 256));
      expect(() => rtpPayload(random, 96)).not.toThrow();
    }
  });
});
