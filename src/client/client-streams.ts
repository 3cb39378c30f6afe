import { DEFAULT_BUFFER_SIZE, DEFAULT_DELIVERY } from "../core/defaults.js";
import { type Delivery, seqAfter } from "../core/delivery.js";
import { InvalidArgumentError, SlowSubscriberError } from "../core/errors.js";
import { OutboundQueue, type OutboundStats } from "../peer/sender.js";
import type { RestartReply } from "../signaling/protocol.js";
import { type PushToServerOptions, validateMaxAge, validateOverflow } from "../streams/manager.js";
import type { OverflowPolicy } from "../streams/stream.js";
import { BoundedQueue } from "../util/bounded-queue.js";
import { log } from "../util/log.js";
import { OutgoingMessage } from "../wire/outgoing.js";
import type { ConnectionKeeper } from "./connection-keeper.js";

const debug = log("client");

/** One client stream this client pushes to the server. */
interface ClientStream {
  name: string;
  /** The server's id for it on the current connection. */
  ready: Promise<number>;
  delivery: Delivery;
  /** Realtime: the age bound its messages carry (0: reliable). */
  maxAgeMs: number;
  queue: OutboundQueue;
  seq: number;
  /** Reliable: the last `bufferSize` messages, resent after a reconnect if the server
   * did not take them. */
  recent: BoundedQueue<OutgoingMessage> | undefined;
  overflow: OverflowPolicy;
  /** Overflow "wait": the last push in line; each waits for the one before (order kept). */
  pushTail: Promise<unknown>;
}

/**
 * The streams a client pushes to the server: published on first push, numbered, queued for
 * the link under their overflow policy, and published again (reliable ones resending what
 * the server did not take) after a reconnect or link restart.
 */
export class ClientStreams {
  private readonly streams = new Map<string, ClientStream>();

  constructor(private readonly keeper: ConnectionKeeper) {}

  async push(name: string, data: unknown, options: PushToServerOptions): Promise<void> {
    const { keeper } = this;
    // While reconnecting, a push waits for the connection to come back.
    if (keeper.reconnected) await keeper.reconnected;
    const signaling = keeper.connection?.signaling;
    if (!keeper.isConnected || !signaling) throw keeper.notConnected();
    let stream = this.streams.get(name);
    const delivery = stream?.delivery ?? options.delivery ?? (DEFAULT_DELIVERY as Delivery);
    const maxAgeMs = stream?.maxAgeMs ?? validateMaxAge(options.maxAgeMs, delivery);
    const overflow = stream?.overflow ?? validateOverflow(options, delivery);
    // Encoded first: a value too large fails here, before it registers the stream (and fixes
    // its delivery class).
    const encoded = new OutgoingMessage(0, 0, data, keeper.maxMessageBytes, maxAgeMs);
    if (!stream) {
      const ready = signaling
        .request("publish", { stream: name, delivery })
        .then((r) => r.streamId);
      const bufferSize = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
      stream = {
        name,
        ready,
        delivery,
        maxAgeMs,
        queue: new OutboundQueue(bufferSize),
        seq: 0,
        recent: delivery === "reliable" ? new BoundedQueue(bufferSize) : undefined,
        overflow,
        pushTail: Promise.resolve(),
      };
      this.streams.set(name, stream);
      // Refused: forgotten. (Lost with its connection: the reconnect publishes it again.)
      ready.catch(() => keeper.connection?.signaling === signaling && this.streams.delete(name));
    } else if (options.delivery !== undefined && options.delivery !== stream.delivery) {
      throw new InvalidArgumentError(
        `client stream "${name}" is ${stream.delivery}; its delivery cannot change`,
      );
    }
    const target = stream;
    if (target.overflow.mode === "drop-oldest") return this.send(target, encoded);
    const turn = target.pushTail.then(() => this.send(target, encoded));
    target.pushTail = turn.catch(() => undefined);
    return turn;
  }

  /** Per client stream: messages handed to the link, bytes, drops, queue depth. */
  stats(): Record<string, OutboundStats> {
    const out: Record<string, OutboundStats> = {};
    for (const [name, stream] of this.streams) out[name] = stream.queue.stats;
    return out;
  }

  /** After a reconnect: publishes every client stream again on the new connection. */
  resume(): void {
    const signaling = this.keeper.connection?.signaling;
    if (!signaling) return;
    for (const stream of this.streams.values()) {
      stream.ready = signaling
        .request("publish", { stream: stream.name, delivery: stream.delivery })
        .then(({ streamId, after }) => {
          // (A restarted server knows nothing of what was sent: it gets none of it twice.)
          if (after !== undefined) this.resend(stream, streamId, after);
          return streamId;
        });
      stream.ready.catch(() => undefined);
    }
  }

  /** The link restarted: resend, first, what the server did not take of each reliable one. */
  async restarted(published: RestartReply["published"]): Promise<void> {
    for (const { stream: name, after } of published) {
      const stream = this.streams.get(name);
      if (stream) this.resend(stream, await stream.ready, after);
    }
  }

  /** The link went: what is queued for it is gone with it. */
  discardQueued(): void {
    for (const stream of this.streams.values()) stream.queue.discard();
  }

  /** The client closes: every client stream is forgotten. */
  clear(): void {
    this.streams.clear();
  }

  /** Numbers a message and queues it for the link (once there is room, under "wait"). */
  private async send(stream: ClientStream, encoded: OutgoingMessage): Promise<void> {
    const streamId = await this.publishedId(stream);
    if (stream.overflow.mode === "wait" && !stream.queue.hasRoom) {
      await this.roomIn(stream);
      // The link may have changed meanwhile.
      return this.send(stream, encoded);
    }
    const link = this.keeper.connection?.link;
    if (!link) throw this.keeper.notConnected();
    stream.seq = (stream.seq + 1) >>> 0;
    const message = encoded.renumbered(streamId, stream.seq);
    stream.recent?.push(message);
    link.send(stream.delivery, stream.queue, message);
  }

  /** Sends again, first, what the server did not take of a reliable client stream. */
  private resend(stream: ClientStream, streamId: number, after: number): void {
    const link = this.keeper.connection?.link;
    for (const m of stream.recent?.items() ?? []) {
      if (seqAfter(m.seq, after)) link?.send(stream.delivery, stream.queue, m.renumbered(streamId));
    }
  }

  /** The server's id for a client stream on the current connection: after a reconnect, the
   * one it was published again under. */
  private async publishedId(stream: ClientStream): Promise<number> {
    const { keeper } = this;
    for (;;) {
      const ready = stream.ready;
      const outcome = await ready.then(
        (id) => ({ id }),
        (error: unknown) => ({ error }),
      );
      if (keeper.reconnected) {
        await keeper.reconnected;
        continue;
      }
      if (stream.ready !== ready) continue;
      if ("error" in outcome) throw outcome.error;
      return outcome.id;
    }
  }

  /** Resolves once the stream's queue has room; rejects past its overflow bound. */
  private roomIn(stream: ClientStream): Promise<void> {
    const { waitMs } = stream.overflow;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        debug(
          "%s client stream %s full for %d ms: push refused",
          this.keeper.id,
          stream.name,
          waitMs,
        );
        reject(SlowSubscriberError.pushRefused(stream.name, waitMs));
      }, waitMs);
      void stream.queue.whenRoom().then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
