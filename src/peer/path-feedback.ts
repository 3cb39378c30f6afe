import { type Report, writeReport } from "../wire/report.js";

/** This end's clock for the wire: wall-clock ms, mod 2^32 (differences are taken as int32). */
export function clockMs(): number {
  return Math.floor(performance.timeOrigin + performance.now()) >>> 0;
}

/** What the reports say of the path from this end to the other. */
export interface PathStats {
  /** Round trip over the realtime lane, from the best recent report echo. */
  rttMs: number | undefined;
  /** The other end's clock minus this end's, as estimated with that echo. */
  clockOffsetMs: number | undefined;
  /** Share of this end's coded pieces the other end reports lost (recent maximum, decaying). */
  loss: number;
  /** Realtime bytes per second the other end reports receiving from this end. */
  deliveredBytesPerSecond: number | undefined;
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
  private lossEstimate = 0;
  private delivered: number | undefined;
  private readonly samples: ClockSample[] = [];
  private lastRemote: { sentAt: number; receivedAt: number } | undefined;
  private bytesReceived = 0;
  private lastReportAt = clockMs();

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
    if (report.echo) {
      const rttMs = (now - report.echo.sentAt - report.echo.heldMs) | 0;
      if (rttMs < 0) return;
      // The report left the other end half a round trip ago.
      this.samples.push({ rttMs, offsetMs: (report.sentAt + rttMs / 2 - now) | 0 });
      if (this.samples.length > CLOCK_SAMPLES) this.samples.shift();
    }
  }

  /** Share of pieces lost to plan repair for. */
  get loss(): number {
    return this.lossEstimate;
  }

  /** How old a message the other end sent at `sentAt` (its clock) is now; undefined until
   * a report round trip has set the clock offset. Never negative. */
  ageOf(sentAt: number): number | undefined {
    const best = this.bestSample();
    if (!best) return undefined;
    return Math.max(0, (clockMs() + best.offsetMs - sentAt) | 0);
  }

  get stats(): PathStats {
    const best = this.bestSample();
    return {
      rttMs: best?.rttMs,
      clockOffsetMs: best?.offsetMs,
      loss: this.lossEstimate,
      deliveredBytesPerSecond: this.delivered,
    };
  }

  private bestSample(): ClockSample | undefined {
    let best: ClockSample | undefined;
    for (const s of this.samples) if (!best || s.rttMs < best.rttMs) best = s;
    return best;
  }
}
