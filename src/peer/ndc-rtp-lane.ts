import { randomInt } from "node:crypto";
import nodeDataChannel from "node-datachannel";
import { log } from "../util/log.js";
import { rtpPayload, writeRtpPacket } from "../wire/rtp.js";
import { type EngineRtpLane, guard } from "./engine.js";
import { RTP_LANE_CODEC, RTP_LANE_MID, RTP_LANE_PAYLOAD_TYPE } from "./rtp-lane-sdp.js";

const debug = log("peer");

/** RTP's video clock (90 kHz), for the timestamp field. */
const TICKS_PER_MS = 90;

/**
 * The RTP lane on libdatachannel: a media section of conduit's own codec whose packets carry
 * one piece each (docs/PROTOCOL.md §5.5). libdatachannel sends a track's packets as they
 * come (SRTP, no retransmission, no window). The lane is for sending only once the other end
 * has been heard on it: an answerer that took the section but does not read it (a server
 * older than the lane) never sends, so nothing is sent into it.
 */
export class NdcRtpLane implements EngineRtpLane {
  private track: nodeDataChannel.Track | undefined;
  private heard = false;
  private sequence = randomInt(0x10000);
  private readonly ssrc = randomInt(1, 0xffffffff);
  packetsSent = 0;
  packetsReceived = 0;

  constructor(
    private readonly peerId: string,
    private readonly message: (piece: Uint8Array) => void,
  ) {}

  /** Offerer: the section that goes in the offer. */
  section(): nodeDataChannel.Video {
    const video = new nodeDataChannel.Video(RTP_LANE_MID, "SendRecv");
    video.addVideoCodec(RTP_LANE_PAYLOAD_TYPE, RTP_LANE_CODEC);
    video.addSSRC(this.ssrc, "conduit");
    return video;
  }

  /** The lane's track: the offerer's own, or the answerer's from the offer (the peer owns
   * it and closes it). */
  attach(track: nodeDataChannel.Track): void {
    this.track = track;
    const onError = (err: unknown) => debug("%s RTP lane callback error: %O", this.peerId, err);
    // On open and with every report (either may be lost): see `hello`.
    track.onOpen(guard(() => this.hello(), onError));
    track.onMessage(guard((packet: Buffer) => this.receive(packet), onError));
  }

  isOpen(): boolean {
    return this.heard && this.track?.isOpen() === true;
  }

  send(piece: Uint8Array): void {
    this.sendPacket(piece);
    this.packetsSent++;
  }

  hello(): void {
    if (this.track?.isOpen()) this.sendPacket(new Uint8Array(0));
  }

  private sendPacket(payload: Uint8Array): void {
    const track = this.track;
    if (!track) return;
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
    track.sendMessageBinary(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
  }

  private receive(packet: Buffer): void {
    const payload = rtpPayload(packet, RTP_LANE_PAYLOAD_TYPE);
    if (!payload) return;
    // The first packet heard is answered at once: this end's hello on open may have come
    // before the other end's track was open to take it.
    if (!this.heard) this.hello();
    this.heard = true;
    if (payload.byteLength === 0) return;
    this.packetsReceived++;
    this.message(payload);
  }
}
