// The server side of the NAT tests, run inside the server's namespace.
// env: HOST, ENGINE, TURN_URL + TURN_SECRET (optional), STUN_URL (optional), FRAMES. Prints "listening <port>",
// then "up <json>" once it has every frame the client pushed.

import { staticFiles } from "../../examples/static-files.js";
import { type EngineName, Server, ServerDescriptor, StreamManager } from "../../src/index.js";
import { PASSWORD, pattern } from "./net.js";

const FRAMES = Number(process.env.FRAMES ?? 60);
const server = new Server(
  new ServerDescriptor({
    host: process.env.HOST,
    port: 0,
    password: PASSWORD,
    engine: (process.env.ENGINE ?? "node-datachannel") as EngineName,
    ...(process.env.TURN_URL
      ? { turn: { urls: [process.env.TURN_URL], secret: process.env.TURN_SECRET as string } }
      : {}),
    iceServers: process.env.STUN_URL ? [{ urls: process.env.STUN_URL }] : [],
    httpHandler: staticFiles(new URL("../../web/", import.meta.url)),
  }),
);
const streams = new StreamManager();
streams.registerServerHandlers(server);
const down = streams.create("down", { delivery: "reliable", bufferSize: FRAMES });

down.onSubscribe(() => {
  let n = 0;
  const timer = setInterval(() => {
    n++;
    void down.push({ n, sentAt: Date.now(), frame: pattern(50_000, n) });
    if (n === FRAMES) clearInterval(timer);
  }, 1000 / 30);
});

const up: number[] = [];
const latencies: number[] = [];
let intact = true;
streams.onClientStream("up", (_id, data: { n: number; sentAt: number; frame: Uint8Array }) => {
  up.push(data.n);
  latencies.push(Date.now() - data.sentAt);
  intact &&= Buffer.compare(Buffer.from(data.frame), Buffer.from(pattern(50_000, data.n))) === 0;
  if (up.length === FRAMES) {
    latencies.sort((a, b) => a - b);
    const inOrder = up.every((n, i) => n === i + 1);
    const transport = server.clientStats()[0]?.transport;
    console.log(
      `up ${JSON.stringify({ count: up.length, inOrder, intact, p50: latencies[FRAMES >> 1], transport })}`,
    );
  }
});

await server.run();
console.log(`listening ${server.port}`);
