import { isIPv4 } from "node:net";
import { type RTCDataChannel, RTCPeerConnection } from "werift";
import { log } from "../log.js";
import {
  CandidateQueue,
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

const debug = log("peer");
/** What werift advertises, and what RFC 8841 says to assume when the SDP is silent. */
const DEFAULT_MAX_MESSAGE_SIZE = 65536;

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** werift: pure TypeScript. Configured so it never falls back to its built-in public STUN server. */
class WeriftPeer implements EnginePeer {
  private readonly pc: RTCPeerConnection;
  private readonly candidates = new CandidateQueue();
  private closed = false;

  constructor(
    private readonly id: string,
    config: PeerConfig,
    private readonly handlers: PeerHandlers,
  ) {
    const bind = config.bindAddress;
    this.pc = new RTCPeerConnection({
      // Passing the list explicitly (even empty) replaces werift's default public STUN server.
      iceServers: config.iceServers.map((s) => ({ ...s })),
      iceTransportPolicy: config.iceTransportPolicy,
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
    this.pc.connectionStateChange.subscribe(guard((state) => handlers.stateChange(state), onError));
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
      maxMessageSize: () => dc.sctp.remoteMaxMessageSize || DEFAULT_MAX_MESSAGE_SIZE,
      bufferedAmount: () => dc.bufferedAmount,
      setBufferedAmountLowThreshold: (bytes) => {
        dc.bufferedAmountLowThreshold = bytes;
      },
      send: (data) => dc.send(asBuffer(data)),
      close: () => dc.close(),
    };
  }

  async startOffer(): Promise<void> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    this.emitLocalDescription("offer");
  }

  async applyRemote(message: SignalMessage): Promise<void> {
    if (this.closed) return;
    if (message.kind === "candidate") {
      if (!this.candidates.hold(message.candidate, message.mid)) {
        await this.pc.addIceCandidate({ candidate: message.candidate, sdpMid: message.mid });
      }
      return;
    }
    await this.pc.setRemoteDescription({ type: message.type, sdp: message.sdp });
    if (message.type === "offer") {
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      this.emitLocalDescription("answer");
    }
    for (const c of this.candidates.release()) {
      await this.pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.mid });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.close().catch((err: unknown) => debug("%s close error: %O", this.id, err));
  }

  private emitLocalDescription(type: "offer" | "answer"): void {
    const sdp = this.pc.localDescription?.sdp;
    if (sdp && !this.closed) this.handlers.signal({ kind: "description", type, sdp });
  }
}

export const weriftEngine: Engine = {
  name: "werift",
  createPeer: (id, config, handlers) => new WeriftPeer(id, config, handlers),
};
