import {
  MAX_LINK_RESTARTS_PER_MINUTE,
  OLDEST_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
} from "../core/defaults.js";
import { ConnectionError, ProtocolError } from "../core/errors.js";
import type { Engine, IceServer, PeerConfig, SignalMessage } from "../peer/engine.js";
import { type LinkStats, type PathReport, PeerLink } from "../peer/link.js";
import { relayEngine } from "../peer/relay.js";
import { EVENT_LINK_LOST, type RestartReply, type RestartRequest } from "../signaling/protocol.js";
import type { ClientSignaling } from "../signaling/server.js";
import { grantAllows } from "../signaling/tokens.js";
import type { StreamManager } from "../streams/manager.js";
import { wallClockMs } from "../util/clock.js";
import { log } from "../util/log.js";
import type { ClientStreamProgress } from "./client-stream-progress.js";
import { SessionClientStreams } from "./client-streams.js";
import { SessionSubscriptions } from "./subscriptions.js";

const debug = log("server");

export interface ClientStats {
  clientId: string;
  address: string;
  peerOpen: boolean;
  /** What carries its data: WebRTC data channels directly or through a TURN relay, or the
   * Socket.IO relay (no link yet: undefined). */
  transport: "webrtc" | "turn" | "relay" | undefined;
  /** Keepalives heard from the client on its current link. */
  keepalivesReceived: number;
  /** Names of the server streams it subscribes to. */
  subscriptions: string[];
  /** Names of the client streams it has published. */
  clientStreams: string[];
  /** Malformed signaling messages or requests it sent. */
  protocolViolations: number;
  /** Data messages it sent that could not be used (unknown stream id, undecodable body). */
  rejectedMessages: number;
  /** Per channel: frames received, invalid, messages completed, incomplete, stale, engine backlog. */
  link?: LinkStats["lanes"] | undefined;
  /** On a protocol-3 WebRTC link: what the reports say of the path to the client (see
   * `Client.linkStats`). */
  path?: PathReport | undefined;
  /** Between Node ends (either engine): the RTP lane the realtime pieces take while paced (see
   * `Client.linkStats`). */
  rtpLane?: LinkStats["rtpLane"];
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
  clientStreamProgress: ClientStreamProgress;
  pathReported(clientId: string, report: PathReport): void;
}

/** Everything the server holds for one authenticated client; all of it freed on close. */
export class ClientSession {
  readonly id: string;
  private link: PeerLink | undefined;
  private readonly subscriptions: SessionSubscriptions;
  private readonly clientStreams: SessionClientStreams;
  /** The protocol agreed in hello (2 until then: no coded frames). */
  private protocol = OLDEST_PROTOCOL_VERSION;
  /** The client's clock minus ours, as the client measured it (protocol 3). */
  private clockOffsetMs: number | undefined;
  private closed = false;
  /** The client has offered a link (or asked for the relay): it may subscribe and publish. */
  private offered = false;
  /** When the last link restarts were asked for (bounded: see MAX_LINK_RESTARTS_PER_MINUTE). */
  private readonly restarts: number[] = [];
  private readonly peerConfig: PeerConfig;
  private readonly clientIceServers: IceServer[];
  /** The offer in the client's handshake was answered (see answerHandshakeOffer). */
  private handshakeOfferAnswered = false;

  constructor(
    private readonly signaling: ClientSignaling,
    private readonly ctx: SessionContext,
    private readonly onClosed: (session: ClientSession) => void,
  ) {
    this.id = signaling.id;
    this.subscriptions = new SessionSubscriptions(
      signaling,
      () => this.manager(),
      () => this.link,
    );
    this.clientStreams = new SessionClientStreams(signaling, ctx.clientStreamProgress, ctx.streams);
    // Minted here, after authentication: nobody gets TURN credentials before it. The server's
    // own end gets credentials of its own, so each TURN allocation has its own user.
    this.clientIceServers = ctx.iceServersFor(this.id);
    this.peerConfig = { ...ctx.peerConfig, iceServers: ctx.iceServersFor(`server-${this.id}`) };
    signaling.on("disconnect", () => this.close());
    signaling.on("signal", (message) => this.applySignal(message));
    signaling.handle("hello", ({ protocol, instance }) => {
      this.clientStreams.instance = instance;
      // The newest both speak; a client older than OLDEST_PROTOCOL_VERSION refuses the reply.
      this.protocol = Math.min(protocol, PROTOCOL_VERSION);
      this.answerHandshakeOffer();
      return {
        clientId: this.id,
        protocol: this.protocol,
        iceServers: this.clientIceServers,
        maxMessageBytes: ctx.maxMessageBytes,
        linkTimeoutMs: ctx.linkTimeoutMs,
        ...(this.handshakeOfferAnswered ? { offerAnswered: true } : {}),
      };
    });
    signaling.handle("subscribe", ({ stream, wait, resume }) => {
      this.requireOffered();
      return this.subscriptions.subscribe(stream, wait, resume);
    });
    signaling.handle("start", ({ stream }) => {
      this.subscriptions.start(stream);
      return {};
    });
    signaling.handle("unsubscribe", ({ stream }) => {
      this.subscriptions.unsubscribe(stream);
      return {};
    });
    // A client sees only the streams its token lets it subscribe to.
    signaling.handle("list", () => ({
      streams: this.manager()
        .listStreams()
        .filter((s) => grantAllows(signaling.access.grants.subscribe, s.name)),
    }));
    signaling.handle("publish", ({ stream, delivery }) => {
      this.requireOffered();
      return this.clientStreams.publish(stream, delivery);
    });
    signaling.handle("relay", () => this.acceptRelay());
    signaling.handle("restart", (request) => this.restartLink(request));
    signaling.handle("clock", ({ offsetMs }) => {
      if (offsetMs !== undefined) {
        this.clockOffsetMs = -offsetMs;
        this.link?.setClockOffset(this.clockOffsetMs);
      }
      return { now: wallClockMs() };
    });
  }

  stats(): ClientStats {
    const link = this.link?.stats();
    return {
      clientId: this.id,
      address: this.signaling.address,
      peerOpen: this.link?.opened ?? false,
      transport: transportOf(this.link),
      keepalivesReceived: link?.keepalivesReceived ?? 0,
      subscriptions: this.subscriptions.names(),
      clientStreams: this.clientStreams.names(),
      protocolViolations: this.signaling.violations,
      rejectedMessages: this.clientStreams.rejectedMessages,
      ...(link ? { link: link.lanes } : {}),
      ...(link?.path ? { path: link.path } : {}),
      ...(link?.rtpLane ? { rtpLane: link.rtpLane } : {}),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscriptions.close();
    this.ctx.streams()?.releaseClient(this.id);
    const link = this.link;
    this.link = undefined; // first: its close is not a lost link to report
    link?.close("client session closed");
    if (this.signaling.isConnected) this.signaling.disconnect();
    debug("%s session closed", this.id);
    this.onClosed(this);
  }

  private manager(): StreamManager {
    const manager = this.ctx.streams();
    if (!manager)
      throw new ConnectionError("this server has no StreamManager registered", "not-connected");
    return manager;
  }

  private requireOffered(): void {
    if (!this.offered) {
      throw new ConnectionError(
        "send the WebRTC offer before subscribing or publishing",
        "not-connected",
      );
    }
  }

  private applySignal(message: SignalMessage): void {
    if (message.kind === "description" && message.type === "offer") this.acceptOffer(message.sdp);
    else if (this.link) this.link.applyRemote(message).catch((err) => this.peerError(err));
  }

  /**
   * Answers the offer a client put in its handshake, made before it knew this server's ICE
   * servers: only when there are none to give it (TURN credentials are minted after
   * authentication), and when the link speaks protocol 3 as that client assumed. The client
   * then skips the offer/answer round trip after hello; otherwise it offers again.
   */
  private answerHandshakeOffer(): void {
    const signals = this.signaling.takeHandshakeOffer();
    if (!signals || this.clientIceServers.length > 0 || this.protocol < 3) return;
    this.handshakeOfferAnswered = true;
    // After the welcome has gone (it goes once this hello handler returns): the answer follows it.
    setImmediate(() => {
      if (!this.closed) for (const message of signals) this.applySignal(message);
    });
  }

  private acceptOffer(sdp: string): void {
    if (this.link?.opened) {
      this.signaling.violations++;
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
    link.on("signal", (message) => this.signaling.sendSignal(message));
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
      new PeerLink(this.id, relayEngine(this.signaling.relay()), this.peerConfig, {
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
    const { missed, gone } = this.subscriptions.restart(
      new Map(resume.map((r) => [r.stream, r.after])),
    );
    debug("%s link restart: %d subscriptions kept", this.id, this.subscriptions.size);
    return { missed, published: this.clientStreams.restartPoints(), gone };
  }

  /** Makes `link` the session's link (closing one that never opened), and feeds it every
   * subscription's queue. */
  private useLink(link: PeerLink, replacing: string): PeerLink {
    this.link?.close(replacing);
    this.link = link;
    this.offered = true;
    link.on("message", (delivery, streamId, seq, body, ageMs) =>
      this.clientStreams.receive(delivery, streamId, seq, body, ageMs),
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
      this.signaling.notify(EVENT_LINK_LOST, { reason });
    });
    this.subscriptions.wakeAll(link);
    return link;
  }

  private peerError(err: unknown): void {
    debug("%s bad signal: %O", this.id, err);
    this.signaling.violations++;
  }
}

function transportOf(link: PeerLink | undefined): ClientStats["transport"] {
  if (!link) return undefined;
  if (link.engineName === "relay") return "relay";
  return link.viaTurn ? "turn" : "webrtc";
}
