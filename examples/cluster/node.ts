// One cluster node: a conduit server joined to the others through NATS.
// argv: natsUrl nodeName [stream]. With a stream name, the node creates it and pushes
// 30 fps × 20 KB frames ({ n, node, sentAt, frame }) on it. Prints "node <name> listening on port <port>".
import { Server, ServerDescriptor, StreamManager } from "conduit-rtc";

const [natsUrl, node, streamName] = process.argv.slice(2);
if (!natsUrl || !node) {
  console.error("usage: tsx examples/cluster/node.ts nats://host:port node-name [stream]");
  process.exit(2);
}
const server = new Server(
  new ServerDescriptor({
    host: process.env.HOST ?? "127.0.0.1",
    port: Number(process.env.PORT ?? 0),
    password: process.env.CONDUIT_PASSWORD ?? "cluster-example",
    iceBindAddress: process.env.HOST ?? "127.0.0.1",
    cluster: { natsUrl, node },
  }),
);
const streams = new StreamManager({ owner: node });
streams.registerServerHandlers(server);
await server.run();
if (streamName) {
  const stream = streams.create(streamName);
  const frame = new Uint8Array(20_000);
  let n = 0;
  setInterval(
    () =>
      void stream.push({ n: ++n, node, sentAt: performance.timeOrigin + performance.now(), frame }),
    1000 / 30,
  );
}
console.log(`node ${node} listening on port ${server.port}`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
