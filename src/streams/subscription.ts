import { BoundedQueue } from "../util/bounded-queue.js";
import { RecentSamples } from "../util/recent-samples.js";

export interface SubscriptionStats {
  /** Messages handed to this subscription. */
  received: number;
  /** Dropped because the buffer was full (the consumer was too slow). */
  dropped: number;
  /** Messages waiting in the buffer now. */
  depth: number;
  /**
   * Messages that never arrived: gaps in a remote realtime stream's sequence (a chunk was
   * lost and not retransmitted, or the message came after a newer one). Counted from the
   * first message received, up to the last one sent before the stream closed.
   */
  lost: number;
  /** Realtime messages that arrived older than the stream's `maxAgeMs` and were dropped. */
  expired: number;
  /** Age on arrival (push to receipt, ms) of the last 256 messages delivered, where known:
   * remote realtime streams of a protocol-3 server, once the clocks are compared (~100 ms). */
  ageMs: { p50: number; p99: number } | undefined;
}

let nextLocalId = 1;

/**
 * What `streams.subscribe(name)` returns: an async iterator over the stream's messages
 * with its own bounded buffer. Breaking out of `for await` unsubscribes; the stream
 * closing ends the loop; a lost connection makes it throw.
 */
export class Subscription<T = unknown> implements AsyncIterableIterator<T> {
  readonly id: string;
  private readonly buffer: BoundedQueue<T>;
  private received = 0;
  private lost = 0;
  private expired = 0;
  private readonly ages = new RecentSamples();
  private waiter:
    | { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }
    | undefined;
  private ended = false;
  private error: unknown;
  private closed = false;
  private readonly ready: Promise<void>;

  /**
   * @param ready settles when the subscription is in place (a remote subscribe reply);
   *   if it rejects, the first `next()` throws that error.
   * @param onClose runs once when the consumer stops (break, return(), close()).
   */
  constructor(
    readonly stream: string,
    bufferSize: number,
    private readonly onClose: () => void,
    ready: Promise<void> = Promise.resolve(),
    id?: string,
  ) {
    this.id = id ?? `local-${nextLocalId++}`;
    this.buffer = new BoundedQueue(bufferSize);
    this.ready = ready;
    ready.catch((err: unknown) => this.fail(err));
  }

  get stats(): SubscriptionStats {
    return {
      received: this.received,
      dropped: this.buffer.dropped,
      depth: this.buffer.length,
      lost: this.lost,
      expired: this.expired,
      ageMs: this.ages.percentiles(),
    };
  }

  /** A message of this stream arrived past its age bound and was dropped. */
  noteExpired(): void {
    if (!this.ended) this.expired++;
  }

  /** The network lost `count` messages of this stream. */
  noteLost(count: number): void {
    if (!this.ended) this.lost += count;
  }

  /** Sets the buffer size (a remote subscription learns the stream's default on reply). */
  setBufferSize(size: number): void {
    this.buffer.resize(size);
  }

  /** `deliver` would not drop a buffered message (a closed subscription takes nothing). */
  get hasRoom(): boolean {
    return this.closed || this.buffer.hasRoom;
  }

  /** Resolves once `hasRoom` (the consumer took a message, or stopped). */
  whenRoom(): Promise<void> {
    return this.hasRoom ? Promise.resolve() : this.buffer.whenRoom();
  }

  /** `ageMs`: how old the message was when it arrived, if known. */
  deliver(value: T, ageMs?: number): void {
    if (this.ended || this.closed) return;
    this.received++;
    if (ageMs !== undefined) this.ages.add(ageMs);
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve({ value, done: false });
      return;
    }
    this.buffer.push(value);
  }

  /** The stream closed: the consumer drains what is buffered, then the loop ends. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.settleWaiter();
  }

  /** The subscription failed: after the buffer drains, `next()` throws `error`. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.error = error;
    this.end();
  }

  async next(): Promise<IteratorResult<T>> {
    await this.ready.catch(() => undefined);
    if (this.buffer.length > 0) return { value: this.buffer.shift() as T, done: false };
    if (this.closed) return { value: undefined, done: true };
    if (this.ended) {
      if (this.error !== undefined) {
        const error = this.error;
        this.error = undefined;
        this.release();
        throw error;
      }
      this.release();
      return { value: undefined, done: true };
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  async return(): Promise<IteratorResult<T>> {
    this.close();
    return { value: undefined, done: true };
  }

  /** Stops this subscription (unsubscribes); a pending `next()` resolves as done. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ended = true;
    this.buffer.clear();
    this.settleWaiter();
    this.onClose();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private release(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }

  private settleWaiter(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    if (this.error !== undefined && !this.closed) {
      const error = this.error;
      this.error = undefined;
      this.release();
      waiter.reject(error);
    } else {
      this.release();
      waiter.resolve({ value: undefined, done: true });
    }
  }
}
