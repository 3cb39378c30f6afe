/** The RTP lane's media section (docs/PROTOCOL.md §5.5): its mid, and a codec of conduit's
 * own, so no media engine mistakes its packets for video. */
export const RTP_LANE_MID = "conduit-rtp";
export const RTP_LANE_PAYLOAD_TYPE = 96;
export const RTP_LANE_CODEC = "conduit";

const SECTION_START = /^(?=m=)/m;

/** libdatachannel answers the lane's section without the SSRC it sends with; werift routes
 * RTP by the SSRCs the description names, so the answer names it. */
export function withLaneSsrc(sdp: string, ssrc: number): string {
  const [session = "", ...sections] = sdp.split(SECTION_START);
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  const named = sections.map((section) =>
    midOf(section) === RTP_LANE_MID && !/^a=ssrc:/m.test(section)
      ? section.replace(/^(a=mid:.*\r?\n)/m, `$1a=ssrc:${ssrc} cname:conduit${eol}`)
      : section,
  );
  return session + named.join("");
}

function midOf(section: string): string | undefined {
  return /^a=mid:(\S+)/m.exec(section)?.[1];
}
