// The WAN matrix: 30 fps frames to a viewer across an impaired link (test/helpers/impair.py;
// needs root), per link profile and system, in one run. conduit: realtime with a fixed 50 KB
// sender and with one that sizes its frames by conduit's rate advice, and reliable (30 fps, and
// bulk: as much as the path takes), on both
// engines; Socket.IO over TCP with CUBIC and with BBR (set on the link's routes, confirmed
// with `ss`); Chromium receiving from either engine and sending to node-datachannel. The
// viewer runs in its own process (or Chromium) at the far end of the link.
import type { EngineName } from "../src/index.js";
import type { ImpairedLink } from "../test/helpers/impaired-link.js";
import {
  bulkConduit,
  FPS,
  type LossyRun,
  streamConduit,
  streamSocketIo,
} from "../test/helpers/lossy-stream.js";
import { Resources } from "../test/helpers/net.js";
import { browserUnavailable } from "./browser.js";
import { chromiumBulk, chromiumReceives, chromiumSends } from "./wan-browser.js";

export interface LinkProfile {
  name: string;
  delayMs: number;
  loss: number;
}

export const PROFILES: LinkProfile[] = [
  { name: "25ms-0%", delayMs: 25, loss: 0 },
  { name: "25ms-1%", delayMs: 25, loss: 0.01 },
  { name: "25ms-2%", delayMs: 25, loss: 0.02 },
  { name: "50ms-1%", delayMs: 50, loss: 0.01 },
];

/** How long after the last frame is sent the viewer still waits for what is in flight. */
export const GRACE_MS = 5_000;

export interface WanResult {
  deliveredPct: number;
  /** One-way latency of the frames that arrived; not a finite number when none did. */
  p50: number;
  p99: number;
  within100Pct: number;
  goodputMBps: number;
  /** Socket.IO: the congestion control `ss` saw on the sender's connection. */
  congestionControl?: string;
}

/** One cell: streams `frames` across `link` at `loss`, then waits up to `graceMs` for them. */
export type Run = (
  res: Resources,
  link: ImpairedLink,
  frames: number,
  loss: number,
  graceMs: number,
) => Promise<LossyRun>;

const conduit = (
  engine: EngineName,
  delivery: "realtime" | "reliable",
  followAdvice = false,
): Run => {
  return (res, link, frames, loss, graceMs) =>
    streamConduit(res, link, engine, delivery, frames, loss, {
      followAdvice,
      deadlineMs: deadline(frames, graceMs),
    });
};

const socketIo = (algorithm: "cubic" | "bbr"): Run => {
  return (res, link, frames, loss, graceMs) => {
    link.setCongestionControl(algorithm);
    return streamSocketIo(res, link, frames, loss, { deadlineMs: deadline(frames, graceMs) });
  };
};

export const WAN_SYSTEMS: [string, Run][] = [
  ["conduit:node-datachannel realtime", conduit("node-datachannel", "realtime")],
  ["conduit:node-datachannel realtime, advice", conduit("node-datachannel", "realtime", true)],
  ["conduit:node-datachannel reliable", conduit("node-datachannel", "reliable")],
  ["conduit:werift realtime", conduit("werift", "realtime")],
  ["conduit:werift realtime, advice", conduit("werift", "realtime", true)],
  ["conduit:werift reliable", conduit("werift", "reliable")],
  ["socket.io cubic", socketIo("cubic")],
  ["socket.io bbr", socketIo("bbr")],
];

/** Chromium at the far end (none where it cannot run; left out of --quick, see run.ts). */
export const BROWSER_WAN_SYSTEMS: [string, Run][] = browserUnavailable()
  ? []
  : [
      [
        "conduit:chromium ← node-datachannel realtime",
        chromiumReceives("node-datachannel", "realtime"),
      ],
      [
        "conduit:chromium ← node-datachannel realtime, advice",
        chromiumReceives("node-datachannel", "realtime", true),
      ],
      [
        "conduit:chromium ← node-datachannel reliable",
        chromiumReceives("node-datachannel", "reliable"),
      ],
      ["conduit:chromium ← werift realtime", chromiumReceives("werift", "realtime")],
      ["conduit:chromium ← werift realtime, advice", chromiumReceives("werift", "realtime", true)],
      ["conduit:chromium ← werift reliable", chromiumReceives("werift", "reliable")],
      ["conduit:chromium → node-datachannel realtime", chromiumSends("node-datachannel")],
    ];

/** One bulk cell: a reliable stream pushed as fast as it takes for `durationMs`. */
export type BulkRun = (
  res: Resources,
  link: ImpairedLink,
  durationMs: number,
  loss: number,
) => Promise<{ mbPerS: number; intact: boolean }>;

const conduitBulk = (engine: EngineName): BulkRun => {
  return async (res, link, durationMs, loss) => {
    const r = await bulkConduit(res, link, engine, durationMs, 64_000, loss);
    if (r.viewerExitCode !== 0) throw new Error(`viewer exited with ${r.viewerExitCode}`);
    return { mbPerS: r.mbPerS, intact: r.received.intact && r.received.inOrder };
  };
};

/** Reliable bulk: as much as the path takes, for a while; goodput only. */
export const WAN_BULK_SYSTEMS: [string, BulkRun][] = [
  ["conduit:node-datachannel reliable, bulk", conduitBulk("node-datachannel")],
  ["conduit:werift reliable, bulk", conduitBulk("werift")],
];

/** Chromium subscribing (none where it cannot run; left out of --quick). */
export const BROWSER_WAN_BULK_SYSTEMS: [string, BulkRun][] = browserUnavailable()
  ? []
  : [
      ["conduit:chromium ← node-datachannel reliable, bulk", chromiumBulk("node-datachannel")],
      ["conduit:chromium ← werift reliable, bulk", chromiumBulk("werift")],
    ];

export async function wanBulkRun(
  link: ImpairedLink,
  run: BulkRun,
  durationMs: number,
  loss: number,
): Promise<{ goodputMBps: number; intact: boolean }> {
  const res = new Resources();
  try {
    const r = await run(res, link, durationMs, loss);
    return { goodputMBps: r.mbPerS, intact: r.intact };
  } finally {
    await res.closeAll();
  }
}

function deadline(frames: number, graceMs: number): number {
  return (frames / FPS) * 1000 + graceMs;
}

export async function wanRun(
  link: ImpairedLink,
  run: Run,
  frames: number,
  loss: number,
  graceMs = GRACE_MS,
): Promise<WanResult> {
  const res = new Resources();
  try {
    const result = await run(res, link, frames, loss, graceMs);
    if (result.viewerExitCode !== 0) throw new Error(`viewer exited with ${result.viewerExitCode}`);
    const { p50, p99, count, within100, bytes } = result.received;
    return {
      deliveredPct: (100 * count) / frames,
      p50,
      p99,
      within100Pct: (100 * within100) / frames,
      goodputMBps: bytes / 1e6 / (frames / FPS),
      ...(result.congestionControl ? { congestionControl: result.congestionControl } : {}),
    };
  } finally {
    await res.closeAll();
  }
}
