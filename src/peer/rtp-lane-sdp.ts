/** The RTP lane's media section (docs/PROTOCOL.md §5.5): its mid, and a codec of conduit's
 * own, so no media engine mistakes its packets for video. */
export const RTP_LANE_MID = "conduit-rtp";
export const RTP_LANE_PAYLOAD_TYPE = 96;
export const RTP_LANE_CODEC = "conduit";

const SECTION_START = /^(?=m=)/m;

/**
 * An engine without the RTP lane (werift, a browser) takes an offer that has it as if it had
 * not: the section comes out of the offer before the engine sees it (werift refuses an offer
 * whose codecs it cannot match), and goes back into the answer rejected, port 0, in its place,
 * as an answer must have every section the offer has (RFC 8829 §5.3.1).
 */
export class RtpLaneRejection {
  /** Where the offer had the section (undefined: it had none). */
  private index: number | undefined;
  private firstOtherMid: string | undefined;

  /** The offer without the lane's section. */
  takeOffer(sdp: string): string {
    const [session = "", ...sections] = sdp.split(SECTION_START);
    const index = sections.findIndex((section) => midOf(section) === RTP_LANE_MID);
    if (index < 0) return sdp;
    this.index = index;
    sections.splice(index, 1);
    this.firstOtherMid = sections.map(midOf).find((mid) => mid !== undefined);
    const groups = session
      .split(/(?<=\n)/)
      .map((line) => withoutMid(line))
      .filter((line) => line !== undefined)
      .join("");
    return groups + sections.join("");
  }

  /** The engine's answer, with the lane's section put back, rejected. */
  giveAnswer(sdp: string): string {
    if (this.index === undefined) return sdp;
    const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
    const rejected = [
      `m=video 0 UDP/TLS/RTP/SAVPF ${RTP_LANE_PAYLOAD_TYPE}`,
      "c=IN IP4 0.0.0.0",
      `a=mid:${RTP_LANE_MID}`,
      "a=inactive",
      "",
    ].join(eol);
    const [session = "", ...sections] = sdp.split(SECTION_START);
    sections.splice(this.index, 0, rejected);
    return session + sections.join("");
  }

  /** A candidate for the lane's mid is one for the bundle it shared: the section left. */
  candidateMid(mid: string): string {
    return mid === RTP_LANE_MID && this.firstOtherMid !== undefined ? this.firstOtherMid : mid;
  }
}

function midOf(section: string): string | undefined {
  return /^a=mid:(\S+)/m.exec(section)?.[1];
}

/** A session-level line with the lane's mid taken out of any group (undefined: the line
 * named nothing else and goes). */
function withoutMid(line: string): string | undefined {
  const group = /^a=group:(\S+)((?: \S+)*)(\r?\n?)$/.exec(line);
  if (!group) return line;
  const mids = (group[2] ?? "")
    .trim()
    .split(" ")
    .filter((mid) => mid && mid !== RTP_LANE_MID);
  return mids.length ? `a=group:${group[1]} ${mids.join(" ")}${group[3]}` : undefined;
}
