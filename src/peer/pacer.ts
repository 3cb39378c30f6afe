/** Queueing delay the realtime lane aims to stay under (what the receiver reports). */
const TARGET_QUEUE_MS = 50;
/** The pacing rate never goes below this: a path that carries less gets its messages expired. */
const MIN_RATE_BYTES_PER_S = 32 * 1024;
/** Rate changes: cut to this share of what the receiver got when the queue builds, grow by
 * this factor per report while it stays short, and never above this multiple of it. */
const DECREASE = 0.85;
const INCREASE = 1.05;
const HEADROOM = 2;
/** A lane on a long path starts at this much per round trip, and doubles per report while no
 * queue builds: a clean path is unpaced at its first loss sample, a lossy one goes on
 * doubling until the path queues, and never floods its engine with frames that can only
 * arrive late. A shorter round trip (the shortest seen) leaves the lane unpaced: SCTP's own
 * start is quick there. */
const START_WINDOW_BYTES = 32 * 1024;
const START_INCREASE = 2;
const START_MIN_ROUND_TRIP_MS = 30;
/** Until the first round trip is measured (the echo of the link's first report), the capacity
 * advice assumes this one, so an application that follows it has a figure for its first
 * frames rather than its own guess. The lane itself is not paced on it: a first message
 * paced at it on loopback waited seconds when the echo came late on a busy machine. */
const UNMEASURED_ROUND_TRIP_MS = 100;
/** A loss sample this heavy is a path that carries less than is sent, queue or not (a shallow
 * buffer, a policer): the rate is cut as for a queue. The random loss repair mends stays well
 * under it; on the RTP lane, which no congestion window holds back, this is the one response
 * to loss. */
const HEAVY_LOSS = 0.25;
/** Cuts at most this often, so one queue is not answered twice. */
const MIN_CUT_INTERVAL_MS = 200;
/** Each message's weight in the payload share of what is sent. */
const SHARE_WEIGHT = 0.1;

/**
 * Paces a coded realtime lane at the rate the path carries without a queue (docs/PROTOCOL.md
 * §5.4). On a long path it starts paced (START_WINDOW_BYTES) until the first loss sample.
 * A clean path is then unpaced and costs nothing; so is a queue without loss (a loaded CPU,
 * an engine slower than the stream), left to the engine's own backpressure. Once the path
 * loses packets, each report: a queue over TARGET_QUEUE_MS cuts the rate to DECREASE × what
 * the receiver got; a short one lets it grow. What waits for the pacer stays in conduit's
 * queue, where it can still be dropped for its age, rather than in the engine, where it
 * cannot.
 */
export class RealtimePacer {
  private rate = Number.POSITIVE_INFINITY;
  /** Before the first loss sample: the shortest round trip seen. */
  private starting: { roundTripMs: number } | undefined = { roundTripMs: Number.POSITIVE_INFINITY };
  private tokens = 0;
  private lastRefill = performance.now();
  private lastCut = Number.NEGATIVE_INFINITY;
  /** Share of the bytes sent that are messages' own (the rest: piece headers and repair). */
  private payloadShare = 1;
  /** Set while the lane has the RTP path, which has no congestion control of its own: a long
   * path then stays paced after a clean first loss sample. */
  keepsPacing = false;

  /** The rate the path carries now, as far as the reports tell (Infinity: no limit seen). */
  get bytesPerSecond(): number {
    return this.rate;
  }

  /** The part of that rate left for messages' own bytes, at the repair they need now: the
   * capacity advice (Infinity: no limit seen). Before any round trip is measured, the start
   * rate of a path UNMEASURED_ROUND_TRIP_MS long. */
  get payloadBytesPerSecond(): number {
    const unmeasured = this.starting?.roundTripMs === Number.POSITIVE_INFINITY;
    const rate = unmeasured ? START_WINDOW_BYTES / (UNMEASURED_ROUND_TRIP_MS / 1000) : this.rate;
    return rate * this.payloadShare;
  }

  /** A round trip was measured: before the first loss sample, it sets the start rate. */
  roundTrip(ms: number): void {
    const starting = this.starting;
    if (!starting || ms >= starting.roundTripMs) return;
    const first = starting.roundTripMs === Number.POSITIVE_INFINITY;
    starting.roundTripMs = ms;
    if (ms < START_MIN_ROUND_TRIP_MS) this.rate = Number.POSITIVE_INFINITY;
    else if (first) this.rate = START_WINDOW_BYTES / (ms / 1000);
    else return;
    this.refill(performance.now());
  }

  /** `loss`: the estimate; `sampleLoss`: the report's own loss sample, if it carries one. */
  onReport(
    queueDelayMs: number | undefined,
    deliveredBytesPerSecond: number | undefined,
    loss: number,
    sampleLoss?: number,
  ): void {
    const heavyLoss = (sampleLoss ?? 0) > HEAVY_LOSS && Number.isFinite(this.rate);
    if (this.starting) {
      if (sampleLoss !== undefined && loss === 0 && !this.keepsPacing) {
        this.starting = undefined;
        this.rate = Number.POSITIVE_INFINITY;
        return;
      }
      // Not yet known, or lossy on the RTP lane: doubling goes on until the path queues.
      const queued = loss > 0 && queueDelayMs !== undefined && queueDelayMs > TARGET_QUEUE_MS;
      const known = sampleLoss !== undefined && !this.keepsPacing;
      if (!known && !queued && !heavyLoss) {
        this.grow(queueDelayMs, deliveredBytesPerSecond, START_INCREASE);
        return;
      }
      this.starting = undefined;
    }
    if (queueDelayMs === undefined || deliveredBytesPerSecond === undefined) return;
    const now = performance.now();
    const queueing = queueDelayMs > TARGET_QUEUE_MS && (loss > 0 || Number.isFinite(this.rate));
    if (queueing || heavyLoss) {
      if (now - this.lastCut < MIN_CUT_INTERVAL_MS) return;
      this.lastCut = now;
      this.refill(now);
      this.rate = Math.max(MIN_RATE_BYTES_PER_S, DECREASE * deliveredBytesPerSecond);
    } else {
      this.grow(queueDelayMs, deliveredBytesPerSecond, INCREASE);
    }
  }

  /** While the queue stays short: up by `factor`, to at most HEADROOM × what arrived. */
  private grow(
    queueDelayMs: number | undefined,
    deliveredBytesPerSecond: number | undefined,
    factor: number,
  ): void {
    if (queueDelayMs === undefined || deliveredBytesPerSecond === undefined) return;
    if (queueDelayMs >= TARGET_QUEUE_MS / 2 || !Number.isFinite(this.rate)) return;
    this.refill(performance.now());
    const ceiling = Math.max(MIN_RATE_BYTES_PER_S, HEADROOM * deliveredBytesPerSecond);
    this.rate = Math.max(this.rate, Math.min(this.rate * factor, ceiling));
  }

  /** Ms to wait before the next message may go (0: now). */
  delayMs(): number {
    if (!Number.isFinite(this.rate)) return 0;
    this.refill(performance.now());
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }

  /** A message of `payloadBytes` goes out as `bytes` on the wire: it is paid for (the
   * balance may go negative). */
  spend(bytes: number, payloadBytes: number): void {
    if (bytes > 0) {
      this.payloadShare += SHARE_WEIGHT * (Math.min(1, payloadBytes / bytes) - this.payloadShare);
    }
    if (Number.isFinite(this.rate)) this.tokens -= bytes;
  }

  private refill(now: number): void {
    if (!Number.isFinite(this.rate)) {
      this.tokens = 0;
      this.lastRefill = now;
      return;
    }
    // A burst of up to 50 ms worth, so a quiet moment does not bank a flood.
    const burst = this.rate * 0.05;
    this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) / 1000) * this.rate);
    this.lastRefill = now;
  }
}
