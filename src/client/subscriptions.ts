import { DEFAULT_BUFFER_SIZE } from "../core/defaults.js";
import { seqAfter } from "../core/delivery.js";
import { type ConduitError, SlowSubscriberError } from "../core/errors.js";
import type {
  RestartReply,
  RestartRequest,
  StreamClosedNotice,
  SubscribeReply,
  SubscribeRequest,
} from "../signaling/protocol.js";
import type { SubscribeOptions } from "../streams/manager.js";
import { Subscription } from "../streams/subscription.js";
import { log } from "../util/log.js";
import { decodeBody } from "../wire/codec.js";
import type { Connection } from "./connection.js";
import type { ConnectionKeeper } from "./connection-keeper.js";

const debug = log("client");

/** One server stream this client receives, shared by all its local iterators. */
interface Inbound {
  name: string;
  ready: Promise<SubscribeReply>;
  reply: SubscribeReply | undefined;
  subscribers: Set<Subscription>;
  /** Highest sequence number received. */
  lastSeq: number | undefined;
  /** The stream closed after this sequence number; end once it is received. */
  endAfter: number | undefined;
  /** Realtime: ends the subscription when `endAfter` cannot arrive any more. */
  endTimer?: ReturnType<typeof setTimeout>;
  /** Why the subscription ends, if not because the stream closed. */
  endError?: ConduitError;
  /** The stream instance last subscribed to: a reconnect resumes it, if it still exists. */
  epoch: string | undefined;
}

/**
 * A client's subscriptions to server streams: one subscribe request per stream however many
 * local iterators share it, messages routed to them by stream id, the stream's end, and the
 * resume after a reconnect or link restart.
 */
export class ClientSubscriptions {
  private readonly byName = new Map<string, Inbound>();
  /** By the server's stream id on the current connection. */
  private readonly byId = new Map<number, Inbound>();
  /** Messages dropped because they could not be decoded. */
  undecodable = 0;
  /** Messages for streams no longer subscribed (in flight at unsubscribe). */
  unplaced = 0;

  constructor(private readonly keeper: ConnectionKeeper) {}

  subscribe(name: string, options: SubscribeOptions): Subscription {
    if (!this.keeper.isUp) {
      return new Subscription(name, 1, () => {}, Promise.reject(this.keeper.notConnected()));
    }
    let entry = this.byName.get(name);
    if (!entry) {
      entry = this.open(name, options.wait ?? false);
      this.byName.set(name, entry);
    }
    const inbound = entry;
    const subscription: Subscription = new Subscription(
      name,
      options.bufferSize ?? inbound.reply?.bufferSize ?? DEFAULT_BUFFER_SIZE,
      () => this.dropSubscriber(inbound, subscription),
      inbound.ready.then((reply) => {
        if (options.bufferSize === undefined) subscription.setBufferSize(reply.bufferSize);
      }),
    );
    inbound.subscribers.add(subscription);
    return subscription;
  }

  /** Routes a new connection's messages, expiries and stream ends here. */
  attach(connection: Connection): void {
    connection.on("message", (streamId, seq, body, ageMs) =>
      this.receive(streamId, seq, body, ageMs),
    );
    connection.on("expired", (streamId, seq) => {
      const entry = this.byId.get(streamId);
      if (!entry) return;
      this.advanceSeq(entry, seq);
      for (const subscription of entry.subscribers) subscription.noteExpired();
    });
    connection.on("streamClosed", (notice) => this.streamClosed(notice));
  }

  /** After a reconnect: subscribes again, resuming reliable streams where they stopped. */
  resume(): void {
    for (const entry of this.byName.values()) {
      const previous = entry.reply;
      entry.reply = undefined;
      const resume =
        previous?.delivery === "reliable" && entry.lastSeq !== undefined && entry.epoch
          ? { epoch: entry.epoch, after: entry.lastSeq }
          : undefined;
      // The stream may not be back yet (a restarted server): wait for it.
      entry.ready = this.request(entry, true, resume);
      entry.ready.catch(() => undefined);
    }
  }

  /** For a link restart: the last message each reliable subscription received. */
  restartPoints(): RestartRequest["resume"] {
    const points: RestartRequest["resume"] = [];
    for (const entry of this.byName.values()) {
      if (entry.reply?.delivery === "reliable")
        points.push({ stream: entry.name, after: entry.lastSeq });
    }
    return points;
  }

  /** The link restarted: count what the server no longer had, end what it no longer holds. */
  restarted({ missed, gone }: Pick<RestartReply, "missed" | "gone">): void {
    for (const { stream, missed: count } of missed) {
      for (const s of this.byName.get(stream)?.subscribers ?? []) s.noteLost(count);
    }
    // The server holds nothing of these any more (a closed stream it no longer keeps).
    for (const name of gone) {
      const entry = this.byName.get(name);
      if (!entry) continue;
      if (entry.endAfter !== undefined) this.advanceSeq(entry, entry.endAfter, 0);
      this.end(entry);
    }
  }

  /** The connection went: its stream ids mean nothing any more. */
  dropped(): void {
    this.byId.clear();
  }

  /** The client closes: every subscription ends (fails, with `error`). */
  closeAll(error: ConduitError | undefined): void {
    for (const entry of this.byName.values()) {
      clearTimeout(entry.endTimer);
      for (const subscription of [...entry.subscribers]) {
        if (error) subscription.fail(error);
        else subscription.end();
      }
    }
    this.byName.clear();
    this.byId.clear();
  }

  /** Makes the entry that all local subscribers of `name` share, and subscribes it. */
  private open(name: string, wait: boolean): Inbound {
    const entry: Inbound = {
      name,
      reply: undefined,
      subscribers: new Set(),
      lastSeq: undefined,
      endAfter: undefined,
      epoch: undefined,
      ready: Promise.resolve(undefined as never),
    };
    entry.ready = this.request(entry, wait, undefined);
    return entry;
  }

  /** Sends the subscribe request (once connected), then `start` once the reply is placed. */
  private async request(
    entry: Inbound,
    wait: boolean,
    resume: SubscribeRequest["resume"],
  ): Promise<SubscribeReply> {
    const { keeper } = this;
    const name = entry.name;
    if (keeper.reconnected) await keeper.reconnected;
    const signaling = keeper.connection?.signaling;
    if (!signaling) throw keeper.notConnected();
    let reply: SubscribeReply;
    try {
      // One that waits for its stream to be created has no deadline.
      const timeoutMs = wait ? Number.POSITIVE_INFINITY : undefined;
      reply = await signaling.request("subscribe", { stream: name, wait, resume }, timeoutMs, name);
    } catch (err) {
      // The connection went: the reconnect sends the request again (resume()), and this one
      // follows it. Only a refusal, or no reply in time, ends the entry.
      if (keeper.connection?.signaling !== signaling && !keeper.closing) {
        if (keeper.reconnected) await keeper.reconnected;
        if (!keeper.closing && this.byName.get(name) === entry) return entry.ready;
      }
      if (this.byName.get(name) === entry) this.byName.delete(name);
      throw err;
    }
    if (this.byName.get(name) !== entry || entry.subscribers.size === 0) {
      // Every local subscriber left while the request was in flight.
      signaling.request("unsubscribe", { stream: name }).catch(() => undefined);
      return reply;
    }
    if (reply.epoch !== entry.epoch) entry.lastSeq = undefined; // a new instance: new numbers
    entry.epoch = reply.epoch;
    if (reply.missed > 0) for (const s of entry.subscribers) s.noteLost(reply.missed);
    entry.reply = reply;
    this.byId.set(reply.streamId, entry);
    signaling
      .request("start", { stream: name })
      .catch((err: unknown) => debug("start %s failed: %O", name, err));
    return reply;
  }

  private dropSubscriber(entry: Inbound, subscription: Subscription): void {
    entry.subscribers.delete(subscription);
    if (entry.subscribers.size > 0 || this.byName.get(entry.name) !== entry) return;
    this.byName.delete(entry.name);
    clearTimeout(entry.endTimer);
    if (!entry.reply) return; // the reply handler unsubscribes
    this.byId.delete(entry.reply.streamId);
    const connection = this.keeper.connection;
    connection?.link?.forgetStream(entry.reply.delivery, entry.reply.streamId);
    if (this.keeper.isConnected) {
      connection?.signaling.request("unsubscribe", { stream: entry.name }).catch(() => undefined);
    }
  }

  private receive(streamId: number, seq: number, body: Uint8Array, ageMs?: number): void {
    const entry = this.byId.get(streamId);
    if (!entry) {
      this.unplaced++; // in flight when we unsubscribed
      return;
    }
    this.advanceSeq(entry, seq);
    let value: unknown;
    try {
      value = decodeBody(body);
    } catch {
      this.undecodable++;
      return;
    }
    for (const subscription of entry.subscribers) subscription.deliver(value, ageMs);
    if (entry.endAfter !== undefined && !seqAfter(entry.endAfter, seq)) this.end(entry);
  }

  /**
   * The server closed the stream. The notice rides Socket.IO and may overtake the last
   * messages on the data channel: a reliable stream ends once `lastSeq` has arrived; a
   * realtime one too, or once `lastSeq` is older than its age bound and cannot arrive.
   */
  private streamClosed(notice: StreamClosedNotice): void {
    const { stream: name, streamId, lastSeq, maxAgeMs = 0, cutOffAfterMs } = notice;
    const entry = this.byId.get(streamId);
    if (!entry || entry.name !== name) return;
    if (cutOffAfterMs !== undefined)
      entry.endError = SlowSubscriberError.cutOff(name, cutOffAfterMs);
    const reliable = entry.reply?.delivery === "reliable";
    const pending =
      (reliable || maxAgeMs > 0) &&
      lastSeq !== 0 &&
      (entry.lastSeq === undefined || seqAfter(lastSeq, entry.lastSeq));
    if (!pending) {
      if (lastSeq !== 0) this.advanceSeq(entry, lastSeq, 0);
      this.end(entry);
      return;
    }
    entry.endAfter = lastSeq;
    if (reliable) return;
    entry.endTimer = setTimeout(() => {
      this.advanceSeq(entry, lastSeq, 0);
      this.end(entry);
    }, maxAgeMs);
    (entry.endTimer as { unref?: () => void }).unref?.();
  }

  /** Records `seq` as the newest seen; what it skipped over was lost on the way. */
  private advanceSeq(entry: Inbound, seq: number, arrived = 1): void {
    if (entry.lastSeq !== undefined) {
      if (!seqAfter(seq, entry.lastSeq)) return;
      const skipped = ((seq - entry.lastSeq) >>> 0) - arrived;
      if (skipped > 0) for (const subscription of entry.subscribers) subscription.noteLost(skipped);
    }
    entry.lastSeq = seq;
  }

  /** The stream ended for this client: its iterators finish (or fail, if it was cut off). */
  private end(entry: Inbound): void {
    clearTimeout(entry.endTimer);
    const streamId = entry.reply?.streamId;
    if (streamId === undefined || this.byId.get(streamId) !== entry) return;
    this.byId.delete(streamId);
    if (this.byName.get(entry.name) === entry) this.byName.delete(entry.name);
    this.keeper.connection?.link?.forgetStream(entry.reply?.delivery ?? "realtime", streamId);
    for (const subscription of [...entry.subscribers]) {
      if (entry.endError) subscription.fail(entry.endError);
      else subscription.end();
    }
  }
}
