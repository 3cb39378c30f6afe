// The receiving end of the loss tests and bench, run in the far namespace of an impaired link.
// Receives numbered frames from the server until the stream ends and prints one line:
// "result <json>" with what arrived (`seen`: frame numbers in arrival order; `latencies`: their
// one-way delays in ms), in what order, how late, and what conduit counted as lost.
// env: MODE (conduit | socket.io), ENGINE, SERVER_HOST, SERVER_PORT, STREAM; DEADLINE_MS: stop
// receiving this long after subscribing (what has not come by then counts as not delivered).
import { io } from "socket.io-client";
import { Client, ClientDescriptor, StreamManager } from "../../src/index.js";
import { clientOptionsFromEnv } from "./net.js";
import { type FrameMessage, frameIsIntact, summarize } from "./timed-frames.js";

const env = process.env;
const seen: number[] = [];
const latencies: number[] = [];
let intact = true;
let bytes = 0;

/** Ends the receiving at DEADLINE_MS from now, if set. */
function stopAtDeadline(stop: () => void): void {
  if (env.DEADLINE_MS) setTimeout(stop, Number(env.DEADLINE_MS)).unref();
}
function printResult(): void {
  const summary = summarize(seen, latencies, bytes);
  console.log(`result ${JSON.stringify({ ...summary, intact, ...conduit, seen, latencies })}`);
}

function receive(m: FrameMessage): void {
  latencies.push(Date.now() - m.sentAt); // the wall clock now, as the sender stamps it
  seen.push(m.n);
  bytes += m.frame.byteLength;
  intact &&= frameIsIntact(m);
}

let conduit:
  | {
      lost: number;
      expired: number;
      ageP99?: number | undefined;
      rebuilt?: number | undefined;
      rtpPacketsReceived?: number | undefined;
    }
  | undefined;
if (env.MODE === "socket.io") {
  const socket = io(`http://${env.SERVER_HOST}:${env.SERVER_PORT}`, { transports: ["websocket"] });
  await new Promise<void>((resolve) => {
    stopAtDeadline(resolve);
    socket.on("frame", (m: FrameMessage) => receive(m));
    socket.on("end", () => resolve());
  });
  socket.close();
} else {
  const client = new Client(
    new ClientDescriptor({
      ...clientOptionsFromEnv(env),
      connectTimeoutMs: 20_000,
    }),
  );
  const streams = new StreamManager();
  streams.registerClientHandlers(client);
  await client.connect();
  const subscription = streams.subscribe(env.STREAM ?? "frames");
  stopAtDeadline(() => subscription.close());
  for await (const m of subscription) receive(m as FrameMessage);
  const { lost, expired, ageMs } = subscription.stats;
  const rebuilt = client.linkStats()?.lanes.realtime.messagesRebuilt;
  const rtpPacketsReceived = client.linkStats()?.rtpLane?.packetsReceived;
  conduit = { lost, expired, ageP99: ageMs?.p99, rebuilt, rtpPacketsReceived };
  // The result first: the sender waits for it, not for the link's teardown.
  printResult();
  await client.close();
}
if (env.MODE === "socket.io") printResult();
