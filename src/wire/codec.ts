import { Packr } from "msgpackr";
import { InvalidArgumentError } from "../errors.js";

// Plain MessagePack only (no msgpackr records or private extensions), so any MessagePack
// library can read our bodies; undefined becomes nil.
const packr = new Packr({ useRecords: false, moreTypes: false, encodeUndefinedAsNil: true });

/** Throws InvalidArgumentError for a value MessagePack cannot hold (e.g. a BigInt over 64 bits). */
export function encodeBody(value: unknown): Uint8Array {
  try {
    return packr.pack(value);
  } catch (err) {
    throw new InvalidArgumentError(
      `data cannot be encoded as MessagePack: ${(err as Error).message}`,
    );
  }
}

/** Throws on malformed input; callers count and drop. */
export function decodeBody(body: Uint8Array): unknown {
  return packr.unpack(body);
}
