import {
  HIGH_WATER_BYTES,
  LOW_WATER_BYTES,
  MAX_FRAME_BYTES,
  MAX_PARTIAL_AGE_MS,
  MAX_PARTIAL_MESSAGES,
  REALTIME_HIGH_WATER_BYTES,
  REALTIME_LOW_WATER_BYTES,
  REALTIME_PACKET_LIFETIME_MS,
  REALTIME_STALE_AFTER_MS,
  REPORT_INTERVAL_MS,
} from "../core/defaults.js";
import { DELIVERIES, type Delivery } from "../core/delivery.js";
import { Emitter } from "../util/emitter.js";
import { log } from "../util/log.js";
import { FrameError, isKeepalive } from "../wire/frame.js";
import type { OutgoingMessage } from "../wire/outgoing.js";
import { FRAME_KIND_PIECE } from "../wire/pieces.js";
import { Reassembler, type ReassemblerStats } from "../wire/reassembler.js";
import { isReport, readReport } from "../wire/report.js";
import type {
  ChannelSpec,
  Engine,
  EngineChannel,
  EnginePeer,
  EngineRtpLane,
  PeerConfig,
  PeerState,
  SignalMessage,
} from "./engine.js";
import { isMdnsCandidate } from "./ice-servers.js";
import { Keepalive } from "./keepalive.js";
import { PathFeedback, type PathStats } from "./path-feedback.js";
import { ChannelSender, type OutboundQueue } from "./sender.js";
import { type LinkPhase, SetupClock } from "./setup-clock.js";

const debug = log("peer");

/** Both sides create these channels with the same fixed ids (negotiated: true). */
export const CHANNEL_SPECS: Record<Delivery, ChannelSpec> = {
  realtime: { label: "conduit-realtime", id: 0, ordered: false, maxRetransmits: 0 },
  reliable: { label: "conduit-reliable", id: 1, ordered: true },
};

/** Each end sets how its own sends are retransmitted; node-datachannel does better by lifetime
 * (see REALTIME_PACKET_LIFETIME_MS). dcSCTP collapses with short lifetimes as a sender, and
 * werift's lifetime check is conduit's own fix: both keep zero retransmits. */
function channelSpec(engine: Engine["name"], delivery: Delivery): ChannelSpec {
  if (delivery !== "realtime" || engine !== "node-datachannel") return CHANNEL_SPECS[delivery];
  const { maxRetransmits: _never, ...spec } = CHANNEL_SPECS.realtime;
  return { ...spec, maxPacketLifeTime: REALTIME_PACKET_LIFETIME_MS };
}

export interface LinkEvents {
  signal: [SignalMessage];
  /** Both channels are open. */
  open: [];
  /** `ageMs`: how old a coded realtime message was on arrival, once the clocks are known. */
  message: [
    delivery: Delivery,
    streamId: number,
    seq: number,
    body: Uint8Array,
    ageMs: number | undefined,
  ];
  /** A coded realtime message arrived older than its age bound and was dropped. */
  expired: [streamId: number, seq: number];
  /** A path report came (coded links, ~10 a second): what it says now. */
  path: [PathReport];
  /** The link is gone for good; `reason` says why. */
  close: [reason: string];
  state: [PeerState];
  /** A step of the setup ended (see SetupClock). */
  phase: [LinkPhase];
}

export interface LinkOptions {
  maxMessageBytes: number;
  /** Once open, a link that hears nothing for this long closes ("no data for … ms"); each
   * end sends a keepalive every fifth of it. Omitted: no keepalives (the relay, which
   * Socket.IO's heartbeat covers). */
  timeoutMs?: number;
  /** Both ends speak protocol 3: realtime messages go as coded pieces, with path reports. */
  coded?: boolean;
}

/** What the reports say of the path, and what arrived too old. */
export type PathReport = PathStats & { expiredOnArrival: number };

/** What `Client.linkStats()` reports. */
export interface LinkStats {
  lanes: Record<Delivery, ReassemblerStats & { bufferedAmount: number }>;
  path: PathReport | undefined;
  /** Keepalives heard from the other end: they go on while no data flows. */
  keepalivesReceived: number;
  /** The RTP lane (Node engines at both ends, coded links): open once the other end is
   * heard on it; realtime pieces go there while the pacer paces them. */
  rtpLane: { open: boolean; packetsSent: number; packetsReceived: number } | undefined;
}

interface Lane {
  channel: EngineChannel;
  /** Realtime, coded, where the engine has it: see EngineRtpLane. */
  rtp?: EngineRtpLane | undefined;
  sender: ChannelSender;
  reassembler: Reassembler;
  open: boolean;
}

/** One WebRTC peer connection with its two data channels, flow control and reassembly. */
export class PeerLink extends Emitter<LinkEvents> {
  readonly engineName: Engine["name"];
  private readonly peer: EnginePeer;
  private readonly lanes: Record<Delivery, Lane>;
  private closed = false;
  private isOpen = false;
  private peerState: PeerState = "new";
  private keepalivesReceived = 0;
  private keepalive: Keepalive | undefined;
  private reportTimer: ReturnType<typeof setInterval> | undefined;
  /** Coded links: the report exchange (loss, clock, delivered bytes). */
  private readonly feedback: PathFeedback | undefined;
  /** Coded realtime messages dropped on arrival for being older than their bound. */
  private expiredOnArrival = 0;
  /** When each step of the setup ended. */
  readonly setup = new SetupClock();

  constructor(
    readonly id: string,
    engine: Engine,
    config: PeerConfig,
    private options: LinkOptions,
  ) {
    super();
    this.engineName = engine.name;
    this.feedback = options.coded ? new PathFeedback() : undefined;
    this.peer = engine.createPeer(id, config, {
      signal: (message) => {
        if (message.kind === "description")
          debug("%s local %s %s", this.id, message.type, fingerprint(message.sdp));
        if (!this.closed) this.emit("signal", offerDtlsClient(message));
      },
      stateChange: (state) => this.onState(state),
      iceConnected: () => this.reach("ice"),
      dtlsConnected: () => this.reach("dtls"),
    });
    this.lanes = {
      realtime: this.createLane("realtime", options),
      reliable: this.createLane("reliable", options),
    };
  }

  /** The ICE path goes through a TURN relay (undefined: not known). */
  get viaTurn(): boolean | undefined {
    return this.peer.viaTurn?.();
  }

  get opened(): boolean {
    return this.isOpen;
  }

  get state(): PeerState {
    return this.peerState;
  }

  /** A link made before hello (the client's handshake offer) learns the agreed timeout; it
   * cannot be open yet: the server sends its answer after the hello reply. */
  setTimeoutMs(timeoutMs: number): void {
    this.options = { ...this.options, timeoutMs };
  }

  /** Offerer side: sends the offer through the `signal` event. */
  async start(): Promise<void> {
    await this.peer.startOffer();
  }

  async applyRemote(message: SignalMessage): Promise<void> {
    if (message.kind === "description")
      debug("%s remote %s %s", this.id, message.type, fingerprint(message.sdp));
    if (message.kind === "candidate" && isMdnsCandidate(message.candidate)) return;
    if (this.closed) return;
    await this.peer.applyRemote(message);
    if (message.kind === "description") this.reach("offer-answer");
  }

  send(delivery: Delivery, target: OutboundQueue, message: OutgoingMessage): void {
    if (!this.closed) this.lanes[delivery].sender.enqueue(target, message);
  }

  /** Starts sending a queue that was filled directly while paused. */
  wake(delivery: Delivery, target: OutboundQueue): void {
    if (!this.closed) this.lanes[delivery].sender.wake(target);
  }

  /** Stops feeding a queue (unsubscribe); what the engine already holds still goes out. */
  detach(delivery: Delivery, target: OutboundQueue): void {
    this.lanes[delivery].sender.remove(target);
  }

  forgetStream(delivery: Delivery, streamId: number): void {
    this.lanes[delivery].reassembler.forgetStream(streamId);
  }

  stats(): LinkStats {
    const { realtime, reliable } = this.lanes;
    const lanes = { realtime: laneStats(realtime), reliable: laneStats(reliable) };
    // What the reports say of the path (coded links), and what arrived too old.
    const path = this.feedback && {
      ...this.feedback.stats,
      expiredOnArrival: this.expiredOnArrival,
    };
    const rtpLane = realtime.rtp && rtpLaneStats(realtime.rtp);
    return { lanes, path, keepalivesReceived: this.keepalivesReceived, rtpLane };
  }

  /** The other end's clock minus ours (coded links): for the age of what arrives. */
  setClockOffset(offsetMs: number): void {
    this.feedback?.setClockOffset(offsetMs);
  }

  close(reason = "closed"): void {
    if (this.closed) return;
    this.closed = true;
    this.keepalive?.stop();
    clearInterval(this.reportTimer);
    debug("%s link closed: %s", this.id, reason);
    for (const d of DELIVERIES) this.lanes[d].reassembler.clear();
    this.peer.close();
    this.emit("close", reason);
    this.removeAllListeners();
  }

  private createLane(delivery: Delivery, options: LinkOptions): Lane {
    const feedback = delivery === "realtime" ? this.feedback : undefined;
    const reassembler = new Reassembler(
      {
        maxMessageBytes: options.maxMessageBytes,
        maxPartials: MAX_PARTIAL_MESSAGES,
        maxPartialBytes: options.maxMessageBytes * 2,
        maxAgeMs: MAX_PARTIAL_AGE_MS,
        dropStale: delivery === "realtime",
      },
      Date.now,
      feedback && ((piece) => feedback.firstPieceCame(piece.sentAt + piece.heldMs)),
    );
    const lane = { reassembler, open: false } as Lane;
    const receive = (data: Uint8Array) => {
      this.keepalive?.heard();
      if (isKeepalive(data)) return void this.keepalivesReceived++;
      if (feedback && isReport(data)) return this.takeReport(feedback, data);
      feedback?.received(data.byteLength, data[1] === FRAME_KIND_PIECE);
      const done = reassembler.push(data);
      if (!done || this.closed) return;
      if (done.sentAt === undefined || !feedback) {
        this.emit("message", delivery, done.streamId, done.seq, done.body, undefined);
        return;
      }
      const ageMs = feedback.ageOf(done.sentAt);
      if (ageMs !== undefined && done.maxAgeMs && ageMs > done.maxAgeMs) {
        this.expiredOnArrival++;
        this.emit("expired", done.streamId, done.seq);
        return;
      }
      this.emit("message", delivery, done.streamId, done.seq, done.body, ageMs);
    };
    lane.channel = this.peer.createChannel(channelSpec(this.engineName, delivery), {
      open: () => {
        lane.open = true;
        lane.sender.opened();
        this.reach("sctp");
        this.checkOpen();
      },
      close: () => {
        lane.open = false;
        this.close(`${delivery} channel closed`);
      },
      message: receive,
      bufferedAmountLow: () => lane.sender.drained(),
    });
    if (feedback) lane.rtp = this.peer.createRtpLane?.(receive);
    const realtime = delivery === "realtime";
    lane.sender = new ChannelSender(
      lane.channel,
      MAX_FRAME_BYTES,
      realtime ? REALTIME_HIGH_WATER_BYTES : HIGH_WATER_BYTES,
      realtime ? REALTIME_LOW_WATER_BYTES : LOW_WATER_BYTES,
      (err) => debug("%s send on %s failed: %O", this.id, delivery, err),
      realtime ? REALTIME_STALE_AFTER_MS : undefined,
      feedback,
      lane.rtp,
    );
    return lane;
  }

  private takeReport(feedback: PathFeedback, data: Uint8Array): void {
    try {
      const first = !feedback.heardFromOtherEnd;
      feedback.pacer.keepsPacing = this.lanes.realtime.rtp?.isOpen() === true;
      feedback.onReport(readReport(data));
      this.lanes.realtime.sender.paceChanged();
      // Echoed at once, so the other end learns the round trip (and its start rate) now.
      if (first) sendReport(this.id, this.lanes.realtime, feedback);
      this.peer.setRealtimeRate?.(feedback.pacer.bytesPerSecond, feedback.stats.rttMs);
      this.emit("path", this.stats().path as PathReport);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.lanes.realtime.reassembler.stats.framesInvalid++;
    }
  }

  /** Coded links: a report to the other end every REPORT_INTERVAL_MS, on the realtime lane. */
  private startReports(): void {
    const feedback = this.feedback;
    if (!feedback) return;
    // One at once: its echo gives this end the round trip before data flows.
    sendReport(this.id, this.lanes.realtime, feedback);
    this.reportTimer = setInterval(
      () => sendReport(this.id, this.lanes.realtime, feedback),
      REPORT_INTERVAL_MS,
    );
    (this.reportTimer as { unref?: () => void }).unref?.();
  }

  private checkOpen(): void {
    if (this.isOpen || this.closed) return;
    if (this.lanes.realtime.open && this.lanes.reliable.open) {
      this.isOpen = true;
      this.reach("channels");
      debug("%s link open", this.id);
      const timeoutMs = this.options.timeoutMs;
      if (timeoutMs !== undefined) {
        this.keepalive = new Keepalive(this.id, this.lanes.realtime.channel, timeoutMs, (why) =>
          this.close(why),
        );
      }
      this.startReports();
      this.emit("open");
    }
  }

  private onState(state: PeerState): void {
    if (this.closed) return;
    this.peerState = state;
    debug("%s peer state %s", this.id, state);
    this.emit("state", state);
    if (state === "failed" || state === "closed") this.close(`peer connection ${state}`);
  }

  private reach(phase: LinkPhase): void {
    if (!this.closed && this.setup.reach(phase)) this.emit("phase", phase);
  }
}

function laneStats(lane: Lane): LinkStats["lanes"][Delivery] {
  return { ...lane.reassembler.stats, bufferedAmount: lane.open ? lane.sender.bufferedAmount : 0 };
}

/** A report counts the pieces sent before it: it goes the way they go, behind them (pieces
 * take the RTP lane only while paced). One that overtook them would count them lost: on
 * loopback, where big frames wait in SCTP, that read as heavy loss and paced a clean path. */
function sendReport(id: string, lane: Lane, feedback: PathFeedback): void {
  const { channel, rtp } = lane;
  try {
    const piecesViaRtp = rtp?.isOpen() === true && Number.isFinite(feedback.pacer.bytesPerSecond);
    if (piecesViaRtp) rtp.send(feedback.nextReport());
    else if (channel.isOpen()) channel.send(feedback.nextReport());
    if (!rtp?.isOpen()) rtp?.hello();
  } catch (err) {
    debug("%s report failed: %O", id, err);
  }
}

function rtpLaneStats(rtp: EngineRtpLane): NonNullable<LinkStats["rtpLane"]> {
  return { open: rtp.isOpen(), packetsSent: rtp.packetsSent, packetsReceived: rtp.packetsReceived };
}

function fingerprint(sdp: string): string {
  return /a=fingerprint:\S+ (\S+)/.exec(sdp)?.[1]?.slice(0, 17) ?? "?";
}

/**
 * The offerer asks to be the DTLS client (`a=setup:active`, RFC 8842 §5.3) instead of leaving
 * the choice to the answerer (`actpass`), whose engines all pick active. The answerer's ICE
 * connects first (it has the offer's candidates before the offerer has the answer), so as DTLS
 * client its ClientHello could reach the offerer before the offerer had a DTLS transport to
 * take it, and the handshake then waited for DTLS's 1 s retransmission. As DTLS server the
 * answerer is ready before the offerer's ClientHello can arrive. The offerer's own engine keeps
 * actpass, so it takes whatever role the answer gives it.
 */
function offerDtlsClient(message: SignalMessage): SignalMessage {
  if (message.kind !== "description" || message.type !== "offer") return message;
  return { ...message, sdp: message.sdp.replace(/^a=setup:actpass(?=\r?$)/gm, "a=setup:active") };
}
