// Random payloads (fast-check) into every signaling event of a real server, from an
// authenticated raw Socket.IO client: each is answered with a value or a typed error, a client
// that keeps misbehaving is dropped, and the server keeps serving the well-behaved.
import fc from "fast-check";
import { afterEach, expect, it } from "vitest";
import { signalingCase } from "../helpers/fuzz-payloads.js";
import { connectClient, Resources, startServer, until } from "../helpers/net.js";
import { connectedSocket } from "../helpers/raw-socket.js";

const ENGINE = "node-datachannel";
const CASES = 400;
const res = new Resources();
afterEach(() => res.closeAll());

const EVENTS = ["hello", "subscribe", "start", "unsubscribe", "list", "publish", "signal"];

it(`answers ${CASES} random signaling payloads with values or typed errors, and stays up`, {
  timeout: 120_000,
}, async () => {
  const { server, streams } = await startServer(res, ENGINE);
  streams.create("video/cam1");
  const cases = fc.sample(signalingCase, { numRuns: CASES, seed: 7 });
  const outcomes: Record<string, number> = {};
  let socket = await connectedSocket(res, server.port);
  let dropped = 0;
  for (const [event, payload] of cases) {
    if (!socket.connected) {
      dropped++;
      socket = await connectedSocket(res, server.port);
    }
    let outcome: string;
    if (EVENTS.includes(event) && event !== "signal") {
      try {
        const reply = await socket.timeout(2000).emitWithAck(event, payload);
        outcome = reply.ok ? "ok" : reply.error.code;
      } catch {
        // A subscribe that waits for a stream that never comes; or the server dropped us.
        outcome = socket.connected ? "no reply yet" : "dropped";
      }
    } else {
      socket.emit(event, payload);
      outcome = "no ack expected";
    }
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  console.log(`${CASES} random payloads: ${JSON.stringify(outcomes)}; dropped ${dropped} times`);
  // Every reply is ok or one of the protocol's error codes.
  const known = new Set([
    "ok",
    "PROTOCOL_ERROR",
    "INVALID_ARGUMENT",
    "STREAM_NOT_FOUND",
    "CONNECTION_FAILED",
    "NOT_CONNECTED",
    "LIMIT_EXCEEDED",
    "no reply yet",
    "dropped",
    "no ack expected",
  ]);
  expect(Object.keys(outcomes).filter((o) => !known.has(o))).toEqual([]);
  expect(outcomes.ok).toBeGreaterThan(0);
  expect(outcomes.PROTOCOL_ERROR).toBeGreaterThan(0);

  // The misbehaving sockets leave nothing behind, and a real client is served as usual.
  socket.close();
  await until(() => server.clientCount === 0, "fuzzing sessions released");
  const { streams: client } = await connectClient(res, server, ENGINE);
  expect((await client.listServerStreams()).map((s) => s.name)).toEqual(["video/cam1"]);
});
