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
  type PeerState,
  type SignalMessage,
} from "./engine.js";
import { isMdnsCandidate, rtcIceServer } from "./ice-servers.js";
import { W3cNegotiation } from "./w3c-negotiation.js";

const debug = log("peer");

/** The browser's native RTCPeerConnection. */
class BrowserPeer implements EnginePeer {
  private readonly pc: RTCPeerConnection;
  private readonly negotiation: W3cNegotiation;
  private closed = false;

  constructor(
    private readonly id: string,
    config: PeerConfig,
    private readonly handlers: PeerHandlers,
  ) {
    this.pc = new RTCPeerConnection({
      iceServers: config.iceServers.map(rtcIceServer),
      iceTransportPolicy: config.iceTransportPolicy,
    });
    this.negotiation = new W3cNegotiation(this.pc, (message) => {
      if (!this.closed) handlers.signal(message);
    });
    const onError = (err: unknown) => debug("%s callback error: %O", id, err);
    this.pc.onicecandidate = guard((event: RTCPeerConnectionIceEvent) => {
      const c = event.candidate;
      // The server is never on the browser's link-local network: an mDNS name only stalls it.
      if (!c?.candidate || isMdnsCandidate(c.candidate)) return;
      handlers.signal({ kind: "candidate", candidate: c.candidate, mid: c.sdpMid ?? "0" });
    }, onError);
    this.pc.oniceconnectionstatechange = guard(() => {
      const state = this.pc.iceConnectionState;
      if (state === "connected" || state === "completed") handlers.iceConnected();
    }, onError);
    this.pc.onconnectionstatechange = guard(() => {
      // W3C: "connected" is ICE and DTLS up (SCTP comes after).
      if (this.pc.connectionState === "connected") handlers.dtlsConnected();
      handlers.stateChange(this.pc.connectionState as PeerState);
    }, onError);
  }

  createChannel(spec: ChannelSpec, handlers: ChannelHandlers): EngineChannel {
    const dc = this.pc.createDataChannel(spec.label, {
      negotiated: true,
      id: spec.id,
      ordered: spec.ordered,
      ...(spec.maxRetransmits === undefined ? {} : { maxRetransmits: spec.maxRetransmits }),
    });
    dc.binaryType = "arraybuffer";
    const onError = (err: unknown) =>
      debug("%s channel %s callback error: %O", this.id, spec.label, err);
    dc.onopen = guard(() => handlers.open(), onError);
    dc.onclose = guard(() => handlers.close(), onError);
    dc.onbufferedamountlow = guard(() => handlers.bufferedAmountLow(), onError);
    dc.onmessage = guard((event: MessageEvent) => {
      if (event.data instanceof ArrayBuffer) handlers.message(new Uint8Array(event.data));
    }, onError);
    return {
      spec,
      isOpen: () => dc.readyState === "open",
      maxMessageSize: () => this.pc.sctp?.maxMessageSize || DEFAULT_PEER_MAX_MESSAGE_BYTES,
      bufferedAmount: () => dc.bufferedAmount,
      setBufferedAmountLowThreshold: (bytes) => {
        dc.bufferedAmountLowThreshold = bytes;
      },
      send: (data) => dc.send(data as Uint8Array<ArrayBuffer>),
      close: () => dc.close(),
    };
  }

  startOffer(): Promise<void> {
    return this.negotiation.startOffer();
  }

  async applyRemote(message: SignalMessage): Promise<void> {
    if (!this.closed) await this.negotiation.applyRemote(message);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.close();
    // The browser fires no state event for a close it was asked to do.
    this.handlers.stateChange("closed");
  }
}

export const browserEngine: Engine = {
  name: "browser",
  createPeer: (id, config, handlers) => new BrowserPeer(id, config, handlers),
};
