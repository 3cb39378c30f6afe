// A client at the far end of an impaired link, for the reconnect, link restart and fallback
// tests. Subscribes to a reliable stream and pushes a client stream; prints each status as
// "status <state> <ms since start>" ("status reconnecting <ms> <why>"), and "result <json>"
// (the sequence numbers received, in order) once the stream ends.
// env: SERVER_HOST, SERVER_PORT, ENGINE; FALLBACK_AFTER_MS ("off": never), UPGRADE_AFTER_MS
// (optional).
import { Client, ClientDescriptor, StreamManager } from "../../src/index.js";
import { clientOptionsFromEnv } from "./net.js";

const env = process.env;
const client = new Client(
  new ClientDescriptor({
    ...clientOptionsFromEnv(env),
    // Attempts that fail fast while the link is down, then retry soon.
    connectTimeoutMs: 2_000,
    reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
    ...(env.FALLBACK_AFTER_MS
      ? { fallbackAfterMs: env.FALLBACK_AFTER_MS === "off" ? false : Number(env.FALLBACK_AFTER_MS) }
      : {}),
    ...(env.UPGRADE_AFTER_MS ? { upgradeAfterMs: Number(env.UPGRADE_AFTER_MS) } : {}),
  }),
);
const started = performance.now();
client.on("status", (s) => {
  const why = s.state === "reconnecting" ? ` ${s.error.message}` : "";
  console.log(`status ${s.state} ${Math.round(performance.now() - started)}${why}`);
});
const streams = new StreamManager();
streams.registerClientHandlers(client);
await client.connect();
const subscription = streams.subscribe("frames");
// A client stream too: pushes made while reconnecting wait, then flow again.
let pushing = true;
const pushes = (async () => {
  for (let n = 1; pushing; n++) {
    await streams.pushToServer("up", { n }, { delivery: "reliable" });
    await new Promise((r) => setTimeout(r, 50));
  }
})();
const seqs: number[] = [];
for await (const m of subscription) seqs.push((m as { n: number }).n);
pushing = false;
await pushes;
console.log(`result ${JSON.stringify({ seqs, lost: subscription.stats.lost })}`);
await client.close();
