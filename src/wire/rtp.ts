/** RTP packets (RFC 3550 §5.1) as the RTP lane uses them: a 12-byte header, then one piece. */

const HEADER_BYTES = 12;

export interface RtpHeader {
  payloadType: number;
  sequence: number;
  /** In the payload type's clock; wraps at 2^32. */
  timestamp: number;
  ssrc: number;
}

export function writeRtpPacket(header: RtpHeader, payload: Uint8Array): Uint8Array {
  const packet = new Uint8Array(HEADER_BYTES + payload.byteLength);
  const view = new DataView(packet.buffer);
  packet[0] = 0x80; // version 2, no padding, extension or CSRCs
  packet[1] = header.payloadType & 0x7f;
  view.setUint16(2, header.sequence & 0xffff);
  view.setUint32(4, header.timestamp >>> 0);
  view.setUint32(8, header.ssrc >>> 0);
  packet.set(payload, HEADER_BYTES);
  return packet;
}

/** The payload of a version-2 RTP packet of `payloadType`, past any CSRCs, extension and
 * padding; undefined for anything else (RTCP, another payload type, a packet too short for
 * what its header says it holds). */
export function rtpPayload(packet: Uint8Array, payloadType: number): Uint8Array | undefined {
  if (packet.byteLength < HEADER_BYTES) return undefined;
  const first = packet[0] as number;
  if (first >> 6 !== 2 || ((packet[1] as number) & 0x7f) !== payloadType) return undefined;
  let start = HEADER_BYTES + 4 * (first & 0x0f);
  if (first & 0x10) {
    if (packet.byteLength < start + 4) return undefined;
    const words = ((packet[start + 2] as number) << 8) | (packet[start + 3] as number);
    start += 4 + 4 * words;
  }
  let end = packet.byteLength;
  if (first & 0x20) end -= packet[end - 1] as number;
  return start <= end ? packet.subarray(start, end) : undefined;
}
