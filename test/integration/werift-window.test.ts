// conduit's congestion response for real-time data on werift (src/peer/werift-window.ts), on a
// real werift association over loopback that loses chosen chunks.
import { afterEach, describe, expect, it } from "vitest";
import type { RTCDataChannel } from "werift";
import { holdWindowFloor } from "../../src/peer/werift-window.js";
import { Resources, until } from "../helpers/net.js";
import { associationOf, channelPair, filterDataChunks } from "../helpers/werift-pair.js";

const res = new Resources();
afterEach(() => res.closeAll());

describe("werift's window under conduit's pacer", () => {
  it("stays at what the pacer's rate needs through losses, and is werift's own again once pacing stops", async () => {
    const { a, aChannel, bChannel } = await channelPair(res, {
      id: 0,
      ordered: false,
      maxRetransmits: 0,
    });
    const sctp = associationOf(a) as unknown as { cwnd: number };
    const initial = sctp.cwnd;
    // 10 MB/s over a 50 ms round trip, with 1.5 round trips of room.
    const floor = 10_000_000 * 0.05 * 1.5;
    holdWindowFloor(sctp, 10_000_000, 50);
    expect(initial).toBeLessThan(floor);
    expect(sctp.cwnd).toBe(floor);

    const got: number[] = [];
    (bChannel as RTCDataChannel).onMessage.subscribe((m) =>
      got.push((m as Buffer).readUInt32BE(0)),
    );
    // Every 7th DATA chunk lost once: werift halves its window each time.
    let dataChunks = 0;
    filterDataChunks(
      sctp as never,
      (_chunk, transmission) => transmission > 1 || ++dataChunks % 7 !== 0,
    );
    for (let n = 1; n <= 60; n++) {
      const message = Buffer.alloc(3000, n);
      message.writeUInt32BE(n, 0);
      aChannel.send(message);
    }
    await until(() => associationOf(a).sentQueue.length === 0 && got.length > 0, "sender drained");
    expect(got.length).toBeLessThan(60); // chunks were lost, and werift answered each loss…
    expect(sctp.cwnd).toBe(floor); // …under the floor

    holdWindowFloor(sctp, Number.POSITIVE_INFINITY, 50);
    expect(sctp.cwnd).toBeLessThan(floor);
  });
});
