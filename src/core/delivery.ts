/** How a stream carries its messages: unordered and fresh, or every one in order. */
export type Delivery = "realtime" | "reliable";
export const DELIVERIES: readonly Delivery[] = ["realtime", "reliable"];

/** True when serial number `a` comes after `b` (RFC 1982 arithmetic on u32). */
export function seqAfter(a: number, b: number): boolean {
  return a !== b && (a - b) >>> 0 < 0x80000000;
}

/** A stream as `list` describes it. */
export interface StreamSummary {
  name: string;
  owner: string;
  delivery: Delivery;
  subscribers: number;
  messageCount: number;
  bytesSent: number;
  dropped: number;
  bufferSize: number;
  active: boolean;
}
