import { BoundedQueue } from "../util/bounded-queue.js";
import type { OutgoingMessage } from "../wire/outgoing.js";
import { PIECE_BYTES, PIECE_HEADER_BYTES, withHeldMs } from "../wire/pieces.js";
import type { EngineChannel, EngineRtpLane } from "./engine.js";
import type { RealtimePacer } from "./pacer.js";

export interface OutboundStats {
  messagesSent: number;
  bytesSent: number;
  /** Dropped because the queue was full (the consumer or the link was too slow). */
  dropped: number;
  /** Realtime messages dropped unsent because a newer one was waiting (the link was behind). */
  stale: number;
  /** Realtime messages dropped unsent because they passed their age bound. A message once
   * begun is finished: the receiver counts the pieces that do not come as the path's loss. */
  expired: number;
  /** Messages waiting now. */
  depth: number;
}

/** The message being sent from a queue: its frames, the next one to send, and whether each
 * says how long it waited (coded pieces on a lossy path, where the pacer may hold them). */
export interface InFlight {
  message: OutgoingMessage;
  frames: Uint8Array[];
  next: number;
  stampHeld: boolean;
}

/** One bounded queue of messages bound for one channel: a subscriber's, or a client stream's.
 * Full, it drops its oldest message (and counts it). */
export class OutboundQueue {
  private readonly queue: BoundedQueue<OutgoingMessage>;
  private messagesSent = 0;
  private bytesSent = 0;
  private stale = 0;
  private expired = 0;
  private inFlight: InFlight | undefined;

  constructor(capacity: number) {
    this.queue = new BoundedQueue(capacity);
  }

  push(message: OutgoingMessage): void {
    this.queue.push(message);
  }

  /** It can take a message without dropping one. */
  get hasRoom(): boolean {
    return this.queue.hasRoom;
  }

  /** Resolves once it can. */
  whenRoom(): Promise<void> {
    return this.queue.whenRoom();
  }

  /** The message being sent, if one was begun and not finished. */
  get current(): InFlight | undefined {
    return this.inFlight;
  }

  /**
   * Takes the next message worth sending: one past its age bound is dropped (expired), and
   * so is one older than `staleAfterMs` while a newer one waits (stale). Both are counted.
   */
  takeFresh(staleAfterMs: number | undefined): OutgoingMessage | undefined {
    const now = performance.now();
    const staleCutoff = now - (staleAfterMs ?? Number.POSITIVE_INFINITY);
    for (;;) {
      const message = this.queue.shift();
      if (!message) return undefined;
      if (message.expired(now)) {
        this.expired++;
        continue;
      }
      if (message.createdAt < staleCutoff && this.queue.length > 0) {
        this.stale++;
        continue;
      }
      return message;
    }
  }

  begin(inFlight: InFlight): void {
    this.inFlight = inFlight;
  }

  /** Every frame of the current message went to the engine. */
  finish(): void {
    if (!this.inFlight) return;
    this.messagesSent++;
    this.bytesSent += this.inFlight.message.byteLength;
    this.inFlight = undefined;
  }

  /** The link this queue fed is gone: what waits in it is dropped (and counted). */
  discard(): void {
    this.queue.dropped += this.queue.length + (this.inFlight ? 1 : 0);
    this.queue.clear();
    this.inFlight = undefined;
  }

  /** The link it fed was replaced: the message half sent there is gone (and counted). */
  dropCurrent(): void {
    if (!this.inFlight) return;
    this.queue.dropped++;
    this.inFlight = undefined;
  }

  /** Empties it without counting drops: what it held is about to be queued again. */
  clear(): void {
    this.queue.clear();
    this.inFlight = undefined;
  }

  get hasWork(): boolean {
    return this.inFlight !== undefined || this.queue.length > 0;
  }

  get stats(): OutboundStats {
    return {
      messagesSent: this.messagesSent,
      bytesSent: this.bytesSent,
      dropped: this.queue.dropped,
      stale: this.stale,
      expired: this.expired,
      depth: this.queue.length + (this.inFlight ? 1 : 0),
    };
  }
}

/** While the realtime lane is paced, the engine holds at most what the path carries in this
 * long (and at least PACED_ENGINE_MIN_BYTES): the rest waits in conduit's queue, where it can
 * still be dropped for its age; in the engine it cannot, and on a slow path the full
 * high-water mark is seconds of latency. */
const PACED_ENGINE_MS = 150;
const PACED_ENGINE_MIN_BYTES = 16 * 1024;
/** The RTP lane, which nothing holds back but the pacer, bursts at most this long at the
 * pacing rate (and at least this many bytes: two full pieces). */
const RTP_BURST_MS = 5;
const RTP_BURST_MIN_BYTES = 2400;
/** The largest piece frame the RTP lane takes: one cut to fit a packet. */
const RTP_PIECE_MAX_BYTES = PIECE_HEADER_BYTES + PIECE_BYTES;

/** Bytes handed on faster than the pacing rate, as if queued and draining at that rate. */
class Backlog {
  private queued = 0;
  private at = performance.now();

  bytes(rate: number): number {
    const now = performance.now();
    this.queued = Math.max(0, this.queued - ((now - this.at) / 1000) * rate);
    this.at = now;
    return this.queued;
  }

  add(bytes: number, rate: number): void {
    this.queued = this.bytes(rate) + bytes;
  }
}

/**
 * Feeds one data channel from many queues, round-robin by message, and never lets the
 * engine hold more than `highWater` bytes: above it, it waits for the low-threshold event.
 */
export class ChannelSender {
  private readonly ready = new Set<OutboundQueue>();
  private waitingForDrain = false;
  private pumping = false;
  /** Set while the pacer holds the next message back. */
  private paceTimer: ReturnType<typeof setTimeout> | undefined;
  private frameBytes: number;
  private readonly rtpBacklog = new Backlog();

  constructor(
    private readonly channel: EngineChannel,
    maxFrameBytes: number,
    private readonly highWater: number,
    lowWater: number,
    private readonly onSendError: (err: unknown) => void,
    /** Realtime: drop a queued message this old when a newer one waits. */
    private readonly staleAfterMs?: number,
    /** Coded realtime (protocol 3): pieces with repair for the path's loss, paced. */
    private readonly coded?: {
      readonly loss: number;
      readonly pacer: RealtimePacer;
      sent(piece: Uint8Array): void;
    },
    /** Coded realtime: while the pacer paces, pieces go here instead (see EngineRtpLane). */
    private readonly rtpLane?: EngineRtpLane,
  ) {
    this.frameBytes = maxFrameBytes;
    channel.setBufferedAmountLowThreshold(lowWater);
  }

  /** Called when the channel opens: the remote's limit is known then. */
  opened(): void {
    this.frameBytes = Math.min(this.frameBytes, this.channel.maxMessageSize());
    this.pump();
  }

  drained(): void {
    this.waitingForDrain = false;
    this.pump();
  }

  enqueue(target: OutboundQueue, message: OutgoingMessage): void {
    target.push(message);
    this.ready.add(target);
    this.pump();
  }

  /** Starts sending what a queue already holds (it was filled while paused). */
  wake(target: OutboundQueue): void {
    if (!target.hasWork) return;
    this.ready.add(target);
    this.pump();
  }

  /** The pacer's rate may have changed (a report came): a wait it set is measured again. A
   * first message paced at the start rate, before the round trip was known, otherwise held
   * the lane for its whole wait after the path turned out short and unpaced. */
  paceChanged(): void {
    if (!this.paceTimer) return;
    clearTimeout(this.paceTimer);
    this.paceTimer = undefined;
    this.pump();
  }

  remove(target: OutboundQueue): void {
    this.ready.delete(target);
  }

  get bufferedAmount(): number {
    return this.channel.bufferedAmount();
  }

  pump(): void {
    if (this.pumping || this.waitingForDrain || this.paceTimer || !this.channel.isOpen()) return;
    this.pumping = true;
    try {
      for (const target of this.ready) {
        const outcome = this.sendFrom(target);
        if (typeof outcome === "object") {
          this.paceTimer = setTimeout(() => {
            this.paceTimer = undefined;
            this.pump();
          }, outcome.waitMs);
          (this.paceTimer as { unref?: () => void }).unref?.();
          return;
        }
        this.ready.delete(target);
        // Re-adding moves it to the back: round-robin between queues.
        if (target.hasWork) this.ready.add(target);
        if (outcome === "full") {
          this.waitingForDrain = true;
          return;
        }
      }
    } catch (err) {
      this.onSendError(err);
    } finally {
      this.pumping = false;
    }
  }

  /** Sends the target's next message, or stops at the high-water mark or for the pacer. */
  private sendFrom(target: OutboundQueue): "sent" | "full" | { waitMs: number } {
    if (!target.current) {
      const waitMs = this.coded?.pacer.delayMs() ?? 0;
      if (waitMs > 0) return { waitMs };
      const message = target.takeFresh(this.staleAfterMs);
      if (!message) return "sent";
      const frames = this.coded ? message.pieces(this.coded.loss) : message.frames(this.frameBytes);
      const wireBytes = frames.reduce((sum, f) => sum + f.byteLength, 0);
      this.coded?.pacer.spend(wireBytes, message.byteLength);
      const stampHeld = this.coded !== undefined && this.coded.loss > 0;
      target.begin({ message, frames, next: 0, stampHeld });
    }
    const current = target.current as InFlight;
    while (current.next < current.frames.length) {
      // Checked before every frame: a low-threshold event can be stale by the time it runs.
      const buffered = this.channel.bufferedAmount();
      if (buffered >= this.highWater) return "full";
      const rate = this.coded?.pacer.bytesPerSecond ?? Number.POSITIVE_INFINITY;
      const frame = current.frames[current.next] as Uint8Array;
      // A piece cut for a clean path (as large as a frame) is too large for one packet.
      const viaRtp =
        Number.isFinite(rate) &&
        frame.byteLength <= RTP_PIECE_MAX_BYTES &&
        this.rtpLane?.isOpen() === true;
      // The RTP lane has no buffer to fill: what it was given drains at the pacing rate, in
      // bursts of at most RTP_BURST_MS.
      const queued = viaRtp ? this.rtpBacklog.bytes(rate) : buffered;
      const limit = viaRtp
        ? Math.max(RTP_BURST_MIN_BYTES, (rate * RTP_BURST_MS) / 1000)
        : Math.max(PACED_ENGINE_MIN_BYTES, (rate * PACED_ENGINE_MS) / 1000);
      // Below the low-water mark no drain event comes: the pacer's timer waits instead.
      if (queued >= limit) return { waitMs: Math.ceil(((queued - limit) / rate) * 1000) + 1 };
      current.next++;
      const heldMs = current.stampHeld ? performance.now() - current.message.createdAt : 0;
      const stamped = heldMs >= 1 ? withHeldMs(frame, heldMs) : frame;
      if (viaRtp) {
        this.rtpLane?.send(stamped);
        this.rtpBacklog.add(stamped.byteLength, rate);
      } else {
        this.channel.send(stamped);
      }
      // Counted as it goes to the engine: a report sent now follows it on the channel.
      this.coded?.sent(stamped);
    }
    target.finish();
    return "sent";
  }
}
