import nodeDataChannel from "node-datachannel";
import { SCTP_RECEIVE_BUFFER_BYTES } from "../core/defaults.js";
import { log } from "../util/log.js";
import {
  CandidateQueue,
  type ChannelHandlers,
  type ChannelSpec,
  candidateAttribute,
  type Engine,
  type EngineChannel,
  type EnginePeer,
  guard,
  type PeerConfig,
  type PeerHandlers,
  type PeerState,
  type SignalMessage,
} from "./engine.js";
import { iceUrls, parseIceUrl } from "./ice-servers.js";
import { NdcRtpLane } from "./ndc-rtp-lane.js";
import { RTP_LANE_MID, withLaneSsrc } from "./rtp-lane-sdp.js";

const debug = log("peer");

// libdatachannel's own log, through `debug` (conduit:ndc): CONDUIT_NDC_LOG=Debug|Info|Warning|Error
const ndcLevel = process.env.CONDUIT_NDC_LOG as nodeDataChannel.LogLevel | undefined;
if (ndcLevel) {
  const ndcDebug = log("ndc");
  nodeDataChannel.initLogger(ndcLevel, (level, message) => ndcDebug("%s %s", level, message));
}
// The receive buffer is the window a peer offers: at 50 ms round trip (the impaired link, no
// loss) the default let reliable bulk carry 10–14 MB/s, run to run; 2 MiB, 17.0–17.3 MB/s in
// three 10 s runs. The send buffer stays as it is: a larger one is a queue conduit cannot see
// (2 MiB made the realtime capacity advice overshoot on a lossy path, and bulk unsteady,
// 9.5–27 MB/s). Process-wide: set before any peer exists.
nodeDataChannel.setSctpSettings({ recvBufferSize: SCTP_RECEIVE_BUFFER_BYTES });
const PEER_STATES = new Set<string>([
  "new",
  "connecting",
  "connected",
  "disconnected",
  "failed",
  "closed",
]);

function toNdcIceServers(config: PeerConfig): (string | nodeDataChannel.IceServer)[] {
  const out: nodeDataChannel.IceServer[] = [];
  for (const server of config.iceServers) {
    for (const url of iceUrls(server)) {
      const parsed = parseIceUrl(url);
      const entry: nodeDataChannel.IceServer = { hostname: parsed.host, port: parsed.port };
      if (parsed.scheme === "turn" || parsed.scheme === "turns") {
        if (server.username !== undefined) entry.username = server.username;
        if (server.credential !== undefined) entry.password = server.credential;
        entry.relayType =
          parsed.scheme === "turns"
            ? "TurnTls"
            : parsed.transport === "tcp"
              ? "TurnTcp"
              : "TurnUdp";
      }
      out.push(entry);
    }
  }
  return out;
}

/**
 * libdatachannel through node-datachannel. A JS exception inside any of its callbacks
 * aborts the process, so every callback is wrapped with `guard`.
 */
class NdcPeer implements EnginePeer {
  private readonly pc: nodeDataChannel.PeerConnection;
  private readonly candidates = new CandidateQueue();
  private closed = false;
  private readonly channels: nodeDataChannel.DataChannel[] = [];
  private readonly tracks: nodeDataChannel.Track[] = [];
  private rtpLane: NdcRtpLane | undefined;

  constructor(
    private readonly id: string,
    config: PeerConfig,
    handlers: PeerHandlers,
  ) {
    this.pc = new nodeDataChannel.PeerConnection(id, {
      iceServers: toNdcIceServers(config),
      iceTransportPolicy: config.iceTransportPolicy,
      disableAutoNegotiation: true,
      ...(config.bindAddress ? { bindAddress: config.bindAddress } : {}),
    });
    const onError = (err: unknown) => debug("%s callback error: %O", id, err);
    this.pc.onLocalDescription(
      guard((sdp: string, type: string) => {
        if (type === "offer") handlers.signal({ kind: "description", type, sdp });
        if (type === "answer") {
          const answer = this.rtpLane ? withLaneSsrc(sdp, this.rtpLane.ssrc) : sdp;
          handlers.signal({ kind: "description", type, sdp: answer });
        }
      }, onError),
    );
    this.pc.onLocalCandidate(
      guard((candidate: string, mid: string) => {
        handlers.signal({ kind: "candidate", candidate: candidateAttribute(candidate), mid });
      }, onError),
    );
    this.pc.onIceStateChange(
      guard((state: string) => {
        if (state === "connected" || state === "completed") handlers.iceConnected();
      }, onError),
    );
    this.pc.onStateChange(
      guard((state: string) => {
        if (PEER_STATES.has(state)) handlers.stateChange(state as PeerState);
      }, onError),
    );
    // Answerer: the offer's RTP lane (the section stays, unread, when no lane was created).
    this.pc.onTrack(
      guard((track: nodeDataChannel.Track) => {
        this.hold(track);
        if (this.closed) this.closeTracks();
        else if (track.mid() === RTP_LANE_MID) this.rtpLane?.attach(track);
      }, onError),
    );
  }

  createRtpLane(message: (piece: Uint8Array) => void): NdcRtpLane {
    this.rtpLane = new NdcRtpLane(this.id, message);
    return this.rtpLane;
  }

  /** node-datachannel keeps the process alive for a track until it is closed from JS *and*
   * its `onClosed` has fired into a JS callback (the wrapper releases its callbacks only
   * then): every track gets one, and is closed with the peer. */
  private hold(track: nodeDataChannel.Track): nodeDataChannel.Track {
    track.onClosed(() => {});
    this.tracks.push(track);
    return track;
  }

  private closeTracks(): void {
    for (const track of this.tracks.splice(0)) {
      try {
        track.close();
      } catch (err) {
        debug("%s track close: %O", this.id, err);
      }
    }
  }

  createChannel(spec: ChannelSpec, handlers: ChannelHandlers): EngineChannel {
    const dc = this.pc.createDataChannel(spec.label, {
      negotiated: true,
      id: spec.id,
      unordered: !spec.ordered,
      ...(spec.maxRetransmits === undefined ? {} : { maxRetransmits: spec.maxRetransmits }),
      ...(spec.maxPacketLifeTime === undefined
        ? {}
        : { maxPacketLifeTime: spec.maxPacketLifeTime }),
    });
    this.channels.push(dc);
    const onError = (err: unknown) =>
      debug("%s channel %s callback error: %O", this.id, spec.label, err);
    dc.onOpen(guard(() => handlers.open(), onError));
    dc.onClosed(guard(() => handlers.close(), onError));
    dc.onError(
      guard((err: string) => debug("%s channel %s error: %s", this.id, spec.label, err), onError),
    );
    dc.onBufferedAmountLow(guard(() => handlers.bufferedAmountLow(), onError));
    dc.onMessage(
      guard((msg: string | Buffer | ArrayBuffer) => {
        if (typeof msg === "string") return; // text messages are not part of the protocol
        handlers.message(msg instanceof ArrayBuffer ? new Uint8Array(msg) : msg);
      }, onError),
    );
    return {
      spec,
      isOpen: () => dc.isOpen(),
      maxMessageSize: () => dc.maxMessageSize(),
      bufferedAmount: () => dc.bufferedAmount(),
      setBufferedAmountLowThreshold: (bytes) => dc.setBufferedAmountLowThreshold(bytes),
      send: (data) => {
        dc.sendMessageBinary(data);
      },
      close: () => dc.close(),
    };
  }

  async startOffer(): Promise<void> {
    const lane = this.rtpLane;
    if (lane && this.tracks.length === 0) lane.attach(this.hold(this.pc.addTrack(lane.section())));
    this.pc.setLocalDescription("offer");
  }

  async applyRemote(message: SignalMessage): Promise<void> {
    if (this.closed) return;
    if (message.kind === "candidate") {
      if (!this.candidates.hold(message.candidate, message.mid)) {
        this.pc.addRemoteCandidate(message.candidate, message.mid);
      }
      return;
    }
    this.pc.setRemoteDescription(message.sdp, message.type);
    if (message.type === "offer") this.pc.setLocalDescription("answer");
    for (const c of this.candidates.release()) this.pc.addRemoteCandidate(c.candidate, c.mid);
  }

  viaTurn(): boolean | undefined {
    if (this.closed) return undefined;
    const pair = this.pc.getSelectedCandidatePair();
    return pair ? pair.local.type === "relay" || pair.remote.type === "relay" : undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeTracks();
    // Each channel first: a channel left to the peer's close kept its callbacks (and so the
    // process) alive now and then (node-datachannel; seen as a process that would not exit).
    for (const dc of this.channels) {
      try {
        dc.close();
      } catch (err) {
        debug("%s channel close: %O", this.id, err);
      }
    }
    this.pc.close();
  }
}

export const nodeDataChannelEngine: Engine = {
  name: "node-datachannel",
  slowDtlsRetransmit: true,
  createPeer: (id, config, handlers) => new NdcPeer(id, config, handlers),
};
