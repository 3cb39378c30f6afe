// Runs a whole session in one process and returns: if anything (timer, socket, peer) were
// left behind, this process would not exit by itself.
import type { EngineName } from "../../src/index.js";
import { connectClient, Resources, startServer } from "./net.js";

const engine = process.argv[2] as EngineName;
const res = new Resources();
const { server, streams } = await startServer(res, engine);
const stream = streams.create("s", { delivery: "reliable" });
const up = new Promise<void>((resolve) => streams.onClientStream("up", () => resolve()));
const { client, streams: clientStreams } = await connectClient(res, server, engine);
const sub = clientStreams.subscribe("s");
const first = sub.next();
await new Promise<void>((resolve) => stream.onSubscribe(() => resolve()));
await stream.push({ frame: new Uint8Array(300_000) });
await first;
await clientStreams.pushToServer("up", { n: 1 });
await up;
await client.close();
await server.stop();
console.log(
  `closed; active handles: ${process
    .getActiveResourcesInfo()
    .filter((r) => r !== "TTYWrap")
    .join(",")}`,
);
