import { clockMs } from "../util/clock.js";
import { type Report, writeReport } from "../wire/report.js";
import { DelayTracker } from "./delay-tracker.js";
import { RealtimePacer } from "./pacer.js";

/** What the reports say of the path from this end to the other. */
export interface PathStats {
  /** Round trip over the realtime lane, from the best recent report echo. */
  rttMs: number | undefined;
  /** The other end's clock minus this end's: measured over signaling, or from that echo. */
  clockOffsetMs: number | undefined;
  /** Share of this end's coded pieces the other end reports lost (recent maximum, decaying). */
  loss: number;
  /** Realtime bytes per second the other end reports receiving from this end. */
  deliveredBytesPerSecond: number | undefined;
  /** What this end paces its realtime lane at: the rate the path carries without queueing,
   * as the reports tell (undefined: no limit seen yet). Frame sizes or encoder bitrates that
   * fit in it arrive whole and fresh. */
  capacityBytesPerSecond: number | undefined;
}

interface ClockSample {
  rttMs: number;
  offsetMs: number;
}

/** Each report's weight in the loss estimate wanes by this much per report (~100 ms). */
const LOSS_DECAY = 0.85;
/** Echo samples kept; the one with the shortest round trip gives the clock offset. */
const CLOCK_SAMPLES = 50;

/**
 * The two-way report exchange of a coded link (docs/PROTOCOL.md §5.4): it makes this end's
 * reports and reads the other end's, for the sender's repair rate, the receiver's age checks
 * and the path figures an application can follow.
 */
export class PathFeedback {
  readonly pacer = new RealtimePacer();
  private readonly delays = new DelayTracker();
  private lossEstimate = 0;
  private delivered: number | undefined;
  private readonly samples: ClockSample[] = [];
  private lastRemote: { sentAt: number; receivedAt: number } | undefined;
  /** The other end's clock minus ours, as measured over signaling (preferred: its round
   * trips never wait behind realtime data). */
  private signaledOffsetMs: number | undefined;
  private bytesReceived = 0;
  private lastReportAt = clockMs();

  /** A coded message the other end sent at `sentAt` (its clock) arrived whole; its first
   * piece came at `firstPieceAt` (ours). The message's own transmission time is left out. */
  arrived(sentAt: number, firstPieceAt: number): void {
    this.delays.add((firstPieceAt - sentAt) | 0);
  }

  /** Counts realtime bytes that arrived (for the next report). */
  received(bytes: number): void {
    this.bytesReceived += bytes;
  }

  /** This end's next report; `loss` is what this end measured of the other's pieces. */
  nextReport(loss: number | undefined): Uint8Array {
    const now = clockMs();
    const frame = writeReport({
      loss,
      sentAt: now,
      echo: this.lastRemote && {
        sentAt: this.lastRemote.sentAt,
        heldMs: Math.max(0, (now - this.lastRemote.receivedAt) | 0),
      },
      bytesReceived: this.bytesReceived,
      intervalMs: Math.max(0, (now - this.lastReportAt) | 0),
      queueDelayMs: this.delays.take(),
    });
    this.bytesReceived = 0;
    this.lastReportAt = now;
    return frame;
  }

  onReport(report: Report): void {
    const now = clockMs();
    this.lastRemote = { sentAt: report.sentAt, receivedAt: now };
    if (report.loss !== undefined) {
      this.lossEstimate = Math.max(report.loss, this.lossEstimate * LOSS_DECAY);
    }
    if (report.intervalMs > 0) {
      this.delivered = (report.bytesReceived * 1000) / report.intervalMs;
    }
    this.pacer.onReport(report.queueDelayMs, this.delivered);
    if (report.echo) {
      const rttMs = (now - report.echo.sentAt - report.echo.heldMs) | 0;
      if (rttMs < 0) return;
      // The report left the other end half a round trip ago.
      this.samples.push({ rttMs, offsetMs: (report.sentAt + rttMs / 2 - now) | 0 });
      if (this.samples.length > CLOCK_SAMPLES) this.samples.shift();
    }
  }

  setClockOffset(offsetMs: number): void {
    this.signaledOffsetMs = Math.round(offsetMs);
  }

  /** Share of pieces lost to plan repair for. */
  get loss(): number {
    return this.lossEstimate;
  }

  /** How old a message the other end sent at `sentAt` (its clock) is now; undefined until
   * a report round trip has set the clock offset. Never negative. */
  ageOf(sentAt: number): number | undefined {
    const offsetMs = this.signaledOffsetMs ?? this.bestSample()?.offsetMs;
    if (offsetMs === undefined) return undefined;
    return Math.max(0, (clockMs() + offsetMs - sentAt) | 0);
  }

  get stats(): PathStats {
    const best = this.bestSample();
    return {
      rttMs: best?.rttMs,
      clockOffsetMs: this.signaledOffsetMs ?? best?.offsetMs,
      loss: this.lossEstimate,
      deliveredBytesPerSecond: this.delivered,
      capacityBytesPerSecond: Number.isFinite(this.pacer.bytesPerSecond)
        ? this.pacer.bytesPerSecond
        : undefined,
    };
  }

  private bestSample(): ClockSample | undefined {
    let best: ClockSample | undefined;
    for (const s of this.samples) if (!best || s.rttMs < best.rttMs) best = s;
    return best;
  }
}
