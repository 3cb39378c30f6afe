// Property tests (fast-check): whatever bytes or payloads arrive, the decoders and parsers
// return or throw a typed error; they never crash, hang, or hold more than their limits.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConduitError } from "../../src/core/errors.js";
import { parseRequest, parseSignal } from "../../src/signaling/protocol.js";
import { decodeBody } from "../../src/wire/codec.js";
import { HEADER_BYTES } from "../../src/wire/frame.js";
import { OutgoingMessage } from "../../src/wire/outgoing.js";
import { Reassembler } from "../../src/wire/reassembler.js";
import { payloadFor } from "../helpers/fuzz-payloads.js";

const RUNS = 2000;
const LIMITS = {
  maxMessageBytes: 64 * 1024,
  maxPartials: 8,
  maxPartialBytes: 256 * 1024,
  maxAgeMs: 5000,
  dropStale: true,
};

/** Frames that mostly pass the header checks, so the fuzz reaches reassembly. */
const plausibleFrame = fc
  .record({
    version: fc.constantFrom(1, 1, 1, 2),
    kind: fc.constantFrom(1, 1, 1, 0),
    index: fc.integer({ min: 0, max: 5 }),
    count: fc.integer({ min: 0, max: 5 }),
    streamId: fc.integer({ min: 0, max: 3 }),
    seq: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constant(0xffffffff)),
    total: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 3000 }), fc.constant(0xffffffff)),
    payload: fc.uint8Array({ maxLength: 1500 }),
  })
  .map((f) => {
    const out = new Uint8Array(HEADER_BYTES + f.payload.byteLength);
    const view = new DataView(out.buffer);
    view.setUint8(0, f.version);
    view.setUint8(1, f.kind);
    view.setUint16(2, f.index);
    view.setUint16(4, f.count);
    view.setUint32(8, f.streamId);
    view.setUint32(12, f.seq);
    // -1: the total a one-chunk frame of this payload would claim.
    view.setUint32(16, f.total < 0 ? f.payload.byteLength : f.total);
    out.set(f.payload, HEADER_BYTES);
    return out;
  });

/** A real message's frames (cut small), some lost or repeated, in any order. */
const realFrames = fc
  .record({
    streamId: fc.integer({ min: 0, max: 3 }),
    seq: fc.integer({ min: 0, max: 10 }),
    body: fc.uint8Array({ maxLength: 4000 }),
    frameBytes: fc.integer({ min: HEADER_BYTES + 1, max: 2000 }),
  })
  .chain(({ streamId, seq, body, frameBytes }) => {
    const frames = new OutgoingMessage(streamId, seq, body, LIMITS.maxMessageBytes).frames(
      frameBytes,
    );
    return fc.shuffledSubarray([...frames, ...frames], { minLength: 0 });
  });

describe("fuzz", () => {
  it(`the reassembler takes ${RUNS} random frame sequences within its limits`, () => {
    let frames = 0;
    let completed = 0;
    fc.assert(
      fc.property(
        fc
          .array(
            fc.oneof(
              realFrames,
              plausibleFrame.map((f) => [f]),
              fc.uint8Array({ maxLength: 100 }).map((f) => [f]),
            ),
            { maxLength: 20 },
          )
          .map((groups) => groups.flat()),
        (sequence) => {
          const r = new Reassembler(LIMITS);
          for (const frame of sequence) {
            const done = r.push(frame);
            frames++;
            if (done) {
              completed++;
              expect(done.body.byteLength).toBeLessThanOrEqual(LIMITS.maxMessageBytes);
            }
            expect(r.heldMessages).toBeLessThanOrEqual(LIMITS.maxPartials);
            expect(r.heldBytes).toBeLessThanOrEqual(LIMITS.maxPartialBytes);
          }
          expect(r.stats.framesReceived).toBe(sequence.length);
        },
      ),
      { numRuns: RUNS, seed: 1 },
    );
    console.log(`reassembler: ${RUNS} sequences, ${frames} frames, ${completed} messages out`);
    expect(completed).toBeGreaterThan(0);
  });

  it(`the body decoder returns or throws on ${RUNS} random bodies`, () => {
    let decoded = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (body) => {
        try {
          decodeBody(body);
          decoded++;
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
        }
      }),
      { numRuns: RUNS, seed: 2 },
    );
    console.log(`decodeBody: ${RUNS} bodies, ${decoded} decoded, the rest refused`);
  });

  const parsers = { ...parseRequest, signal: parseSignal };

  it.each(Object.keys(parsers))(
    `the %s parser answers ${RUNS} random payloads with a value or a typed error`,
    (name) => {
      const parse = parsers[name as keyof typeof parsers] as (p: unknown) => unknown;
      let accepted = 0;
      fc.assert(
        fc.property(payloadFor(name), (p) => {
          try {
            const value = parse(p);
            expect(typeof value).toBe("object");
            accepted++;
          } catch (err) {
            expect(err).toBeInstanceOf(ConduitError);
            expect(["PROTOCOL_ERROR", "INVALID_ARGUMENT"]).toContain((err as ConduitError).code);
          }
        }),
        { numRuns: RUNS, seed: 3 },
      );
      console.log(`${name}: ${RUNS} payloads, ${accepted} accepted`);
    },
  );
});
