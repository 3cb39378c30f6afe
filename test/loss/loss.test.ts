// Streams over a slow, lossy link (2 % loss and 25 ms each way) between this process and a
// viewer process in its own namespace: realtime loses whole messages but stays fresh, reliable
// loses nothing; plain Socket.IO on the same link is the comparison. The loss starts once the
// viewer is connected and subscribed: streaming under loss is measured here, not connecting.
import { createServer } from "node:http";
import { Server as SocketIoServer } from "socket.io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Delivery, EngineName } from "../../src/index.js";
import {
  createImpairedLink,
  type ImpairedLink,
  impairedLinkUnavailable,
} from "../helpers/impaired-link.js";
import { ENGINES, Resources, startServer } from "../helpers/net.js";
import { exitCode, lineMatching, runTs } from "../helpers/process.js";
import { type ReceiveSummary, sendFrames } from "../helpers/timed-frames.js";

const DELAY_MS = 25;
const LOSS = 0.02;
const FPS = 30;
const FRAME_BYTES = 50_000;
const FRAMES = 150;
/** SCTP carries ~200 KB/s on this link (cwnd halves at each loss): keep the reliable run short. */
const RELIABLE_FRAMES = 60;

const skip = impairedLinkUnavailable();
if (skip) console.log(`loss tests skipped: impaired link ${skip}`);

type ViewerResult = ReceiveSummary & { intact: boolean; lost?: number };

describe.skipIf(skip !== undefined)(
  `${LOSS * 100} % loss, ${DELAY_MS} ms each way`,
  { timeout: 90_000 },
  () => {
    const res = new Resources();
    let link: ImpairedLink;
    const socketIoP99: number[] = [];
    const realtimeP99: Record<string, number> = {};

    beforeAll(async () => {
      link = await createImpairedLink({ delayMs: DELAY_MS, loss: 0, seed: 7 });
    });
    afterAll(async () => {
      await res.closeAll();
      if (link) console.log("link:", JSON.stringify(await link.close()));
    });

    function startViewer(env: Record<string, string>) {
      const viewer = runTs(
        res,
        "test/helpers/lossy-viewer.ts",
        { SERVER_HOST: link.hostAddress, ...env },
        [],
        link.ns,
      );
      const result = lineMatching(viewer, /^result (.*)$/).then(
        ([, json]) => JSON.parse(json as string) as ViewerResult,
      );
      result.catch(() => undefined);
      return { viewer, result };
    }

    async function streamThroughLink(engine: EngineName, delivery: Delivery, frames: number) {
      const { server, streams } = await startServer(res, engine, {
        host: link.hostAddress,
        iceBindAddress: link.hostAddress,
      });
      // A buffer for every frame: the link is slower than the frames come, and a reliable
      // subscriber's queue that overflows drops its oldest.
      const stream = streams.create("frames", { delivery, bufferSize: frames });
      const subscribed = new Promise<void>((resolve) => stream.onSubscribe(() => resolve()));
      const { viewer, result } = startViewer({
        MODE: "conduit",
        ENGINE: engine,
        SERVER_PORT: String(server.port),
      });
      await Promise.race([subscribed, result.then(() => Promise.reject(viewer.output()))]);
      link.setLoss(LOSS);
      await sendFrames(frames, FPS, FRAME_BYTES, (m) => stream.push(m));
      const sender = Object.values(stream.subscriberStats())[0];
      await stream.close();
      const received = await result;
      link.setLoss(0);
      expect(await exitCode(viewer)).toBe(0);
      return { received, sender };
    }

    for (const engine of ENGINES) {
      it(`realtime on ${engine}: lost messages are dropped whole, counted, never late`, async () => {
        const { received, sender } = await streamThroughLink(engine, "realtime", FRAMES);
        console.log(`realtime ${engine}:`, JSON.stringify({ received, sender }));
        realtimeP99[engine] = received.p99;
        expect(received.intact).toBe(true);
        expect(received.duplicates).toBe(0);
        // Every frame after the first one received either arrived whole or was counted lost.
        expect(received.count + (received.lost ?? -1)).toBe(FRAMES - received.first + 1);
        // With 2 % packet loss, a 50 KB message (~40 packets) often loses a chunk. Were lost
        // chunks retransmitted, nothing would be lost.
        expect(received.lost).toBeGreaterThan(0);
        expect(received.count).toBeGreaterThan(0);
      });

      it(`reliable on ${engine}: every message arrives, in order, once`, async () => {
        const { received } = await streamThroughLink(engine, "reliable", RELIABLE_FRAMES);
        console.log(`reliable ${engine}:`, JSON.stringify(received));
        expect(received).toMatchObject({
          count: RELIABLE_FRAMES,
          first: 1,
          last: RELIABLE_FRAMES,
          inOrder: true,
          duplicates: 0,
          intact: true,
          lost: 0,
        });
      });
    }

    it("Socket.IO on the same link: everything arrives, behind any lost packet", async () => {
      const http = createServer();
      const io = new SocketIoServer(http, { maxHttpBufferSize: 1e8 });
      res.add(() => new Promise<void>((resolve) => io.close(() => http.close(() => resolve()))));
      await new Promise<void>((resolve) => http.listen(0, link.hostAddress, resolve));
      const connected = new Promise<import("socket.io").Socket>((resolve) =>
        io.on("connection", resolve),
      );
      const address = http.address();
      const port = typeof address === "object" && address ? address.port : 0;
      const { viewer, result } = startViewer({ MODE: "socket.io", SERVER_PORT: String(port) });
      const socket = await connected;
      link.setLoss(LOSS);
      await sendFrames(FRAMES, FPS, FRAME_BYTES, (m) => socket.emit("frame", m));
      socket.emit("end");
      const received = await result;
      link.setLoss(0);
      expect(await exitCode(viewer)).toBe(0);
      console.log("socket.io:", JSON.stringify(received));
      socketIoP99.push(received.p99);
      for (const [engine, p99] of Object.entries(realtimeP99)) {
        console.log(
          `p99 one-way: conduit realtime on ${engine} ${p99.toFixed(1)} ms, Socket.IO ${received.p99.toFixed(1)} ms (ratio ${(p99 / received.p99).toFixed(2)})`,
        );
      }
      expect(received).toMatchObject({ count: FRAMES, inOrder: true, duplicates: 0, intact: true });
    });
  },
);
