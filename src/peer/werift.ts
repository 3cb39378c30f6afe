import { isIPv4 } from "node:net";
import type { RTCDataChannel } from "werift";
import * as werift from "werift";
import { DEFAULT_PEER_MAX_MESSAGE_BYTES } from "../core/defaults.js";
import { log } from "../util/log.js";
import {
  type ChannelHandlers,
  type ChannelSpec,
  type Engine,
  type EngineChannel,
  type EnginePeer,
  guard,
  type PeerConfig,
  type PeerHandlers,
  type SignalMessage,
} from "./engine.js";
import { rtcIceServer } from "./ice-servers.js";
import { W3cNegotiation } from "./w3c-negotiation.js";
import { applyWeriftFixes } from "./werift-fixes.js";
import { rtpLaneCodec, WeriftRtpLane } from "./werift-rtp-lane.js";
import { holdWindowFloor } from "./werift-window.js";

applyWeriftFixes(werift);

const debug = log("peer");

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** werift: pure TypeScript. Configured so it never falls back to its built-in public STUN server. */
class WeriftPeer implements EnginePeer {
  private readonly pc: werift.RTCPeerConnection;
  private readonly negotiation: W3cNegotiation;
  private closed = false;
  private readonly watchedDtls = new WeakSet<object>();
  private rtpLane: WeriftRtpLane | undefined;

  constructor(
    private readonly id: string,
    config: PeerConfig,
    private readonly handlers: PeerHandlers,
  ) {
    const bind = config.bindAddress;
    this.pc = new werift.RTCPeerConnection({
      // Passing the list explicitly (even empty) replaces werift's default public STUN server.
      iceServers: config.iceServers.map(rtcIceServer),
      iceTransportPolicy: config.iceTransportPolicy,
      // The RTP lane's codec, and no other: conduit carries no audio or video of its own.
      codecs: { audio: [], video: [rtpLaneCodec(werift)] },
      // One transport for the lane and the channels. Unbundled, werift gathered one per
      // section, and the one the bundle left out was never closed (its socket kept the
      // process alive).
      bundlePolicy: "max-bundle",
      ...(bind
        ? {
            iceInterfaceAddresses: isIPv4(bind) ? { udp4: bind } : { udp6: bind },
            // werift skips loopback addresses unless they are listed here.
            iceAdditionalHostAddresses: [bind],
            iceUseIpv6: !isIPv4(bind),
            iceUseIpv4: isIPv4(bind),
          }
        : {}),
    });
    this.negotiation = new W3cNegotiation(this.pc, (message) => {
      if (!this.closed) handlers.signal(message);
    });
    const onError = (err: unknown) => debug("%s callback error: %O", id, err);
    this.pc.onIceCandidate.subscribe(
      guard((candidate) => {
        if (!candidate?.candidate) return;
        handlers.signal({
          kind: "candidate",
          candidate: candidate.candidate,
          mid: candidate.sdpMid ?? "0",
        });
      }, onError),
    );
    this.pc.iceConnectionStateChange.subscribe(
      guard((state) => {
        if (state === "connected" || state === "completed") handlers.iceConnected();
      }, onError),
    );
    this.pc.connectionStateChange.subscribe(guard((state) => handlers.stateChange(state), onError));
    // Answerer: the offer's RTP lane (left receive-only and unread when no lane was created).
    this.pc.onTransceiverAdded.subscribe(
      guard((transceiver: werift.RTCRtpTransceiver) => this.rtpLane?.attach(transceiver), onError),
    );
  }

  createRtpLane(message: (piece: Uint8Array) => void): WeriftRtpLane {
    const dtlsConnected = () => this.pc.dtlsTransports.some((dtls) => dtls.state === "connected");
    this.rtpLane = new WeriftRtpLane(this.id, dtlsConnected, message);
    return this.rtpLane;
  }

  /** werift's "connected" comes once SCTP is up too: DTLS is watched on its transports. */
  private watchDtls(): void {
    for (const dtls of this.pc.dtlsTransports) {
      if (this.watchedDtls.has(dtls)) continue;
      this.watchedDtls.add(dtls);
      dtls.onStateChange.subscribe(
        guard(
          (state) => {
            if (state === "connected") this.handlers.dtlsConnected();
          },
          (err) => debug("%s callback error: %O", this.id, err),
        ),
      );
    }
  }

  createChannel(spec: ChannelSpec, handlers: ChannelHandlers): EngineChannel {
    const dc: RTCDataChannel = this.pc.createDataChannel(spec.label, {
      negotiated: true,
      id: spec.id,
      ordered: spec.ordered,
      ...(spec.maxRetransmits === undefined ? {} : { maxRetransmits: spec.maxRetransmits }),
    });
    const onError = (err: unknown) =>
      debug("%s channel %s callback error: %O", this.id, spec.label, err);
    dc.stateChanged.subscribe(
      guard((state) => {
        if (state === "open") handlers.open();
        else if (state === "closed") handlers.close();
      }, onError),
    );
    dc.onMessage.subscribe(
      guard((msg: string | Buffer) => {
        if (typeof msg !== "string") handlers.message(msg);
      }, onError),
    );
    dc.bufferedAmountLow.subscribe(guard(() => handlers.bufferedAmountLow(), onError));
    return {
      spec,
      isOpen: () => dc.readyState === "open",
      maxMessageSize: () => dc.sctp.remoteMaxMessageSize || DEFAULT_PEER_MAX_MESSAGE_BYTES,
      bufferedAmount: () => dc.bufferedAmount,
      setBufferedAmountLowThreshold: (bytes) => {
        dc.bufferedAmountLowThreshold = bytes;
      },
      send: (data) => dc.send(asBuffer(data)),
      close: () => dc.close(),
    };
  }

  startOffer(): Promise<void> {
    this.rtpLane?.addTo(this.pc);
    return this.negotiation.startOffer();
  }

  setRealtimeRate(bytesPerSecond: number, roundTripMs: number | undefined): void {
    const association = this.pc.sctpTransport?.sctp;
    if (association && !this.closed) holdWindowFloor(association, bytesPerSecond, roundTripMs);
  }

  async applyRemote(message: SignalMessage): Promise<void> {
    if (this.closed) return;
    await this.negotiation.applyRemote(message);
    if (message.kind === "description") this.watchDtls();
  }

  viaTurn(): boolean | undefined {
    const pair = this.pc.iceTransports[0]?.connection.nominated;
    return pair
      ? pair.localCandidate.type === "relay" || pair.remoteCandidate.type === "relay"
      : undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.close().catch((err: unknown) => debug("%s close error: %O", this.id, err));
  }
}

export const weriftEngine: Engine = {
  name: "werift",
  createPeer: (id, config, handlers) => new WeriftPeer(id, config, handlers),
};
