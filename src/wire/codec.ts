import { Packr } from "msgpackr";

// Plain MessagePack only (no msgpackr records), so any MessagePack library can read our bodies.
const packr = new Packr({ useRecords: false, moreTypes: false });

export function encodeBody(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Throws on malformed input; callers count and drop. */
export function decodeBody(body: Uint8Array): unknown {
  return packr.unpack(body);
}
