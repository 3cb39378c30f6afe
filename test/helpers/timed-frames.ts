// Numbered, timestamped frames at a fixed rate, and what a receiver makes of them.
import { setTimeout as delay } from "node:timers/promises";
import { pattern } from "./net.js";

export interface FrameMessage {
  n: number;
  /** Epoch milliseconds: comparable across processes (and with a browser page) here. */
  sentAt: number;
  frame: Uint8Array;
}

// The wall clock as it is now: performance.timeOrigin is the wall clock when the process
// started, so a clock step leaves a long-lived process (the test runner) off by the step from a
// viewer started after it (seen: every frame of a run 15.8 s late).
const now = () => Date.now();

export function frameIsIntact(m: FrameMessage): boolean {
  const expected = pattern(m.frame.byteLength, m.n);
  return Buffer.compare(Buffer.from(m.frame), Buffer.from(expected)) === 0;
}

/** Sends frames 1..count at `fps`, on schedule: a late tick does not push the others back.
 * `size`: bytes per frame, or a function picking each frame's (a sender following advice). */
/** What an encoder that follows conduit's rate advice makes of it: a frame of `share` of a
 * second's capacity at `fps` (2 KB at least, `maxBytes` at most), or `maxBytes` with none. */
export function adviceFrameBytes(
  capacity: number | undefined,
  fps: number,
  maxBytes: number,
  share = 0.8,
): number {
  if (capacity === undefined) return maxBytes;
  return Math.round(Math.max(2_000, Math.min(maxBytes, (share * capacity) / fps)));
}

export async function sendFrames(
  count: number,
  fps: number,
  size: number | (() => number),
  send: (m: FrameMessage) => unknown,
): Promise<void> {
  const interval = 1000 / fps;
  const start = performance.now();
  for (let n = 1; n <= count; n++) {
    const wait = start + (n - 1) * interval - performance.now();
    if (wait > 0) await delay(wait);
    const bytes = typeof size === "number" ? size : size();
    await send({ n, sentAt: now(), frame: pattern(bytes, n) });
  }
}

export interface ReceiveSummary {
  count: number;
  duplicates: number;
  inOrder: boolean;
  p50: number;
  p99: number;
  max: number;
  /** Frames that arrived within 100 ms, and the frame bytes that arrived. */
  within100: number;
  bytes: number;
  first: number;
  last: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

/** `seen`: frame numbers in arrival order; `latencies`: one-way milliseconds, same order. */
export function summarize(seen: number[], latencies: number[], bytes = 0): ReceiveSummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: seen.length,
    duplicates: seen.length - new Set(seen).size,
    inOrder: seen.every((n, i) => i === 0 || n > (seen[i - 1] as number)),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    within100: latencies.filter((l) => l <= 100).length,
    bytes,
    first: seen[0] ?? 0,
    last: seen[seen.length - 1] ?? 0,
  };
}
