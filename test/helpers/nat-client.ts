// The client side of the NAT tests, run inside the client's namespace.
// env: SERVER_HOST, SERVER_PORT, ENGINE, POLICY, CONNECT_TIMEOUT, TURN_URL/TURN_USERNAME/
// TURN_CREDENTIAL (extra ICE server of its own), FRAMES. Prints "connected <ms>" or
// "error <name>: <message>", then "down <json>" and "sent <n>".
import { Client, ClientDescriptor, StreamManager } from "../../src/index.js";
import { clientOptionsFromEnv, pattern } from "./net.js";

const FRAMES = Number(process.env.FRAMES ?? 60);
const env = process.env;
const client = new Client(
  new ClientDescriptor({
    ...clientOptionsFromEnv(env),
    iceTransportPolicy: (env.POLICY ?? "all") as "all" | "relay",
    connectTimeoutMs: Number(env.CONNECT_TIMEOUT ?? 15_000),
    // These tests are about getting WebRTC through NATs: no relay over Socket.IO instead.
    fallbackAfterMs: false,
    iceServers: env.TURN_URL
      ? [{ urls: env.TURN_URL, username: env.TURN_USERNAME, credential: env.TURN_CREDENTIAL }]
      : [],
  }),
);
const streams = new StreamManager();
streams.registerClientHandlers(client);
const t0 = performance.now();
try {
  await client.connect();
} catch (err) {
  console.log(`error ${(err as Error).name}: ${(err as Error).message}`);
  process.exit(1);
}
console.log(`connected ${(performance.now() - t0).toFixed(0)}`);

const received = (async () => {
  const seen: number[] = [];
  const latencies: number[] = [];
  let intact = true;
  for await (const m of streams.subscribe("down")) {
    const { n, sentAt, frame } = m as { n: number; sentAt: number; frame: Uint8Array };
    seen.push(n);
    latencies.push(Date.now() - sentAt);
    intact &&= Buffer.compare(Buffer.from(frame), Buffer.from(pattern(50_000, n))) === 0;
    if (seen.length === FRAMES) break;
  }
  latencies.sort((a, b) => a - b);
  const inOrder = seen.every((n, i) => n === i + 1);
  console.log(
    `down ${JSON.stringify({ count: seen.length, inOrder, intact, p50: latencies[FRAMES >> 1] })}`,
  );
})();
for (let n = 1; n <= FRAMES; n++) {
  await streams.pushToServer(
    "up",
    { n, sentAt: Date.now(), frame: pattern(50_000, n) },
    { delivery: "reliable" },
  );
  await new Promise((r) => setTimeout(r, 1000 / 30));
}
console.log(`sent ${FRAMES}`);
await received;
await client.close();
// werift 0.24 keeps its TURN allocation's refresh timer and socket after close(): report what
// is still open and leave (the leak is werift's; see the closing note of this change).
const left = process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap");
if (left.length > 0) console.log(`still open after close: ${left.join(",")}`);
process.exit(0);
