import { clockMs } from "../util/clock.js";
import { PIECE_BYTES, PIECE_HEADER_BYTES } from "../wire/pieces.js";
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
  /** Message bytes per second the path carries without queueing, as the reports tell: the
   * rate this end paces its realtime lane at, less what repair and piece headers take of it
   * (undefined: not paced, a short path that has shown no loss). Frame sizes or encoder
   * bitrates that fit in it arrive whole and fresh. */
  capacityBytesPerSecond: number | undefined;
}

interface ClockSample {
  rttMs: number;
  offsetMs: number;
}

/** What the other end must have sent before its loss is measured: both, so that a sample of
 * frame-sized pieces has enough pieces and one of small pieces enough packets. */
const LOSS_SAMPLE_PIECES = 20;
const LOSS_SAMPLE_PACKETS = 100;
/** …or, on a path that carries little, this long and a few pieces. */
const LOSS_SAMPLE_MS = 1_000;
const LOSS_SAMPLE_MIN_PIECES = 3;
/** The packet a piece frame of this many bytes or less fills (see PIECE_BYTES). */
const PACKET_BYTES = PIECE_HEADER_BYTES + PIECE_BYTES;
/** Each report's weight in the loss estimate wanes by this much per report (~100 ms). */
const LOSS_DECAY = 0.85;
/** The loss repair is planned for on a long path before the first loss sample. */
const START_LOSS = 0.02;
const RTP_LANE_LOSS = 0.005;
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
  private lossSampled = false;
  private delivered: number | undefined;
  private readonly samples: ClockSample[] = [];
  private lastRemote: { sentAt: number; receivedAt: number } | undefined;
  /** The other end's clock minus ours, as measured over signaling (preferred: its round
   * trips never wait behind realtime data). */
  private signaledOffsetMs: number | undefined;
  private bytesReceived = 0;
  /** Coded pieces this end sent (and the packets they filled) and received, in all. */
  private piecesSent = 0;
  private packetsSent = 0;
  private piecesReceived = 0;
  /** The counts at the start of the current loss sample (the other end's sent, ours received). */
  private lossSampleStart:
    | { pieces: number; packets: number; received: number; at: number }
    | undefined;
  /** The share of the other end's pieces lost in the last sample, for our next report. */
  private measuredLoss: number | undefined;
  private lastReportAt = clockMs();

  /** The first piece of a coded message came, now; it went to the other end's engine at
   * `handedAt` (its clock). Sampled whether or not the message completes: one that never
   * does still tells of the queue it waited in (and on a lossy path, before repair is
   * planned, the first messages rarely complete: they would leave the base delay to be
   * learned behind a standing queue). The message's own transmission time, and any wait in
   * the other end's queue, are left out. */
  firstPieceCame(handedAt: number): void {
    this.delays.add((clockMs() - handedAt) | 0);
  }

  /** Counts realtime bytes that arrived (for the next report); `piece`: a coded piece. */
  received(bytes: number, piece: boolean): void {
    this.bytesReceived += bytes;
    if (piece) this.piecesReceived++;
  }

  /** Counts a coded piece handed to the engine, and the packets it fills. */
  sent(piece: Uint8Array): void {
    this.piecesSent++;
    this.packetsSent += Math.ceil(piece.byteLength / PACKET_BYTES);
  }

  /** This end's next report. */
  nextReport(): Uint8Array {
    const now = clockMs();
    const loss = this.measuredLoss;
    this.measuredLoss = undefined;
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
      piecesSent: this.piecesSent,
      packetsSent: this.packetsSent,
    });
    this.bytesReceived = 0;
    this.lastReportAt = now;
    return frame;
  }

  onReport(report: Report): void {
    const now = clockMs();
    this.lastRemote = { sentAt: report.sentAt, receivedAt: now };
    this.measureLoss(report.piecesSent, report.packetsSent);
    if (report.loss !== undefined) {
      this.lossEstimate = Math.max(report.loss, this.lossEstimate * LOSS_DECAY);
      this.lossSampled = true;
    }
    if (report.intervalMs > 0) {
      this.delivered = (report.bytesReceived * 1000) / report.intervalMs;
    }
    if (report.echo) {
      const rttMs = (now - report.echo.sentAt - report.echo.heldMs) | 0;
      if (rttMs >= 0) {
        // The report left the other end half a round trip ago.
        this.samples.push({ rttMs, offsetMs: (report.sentAt + rttMs / 2 - now) | 0 });
        if (this.samples.length > CLOCK_SAMPLES) this.samples.shift();
        this.pacer.roundTrip(rttMs);
      }
    }
    this.pacer.onReport(report.queueDelayMs, this.delivered, this.lossEstimate, report.loss);
  }

  /** A report has come from the other end. */
  get heardFromOtherEnd(): boolean {
    return this.lastRemote !== undefined;
  }

  setClockOffset(offsetMs: number): void {
    this.signaledOffsetMs = Math.round(offsetMs);
  }

  /** Share of pieces lost to plan repair for. Before the first loss sample, on a long path
   * (the pacer paces its start), at least START_LOSS: else the first second of frames goes
   * without repair, and across a lossy path most of them are lost. On the RTP lane, at least
   * RTP_LANE_LOSS: nothing there is sent again, so one packet lost anywhere on the way (the
   * path, a socket, the engine) costs its message unless repair covers it. */
  get loss(): number {
    const paced = Number.isFinite(this.pacer.bytesPerSecond);
    if (paced && !this.lossSampled) return Math.max(START_LOSS, this.lossEstimate);
    if (paced && this.pacer.keepsPacing) return Math.max(RTP_LANE_LOSS, this.lossEstimate);
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
    const capacity = this.pacer.payloadBytesPerSecond;
    return {
      rttMs: best?.rttMs,
      clockOffsetMs: this.signaledOffsetMs ?? best?.offsetMs,
      loss: this.lossEstimate,
      deliveredBytesPerSecond: this.delivered,
      capacityBytesPerSecond: Number.isFinite(capacity) ? capacity : undefined,
    };
  }

  /** The other end's pieces sent before its report came ahead of it on the lane: what of
   * them has not come by now was lost. */
  private measureLoss(theirPieces: number, theirPackets: number): void {
    const start = this.lossSampleStart;
    const now = {
      pieces: theirPieces,
      packets: theirPackets,
      received: this.piecesReceived,
      at: performance.now(),
    };
    if (!start) {
      this.lossSampleStart = now;
      return;
    }
    const pieces = (theirPieces - start.pieces) >>> 0;
    const packets = (theirPackets - start.packets) >>> 0;
    const enough =
      (pieces >= LOSS_SAMPLE_PIECES && packets >= LOSS_SAMPLE_PACKETS) ||
      (pieces >= LOSS_SAMPLE_MIN_PIECES && now.at - start.at >= LOSS_SAMPLE_MS);
    if (!enough) return;
    const came = Math.min(1, (this.piecesReceived - start.received) / pieces);
    // A piece of n packets comes only if all n do: p = 1 − (share that came)^(1/n).
    this.measuredLoss = 1 - came ** (pieces / packets);
    this.lossSampleStart = now;
  }

  private bestSample(): ClockSample | undefined {
    let best: ClockSample | undefined;
    for (const s of this.samples) if (!best || s.rttMs < best.rttMs) best = s;
    return best;
  }
}
