import nodeDataChannel from "node-datachannel";
import { log } from "../util/log.js";
import { rtpPayload } from "../wire/rtp.js";
import { guard } from "./engine.js";
import { RtpLane } from "./rtp-lane.js";
import { RTP_LANE_CODEC, RTP_LANE_MID, RTP_LANE_PAYLOAD_TYPE } from "./rtp-lane-sdp.js";

const debug = log("peer");

/** The RTP lane on libdatachannel, which sends a track's packets as they come. */
export class NdcRtpLane extends RtpLane {
  private track: nodeDataChannel.Track | undefined;

  constructor(
    private readonly peerId: string,
    message: (piece: Uint8Array) => void,
  ) {
    super(message);
  }

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
    track.onMessage(
      guard((packet: Buffer) => {
        const payload = rtpPayload(packet, RTP_LANE_PAYLOAD_TYPE);
        if (payload) this.received(payload);
      }, onError),
    );
  }

  protected trackOpen(): boolean {
    return this.track?.isOpen() === true;
  }

  protected transmit(packet: Uint8Array): void {
    this.track?.sendMessageBinary(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
  }
}
