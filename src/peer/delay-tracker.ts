/** The shortest delay is taken over this many buckets of BUCKET_MS: it follows a route change. */
const BUCKETS = 10;
const BUCKET_MS = 1_000;

/**
 * Queueing delay on the way here without synchronized clocks: each message's arrival time
 * less its sender's timestamp is the one-way delay plus a constant clock offset, so its excess
 * over the shortest seen lately is the time spent in queues (ledbat's base delay, RFC 6817).
 */
export class DelayTracker {
  private readonly minima: number[] = [];
  private bucketStart = Number.NEGATIVE_INFINITY;
  private worst: number | undefined;

  /** A message arrived: `delayMs` = arrival (our clock) − its timestamp (the sender's). */
  add(delayMs: number, now = performance.now()): void {
    if (now - this.bucketStart >= BUCKET_MS) {
      this.bucketStart = now;
      this.minima.push(delayMs);
      if (this.minima.length > BUCKETS) this.minima.shift();
    } else {
      const last = this.minima.length - 1;
      this.minima[last] = Math.min(this.minima[last] as number, delayMs);
    }
    const base = Math.min(...this.minima);
    this.worst = Math.max(this.worst ?? 0, delayMs - base);
  }

  /** The longest queueing delay since the last call; undefined if no message came. */
  take(): number | undefined {
    const worst = this.worst;
    this.worst = undefined;
    return worst;
  }
}
