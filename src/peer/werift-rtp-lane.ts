import type * as werift from "werift";
import { log } from "../util/log.js";
import { guard } from "./engine.js";
import { RtpLane } from "./rtp-lane.js";
import { RTP_LANE_CODEC, RTP_LANE_MID, RTP_LANE_PAYLOAD_TYPE } from "./rtp-lane-sdp.js";

const debug = log("peer");

/** What werift's RTCPeerConnection needs in its `codecs` to take the lane's section. */
export function rtpLaneCodec(w: typeof werift): werift.RTCRtpCodecParameters {
  return new w.RTCRtpCodecParameters({
    mimeType: `video/${RTP_LANE_CODEC}`,
    clockRate: 90_000,
    payloadType: RTP_LANE_PAYLOAD_TYPE,
  });
}

/** The RTP lane on werift: its RTP sender sends what it is given, with no window. */
export class WeriftRtpLane extends RtpLane {
  private transceiver: werift.RTCRtpTransceiver | undefined;

  constructor(
    private readonly peerId: string,
    private readonly dtlsConnected: () => boolean,
    message: (piece: Uint8Array) => void,
  ) {
    super(message);
  }

  /** Offerer: the section goes in the offer, under the lane's mid. */
  addTo(pc: werift.RTCPeerConnection): void {
    if (this.transceiver) return;
    const transceiver = pc.addTransceiver("video", { direction: "sendrecv" });
    transceiver.mid = RTP_LANE_MID;
    this.attach(transceiver);
  }

  /** The lane's transceiver: the offerer's own, or the answerer's from the offer (werift
   * makes it receive-only unless told). */
  attach(transceiver: werift.RTCRtpTransceiver): void {
    if (this.transceiver) return;
    this.transceiver = transceiver;
    transceiver.setDirection("sendrecv");
    const onError = (err: unknown) => debug("%s RTP lane callback error: %O", this.peerId, err);
    transceiver.onTrack.subscribe(
      guard((track: werift.MediaStreamTrack) => {
        track.onReceiveRtp.subscribe(
          guard((rtp: werift.RtpPacket) => {
            if (rtp.header.payloadType === RTP_LANE_PAYLOAD_TYPE) this.received(rtp.payload);
          }, onError),
        );
      }, onError),
    );
  }

  protected trackOpen(): boolean {
    return this.transceiver !== undefined && this.dtlsConnected();
  }

  protected transmit(packet: Uint8Array): void {
    const buffer = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    this.transceiver?.sender
      .sendRtp(buffer)
      .catch((err: unknown) => debug("%s RTP lane send: %O", this.peerId, err));
  }
}
