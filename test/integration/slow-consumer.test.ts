// A consumer at a tenth of the stream's speed: it drops (and counts) what it cannot keep,
// holds no more than its buffer, and the other subscribers get every frame the link carries.
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../src/index.js";
import { connectClient, ENGINES, pattern, Resources, startServer, until } from "../helpers/net.js";

const FRAMES = 90;
const res = new Resources();

describe.each(ENGINES)("slow consumer (%s)", (engine) => {
  it.each(["realtime", "reliable"] as Delivery[])(
    "%s: one subscriber at a tenth of the speed, two at full speed",
    async (delivery) => {
      try {
        const { server, streams } = await startServer(res, engine);
        const stream = streams.create("video", { delivery, bufferSize: 10 });
        const clients = await Promise.all([0, 1, 2].map(() => connectClient(res, server, engine)));
        const latencies: number[][] = [[], []];
        let maxSlowDepth = 0;
        const loops = clients.map(({ streams: s }, i) => {
          const subscription = s.subscribe("video");
          return (async () => {
            for await (const m of subscription) {
              const { sentAt, n } = m as { sentAt: number; n: number };
              if (i < 2) latencies[i]?.push(performance.now() - sentAt);
              else {
                maxSlowDepth = Math.max(maxSlowDepth, subscription.stats.depth);
                await new Promise((r) => setTimeout(r, 10_000 / 30)); // a tenth of 30 fps
              }
              if (n === FRAMES) break;
            }
            return subscription.stats;
          })();
        });
        await until(() => stream.subscriberCount === 3, "three subscribers");
        const frame = pattern(50_000, 1);
        for (let n = 1; n <= FRAMES; n++) {
          await stream.push({ n, sentAt: performance.now(), frame });
          await new Promise((r) => setTimeout(r, 1000 / 30));
        }
        const [fastA, fastB] = await Promise.all(loops.slice(0, 2));
        const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)];
        // The slow one is still reading, its buffer full: close it.
        for (const c of clients.slice(2)) await c.client.close();
        const slow = await loops[2];
        console.log(
          `${engine} ${delivery}: fast p99 ${p99(latencies[0] ?? [])?.toFixed(2)} / ${p99(latencies[1] ?? [])?.toFixed(2)} ms; ` +
            `slow received ${slow?.received}, dropped ${slow?.dropped}, max depth ${maxSlowDepth}`,
        );
        for (const fast of [fastA, fastB]) {
          expect(fast?.dropped).toBe(0);
          // Realtime keeps fresh: a frame the link could not carry in time is dropped on the
          // way (counted: lost or expired), never because of the slow subscriber's buffer.
          if (delivery === "reliable") expect(fast?.received).toBe(FRAMES);
          else
            expect((fast?.received ?? 0) + (fast?.lost ?? 0) + (fast?.expired ?? 0)).toBe(FRAMES);
        }
        expect(slow?.dropped).toBeGreaterThan(0);
        expect(maxSlowDepth).toBeGreaterThan(5);
        expect(maxSlowDepth).toBeLessThanOrEqual(10);
      } finally {
        await res.closeAll();
      }
    },
  );
});
