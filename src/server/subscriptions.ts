import {
  ENDED_SUBSCRIPTION_KEPT_MS,
  ENDED_SUBSCRIPTIONS_KEPT,
  MAX_PENDING_WAITS_PER_CLIENT,
  MAX_SUBSCRIPTIONS_PER_CLIENT,
} from "../core/defaults.js";
import {
  ConnectionError,
  ForbiddenError,
  ProtocolError,
  StreamNotFoundError,
} from "../core/errors.js";
import type { PeerLink } from "../peer/link.js";
import { OutboundQueue } from "../peer/sender.js";
import {
  EVENT_STREAM_CLOSED,
  type RestartReply,
  type StreamClosedNotice,
  type SubscribeReply,
  type SubscribeRequest,
} from "../signaling/protocol.js";
import type { ClientSignaling } from "../signaling/server.js";
import { grantAllows } from "../signaling/tokens.js";
import type { StreamManager } from "../streams/manager.js";
import type { PushedMessage, Stream, Subscriber, SubscriberStats } from "../streams/stream.js";
import { ExpiringMap } from "../util/expiring-map.js";

/** A remote client as one of a stream's subscribers; its id is the client id. */
class RemoteSubscriber implements Subscriber {
  readonly remote = true;
  readonly queue: OutboundQueue;
  /** Sequence numbers of the first and last message queued here (0: none yet). */
  firstSeq = 0;
  lastSeq = 0;
  /** Until the client says `start`, messages wait in the queue (bounded, oldest dropped). */
  started = false;
  /** The stream closed before the client said `start`: notify it after sending what is queued. */
  endedBeforeStart = false;

  constructor(
    readonly id: string,
    readonly stream: Stream,
    /** The session's current link: a failed setup can replace it before it opens. */
    private readonly link: () => PeerLink | undefined,
    private readonly onEnd: (s: RemoteSubscriber) => void,
    private readonly onCutOff: (s: RemoteSubscriber) => void,
  ) {
    this.queue = new OutboundQueue(stream.bufferSize);
  }

  deliver(message: PushedMessage): void {
    const outgoing = message.outgoing;
    if (this.firstSeq === 0) this.firstSeq = outgoing.seq;
    this.lastSeq = outgoing.seq;
    const link = this.started ? this.link() : undefined;
    // No link: between a failed link and its replacement, which wakes the queue.
    if (link) link.send(this.stream.delivery, this.queue, outgoing);
    else this.queue.push(outgoing);
  }

  /**
   * The link was replaced. Realtime: what is queued goes out on the new one. Reliable: what
   * the client did not receive (after `after`; all of it if it received nothing) is queued
   * again from the stream's buffer. Returns how many were no longer there to resend.
   */
  restart(after: number | undefined): number {
    if (this.stream.delivery === "realtime" || this.firstSeq === 0) {
      this.queue.dropCurrent();
      return 0;
    }
    this.queue.clear();
    return this.stream.replay(this, after ?? (this.firstSeq - 1) >>> 0);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.link()?.wake(this.stream.delivery, this.queue);
  }

  end(): void {
    this.onEnd(this);
  }

  hasRoom(): boolean {
    return this.queue.hasRoom;
  }

  whenRoom(): Promise<void> {
    return this.queue.whenRoom();
  }

  /** The client is told; what is queued still goes out, so it knows what it has. */
  cutOff(): void {
    this.onCutOff(this);
  }

  get stats(): SubscriberStats {
    return this.queue.stats;
  }
}

/**
 * One client's subscriptions to server streams: subscribe (or wait for the stream), start,
 * unsubscribe, the stream's end told to the client, and what a link restart resends. Reliable
 * subscriptions whose stream closed are kept a while, for a restart that asks for their tail.
 */
export class SessionSubscriptions {
  private readonly current = new Map<string, RemoteSubscriber>();
  /** Reliable subscriptions whose stream closed, newest last (see ENDED_SUBSCRIPTIONS_KEPT). */
  private readonly ended = new ExpiringMap<string, RemoteSubscriber>(
    ENDED_SUBSCRIPTIONS_KEPT,
    ENDED_SUBSCRIPTION_KEPT_MS,
  );
  private readonly waits = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly signaling: ClientSignaling,
    private readonly manager: () => StreamManager,
    private readonly link: () => PeerLink | undefined,
  ) {}

  names(): string[] {
    return [...this.current.keys()];
  }

  get size(): number {
    return this.current.size;
  }

  async subscribe(
    name: string,
    wait: boolean,
    resume: SubscribeRequest["resume"],
  ): Promise<SubscribeReply> {
    if (!grantAllows(this.signaling.access.grants.subscribe, name)) {
      throw new ForbiddenError(`the token does not grant subscribe on "${name}"`, name);
    }
    const manager = this.manager();
    const existing = this.current.get(name);
    if (existing) return reply(existing.stream);
    if (this.current.size >= MAX_SUBSCRIPTIONS_PER_CLIENT) {
      throw new ProtocolError(
        `at most ${MAX_SUBSCRIPTIONS_PER_CLIENT} subscriptions per client`,
        "LIMIT_EXCEEDED",
      );
    }
    // In a cluster, a stream on another node is mirrored here.
    const stream = manager.getOrMirror(name) ?? (wait ? await this.waitFor(manager, name) : null);
    if (!stream) throw new StreamNotFoundError(name);
    if (this.closed) throw new ConnectionError("session closed", "closed");
    const again = this.current.get(name);
    if (again) return reply(again.stream);
    const subscriber = new RemoteSubscriber(
      this.signaling.id,
      stream,
      this.link,
      (s) => this.streamEnded(s),
      (s) => this.cutOff(s),
    );
    this.current.set(name, subscriber);
    // Resent first, in the same tick as joining: nothing pushed in between is missed.
    const missed =
      resume && resume.epoch === stream.epoch && stream.delivery === "reliable"
        ? stream.replay(subscriber, resume.after)
        : 0;
    stream.addSubscriber(subscriber);
    return { ...reply(stream), missed };
  }

  /** The client is ready for messages: what waited in the queue goes out. */
  start(name: string): void {
    const sub = this.current.get(name);
    if (!sub) throw new StreamNotFoundError(name);
    sub.start();
    if (sub.endedBeforeStart) this.streamEnded(sub);
  }

  unsubscribe(name: string): void {
    const sub = this.current.get(name);
    if (!sub) return;
    this.current.delete(name);
    this.link()?.detach(sub.stream.delivery, sub.queue);
    sub.stream.removeSubscriber(sub.id);
  }

  /**
   * The link was replaced: each subscription re-queues what the client did not receive (the
   * client says, per reliable stream, the last it got). Returns what could not be resent,
   * and which of the streams asked about the session no longer holds anything of.
   */
  restart(received: Map<string, number | undefined>): Pick<RestartReply, "missed" | "gone"> {
    const missed: RestartReply["missed"] = [];
    const gone: string[] = [];
    const restart = (sub: RemoteSubscriber) => {
      const count = sub.restart(received.get(sub.stream.name));
      if (count > 0) missed.push({ stream: sub.stream.name, missed: count });
    };
    for (const sub of this.current.values()) restart(sub);
    // Closed meanwhile: the tail the old link lost is still in the closed stream's buffer.
    for (const name of received.keys()) {
      if (this.current.has(name)) continue;
      const sub = this.ended.get(name);
      if (sub) restart(sub);
      else gone.push(name);
    }
    return { missed, gone };
  }

  /** A new link: every started subscription's queue goes out on it. */
  wakeAll(link: PeerLink): void {
    for (const sub of [...this.current.values(), ...this.ended.values()]) {
      if (sub.started) link.wake(sub.stream.delivery, sub.queue);
    }
  }

  close(): void {
    this.closed = true;
    for (const cancel of this.waits) cancel();
    this.waits.clear();
    for (const sub of this.current.values()) sub.stream.removeSubscriber(sub.id);
    this.current.clear();
    this.ended.clear();
  }

  /** Resolves with the stream once it is created; rejects if the session closes first. */
  private waitFor(manager: StreamManager, name: string): Promise<Stream> {
    if (this.waits.size >= MAX_PENDING_WAITS_PER_CLIENT) {
      throw new ProtocolError(
        `at most ${MAX_PENDING_WAITS_PER_CLIENT} pending waits per client`,
        "LIMIT_EXCEEDED",
      );
    }
    return new Promise<Stream>((resolve, reject) => {
      const cancel = manager.waitForStream(name, (found) => {
        this.waits.delete(stop);
        resolve(found);
      });
      const stop = () => {
        cancel();
        reject(new ConnectionError("session closed while waiting for the stream", "closed"));
      };
      this.waits.add(stop);
    });
  }

  private streamEnded(sub: RemoteSubscriber): void {
    if (this.current.get(sub.stream.name) !== sub) return;
    if (!sub.started) {
      sub.endedBeforeStart = true;
      return;
    }
    this.current.delete(sub.stream.name);
    if (sub.stream.delivery === "reliable") this.ended.set(sub.stream.name, sub);
    this.signaling.notify(EVENT_STREAM_CLOSED, closedNotice(sub));
  }

  /** The client's queue stayed full past the stream's bound (overflow "wait"). */
  private cutOff(sub: RemoteSubscriber): void {
    if (this.current.get(sub.stream.name) !== sub) return;
    this.current.delete(sub.stream.name);
    const notice = { ...closedNotice(sub), cutOffAfterMs: sub.stream.overflow.waitMs };
    this.signaling.notify(EVENT_STREAM_CLOSED, notice);
  }
}

function reply(stream: Stream): SubscribeReply {
  return {
    streamId: stream.id,
    delivery: stream.delivery,
    bufferSize: stream.bufferSize,
    epoch: stream.epoch,
    missed: 0,
  };
}

/** Tells a client that its subscription `sub` ended, and with which message. */
function closedNotice(sub: RemoteSubscriber): StreamClosedNotice {
  return {
    stream: sub.stream.name,
    streamId: sub.stream.id,
    lastSeq: sub.lastSeq,
    ...(sub.stream.delivery === "realtime" ? { maxAgeMs: sub.stream.maxAgeMs } : {}),
  };
}
