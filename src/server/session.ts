import {
  ENDED_SUBSCRIPTION_KEPT_MS,
  ENDED_SUBSCRIPTIONS_KEPT,
  MAX_LINK_RESTARTS_PER_MINUTE,
  MAX_PENDING_WAITS_PER_CLIENT,
  MAX_PUBLISHED_STREAMS_PER_CLIENT,
  MAX_SUBSCRIPTIONS_PER_CLIENT,
  OLDEST_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
} from "../core/defaults.js";
import { type Delivery, seqAfter } from "../core/delivery.js";
import {
  ConnectionError,
  ForbiddenError,
  ProtocolError,
  StreamNotFoundError,
} from "../core/errors.js";
import type { Engine, IceServer, PeerConfig } from "../peer/engine.js";
import { type PathReport, PeerLink } from "../peer/link.js";
import { relayEngine } from "../peer/relay.js";
import { OutboundQueue } from "../peer/sender.js";
import {
  EVENT_LINK_LOST,
  EVENT_STREAM_CLOSED,
  type PublishReply,
  type RestartReply,
  type RestartRequest,
  type StreamClosedNotice,
  type SubscribeReply,
  type SubscribeRequest,
} from "../signaling/protocol.js";
import type { ClientConnection } from "../signaling/server.js";
import { grantAllows } from "../signaling/tokens.js";
import type { StreamManager } from "../streams/manager.js";
import type { PushedMessage, Stream, Subscriber, SubscriberStats } from "../streams/stream.js";
import { wallClockMs } from "../util/clock.js";
import { ExpiringMap } from "../util/expiring-map.js";
import { log } from "../util/log.js";
import { decodeBody } from "../wire/codec.js";
import type { UpstreamProgress } from "./client-stream-progress.js";

const debug = log("server");

export interface ClientStats {
  clientId: string;
  address: string;
  peerOpen: boolean;
  /** Names of the server streams it subscribes to. */
  subscriptions: string[];
  /** Names of the client streams it has published. */
  clientStreams: string[];
  /** Malformed signaling messages or requests it sent. */
  protocolViolations: number;
  /** Data messages it sent that could not be used (unknown stream id, undecodable body). */
  rejectedMessages: number;
  /** Per channel: frames received, invalid, messages completed, incomplete, stale, engine backlog. */
  link?: ReturnType<PeerLink["stats"]>;
  /** On a protocol-3 WebRTC link: what the reports say of the path to the client (see
   * `Client.linkStats`). */
  path?: PathReport;
}

export interface SessionContext {
  engine: Engine;
  /** ICE servers for a TURN user name: TURN credentials are minted for it. */
  iceServersFor(user: string): IceServer[];
  /** The server's own peer configuration, less its ICE servers. */
  peerConfig: Omit<PeerConfig, "iceServers">;
  maxMessageBytes: number;
  linkTimeoutMs: number;
  streams(): StreamManager | undefined;
  upstreamProgress: UpstreamProgress;
  pathReported(clientId: string, report: PathReport): void;
}

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
    else this.queue.queue.push(outgoing);
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
    return this.queue.queue.hasRoom;
  }

  whenRoom(): Promise<void> {
    return this.queue.queue.whenRoom();
  }

  /** The client is told; what is queued still goes out, so it knows what it has. */
  cutOff(): void {
    this.onCutOff(this);
  }

  get stats(): SubscriberStats {
    return this.queue.stats;
  }
}

/** Everything the server holds for one authenticated client; all of it freed on close. */
export class ClientSession {
  readonly id: string;
  private link: PeerLink | undefined;
  private readonly subscriptions = new Map<string, RemoteSubscriber>();
  /** Reliable subscriptions whose stream closed, newest last (see ENDED_SUBSCRIPTIONS_KEPT). */
  private readonly ended = new ExpiringMap<string, RemoteSubscriber>(
    ENDED_SUBSCRIPTIONS_KEPT,
    ENDED_SUBSCRIPTION_KEPT_MS,
  );
  private readonly waits = new Set<() => void>();
  private readonly upstreams = new Map<number, { name: string; delivery: Delivery }>();
  /** The client's own id for itself, the same across reconnects (see UpstreamProgress). */
  private instance: string | undefined;
  /** The protocol agreed in hello (2 until then: no coded frames). */
  private protocol = OLDEST_PROTOCOL_VERSION;
  /** The client's clock minus ours, as the client measured it (protocol 3). */
  private clockOffsetMs: number | undefined;
  private readonly upstreamIds = new Map<string, number>();
  private closed = false;
  /** The client has offered a link (or asked for the relay): it may subscribe and publish. */
  private offered = false;
  /** When the last link restarts were asked for (bounded: see MAX_LINK_RESTARTS_PER_MINUTE). */
  private readonly restarts: number[] = [];
  private readonly peerConfig: PeerConfig;
  private readonly clientIceServers: IceServer[];
  /** Data frames from this client that could not be used (unknown stream, bad body). */
  rejectedMessages = 0;

  constructor(
    private readonly conn: ClientConnection,
    private readonly ctx: SessionContext,
    private readonly onClosed: (session: ClientSession) => void,
  ) {
    this.id = conn.id;
    // Minted here, after authentication: nobody gets TURN credentials before it. The server's
    // own end gets credentials of its own, so each TURN allocation has its own user.
    this.clientIceServers = ctx.iceServersFor(this.id);
    this.peerConfig = { ...ctx.peerConfig, iceServers: ctx.iceServersFor(`server-${this.id}`) };
    conn.on("disconnect", () => this.close());
    conn.on("signal", (message) => {
      if (message.kind === "description" && message.type === "offer") this.acceptOffer(message.sdp);
      else if (this.link) this.link.applyRemote(message).catch((err) => this.peerError(err));
    });
    conn.handle("hello", ({ protocol, instance }) => {
      this.instance = instance;
      // The newest both speak; a client older than OLDEST_PROTOCOL_VERSION refuses the reply.
      this.protocol = Math.min(protocol, PROTOCOL_VERSION);
      return {
        clientId: this.id,
        protocol: this.protocol,
        iceServers: this.clientIceServers,
        maxMessageBytes: ctx.maxMessageBytes,
        linkTimeoutMs: ctx.linkTimeoutMs,
      };
    });
    conn.handle("subscribe", ({ stream, wait, resume }) => this.subscribe(stream, wait, resume));
    conn.handle("start", ({ stream }) => {
      const sub = this.subscriptions.get(stream);
      if (!sub) throw new StreamNotFoundError(stream);
      sub.start();
      if (sub.endedBeforeStart) this.streamEnded(sub);
      return {};
    });
    conn.handle("unsubscribe", ({ stream }) => {
      this.unsubscribe(stream);
      return {};
    });
    // A client sees only the streams its token lets it subscribe to.
    conn.handle("list", () => ({
      streams: this.manager()
        .listStreams()
        .filter((s) => grantAllows(conn.access.grants.subscribe, s.name)),
    }));
    conn.handle("publish", ({ stream, delivery }) => this.publish(stream, delivery));
    conn.handle("relay", () => this.acceptRelay());
    conn.handle("restart", (request) => this.restartLink(request));
    conn.handle("clock", ({ offsetMs }) => {
      if (offsetMs !== undefined) {
        this.clockOffsetMs = -offsetMs;
        this.link?.setClockOffset(this.clockOffsetMs);
      }
      return { now: wallClockMs() };
    });
  }

  stats(): ClientStats {
    return {
      clientId: this.id,
      address: this.conn.address,
      peerOpen: this.link?.opened ?? false,
      subscriptions: [...this.subscriptions.keys()],
      clientStreams: [...this.upstreamIds.keys()],
      protocolViolations: this.conn.violations,
      rejectedMessages: this.rejectedMessages,
      ...(this.link ? { link: this.link.stats() } : {}),
      ...(this.link?.pathStats() ? { path: this.link.pathStats() } : {}),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const cancel of this.waits) cancel();
    this.waits.clear();
    for (const sub of this.subscriptions.values()) sub.stream.removeSubscriber(sub.id);
    this.subscriptions.clear();
    this.ended.clear();
    this.ctx.streams()?.releaseClient(this.id);
    const link = this.link;
    this.link = undefined; // first: its close is not a lost link to report
    link?.close("client session closed");
    if (this.conn.isConnected) this.conn.disconnect();
    debug("%s session closed", this.id);
    this.onClosed(this);
  }

  private manager(): StreamManager {
    const manager = this.ctx.streams();
    if (!manager)
      throw new ConnectionError("this server has no StreamManager registered", "NOT_CONNECTED");
    return manager;
  }

  private requireOffered(): void {
    if (!this.offered) {
      throw new ConnectionError(
        "send the WebRTC offer before subscribing or publishing",
        "NOT_CONNECTED",
      );
    }
  }

  private acceptOffer(sdp: string): void {
    if (this.link?.opened) {
      this.conn.violations++;
      debug("%s sent a second offer; renegotiation is not supported", this.id);
      return;
    }
    // No open link: the first offer, a retry of a failed setup, or the one after a restart.
    const link = this.useLink(
      new PeerLink(this.id, this.ctx.engine, this.peerConfig, {
        maxMessageBytes: this.ctx.maxMessageBytes,
        timeoutMs: this.ctx.linkTimeoutMs,
        coded: this.protocol >= 3,
      }),
      "replaced by a new offer",
    );
    if (this.clockOffsetMs !== undefined) link.setClockOffset(this.clockOffsetMs);
    link.on("signal", (message) => this.conn.sendSignal(message));
    link
      .applyRemote({ kind: "description", type: "offer", sdp })
      .catch((err) => this.peerError(err));
  }

  /** The client cannot reach us over WebRTC: the data rides this Socket.IO connection. */
  private acceptRelay(): Record<string, never> {
    if (this.link?.opened) {
      throw new ProtocolError("a relay was asked for, but the WebRTC link is open");
    }
    debug("%s relaying data over Socket.IO", this.id);
    this.useLink(
      new PeerLink(this.id, relayEngine(this.conn.relay()), this.peerConfig, {
        maxMessageBytes: this.ctx.maxMessageBytes,
      }),
      "replaced by the relay",
    );
    return {};
  }

  /**
   * The client's link failed while this connection stayed up. The old link goes; what it may
   * have lost on reliable streams is queued again, to go out once the client's new offer (or
   * relay request) has made a new link. Subscriptions and client streams stay as they are.
   */
  private restartLink({ resume }: RestartRequest): RestartReply {
    if (!this.offered) throw new ProtocolError("restart before any link was set up");
    const now = Date.now();
    while (this.restarts.length > 0 && now - (this.restarts[0] as number) > 60_000) {
      this.restarts.shift();
    }
    if (this.restarts.length >= MAX_LINK_RESTARTS_PER_MINUTE) {
      throw new ProtocolError(
        `at most ${MAX_LINK_RESTARTS_PER_MINUTE} link restarts a minute`,
        "LIMIT_EXCEEDED",
      );
    }
    this.restarts.push(now);
    const old = this.link;
    this.link = undefined;
    old?.close("restarted by the client");
    const received = new Map(resume.map((r) => [r.stream, r.after]));
    const missed: RestartReply["missed"] = [];
    const gone: string[] = [];
    const restart = (sub: RemoteSubscriber) => {
      const count = sub.restart(received.get(sub.stream.name));
      if (count > 0) missed.push({ stream: sub.stream.name, missed: count });
    };
    for (const sub of this.subscriptions.values()) restart(sub);
    // Closed meanwhile: the tail the old link lost is still in the closed stream's buffer.
    for (const name of received.keys()) {
      if (this.subscriptions.has(name)) continue;
      const sub = this.ended.get(name);
      if (sub) restart(sub);
      else gone.push(name);
    }
    const published: RestartReply["published"] = [];
    for (const { name, delivery } of this.upstreams.values()) {
      const after = this.progressOf(name, delivery);
      if (after !== undefined) published.push({ stream: name, after });
    }
    debug("%s link restart: %d subscriptions kept", this.id, this.subscriptions.size);
    return { missed, published, gone };
  }

  /** Makes `link` the session's link (closing one that never opened), and feeds it every
   * subscription's queue. */
  private useLink(link: PeerLink, replacing: string): PeerLink {
    this.link?.close(replacing);
    this.link = link;
    this.offered = true;
    link.on("message", (delivery, streamId, seq, body) =>
      this.receive(delivery, streamId, seq, body),
    );
    link.on("path", (report) => this.ctx.pathReported(this.id, report));
    link.on("close", (reason) => {
      if (this.link !== link) return; // replaced
      this.link = undefined;
      if (!link.opened) {
        // The setup failed; the client tries again with a new offer (or gives up and leaves).
        debug("%s peer link failed before opening (%s)", this.id, reason);
        return;
      }
      // The session stays: the client restarts the link (it may not have noticed yet).
      debug("%s peer link lost (%s): the client restarts it", this.id, reason);
      this.conn.notify(EVENT_LINK_LOST, { reason });
    });
    for (const sub of [...this.subscriptions.values(), ...this.ended.values()]) {
      if (sub.started) link.wake(sub.stream.delivery, sub.queue);
    }
    return link;
  }

  private peerError(err: unknown): void {
    debug("%s bad signal: %O", this.id, err);
    this.conn.violations++;
  }

  private async subscribe(
    name: string,
    wait: boolean,
    resume: SubscribeRequest["resume"],
  ): Promise<SubscribeReply> {
    this.requireOffered();
    if (!grantAllows(this.conn.access.grants.subscribe, name)) {
      throw new ForbiddenError(`the token does not grant subscribe on "${name}"`, name);
    }
    const manager = this.manager();
    const existing = this.subscriptions.get(name);
    if (existing) return reply(existing.stream);
    if (this.subscriptions.size >= MAX_SUBSCRIPTIONS_PER_CLIENT) {
      throw new ProtocolError(
        `at most ${MAX_SUBSCRIPTIONS_PER_CLIENT} subscriptions per client`,
        "LIMIT_EXCEEDED",
      );
    }
    // In a cluster, a stream on another node is mirrored here.
    let stream = manager.getOrMirror(name);
    if (!stream) {
      if (!wait) throw new StreamNotFoundError(name);
      if (this.waits.size >= MAX_PENDING_WAITS_PER_CLIENT) {
        throw new ProtocolError(
          `at most ${MAX_PENDING_WAITS_PER_CLIENT} pending waits per client`,
          "LIMIT_EXCEEDED",
        );
      }
      stream = await new Promise<Stream>((resolve, reject) => {
        const cancel = manager.waitForStream(name, (found) => {
          this.waits.delete(stop);
          resolve(found);
        });
        const stop = () => {
          cancel();
          reject(new ConnectionError("session closed while waiting for the stream"));
        };
        this.waits.add(stop);
      });
    }
    if (this.closed) throw new ConnectionError("session closed");
    const again = this.subscriptions.get(name);
    if (again) return reply(again.stream);
    const subscriber = new RemoteSubscriber(
      this.id,
      stream,
      () => this.link,
      (s) => this.streamEnded(s),
      (s) => this.subscriberCutOff(s),
    );
    this.subscriptions.set(name, subscriber);
    // Resent first, in the same tick as joining: nothing pushed in between is missed.
    const missed =
      resume && resume.epoch === stream.epoch && stream.delivery === "reliable"
        ? stream.replay(subscriber, resume.after)
        : 0;
    stream.addSubscriber(subscriber);
    return { ...reply(stream), missed };
  }

  private unsubscribe(name: string): void {
    const sub = this.subscriptions.get(name);
    if (!sub) return;
    this.subscriptions.delete(name);
    this.link?.detach(sub.stream.delivery, sub.queue);
    sub.stream.removeSubscriber(sub.id);
  }

  private streamEnded(sub: RemoteSubscriber): void {
    if (this.subscriptions.get(sub.stream.name) !== sub) return;
    if (!sub.started) {
      sub.endedBeforeStart = true;
      return;
    }
    this.subscriptions.delete(sub.stream.name);
    if (sub.stream.delivery === "reliable") {
      this.ended.set(sub.stream.name, sub);
    }
    this.conn.notify(EVENT_STREAM_CLOSED, closedNotice(sub));
  }

  /** The client's queue stayed full past the stream's bound (overflow "wait"). */
  private subscriberCutOff(sub: RemoteSubscriber): void {
    if (this.subscriptions.get(sub.stream.name) !== sub) return;
    this.subscriptions.delete(sub.stream.name);
    const notice = { ...closedNotice(sub), cutOffAfterMs: sub.stream.overflow.waitMs };
    this.conn.notify(EVENT_STREAM_CLOSED, notice);
  }

  private publish(name: string, delivery: Delivery): PublishReply {
    this.requireOffered();
    if (!grantAllows(this.conn.access.grants.publish, name)) {
      throw new ForbiddenError(`the token does not grant publish on "${name}"`, name);
    }
    const known = this.upstreamIds.get(name);
    if (known !== undefined) {
      const up = this.upstreams.get(known);
      if (up && up.delivery !== delivery) {
        throw new ProtocolError(`client stream "${name}" was published as ${up.delivery}`);
      }
      return { streamId: known, after: this.progressOf(name, delivery) };
    }
    if (this.upstreams.size >= MAX_PUBLISHED_STREAMS_PER_CLIENT) {
      throw new ProtocolError(
        `at most ${MAX_PUBLISHED_STREAMS_PER_CLIENT} client streams per client`,
        "LIMIT_EXCEEDED",
      );
    }
    const streamId = this.upstreams.size + 1;
    this.upstreams.set(streamId, { name, delivery });
    this.upstreamIds.set(name, streamId);
    return { streamId, after: this.progressOf(name, delivery) };
  }

  private progressOf(name: string, delivery: Delivery): number | undefined {
    if (delivery !== "reliable" || this.instance === undefined) return undefined;
    return this.ctx.upstreamProgress.get(this.instance, name);
  }

  private receive(delivery: Delivery, streamId: number, seq: number, body: Uint8Array): void {
    const up = this.upstreams.get(streamId);
    if (!up || up.delivery !== delivery) {
      this.rejectedMessages++;
      return;
    }
    if (delivery === "reliable" && this.instance !== undefined) {
      // Resent after a reconnect but taken already: skip it.
      const last = this.ctx.upstreamProgress.get(this.instance, up.name);
      if (last !== undefined && !seqAfter(seq, last)) return;
      this.ctx.upstreamProgress.set(this.instance, up.name, seq);
    }
    let value: unknown;
    try {
      value = decodeBody(body);
    } catch {
      this.rejectedMessages++;
      return;
    }
    this.ctx.streams()?.dispatchClientMessage(this.id, up.name, value);
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
