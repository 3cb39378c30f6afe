// Signaling payloads for the fuzz tests: valid ones, broken a field at a time, and anything.
import fc from "fast-check";

/** A valid payload of each kind: the fuzz starts from these and breaks them. */
export const VALID_PAYLOADS: Record<string, Record<string, unknown>> = {
  hello: { protocol: 1 },
  subscribe: { stream: "video/cam1", wait: false },
  start: { stream: "video/cam1" },
  unsubscribe: { stream: "video/cam1" },
  list: {},
  publish: { stream: "metrics", delivery: "reliable" },
  restart: { resume: [{ stream: "video/cam1", after: 41 }] },
  signal: { kind: "candidate", candidate: "candidate:1 1 UDP 1 127.0.0.1 5000 typ host", mid: "0" },
};

/** The valid payload of `event`, with one field replaced, removed or added, or anything at all. */
export function payloadFor(event: string): fc.Arbitrary<unknown> {
  const valid = VALID_PAYLOADS[event] ?? {};
  const key = fc.oneof(fc.constantFrom(...Object.keys(valid), "extra"), fc.string());
  return fc.oneof(
    fc.constant(valid),
    fc.tuple(key, fc.anything()).map(([k, v]) => ({ ...valid, [k]: v })),
    key.map((k) => Object.fromEntries(Object.entries(valid).filter(([x]) => x !== k))),
    fc.anything(),
  );
}

/** An event (mostly a real one) and a payload for it. */
export const signalingCase = fc
  .oneof(
    { weight: 9, arbitrary: fc.constantFrom(...Object.keys(VALID_PAYLOADS)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  )
  .chain((event) => payloadFor(event).map((payload) => [event, payload] as const));
