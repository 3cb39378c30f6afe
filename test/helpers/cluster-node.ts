// A cluster node in its own process, so a test can SIGKILL it. argv: natsUrl node [stream].
// Creates `stream` (if given) and pushes { n, node } on it 30 times a second.
// Prints "ready <port>".
import { Server, ServerDescriptor, StreamManager } from "../../src/index.js";
import { PASSWORD } from "./net.js";

const [natsUrl, node, streamName] = process.argv.slice(2);
const server = new Server(
  new ServerDescriptor({
    host: "127.0.0.1",
    port: 0,
    password: PASSWORD,
    iceBindAddress: "127.0.0.1",
    cluster: { natsUrl: natsUrl as string, node: node as string },
  }),
);
const streams = new StreamManager({ owner: node });
streams.registerServerHandlers(server);
await server.run();
if (streamName) {
  const stream = streams.create(streamName);
  let n = 0;
  setInterval(() => void stream.push({ n: ++n, node }), 1000 / 30);
}
console.log(`ready ${server.port}`);
