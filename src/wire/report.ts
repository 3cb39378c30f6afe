import { FRAME_VERSION, FrameError } from "./frame.js";

/**
 * A path report (protocol 3, docs/PROTOCOL.md §5.4), sent by each end of a coded link on the
 * realtime lane every REPORT_INTERVAL_MS. 36 bytes, big-endian:
 *
 *   0  u8  version (1)       8  u32 echo: sent-at of the last report received (0xffffffff: none)
 *   1  u8  kind (4)          12 u32 ms since that report was received
 *   2  u16 piece loss, ‰     16 u32 realtime bytes received since the previous report
 *          (0xffff: unknown) 20 u32 ms since the previous report
 *   4  u32 sent at (the      24 u16 queueing delay: the longest one-way delay of a message
 *          reporter's clock,        since the previous report, less the shortest seen in
 *          ms mod 2^32)             the last 10 s (0xffff: no message)
 *                            26 u16 reserved (0)
 *                            28 u32 coded pieces the reporter has sent, in all (mod 2^32)
 *                            32 u32 the packets they filled: ⌈frame bytes / 1056⌉ each
 *
 * The loss field is measured between two reports from the other end: the pieces that came
 * against the growth of its piece count (its report follows them on the lane), turned into
 * a packet loss rate with the packets per piece (a piece is lost if any of its packets is).
 */
export const FRAME_KIND_REPORT = 4;
export const REPORT_BYTES = 36;
const NONE_16 = 0xffff;
const NONE_32 = 0xffffffff;

export interface Report {
  /** Share of pieces lost (0..1), or undefined when no coded message settled. */
  loss: number | undefined;
  sentAt: number;
  echo: { sentAt: number; heldMs: number } | undefined;
  bytesReceived: number;
  intervalMs: number;
  /** How much longer than its shortest the path's delay was lately (ms), if measured. */
  queueDelayMs: number | undefined;
  piecesSent: number;
  packetsSent: number;
}

export function isReport(data: Uint8Array): boolean {
  return data[0] === FRAME_VERSION && data[1] === FRAME_KIND_REPORT;
}

export function writeReport(r: Report): Uint8Array {
  const frame = new Uint8Array(REPORT_BYTES);
  const view = new DataView(frame.buffer);
  view.setUint8(0, FRAME_VERSION);
  view.setUint8(1, FRAME_KIND_REPORT);
  view.setUint16(2, r.loss === undefined ? NONE_16 : Math.min(1000, Math.round(r.loss * 1000)));
  view.setUint32(4, r.sentAt >>> 0);
  view.setUint32(8, r.echo ? r.echo.sentAt >>> 0 : NONE_32);
  view.setUint32(12, r.echo ? Math.min(NONE_32 - 1, r.echo.heldMs) : NONE_32);
  view.setUint32(16, Math.min(NONE_32, r.bytesReceived));
  view.setUint32(20, Math.min(NONE_32, r.intervalMs));
  view.setUint16(
    24,
    r.queueDelayMs === undefined ? NONE_16 : Math.min(NONE_16 - 1, r.queueDelayMs),
  );
  view.setUint32(28, r.piecesSent >>> 0);
  view.setUint32(32, r.packetsSent >>> 0);
  return frame;
}

export function readReport(data: Uint8Array): Report {
  if (data.byteLength !== REPORT_BYTES) throw new FrameError("report of the wrong size");
  const view = new DataView(data.buffer, data.byteOffset, REPORT_BYTES);
  const loss = view.getUint16(2);
  if (loss !== NONE_16 && loss > 1000) throw new FrameError("report loss over 1000 ‰");
  const heldMs = view.getUint32(12);
  const queueDelayMs = view.getUint16(24);
  return {
    loss: loss === NONE_16 ? undefined : loss / 1000,
    sentAt: view.getUint32(4),
    echo: heldMs === NONE_32 ? undefined : { sentAt: view.getUint32(8), heldMs },
    bytesReceived: view.getUint32(16),
    intervalMs: view.getUint32(20),
    queueDelayMs: queueDelayMs === NONE_16 ? undefined : queueDelayMs,
    piecesSent: view.getUint32(28),
    packetsSent: view.getUint32(32),
  };
}
