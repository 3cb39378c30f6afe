import type { Delivery, StreamSummary } from "../core/delivery.js";
import { seqAfter } from "../core/delivery.js";
import { SlowSubscriberError, StreamClosedError } from "../core/errors.js";
import { addRemovable, reportCallbackError } from "../util/emitter.js";
import { log } from "../util/log.js";
import { decodeBody } from "../wire/codec.js";
import { OutgoingMessage } from "../wire/outgoing.js";
import { LocalSubscriber } from "./local-subscriber.js";
import type { Subscription } from "./subscription.js";

const debug = log("streams");

export interface SubscriberStats {
  messagesSent: number;
  bytesSent: number;
  dropped: number;
  /** Realtime messages dropped unsent because a newer one waited (remote subscribers). */
  stale: number;
  /** Realtime messages dropped unsent past their age bound. */
  expired: number;
  depth: number;
}

/** Anything that receives a stream's messages: a local iterator or a remote client. */
export interface Subscriber {
  readonly id: string;
  /** Remote subscribers need the encoded form; local ones take the value as it is. */
  readonly remote: boolean;
  /** `message.value` for local consumers, `message.outgoing` (encoded once) for remote ones. */
  deliver(message: PushedMessage): void;
  /** The stream closed. */
  end(): void;
  readonly stats: SubscriberStats;
  /** Its queue can take a message without dropping one. */
  hasRoom(): boolean;
  /** Resolves once it can. */
  whenRoom(): Promise<void>;
  /** It stayed full past the stream's bound and was removed: its consumer is told why. */
  cutOff(error: SlowSubscriberError): void;
}

/**
 * What push() does when a subscriber's queue is full. "drop-oldest": queue it anyway, and the
 * oldest message there is dropped (and counted). "wait": push() resolves once every
 * subscriber has room; one that stays full for `waitMs` is cut off (SlowSubscriberError) so
 * the others go on.
 */
export interface OverflowPolicy {
  mode: "drop-oldest" | "wait";
  waitMs: number;
}

/** One push: the value, and its encoding, made once whatever the subscriber count. */
export class PushedMessage {
  readonly outgoing: OutgoingMessage;
  private decoded: { value: unknown } | undefined;

  /**
   * From a value, or from its encoded body (a mirror's pushes come encoded: they go out as
   * they came, and are decoded only if an in-process subscriber asks for the value).
   * Throws MessageTooLargeError for an encoding over maxMessageBytes.
   */
  constructor(
    content: { value: unknown } | { body: Uint8Array },
    streamId: number,
    readonly seq: number,
    maxMessageBytes: number,
    maxAgeMs: number,
  ) {
    if ("value" in content) {
      this.decoded = content;
      this.outgoing = new OutgoingMessage(streamId, seq, content.value, maxMessageBytes, maxAgeMs);
    } else {
      this.outgoing = OutgoingMessage.ofBody(
        streamId,
        seq,
        content.body,
        maxMessageBytes,
        maxAgeMs,
      );
    }
  }

  /** The pushed value. Throws for an encoded body that is not MessagePack. */
  get value(): unknown {
    this.decoded ??= { value: decodeBody(this.outgoing.body) };
    return this.decoded.value;
  }
}

export interface StreamInfo {
  readonly name: string;
  readonly owner: string;
  readonly delivery: Delivery;
  readonly bufferSize: number;
  /** Realtime: how old a message may be when delivered (0 for reliable streams). */
  readonly maxAgeMs: number;
  readonly createdAt: Date;
  /** Messages pushed. */
  readonly messageCount: number;
  /** Encoded bytes pushed (once per push, not per subscriber). */
  readonly bytesPushed: number;
}

type SubscriberCallback = (subscriberId: string) => void | Promise<void>;

/** What a stream tells the cluster it belongs to, if any (see src/cluster). */
export interface StreamClusterHooks {
  /** Sends a push to the other nodes; returns how many subscribers they have. */
  pushed(stream: Stream, message: PushedMessage): number;
  created(stream: Stream): void;
  closed(stream: Stream): void;
}

/** A named server-side stream. Create it with `streams.create(name, options)`. */
export class Stream {
  readonly id: number;
  /** Tells this instance of the name from a later one (a reconnecting client resumes only
   * the same instance). Not a secret. */
  readonly epoch = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  /** Reliable streams: the last `bufferSize` messages, resent to a client that reconnects. */
  private readonly retained: PushedMessage[] = [];
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly subscribeCallbacks: SubscriberCallback[] = [];
  private readonly unsubscribeCallbacks: SubscriberCallback[] = [];
  private remoteSubscribers = 0;
  /** Totals of subscribers that have left, so stream stats never go backwards. */
  private readonly retired = { bytesSent: 0, dropped: 0 };
  private messageCount = 0;
  private bytesPushed = 0;
  private seq = 0;
  private active = true;
  private readonly createdAt = new Date();
  /** Overflow "wait": pushes reach subscribers one after another, in order. */
  private pushTail: Promise<unknown> = Promise.resolve();
  /** Pushes waiting for a full subscriber: ends the wait when it leaves. */
  private readonly roomWaits = new Map<Subscriber, () => void>();

  /** @internal created by StreamManager */
  constructor(
    readonly name: string,
    id: number,
    private readonly owner: string,
    readonly delivery: Delivery,
    readonly bufferSize: number,
    readonly maxAgeMs: number,
    readonly overflow: OverflowPolicy,
    private readonly maxMessageBytes: number,
    private readonly onClosed: (stream: Stream) => void,
    /** A cluster node's copy of a stream that lives on another node (fed from it). */
    readonly mirrorOf?: string,
    private readonly cluster?: StreamClusterHooks,
  ) {
    this.id = id;
  }

  get info(): StreamInfo {
    return {
      name: this.name,
      owner: this.owner,
      delivery: this.delivery,
      bufferSize: this.bufferSize,
      maxAgeMs: this.maxAgeMs,
      createdAt: this.createdAt,
      messageCount: this.messageCount,
      bytesPushed: this.bytesPushed,
    };
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  get isActive(): boolean {
    return this.active;
  }

  /**
   * Queues `data` for every subscriber and returns how many it was queued for. Each subscriber
   * has its own bounded queue; when one is full, the stream's overflow policy says whether the
   * oldest message there is dropped or push() waits (see OverflowPolicy).
   * Throws StreamClosedError after close(), MessageTooLargeError past maxMessageBytes.
   */
  push(data: unknown): Promise<number> {
    return this.pushContent({ value: data });
  }

  /** Pushes a message already encoded (a cluster mirror's, as its own node encoded it). */
  pushEncoded(body: Uint8Array): Promise<number> {
    return this.pushContent({ body });
  }

  private async pushContent(content: { value: unknown } | { body: Uint8Array }): Promise<number> {
    if (!this.active) throw new StreamClosedError(this.name);
    // Encoded before fan-out, with or without subscribers, so a value that cannot be sent
    // fails here for the pusher (and takes no sequence number).
    const message = new PushedMessage(
      content,
      this.id,
      (this.seq + 1) >>> 0,
      this.maxMessageBytes,
      this.maxAgeMs,
    );
    this.seq = message.seq;
    if (this.remoteSubscribers > 0) this.bytesPushed += message.outgoing.byteLength;
    this.messageCount++;
    if (this.delivery === "reliable") {
      this.retained.push(message);
      if (this.retained.length > this.bufferSize) this.retained.shift();
    }
    if (this.overflow.mode === "drop-oldest") return this.fanOut(message);
    const turn = this.pushTail.then(() => this.fanOutWhenRoom(message));
    this.pushTail = turn.catch(() => undefined);
    return turn;
  }

  private fanOut(message: PushedMessage): number {
    for (const subscriber of this.subscribers.values()) subscriber.deliver(message);
    // A mirror's pushes come from the cluster; only a stream's own node sends them out.
    const elsewhere = this.mirrorOf === undefined ? (this.cluster?.pushed(this, message) ?? 0) : 0;
    return this.subscribers.size + elsewhere;
  }

  private async fanOutWhenRoom(message: PushedMessage): Promise<number> {
    const full = [...this.subscribers.values()].filter((s) => !s.hasRoom());
    if (full.length > 0) await Promise.all(full.map((s) => this.roomIn(s)));
    // Closed while it waited: the subscribers have ended, and the cluster was told.
    return this.active ? this.fanOut(message) : 0;
  }

  /** Resolves once `subscriber` has room, or has left; past the bound, cuts it off. */
  private roomIn(subscriber: Subscriber): Promise<void> {
    const { waitMs } = this.overflow;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.roomWaits.delete(subscriber);
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        if (this.subscribers.get(subscriber.id) !== subscriber) return;
        debug("%s: subscriber %s full for %d ms: cut off", this.name, subscriber.id, waitMs);
        this.removeSubscriber(subscriber.id);
        subscriber.cutOff(SlowSubscriberError.cutOff(this.name, waitMs));
      }, waitMs);
      this.roomWaits.set(subscriber, done);
      void subscriber.whenRoom().then(done);
    });
  }

  /** Calls `callback` with each new subscriber's id; returns a function that removes it. */
  onSubscribe(callback: SubscriberCallback): () => void {
    return addRemovable(this.subscribeCallbacks, callback);
  }

  /** Calls `callback` with each leaving subscriber's id; returns a function that removes it. */
  onUnsubscribe(callback: SubscriberCallback): () => void {
    return addRemovable(this.unsubscribeCallbacks, callback);
  }

  /** Subscribes in-process (no network): an iterator over this stream. */
  subscribe(options: { bufferSize?: number | undefined } = {}): Subscription {
    const local = new LocalSubscriber(this, options.bufferSize ?? this.bufferSize);
    this.addSubscriber(local);
    return local.subscription;
  }

  /** Ends every subscriber's iterator and removes the stream from its manager. */
  async close(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    const subscribers = [...this.subscribers.values()];
    this.subscribers.clear();
    for (const subscriber of subscribers) {
      this.roomWaits.get(subscriber)?.();
      this.retire(subscriber);
      subscriber.end();
      this.fire(this.unsubscribeCallbacks, subscriber.id);
    }
    this.onClosed(this);
    this.cluster?.closed(this);
  }

  /** Per-subscriber statistics, keyed by subscriber id. */
  subscriberStats(): Record<string, SubscriberStats> {
    const out: Record<string, SubscriberStats> = {};
    for (const [id, s] of this.subscribers) out[id] = s.stats;
    return out;
  }

  summary(): StreamSummary {
    let { bytesSent, dropped } = this.retired;
    for (const s of this.subscribers.values()) {
      bytesSent += s.stats.bytesSent;
      dropped += s.stats.dropped;
    }
    return {
      name: this.name,
      owner: this.owner,
      delivery: this.delivery,
      subscribers: this.subscribers.size,
      messageCount: this.messageCount,
      bytesSent,
      dropped,
      bufferSize: this.bufferSize,
      active: this.active,
    };
  }

  /**
   * @internal Hands `subscriber` the retained messages after sequence number `after`;
   * returns how many it missed because they are no longer retained.
   */
  replay(subscriber: Subscriber, after: number): number {
    const newer = this.retained.filter((m) => seqAfter(m.seq, after));
    for (const message of newer) subscriber.deliver(message);
    const first = newer[0]?.seq ?? (this.seq + 1) >>> 0;
    return (first - after - 1) >>> 0;
  }

  /** @internal */
  addSubscriber(subscriber: Subscriber): void {
    if (!this.active || this.subscribers.has(subscriber.id)) return;
    this.subscribers.set(subscriber.id, subscriber);
    if (subscriber.remote) this.remoteSubscribers++;
    this.fire(this.subscribeCallbacks, subscriber.id);
  }

  /** @internal */
  removeSubscriber(id: string): void {
    const subscriber = this.subscribers.get(id);
    if (!subscriber) return;
    this.subscribers.delete(id);
    this.roomWaits.get(subscriber)?.();
    this.retire(subscriber);
    this.fire(this.unsubscribeCallbacks, id);
  }

  private retire(subscriber: Subscriber): void {
    if (subscriber.remote) this.remoteSubscribers--;
    this.retired.bytesSent += subscriber.stats.bytesSent;
    this.retired.dropped += subscriber.stats.dropped;
  }

  private fire(callbacks: SubscriberCallback[], subscriberId: string): void {
    const what = `a subscriber callback of "${this.name}"`;
    for (const callback of [...callbacks]) {
      try {
        Promise.resolve(callback(subscriberId)).catch((err: unknown) =>
          reportCallbackError(what, err),
        );
      } catch (err) {
        reportCallbackError(what, err);
      }
    }
  }
}
