import { Packr, RESERVE_START_SPACE } from "msgpackr";
import { InvalidArgumentError } from "../errors.js";

// Plain MessagePack only (no msgpackr records or private extensions), so any MessagePack
// library can read our bodies; undefined becomes nil.
const packr = new Packr({ useRecords: false, moreTypes: false, encodeUndefinedAsNil: true });

/**
 * Throws InvalidArgumentError for a value MessagePack cannot hold (e.g. a BigInt over 64 bits).
 * `room` (< 256) bytes are left free in front of the body, for a frame header: a message that
 * fits one frame is then sent from this buffer as it is, with no copy.
 */
export function encodeBody(value: unknown, room = 0): Uint8Array {
  try {
    return room === 0 ? packr.pack(value) : packr.pack(value, RESERVE_START_SPACE | room);
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
