import { randomInt } from "node:crypto";
import { writeRtpPacket } from "../wire/rtp.js";
import type { EngineRtpLane } from "./engine.js";
import { RTP_LANE_PAYLOAD_TYPE } from "./rtp-lane-sdp.js";

/** RTP's video clock (90 kHz), for the timestamp field. */
const TICKS_PER_MS = 90;

/**
 * The RTP lane (docs/PROTOCOL.md §5.5), whatever engine carries its packets: a media section
 * of conduit's own codec whose packets carry one piece each, sent as they come (SRTP, no
 * retransmission, no window). It is for sending only once the other end has been heard on
 * it: an answerer that took the section but does not read it (a server older than the lane)
 * never sends, so nothing is sent into it.
 */
export abstract class RtpLane implements EngineRtpLane {
  private heard = false;
  private sequence = randomInt(0x10000);
  readonly ssrc = randomInt(1, 0xffffffff);
  packetsSent = 0;
  packetsReceived = 0;

  constructor(private readonly message: (piece: Uint8Array) => void) {}

  /** The engine's track is open both ways. */
  protected abstract trackOpen(): boolean;
  /** Hands one RTP packet to the engine. */
  protected abstract transmit(packet: Uint8Array): void;

  isOpen(): boolean {
    return this.heard && this.trackOpen();
  }

  send(piece: Uint8Array): void {
    this.sendPacket(piece);
    this.packetsSent++;
  }

  hello(): void {
    if (this.trackOpen()) this.sendPacket(new Uint8Array(0));
  }

  /** A packet's payload, of the lane's payload type, has come. */
  protected received(payload: Uint8Array): void {
    // The first packet heard is answered at once: this end's hello on open may have come
    // before the other end's track was open to take it.
    if (!this.heard) this.hello();
    this.heard = true;
    if (payload.byteLength === 0) return;
    this.packetsReceived++;
    this.message(payload);
  }

  private sendPacket(payload: Uint8Array): void {
    const packet = writeRtpPacket(
      {
        payloadType: RTP_LANE_PAYLOAD_TYPE,
        sequence: this.sequence,
        timestamp: Math.round(performance.now() * TICKS_PER_MS),
        ssrc: this.ssrc,
      },
      payload,
    );
    this.sequence = (this.sequence + 1) & 0xffff;
    this.transmit(packet);
  }
}
