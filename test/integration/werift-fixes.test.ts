// Each test here fails without its fix in src/peer/werift-fixes.ts or werift-sctp-fixes.ts
// (werift 0.24.4). The rig is two werift peers over loopback (test/helpers/werift-pair.ts),
// with chosen DATA chunks dropped before they are sent, to make the losses a fix is about.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { type RTCDataChannel, UdpTransport } from "werift";
import { WERIFT_RECV_BUFFER_BYTES } from "../../src/core/defaults.js";
import { Resources, until } from "../helpers/net.js";
import {
  associationOf,
  channelPair,
  filterDataChunks,
  opened,
  weriftPair,
} from "../helpers/werift-pair.js";

const res = new Resources();
afterEach(() => res.closeAll());

/** Sends `count` numbered messages of `size` bytes; resolves with the numbers `into` received. */
function numbered(n: number, size: number): Buffer {
  const out = Buffer.alloc(size, n & 255);
  out.writeUInt32BE(n, 0);
  return out;
}

function collect(channel: RTCDataChannel): number[] {
  const got: number[] = [];
  channel.onMessage.subscribe((m) => got.push((m as Buffer).readUInt32BE(0)));
  return got;
}

describe("werift fix", () => {
  it("DCEP open keeps the unordered flag of a partially reliable channel", async () => {
    const remote: RTCDataChannel[] = [];
    await weriftPair(res, (a, b) => {
      b.onDataChannel.subscribe((c) => remote.push(c));
      a.createDataChannel("rexmit", { ordered: false, maxRetransmits: 0 });
      a.createDataChannel("lifetime", { ordered: false, maxPacketLifeTime: 100 });
    });
    await until(() => remote.length === 2, "both channels announced");
    const byLabel = Object.fromEntries(remote.map((c) => [c.label, c]));
    expect(byLabel.rexmit).toMatchObject({ ordered: false, maxRetransmits: 0 });
    expect(byLabel.lifetime).toMatchObject({ ordered: false, maxPacketLifeTime: 100 });
  });

  it("maxRetransmits 0: a lost chunk is never sent again, its message is dropped", async () => {
    const sends = new Map<number, number>();
    const { a, aChannel, bChannel } = await channelPair(res, {
      id: 0,
      ordered: false,
      maxRetransmits: 0,
    });
    const got = collect(bChannel);
    // Drop the first transmission of every 7th DATA chunk; count every transmission.
    let dataChunks = 0;
    filterDataChunks(associationOf(a), (chunk, transmission) => {
      sends.set(chunk.tsn, transmission);
      return transmission > 1 || ++dataChunks % 7 !== 0;
    });
    const MESSAGES = 60;
    for (let n = 1; n <= MESSAGES; n++) aChannel.send(numbered(n, 3000)); // 3 chunks each
    // Every message either arrives or is abandoned; the sender then holds nothing.
    await until(() => associationOf(a).sentQueue.length === 0 && got.length > 0, "sender drained");
    expect(Math.max(...sends.values())).toBe(1);
    // Abandoned chunks left the flight count: none are outstanding, so none may be counted.
    expect((associationOf(a) as unknown as { flightSize: number }).flightSize).toBe(0);
    expect(got.length).toBeLessThan(MESSAGES);
    expect(got.length).toBeGreaterThan(MESSAGES / 2);
    expect(new Set(got).size).toBe(got.length);
  });

  it("a timeout sends again only what was not acknowledged, and doubles; the flight empties", async () => {
    const { a, aChannel, bChannel } = await channelPair(res, { id: 1 });
    const got = collect(bChannel);
    // Two holes, filled only once the retransmission timer has fired. werift's timer sent
    // every chunk again, those acknowledged in gap blocks beyond the holes too, and counted
    // them in the flight for ever (it takes only unacknowledged chunks out of it).
    const sctp = associationOf(a) as unknown as {
      timer3Expired: () => void;
      flightSize: number;
      rto: number;
      srtt: number;
      rttvar: number;
      updateRto(r: number): void;
    };
    let timedOut = false;
    const rtos: number[] = [];
    const expired = sctp.timer3Expired;
    sctp.timer3Expired = () => {
      timedOut = true;
      expired();
      rtos.push(sctp.rto);
    };
    const tsns: number[] = [];
    const sends = new Map<number, number>();
    filterDataChunks(associationOf(a), (chunk, transmission) => {
      if (transmission === 1) tsns.push(chunk.tsn);
      sends.set(chunk.tsn, transmission);
      return timedOut || (chunk.tsn !== tsns[0] && chunk.tsn !== tsns[5]);
    });
    const rtoBefore = sctp.rto;
    const MESSAGES = 20;
    for (let n = 1; n <= MESSAGES; n++) aChannel.send(numbered(n, 1000)); // 1 chunk each
    await until(() => got.length === MESSAGES, `all ${MESSAGES} messages`, 20_000);
    await until(() => associationOf(a).sentQueue.length === 0, "every chunk acknowledged");
    expect(got).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
    expect(rtos).toEqual([rtoBefore * 2]);
    // Only the holes went more than once.
    const again = tsns.filter((tsn) => (sends.get(tsn) ?? 0) > 1);
    expect(again.sort()).toEqual([tsns[0], tsns[5]].sort());
    // Nothing is outstanding, so nothing may be counted: a leftover count holds the window shut.
    expect(sctp.flightSize).toBe(0);
  });

  it("the retransmission timeout goes under 1 s on a short path (200 ms at least)", async () => {
    const { a } = await channelPair(res, { id: 1 });
    const sctp = associationOf(a) as unknown as Record<string, number> & {
      updateRto(r: number): void;
    };
    Object.assign(sctp, { srtt: 0.05, rttvar: 0.005 });
    sctp.updateRto(0.05);
    expect(sctp.rto).toBeCloseTo(0.2, 6);
    Object.assign(sctp, { srtt: 0.3, rttvar: 0.05 });
    sctp.updateRto(0.3);
    expect(sctp.rto).toBeCloseTo(0.3 + 4 * 0.0375, 6);
  });

  it("maxPacketLifeTime: a message that cannot arrive in time is abandoned", async () => {
    const { a, aChannel, bChannel } = await channelPair(res, {
      id: 0,
      ordered: false,
      maxPacketLifeTime: 50,
    });
    const got = collect(bChannel);
    // Message 2's chunk never gets through, however often it is sent.
    let doomed: number | undefined;
    filterDataChunks(associationOf(a), (chunk) => {
      doomed ??= chunk.tsn + 1;
      return chunk.tsn !== doomed;
    });
    for (let n = 1; n <= 5; n++) aChannel.send(numbered(n, 100));
    await until(() => got.length === 4, "the other messages");
    // Without expiry it would be retransmitted for ever and never leave the sent queue.
    await until(() => associationOf(a).sentQueue.length === 0, "message 2 abandoned", 10_000);
    expect(got.sort()).toEqual([1, 3, 4, 5]);
  });

  for (const [where, initialTsn] of [
    ["across a change in digit count", 999_999_990],
    ["across the 2^32 wrap", 4_294_967_290],
  ] as const) {
    it(`the cumulative TSN advances ${where}`, async () => {
      const { a, aChannel, bChannel } = await channelPair(res, { id: 1 }, (a) => {
        const sctp = associationOf(a) as unknown as Record<string, number>;
        sctp.localTsn = initialTsn;
        sctp.lastSackedTsn = initialTsn - 1;
        sctp.advancedPeerAckTsn = initialTsn - 1;
      });
      const got = collect(bChannel);
      // The chunk just before the boundary arrives after the ones past it.
      const late = (initialTsn + 9) % 2 ** 32;
      filterDataChunks(
        associationOf(a),
        (chunk, transmission) => chunk.tsn !== late || transmission > 1,
      );
      const MESSAGES = 40;
      for (let n = 1; n <= MESSAGES; n++) aChannel.send(numbered(n, 500));
      await until(() => got.length === MESSAGES, `all ${MESSAGES} messages`, 10_000);
      expect(got).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
    });
  }

  describe("a realtime message abandoned beside a reliable one", () => {
    // The two lanes share one association, as conduit's do: a realtime message (stream 0, zero
    // retransmits) is sent, then reliable ones (stream 1) of 7 fragments each. Lost (first
    // try only): the realtime message, and `lostFragment` of the first reliable message.
    async function lanes(lostFragment: (reliableTsns: number[]) => number) {
      let realtime!: RTCDataChannel;
      let reliable!: RTCDataChannel;
      let received!: RTCDataChannel;
      const { a } = await weriftPair(res, (a, b) => {
        realtime = a.createDataChannel("rt", {
          negotiated: true,
          id: 0,
          ordered: false,
          maxRetransmits: 0,
        });
        reliable = a.createDataChannel("rel", { negotiated: true, id: 1, ordered: true });
        b.createDataChannel("rt", { negotiated: true, id: 0, ordered: false });
        received = b.createDataChannel("rel", { negotiated: true, id: 1, ordered: true });
      });
      await Promise.all([realtime, reliable, received].map(opened));
      const got = collect(received);
      const reliableTsns: number[] = [];
      let realtimeTsn: number | undefined;
      filterDataChunks(associationOf(a), (chunk, transmission) => {
        const { streamId } = chunk as unknown as { streamId: number };
        if (streamId === 0) realtimeTsn ??= chunk.tsn;
        else if (transmission === 1) reliableTsns.push(chunk.tsn);
        if (transmission > 1) return true;
        return chunk.tsn !== realtimeTsn && chunk.tsn !== lostFragment(reliableTsns);
      });
      return { realtime, reliable, got };
    }

    it("a forward TSN over it keeps the reliable fragments that came out of order", async () => {
      // The forward TSN comes before the lost fragment's retransmission; the receiver's
      // cumulative TSN moves over the fragments that came after the gap, and werift pruned them.
      const { realtime, reliable, got } = await lanes((tsns) => tsns[4] ?? -1);
      realtime.send(numbered(0, 100));
      for (let n = 1; n <= 20; n++) reliable.send(numbered(n, 8000));
      await until(() => got.length === 20, "all 20 reliable messages", 10_000);
      expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it("a reliable message held behind a lost fragment goes with it, not with the next one", async () => {
      // Reliable message 1 loses its second fragment, the realtime message goes between 1 and
      // 2 (so 2's TSNs do not follow 1's), and 2 is the last message sent. When the fragment
      // comes again (the window has room for all: 2 is whole by then) both may go: werift
      // delivered 1 and held 2 until a next chunk that never comes.
      const { realtime, reliable, got } = await lanes((tsns) => tsns[1] ?? -1);
      reliable.send(numbered(1, 2000));
      realtime.send(numbered(0, 100));
      reliable.send(numbered(2, 100));
      await until(() => got.length === 2, "both reliable messages", 10_000);
      expect(got).toEqual([1, 2]);
    });
  });

  it("asks for a large UDP receive buffer", async () => {
    const read = (name: string) => Number(readFileSync(`/proc/sys/net/core/${name}`, "utf8"));
    const [defaultSize, maxSize] = [read("rmem_default"), read("rmem_max")];
    if (maxSize <= defaultSize) {
      console.log(`skipped: net.core.rmem_max (${maxSize}) allows no more than the default`);
      return;
    }
    const transport = await UdpTransport.init("udp4", {
      interfaceAddresses: { udp4: "127.0.0.1" } as never,
    });
    res.add(() => transport.close());
    // Linux reports twice what was set (it counts its bookkeeping), capped at rmem_max.
    expect(transport.socket.getRecvBufferSize()).toBe(
      2 * Math.min(maxSize, WERIFT_RECV_BUFFER_BYTES),
    );
  });
});
