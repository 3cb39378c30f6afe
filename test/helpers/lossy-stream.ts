// 30 fps × 50 KB frames from this process to a viewer (lossy-viewer.ts) at the far end of an
// impaired link, through conduit or plain Socket.IO. The link's loss is switched on once the
// viewer has connected and subscribed, and off after: streaming under loss is measured, not
// connecting. Used by test/loss and by the bench's WAN matrix.
import { createServer } from "node:http";
import { type Socket, Server as SocketIoServer } from "socket.io";
import type { ClientStats, Delivery, EngineName, SubscriberStats } from "../../src/index.js";
import type { ImpairedLink } from "./impaired-link.js";
import { pattern, type Resources, startServer } from "./net.js";
import { exitCode, lineMatching, runTs } from "./process.js";
import { adviceFrameBytes, type ReceiveSummary, sendFrames } from "./timed-frames.js";

export const FPS = 30;
export const FRAME_BYTES = 50_000;

export type ViewerResult = ReceiveSummary & {
  intact: boolean;
  /** Frame numbers in arrival order, and their one-way delays (ms). */
  seen: number[];
  latencies: number[];
  /** conduit: the subscription's counts, its age p99, the link's rebuilt messages and the
   * packets its RTP lane brought. */
  lost?: number;
  expired?: number;
  ageP99?: number;
  rebuilt?: number;
  rtpPacketsReceived?: number;
};

export interface LossyRun {
  received: ViewerResult;
  /** Socket.IO: the sending side's TCP congestion control, as `ss` saw it mid-run. */
  congestionControl?: string | undefined;
  /** The server's view of the one subscriber (conduit only). */
  sender?: SubscriberStats | undefined;
  /** The server's RTP lane to the viewer, as the last frame went (conduit only). */
  rtpLane?: ClientStats["rtpLane"];
  /** conduit: each frame sent (frame n at n − 1), its size and the server's capacity estimate
   * for the viewer's path when it went (NaN while it had none). */
  sent?: { bytes: number; capacity: number }[];
  viewerExitCode: number | null;
}

export interface StreamOptions {
  frameBytes?: number;
  /** The viewer stops this long after subscribing: what has not come by then did not. */
  deadlineMs?: number;
}

function deadline(options: StreamOptions): Record<string, string> {
  return options.deadlineMs === undefined ? {} : { DEADLINE_MS: String(options.deadlineMs) };
}

function startViewer(res: Resources, link: ImpairedLink, env: Record<string, string>) {
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
  /** Resolves with `ready`, or fails with the viewer's output if it ends first. */
  const unlessViewerEnds = <T>(ready: Promise<T>) =>
    Promise.race([ready, result.then(() => Promise.reject(new Error(viewer.output())))]);
  return { viewer, result, unlessViewerEnds };
}

async function underLoss(link: ImpairedLink, loss: number, send: () => Promise<void>) {
  link.setLoss(loss);
  try {
    await send();
  } finally {
    link.setLoss(0);
  }
}

export async function streamConduit(
  res: Resources,
  link: ImpairedLink,
  engine: EngineName,
  delivery: Delivery,
  frames: number,
  loss: number,
  options: StreamOptions & {
    maxAgeMs?: number;
    /** Size each frame by conduit's rate advice (the subscriber's path capacity)… */
    followAdvice?: boolean;
    /** …to this share of it (default 0.8). */
    adviceShare?: number;
  } = {},
): Promise<LossyRun> {
  const { maxAgeMs, frameBytes = FRAME_BYTES } = options;
  const { server, streams } = await startServer(res, engine, {
    host: link.hostAddress,
    iceBindAddress: link.hostAddress,
  });
  // A buffer for every frame: the link is slower than the frames come, and a reliable
  // subscriber's queue that overflows drops its oldest.
  const stream = streams.create("frames", {
    delivery,
    bufferSize: frames,
    ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
  });
  const subscribed = new Promise<void>((resolve) => stream.onSubscribe(() => resolve()));
  const { viewer, result, unlessViewerEnds } = startViewer(res, link, {
    MODE: "conduit",
    ENGINE: engine,
    SERVER_PORT: String(server.port),
    ...deadline(options),
  });
  // The capacity estimate is read as each frame goes. An encoder told it sizes a frame to
  // a share of it (2 KB at least).
  const sent: { bytes: number; capacity: number }[] = [];
  const frameSize = () => {
    const capacity = server.clientStats()[0]?.path?.capacityBytesPerSecond;
    const bytes = options.followAdvice
      ? adviceFrameBytes(capacity, FPS, frameBytes, options.adviceShare)
      : frameBytes;
    sent.push({ bytes, capacity: capacity ?? Number.NaN });
    return bytes;
  };
  await unlessViewerEnds(subscribed);
  let sender: SubscriberStats | undefined;
  let rtpLane: ClientStats["rtpLane"];
  await underLoss(link, loss, async () => {
    await sendFrames(frames, FPS, frameSize, (m) => stream.push(m));
    sender = Object.values(stream.subscriberStats())[0];
    rtpLane = server.clientStats()[0]?.rtpLane;
    await stream.close();
    await result;
  });
  return {
    received: await result,
    sender,
    rtpLane,
    sent,
    viewerExitCode: await exitCode(viewer),
  };
}

/**
 * Reliable bulk: frames of `frameBytes` pushed as fast as the stream takes them (its default
 * overflow "wait": push() waits for room) to a viewer across `link`, which stops after
 * `durationMs`. Goodput: the frame bytes it got over the time from the first push to its end.
 */
export async function bulkConduit(
  res: Resources,
  link: ImpairedLink,
  engine: EngineName,
  durationMs: number,
  frameBytes: number,
  loss = 0,
): Promise<{ received: ViewerResult; mbPerS: number; viewerExitCode: number | null }> {
  const { server, streams } = await startServer(res, engine, {
    host: link.hostAddress,
    iceBindAddress: link.hostAddress,
  });
  const stream = streams.create("frames", { delivery: "reliable" });
  const subscribed = new Promise<void>((resolve) => stream.onSubscribe(() => resolve()));
  const { viewer, result, unlessViewerEnds } = startViewer(res, link, {
    MODE: "conduit",
    ENGINE: engine,
    SERVER_PORT: String(server.port),
    DEADLINE_MS: String(durationMs),
  });
  await unlessViewerEnds(subscribed);
  let ended = false;
  void result.finally(() => {
    ended = true;
  });
  const start = performance.now();
  let seconds = 0;
  await underLoss(link, loss, async () => {
    // Until the viewer leaves (its deadline): that ends any wait for room. A push with no
    // subscriber left never waits, so the count is checked too: `ended` needs I/O to flip.
    for (let n = 1; !ended && stream.subscriberCount > 0; n++) {
      const sentAt = performance.timeOrigin + performance.now();
      await stream.push({ n, sentAt, frame: pattern(frameBytes, n) });
    }
    seconds = (performance.now() - start) / 1000;
  });
  await stream.close();
  const received = await result;
  return {
    received,
    mbPerS: received.bytes / 1e6 / seconds,
    viewerExitCode: await exitCode(viewer),
  };
}

export async function streamSocketIo(
  res: Resources,
  link: ImpairedLink,
  frames: number,
  loss: number,
  options: StreamOptions = {},
): Promise<LossyRun> {
  const http = createServer();
  const io = new SocketIoServer(http, { maxHttpBufferSize: 1e8 });
  res.add(() => new Promise<void>((resolve) => io.close(() => http.close(() => resolve()))));
  await new Promise<void>((resolve) => http.listen(0, link.hostAddress, resolve));
  const connected = new Promise<Socket>((resolve) => io.on("connection", resolve));
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const { viewer, result, unlessViewerEnds } = startViewer(res, link, {
    MODE: "socket.io",
    SERVER_PORT: String(port),
    ...deadline(options),
  });
  const socket = await unlessViewerEnds(connected);
  const congestionControl = link.tcpCongestionControl();
  await underLoss(link, loss, async () => {
    await sendFrames(frames, FPS, options.frameBytes ?? FRAME_BYTES, (m) =>
      socket.emit("frame", m),
    );
    socket.emit("end");
    await result;
  });
  return { received: await result, congestionControl, viewerExitCode: await exitCode(viewer) };
}
