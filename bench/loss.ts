// loss-latency-50KB: 30 fps × 50 KB frames over a link with 2 % loss and 25 ms each way
// (test/helpers/impaired-link.ts; needs root), conduit's realtime delivery against Socket.IO.
// The viewer runs in its own process at the far end of the link.
import type { EngineName } from "../src/index.js";
import type { ImpairedLink } from "../test/helpers/impaired-link.js";
import { type LossyRun, streamConduit, streamSocketIo } from "../test/helpers/lossy-stream.js";
import { Resources } from "../test/helpers/net.js";

const LOSS = 0.02;
export const DELAY_MS = 25;

export interface LossResult {
  /** One-way latency of the frames that arrived; not a finite number when none did. */
  p50: number;
  p99: number;
  /** Frames that never arrived, in percent of those sent. */
  lostPct: number;
}

export async function lossLatency(
  link: ImpairedLink,
  system: EngineName | "socket.io",
  frames: number,
): Promise<LossResult> {
  const res = new Resources();
  try {
    const run: LossyRun =
      system === "socket.io"
        ? await streamSocketIo(res, link, frames, LOSS)
        : await streamConduit(res, link, system, "realtime", frames, LOSS);
    if (run.viewerExitCode !== 0) throw new Error(`viewer exited with ${run.viewerExitCode}`);
    const { p50, p99, count } = run.received;
    return { p50, p99, lostPct: (100 * (frames - count)) / frames };
  } finally {
    await res.closeAll();
  }
}
