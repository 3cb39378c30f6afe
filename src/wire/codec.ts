import { Packr, RESERVE_START_SPACE } from "msgpackr";
import { InvalidArgumentError } from "../core/errors.js";

// Plain MessagePack only (no msgpackr records or private extensions), so any MessagePack
// library can read our bodies; undefined becomes nil. A 64-bit integer from another library
// (Python packs 2^40 as uint64) decodes to a number while it is one exactly (|n| ≤ 2^53), and
// to a BigInt only beyond: msgpackr's default makes every 64-bit integer a BigInt, which
// JSON.stringify and arithmetic with numbers refuse.
const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  encodeUndefinedAsNil: true,
  // msgpackr's type for this option lacks "auto", which its runtime and README have.
  int64AsType: "auto" as "bigint",
});

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
