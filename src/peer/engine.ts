/**
 * The one interface conduit talks to WebRTC through. Adapters: node-datachannel,
 * werift (Node) and the browser's RTCPeerConnection. Every callback an adapter
 * invokes is already guarded: an exception in conduit code never reaches native code.
 */

import { MAX_HELD_CANDIDATES } from "../core/defaults.js";

export type EngineName = "node-datachannel" | "werift" | "browser";

export interface IceServer {
  urls: string | string[];
  username?: string | undefined;
  credential?: string | undefined;
}

export interface PeerConfig {
  /** Empty: host candidates only; no STUN server is ever contacted by default. */
  iceServers: IceServer[];
  /** Gather host candidates on this local address only (e.g. "127.0.0.1"). */
  bindAddress?: string | undefined;
  iceTransportPolicy: "all" | "relay";
}

export type SignalMessage =
  | { kind: "description"; type: "offer" | "answer"; sdp: string }
  | { kind: "candidate"; candidate: string; mid: string };

/** A candidate in its one wire form, "candidate:…" (the W3C form): libdatachannel gives the
 * SDP line, "a=candidate:…", and either is accepted from the other end. */
export function candidateAttribute(candidate: string): string {
  return candidate.startsWith("a=") ? candidate.slice(2) : candidate;
}

export type PeerState = "new" | "connecting" | "connected" | "disconnected" | "failed" | "closed";

export interface PeerHandlers {
  signal(message: SignalMessage): void;
  stateChange(state: PeerState): void;
  /** ICE found a working candidate pair (each time it does: a caller keeps the first). */
  iceConnected(): void;
  /** The DTLS handshake finished. Not called by node-datachannel, which does not tell it
   * apart: its "connected" state comes once SCTP is up too. */
  dtlsConnected(): void;
}

export interface ChannelSpec {
  label: string;
  /** Negotiated out of band: both sides create the channel with this id. */
  id: number;
  ordered: boolean;
  /** Set for partially reliable channels; 0 = never retransmit. */
  maxRetransmits?: number;
  /** Partial reliability by lifetime instead: retransmit for at most this many ms. */
  maxPacketLifeTime?: number;
}

export interface ChannelHandlers {
  open(): void;
  close(): void;
  message(data: Uint8Array): void;
  bufferedAmountLow(): void;
}

export interface EngineChannel {
  readonly spec: ChannelSpec;
  isOpen(): boolean;
  /** Largest message the remote accepts; known once open. */
  maxMessageSize(): number;
  bufferedAmount(): number;
  setBufferedAmountLowThreshold(bytes: number): void;
  send(data: Uint8Array): void;
  close(): void;
}

/** Coded realtime pieces as RTP packets beside the data channels (docs/PROTOCOL.md §5.5):
 * never retransmitted and held by no congestion window, so conduit's pacer is their only rate
 * control. Open only when both ends' engines carry it. */
export interface EngineRtpLane {
  isOpen(): boolean;
  /** One piece frame (or report), one packet. */
  send(piece: Uint8Array): void;
  /** An empty packet: the other end sends on the lane only once it has heard this end on it
   * (an answerer older than the lane takes the section but never reads it). */
  hello(): void;
  readonly packetsSent: number;
  readonly packetsReceived: number;
}

export interface EnginePeer {
  /** Negotiated channels: create them all before `startOffer()` / the remote offer. */
  createChannel(spec: ChannelSpec, handlers: ChannelHandlers): EngineChannel;
  /** The RTP lane, where the engine has one: create it before `startOffer()` / the remote
   * offer. `message` gets each piece that arrives on it. */
  createRtpLane?(message: (piece: Uint8Array) => void): EngineRtpLane;
  /** Offerer only: emits the offer (and candidates) through `signal`. */
  startOffer(): Promise<void>;
  /** Applies a remote description or candidate; answers an offer. Candidates that arrive
   * before the remote description are held until it is set. */
  applyRemote(message: SignalMessage): Promise<void>;
  /** The rate conduit's realtime pacer has found the path carries without a queue (Infinity:
   * not pacing), and the round trip: an engine whose congestion control can use them does. */
  setRealtimeRate?(bytesPerSecond: number, roundTripMs: number | undefined): void;
  /** Whether the ICE candidate pair in use goes through a TURN relay (undefined: none is
   * chosen yet, or the engine does not say). */
  viaTurn?(): boolean | undefined;
  close(): void;
}

export interface Engine {
  readonly name: EngineName | "relay";
  /** Its DTLS sends a lost handshake flight again only after 1 s (OpenSSL's first
   * retransmission timeout): a setup that stalls after ICE is sooner started again. */
  readonly slowDtlsRetransmit?: boolean;
  createPeer(id: string, config: PeerConfig, handlers: PeerHandlers): EnginePeer;
}

/** Runs a callback so that any exception is routed to `onError` instead of escaping. */
export function guard<A extends unknown[]>(
  fn: (...args: A) => void,
  onError: (err: unknown) => void,
): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch (err) {
      try {
        onError(err);
      } catch {
        // an error handler that throws must still not reach native code
      }
    }
  };
}

/** Holds remote candidates until the remote description is set. */
export class CandidateQueue {
  private held: { candidate: string; mid: string }[] | undefined = [];

  /** Returns true if held (no remote description yet). */
  hold(candidate: string, mid: string): boolean {
    if (!this.held) return false;
    if (this.held.length < MAX_HELD_CANDIDATES) this.held.push({ candidate, mid });
    return true;
  }

  /** Called once the remote description is set; returns what was held. */
  release(): { candidate: string; mid: string }[] {
    const held = this.held ?? [];
    this.held = undefined;
    return held;
  }
}
