import { ClientDescriptor, type ReconnectPolicy } from "../config/client-descriptor.js";
import { DEFAULT_BUFFER_SIZE, DEFAULT_DELIVERY } from "../core/defaults.js";
import type { Delivery, StreamSummary } from "../core/delivery.js";
import { seqAfter } from "../core/delivery.js";
import {
  AuthenticationError,
  ConduitError,
  ConnectionError,
  InvalidArgumentError,
  SlowSubscriberError,
} from "../core/errors.js";
import type { LinkStats, PathReport, PeerLink } from "../peer/link.js";
import { OutboundQueue, type OutboundStats } from "../peer/sender.js";
import type { SignalingClient } from "../signaling/client.js";
import type {
  RestartRequest,
  StreamClosedNotice,
  SubscribeReply,
  SubscribeRequest,
} from "../signaling/protocol.js";
import {
  type PushToServerOptions,
  type RemoteStreams,
  type SubscribeOptions,
  validateMaxAge,
  validateOverflow,
} from "../streams/manager.js";
import type { OverflowPolicy } from "../streams/stream.js";
import { Subscription } from "../streams/subscription.js";
import { BoundedQueue } from "../util/bounded-queue.js";
import { Emitter } from "../util/emitter.js";
import { log } from "../util/log.js";
import { decodeBody } from "../wire/codec.js";
import { OutgoingMessage } from "../wire/outgoing.js";
import type { ConnectTimings } from "./connect-timings.js";
import { Connection, type LinkMode } from "./connection.js";

const debug = log("client");

export type ClientStatus =
  | { state: "idle" }
  | { state: "connecting" }
  | { state: "connected"; clientId: string }
  /** Connected, with the data relayed over Socket.IO: WebRTC could not connect (or is off).
   * Same API and delivery; the client moves to WebRTC once it connects. */
  | { state: "fallback"; clientId: string }
  /** The connection was lost; attempt `attempt` to get it back is next. Subscriptions and
   * client streams wait, and resume by themselves. */
  | { state: "reconnecting"; attempt: number; error: ConduitError }
  | { state: "closed"; reason: string; error?: ConduitError };

interface ClientEvents {
  status: [ClientStatus];
  /** What the path reports say of the way to the server, each time one comes (~10 a second
   * on a protocol-3 WebRTC link): follow `capacityBytesPerSecond` to size what you push. */
  path: [PathReport];
}

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

/** One client stream this client pushes to the server. */
interface Outbound {
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
 * Connects to a conduit server: Socket.IO for control, a WebRTC peer for data.
 * Use it through a StreamManager: `streams.registerClientHandlers(client)`.
 */
export class Client extends Emitter<ClientEvents> implements RemoteStreams {
  readonly descriptor: ClientDescriptor;
  /** The current connection to the server; a new one after each reconnect or upgrade. */
  private connection: Connection | undefined;
  /** This client's own id, the same across its reconnects (unlike the server-given `id`). */
  private readonly instance = randomHex(16);
  private clientId: string | undefined;
  private upgradeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Which of the descriptor's server URLs the current connection uses. */
  private serverIndex = 0;
  private currentStatus: ClientStatus = { state: "idle" };
  private maxMessageBytes: number;
  private readonly inboundByName = new Map<string, Inbound>();
  private readonly inboundById = new Map<number, Inbound>();
  private readonly outbound = new Map<string, Outbound>();
  private shuttingDown = false;
  /** While reconnecting: settles when connected again (or closed). */
  private reconnected: Promise<void> | undefined;
  private endReconnectWait: (() => void) | undefined;
  /** Messages dropped because they could not be decoded. */
  undecodable = 0;
  /** Messages for streams no longer subscribed (in flight at unsubscribe). */
  unplaced = 0;

  constructor(descriptor: ClientDescriptor = new ClientDescriptor()) {
    super();
    if (!(descriptor instanceof ClientDescriptor)) {
      throw new InvalidArgumentError(
        "Client takes a ClientDescriptor: new Client(new ClientDescriptor({ ... }))",
      );
    }
    this.descriptor = descriptor;
    this.maxMessageBytes = descriptor.maxMessageBytes;
  }

  /** The id the server gave this client; set once connected. */
  get id(): string | undefined {
    return this.clientId;
  }

  get status(): ClientStatus {
    return this.currentStatus;
  }

  /** Connected, or getting the connection back: subscribing and pushing are possible. */
  private get isUp(): boolean {
    return this.isConnected || this.currentStatus.state === "reconnecting";
  }

  /** Data flows: over WebRTC, or over the fallback relay. */
  private get isConnected(): boolean {
    return this.currentStatus.state === "connected" || this.currentStatus.state === "fallback";
  }

  private get link(): PeerLink | undefined {
    return this.connection?.link;
  }

  private get signaling(): SignalingClient | undefined {
    return this.connection?.signaling;
  }

  private get linkMode(): LinkMode {
    const d = this.descriptor;
    if (!d.webrtc) return "relay";
    return d.fallbackAfterMs === undefined ? "webrtc" : "auto";
  }

  /**
   * Authenticates, then sets up the WebRTC link; resolves once both data channels are open.
   * Rejects with AuthenticationError (wrong password) or ConnectionError (unreachable, timeout).
   */
  async connect(): Promise<void> {
    const status = this.currentStatus;
    if (status.state === "closed") throw this.notConnected();
    if (status.state !== "idle") {
      throw new ConnectionError(`connect() called while ${status.state}`, "CONNECTION_FAILED");
    }
    this.setStatus({ state: "connecting" });
    let connection: Connection;
    try {
      connection = await Connection.open(this.descriptor, this.instance, this.linkMode);
    } catch (err) {
      const error = asConduitError(err);
      this.shutdown("connect failed", error);
      throw error;
    }
    if (this.shuttingDown) {
      connection.close("client closed while connecting");
      return;
    }
    this.install(connection);
  }

  /** Makes `connection` the current one, and says so in the status. */
  private install(connection: Connection): void {
    this.connection = connection;
    this.clientId = connection.clientId;
    this.maxMessageBytes = connection.maxMessageBytes;
    connection.on("message", (streamId, seq, body, ageMs) =>
      this.receive(streamId, seq, body, ageMs),
    );
    connection.on("path", (report) => this.emit("path", report));
    connection.on("expired", (streamId, seq) => {
      const entry = this.inboundById.get(streamId);
      if (!entry) return;
      this.advanceSeq(entry, seq);
      for (const subscription of entry.subscribers) subscription.noteExpired();
    });
    connection.on("streamClosed", (notice) => this.streamClosed(notice));
    connection.on("lost", (reason, error) => this.connectionLost(reason, error));
    this.showConnected(connection);
  }

  private showConnected(connection: Connection): void {
    if (connection.relayed) {
      this.setStatus({ state: "fallback", clientId: connection.clientId });
      this.scheduleUpgrade();
    } else {
      this.setStatus({ state: "connected", clientId: connection.clientId });
    }
  }

  /** While relaying, tries WebRTC again now and then; moves over once it connects. */
  private scheduleUpgrade(): void {
    const after = this.descriptor.upgradeAfterMs;
    if (!this.descriptor.webrtc || after === undefined) return;
    clearTimeout(this.upgradeTimer);
    this.upgradeTimer = setTimeout(() => void this.upgrade(), after);
  }

  private async upgrade(): Promise<void> {
    const relayed = this.connection;
    if (this.shuttingDown || !relayed?.relayed || this.currentStatus.state !== "fallback") return;
    let direct: Connection;
    try {
      direct = await Connection.open(
        this.descriptor,
        this.instance,
        "webrtc",
        this.descriptor.urls[this.serverIndex],
      );
    } catch (err) {
      debug("%s WebRTC still unavailable: %s", this.clientId, (err as Error).message);
      this.scheduleUpgrade();
      return;
    }
    if (this.shuttingDown || this.connection !== relayed) {
      direct.close("not needed");
      return;
    }
    debug("%s WebRTC connected: leaving the relay", this.clientId);
    this.dropConnection("upgraded to WebRTC");
    this.install(direct);
    this.resumeStreams();
  }

  /** The connection broke: reconnect, unless told not to or the server refused us. */
  private connectionLost(reason: string, error: ConduitError): void {
    if (this.shuttingDown || this.reconnected || !this.isConnected) return;
    const policy = this.descriptor.reconnect;
    if (!policy || error instanceof AuthenticationError) {
      this.shutdown(reason, error);
      return;
    }
    debug("%s %s; reconnecting", this.clientId, reason);
    this.reconnected = new Promise((resolve) => {
      this.endReconnectWait = resolve;
    });
    void this.reconnect(policy, error);
  }

  private async reconnect(policy: ReconnectPolicy, lastError: ConduitError): Promise<void> {
    let error = lastError;
    for (let attempt = 1; ; attempt++) {
      // Signaling still up: only the data link failed; the session stays.
      const kept = this.connection?.signaling.connected ? this.connection : undefined;
      if (!kept) this.dropConnection("reconnecting");
      if (attempt > policy.maxAttempts) {
        this.shutdown(`gave up after ${policy.maxAttempts} reconnect attempts`, error);
        return;
      }
      this.setStatus({ state: "reconnecting", attempt, error });
      // A link restart goes at once the first time; it needs no new authentication.
      if (!kept || attempt > 1) await this.pause(backoffMs(policy, attempt));
      if (this.shuttingDown) return;
      if (kept) {
        try {
          await this.restartLink(kept);
        } catch (err) {
          if (this.shuttingDown) return;
          error = asConduitError(err);
          debug("%s link restart %d failed: %s", this.clientId, attempt, error.message);
          continue;
        }
        this.reconnectDone();
        return;
      }
      // With several servers (cluster nodes), each attempt tries the next one.
      const urls = this.descriptor.urls;
      const index = (this.serverIndex + (urls.length > 1 ? attempt : 0)) % urls.length;
      let connection: Connection;
      try {
        connection = await Connection.open(
          this.descriptor,
          this.instance,
          this.linkMode,
          urls[index],
        );
      } catch (err) {
        if (this.shuttingDown) return;
        error = asConduitError(err);
        // Refused credentials will not become right by trying again.
        if (error instanceof AuthenticationError && error.code !== "RATE_LIMITED") {
          this.shutdown("reconnect refused", error);
          return;
        }
        debug("%s reconnect attempt %d failed: %s", this.clientId, attempt, error.message);
        continue;
      }
      if (this.shuttingDown) {
        connection.close("client closed while reconnecting");
        return;
      }
      this.serverIndex = index;
      this.install(connection);
      this.resumeStreams();
      this.reconnectDone();
      return;
    }
  }

  private reconnectDone(): void {
    this.endReconnectWait?.();
    this.reconnected = undefined;
  }

  /**
   * A new data link in the same session (the signaling connection stayed up). Subscriptions
   * and client streams keep their ids; reliable ones resend what the old link may have lost.
   */
  private async restartLink(connection: Connection): Promise<void> {
    for (const out of this.outbound.values()) out.queue.discard();
    const resume: RestartRequest["resume"] = [];
    for (const entry of this.inboundByName.values()) {
      if (entry.reply?.delivery === "reliable")
        resume.push({ stream: entry.name, after: entry.lastSeq });
    }
    const reply = await connection.restartLink(this.linkMode, resume);
    if (this.connection !== connection || this.shuttingDown) return;
    for (const { stream, missed } of reply.missed) {
      for (const s of this.inboundByName.get(stream)?.subscribers ?? []) s.noteLost(missed);
    }
    // The server holds nothing of these any more (a closed stream it no longer keeps).
    for (const name of reply.gone) {
      const entry = this.inboundByName.get(name);
      if (!entry) continue;
      if (entry.endAfter !== undefined) this.advanceSeq(entry, entry.endAfter, 0);
      this.endInbound(entry);
    }
    for (const { stream, after } of reply.published) {
      const out = this.outbound.get(stream);
      if (out) this.resend(out, await out.ready, after);
    }
    debug("%s link restarted in session", this.clientId);
    this.showConnected(connection);
  }

  /** Sends again, first, what the server did not take of a reliable client stream. */
  private resend(out: Outbound, streamId: number, after: number): void {
    for (const m of out.recent?.items() ?? []) {
      if (seqAfter(m.seq, after)) this.link?.send(out.delivery, out.queue, m.renumbered(streamId));
    }
  }

  /** Why a call that needs the connection cannot be made now: the same story for every call. */
  private notConnected(): ConnectionError {
    const status = this.currentStatus;
    const message =
      status.state === "closed"
        ? `the client is closed (${status.reason}); a closed client cannot connect again: create a new Client`
        : "not connected; await client.connect() first";
    return new ConnectionError(message, "NOT_CONNECTED");
  }

  /** Waits `ms`, or less if the client is closed meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const off = this.on("status", (s) => s.state === "closed" && done());
      function done() {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  }

  /** Closes the link and the signaling connection, keeping subscriptions and client streams. */
  private dropConnection(reason: string): void {
    clearTimeout(this.upgradeTimer);
    const connection = this.connection;
    this.connection = undefined;
    connection?.close(reason);
    this.inboundById.clear();
    for (const out of this.outbound.values()) out.queue.discard();
  }

  /** After a reconnect: subscribes again (resuming reliable streams), publishes again. */
  private resumeStreams(): void {
    for (const entry of this.inboundByName.values()) {
      const previous = entry.reply;
      entry.reply = undefined;
      const resume =
        previous?.delivery === "reliable" && entry.lastSeq !== undefined && entry.epoch
          ? { epoch: entry.epoch, after: entry.lastSeq }
          : undefined;
      // The stream may not be back yet (a restarted server): wait for it.
      entry.ready = this.requestInbound(entry, true, resume);
      entry.ready.catch(() => undefined);
    }
    const { signaling } = this.connection as Connection;
    for (const [name, out] of this.outbound) {
      out.ready = signaling
        .request("publish", { stream: name, delivery: out.delivery })
        .then(({ streamId, after }) => {
          // (A restarted server knows nothing of what was sent: it gets none of it twice.)
          if (after !== undefined) this.resend(out, streamId, after);
          return streamId;
        });
      out.ready.catch(() => undefined);
    }
  }

  /** Closes the link; every subscription's loop ends normally. */
  async close(): Promise<void> {
    this.shutdown("closed by client");
  }

  subscribe(name: string, options: SubscribeOptions): Subscription {
    if (!this.isUp) {
      return new Subscription(name, 1, () => {}, Promise.reject(this.notConnected()));
    }
    let entry = this.inboundByName.get(name);
    if (!entry) {
      entry = this.openInbound(name, options.wait ?? false);
      this.inboundByName.set(name, entry);
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

  async publish(name: string, data: unknown, options: PushToServerOptions): Promise<void> {
    // While reconnecting, a push waits for the connection to come back.
    if (this.reconnected) await this.reconnected;
    const signaling = this.signaling;
    if (!this.isConnected || !signaling) throw this.notConnected();
    let out = this.outbound.get(name);
    const delivery = out?.delivery ?? options.delivery ?? (DEFAULT_DELIVERY as Delivery);
    const maxAgeMs = out?.maxAgeMs ?? validateMaxAge(options.maxAgeMs, delivery);
    const overflow = out?.overflow ?? validateOverflow(options, delivery);
    // Encoded first: a value too large fails here, before it registers the stream (and fixes
    // its delivery class).
    const encoded = new OutgoingMessage(0, 0, data, this.maxMessageBytes, maxAgeMs);
    if (!out) {
      const ready = signaling
        .request("publish", { stream: name, delivery })
        .then((r) => r.streamId);
      const bufferSize = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
      out = {
        ready,
        delivery,
        maxAgeMs,
        queue: new OutboundQueue(bufferSize),
        seq: 0,
        recent: delivery === "reliable" ? new BoundedQueue(bufferSize) : undefined,
        overflow,
        pushTail: Promise.resolve(),
      };
      this.outbound.set(name, out);
      // Refused: forgotten. (Lost with its connection: the reconnect publishes it again.)
      ready.catch(() => this.signaling === signaling && this.outbound.delete(name));
    } else if (options.delivery !== undefined && options.delivery !== out.delivery) {
      throw new InvalidArgumentError(
        `client stream "${name}" is ${out.delivery}; its delivery cannot change`,
      );
    }
    if (out.overflow.mode === "drop-oldest") return this.sendPublished(name, out, encoded);
    const turn = out.pushTail.then(() => this.sendPublished(name, out, encoded));
    out.pushTail = turn.catch(() => undefined);
    return turn;
  }

  /** Numbers a client stream's message and queues it for the link (once it has room, under
   * overflow "wait"). */
  private async sendPublished(
    name: string,
    out: Outbound,
    encoded: OutgoingMessage,
  ): Promise<void> {
    const streamId = await this.publishedId(out);
    if (out.overflow.mode === "wait" && !out.queue.queue.hasRoom) {
      await this.roomIn(name, out);
      // The link may have changed meanwhile.
      return this.sendPublished(name, out, encoded);
    }
    const link = this.link;
    if (!link) throw this.notConnected();
    out.seq = (out.seq + 1) >>> 0;
    const message = encoded.renumbered(streamId, out.seq);
    out.recent?.push(message);
    link.send(out.delivery, out.queue, message);
  }

  /** The server's id for a client stream on the current connection: after a reconnect, the
   * one it was published again under. */
  private async publishedId(out: Outbound): Promise<number> {
    for (;;) {
      const ready = out.ready;
      const outcome = await ready.then(
        (id) => ({ id }),
        (error: unknown) => ({ error }),
      );
      if (this.reconnected) {
        await this.reconnected;
        continue;
      }
      if (out.ready !== ready) continue;
      if ("error" in outcome) throw outcome.error;
      return outcome.id;
    }
  }

  /** Resolves once the client stream's queue has room; rejects past its overflow bound. */
  private roomIn(name: string, out: Outbound): Promise<void> {
    const { waitMs } = out.overflow;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        debug("%s client stream %s full for %d ms: push refused", this.clientId, name, waitMs);
        reject(SlowSubscriberError.pushRefused(name, waitMs));
      }, waitMs);
      void out.queue.queue.whenRoom().then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async listStreams(): Promise<StreamSummary[]> {
    if (this.reconnected) await this.reconnected;
    const signaling = this.signaling;
    if (!this.isConnected || !signaling) throw this.notConnected();
    return (await signaling.request("list", {})).streams;
  }

  /** Per client stream: messages handed to the link, bytes, drops, queue depth. */
  publishStats(): Record<string, OutboundStats> {
    const out: Record<string, OutboundStats> = {};
    for (const [name, o] of this.outbound) out[name] = o.queue.stats;
    return out;
  }

  /**
   * The data link now, or undefined between links: per lane, frames and messages received
   * (completed, rebuilt from repair, incomplete, stale) and the engine's backlog; `path`, on
   * a protocol-3 WebRTC link, what the reports say of the path to the server (round trip,
   * loss of our pieces, bytes per second it receives from us, messages that came too old).
   */
  linkStats(): LinkStats | undefined {
    const link = this.link;
    return link && { lanes: link.stats(), path: link.pathStats() };
  }

  /**
   * Where the time of setting up the current data link went (connect, reconnect, link restart
   * or upgrade): each phase in order with its milliseconds, so a slow connect can be
   * diagnosed. Undefined before the first connect. The debug log (`conduit:client`) says the
   * same as each link opens.
   */
  connectStats(): ConnectTimings | undefined {
    return this.connection?.timings;
  }

  /** Makes the entry that all local subscribers of `name` share, and subscribes it. */
  private openInbound(name: string, wait: boolean): Inbound {
    const entry: Inbound = {
      name,
      reply: undefined,
      subscribers: new Set(),
      lastSeq: undefined,
      endAfter: undefined,
      epoch: undefined,
      ready: Promise.resolve(undefined as never),
    };
    entry.ready = this.requestInbound(entry, wait, undefined);
    return entry;
  }

  /** Sends the subscribe request (once connected), then `start` once the reply is placed. */
  private async requestInbound(
    entry: Inbound,
    wait: boolean,
    resume: SubscribeRequest["resume"],
  ): Promise<SubscribeReply> {
    const name = entry.name;
    if (this.reconnected) await this.reconnected;
    const signaling = this.signaling;
    if (!signaling) throw this.notConnected();
    let reply: SubscribeReply;
    try {
      // One that waits for its stream to be created has no deadline.
      const timeoutMs = wait ? Number.POSITIVE_INFINITY : undefined;
      reply = await signaling.request("subscribe", { stream: name, wait, resume }, timeoutMs, name);
    } catch (err) {
      // The connection went: the reconnect sends the request again (resumeStreams), and this
      // one follows it. Only a refusal, or no reply in time, ends the entry.
      if (this.signaling !== signaling && !this.shuttingDown) {
        if (this.reconnected) await this.reconnected;
        if (!this.shuttingDown && this.inboundByName.get(name) === entry) return entry.ready;
      }
      if (this.inboundByName.get(name) === entry) this.inboundByName.delete(name);
      throw err;
    }
    if (this.inboundByName.get(name) !== entry || entry.subscribers.size === 0) {
      // Every local subscriber left while the request was in flight.
      signaling.request("unsubscribe", { stream: name }).catch(() => undefined);
      return reply;
    }
    if (reply.epoch !== entry.epoch) entry.lastSeq = undefined; // a new instance: new numbers
    entry.epoch = reply.epoch;
    if (reply.missed > 0) for (const s of entry.subscribers) s.noteLost(reply.missed);
    entry.reply = reply;
    this.inboundById.set(reply.streamId, entry);
    signaling
      .request("start", { stream: name })
      .catch((err: unknown) => debug("start %s failed: %O", name, err));
    return reply;
  }

  private dropSubscriber(entry: Inbound, subscription: Subscription): void {
    entry.subscribers.delete(subscription);
    if (entry.subscribers.size > 0 || this.inboundByName.get(entry.name) !== entry) return;
    this.inboundByName.delete(entry.name);
    clearTimeout(entry.endTimer);
    if (!entry.reply) return; // the reply handler unsubscribes
    this.inboundById.delete(entry.reply.streamId);
    this.link?.forgetStream(entry.reply.delivery, entry.reply.streamId);
    if (this.isConnected) {
      this.signaling?.request("unsubscribe", { stream: entry.name }).catch(() => undefined);
    }
  }

  private receive(streamId: number, seq: number, body: Uint8Array, ageMs?: number): void {
    const entry = this.inboundById.get(streamId);
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
    if (entry.endAfter !== undefined && !seqAfter(entry.endAfter, seq)) this.endInbound(entry);
  }

  /**
   * The server closed the stream. The notice rides Socket.IO and may overtake the last
   * messages on the data channel: a reliable stream ends once `lastSeq` has arrived; a
   * realtime one too, or once `lastSeq` is older than its age bound and cannot arrive.
   */
  private streamClosed(notice: StreamClosedNotice): void {
    const { stream: name, streamId, lastSeq, maxAgeMs = 0, cutOffAfterMs } = notice;
    const entry = this.inboundById.get(streamId);
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
      this.endInbound(entry);
      return;
    }
    entry.endAfter = lastSeq;
    if (reliable) return;
    entry.endTimer = setTimeout(() => {
      this.advanceSeq(entry, lastSeq, 0);
      this.endInbound(entry);
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

  private endInbound(entry: Inbound): void {
    clearTimeout(entry.endTimer);
    const streamId = entry.reply?.streamId;
    if (streamId === undefined || this.inboundById.get(streamId) !== entry) return;
    this.inboundById.delete(streamId);
    if (this.inboundByName.get(entry.name) === entry) this.inboundByName.delete(entry.name);
    this.link?.forgetStream(entry.reply?.delivery ?? "realtime", streamId);
    for (const subscription of [...entry.subscribers]) {
      if (entry.endError) subscription.fail(entry.endError);
      else subscription.end();
    }
  }

  private shutdown(reason: string, error?: ConduitError): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    debug("%s shutting down: %s", this.clientId ?? "client", reason);
    for (const entry of this.inboundByName.values()) {
      clearTimeout(entry.endTimer);
      for (const subscription of [...entry.subscribers]) {
        if (error) subscription.fail(error);
        else subscription.end();
      }
    }
    this.inboundByName.clear();
    this.inboundById.clear();
    this.outbound.clear();
    this.dropConnection(reason);
    this.endReconnectWait?.();
    this.reconnected = undefined;
    this.setStatus(error ? { state: "closed", reason, error } : { state: "closed", reason });
  }

  private setStatus(status: ClientStatus): void {
    this.currentStatus = status;
    this.emit("status", status);
  }
}

function asConduitError(err: unknown): ConduitError {
  return err instanceof ConduitError
    ? err
    : new ConnectionError(`connect failed: ${String(err)}`, "CONNECTION_FAILED", { cause: err });
}

/** Exponential, with equal jitter: between half and all of the doubled delay. */
function backoffMs(policy: ReconnectPolicy, attempt: number): number {
  const full = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return full / 2 + Math.random() * (full / 2);
}

/** Random hex digits; crypto.getRandomValues works in plain-http pages too. */
function randomHex(bytes: number): string {
  const out = new Uint8Array(bytes);
  crypto.getRandomValues(out);
  return Array.from(out, (b) => b.toString(16).padStart(2, "0")).join("");
}
