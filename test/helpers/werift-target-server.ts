// A conduit server on the werift engine, in its own process, for the malformed-SCTP tests:
// it must stay up through them. Pushes a "ticks" stream every 20 ms. Prints "listening <port>",
// "connected <id>", "disconnected <id>", and "heap <bytes>" when asked on stdin.
import { Server, ServerDescriptor, StreamManager } from "../../src/index.js";
import { PASSWORD } from "./net.js";

const server = new Server(
  new ServerDescriptor({
    host: "127.0.0.1",
    port: 0,
    password: PASSWORD,
    engine: "werift",
    iceBindAddress: "127.0.0.1",
  }),
);
const streams = new StreamManager();
streams.registerServerHandlers(server);
const ticks = streams.create("ticks");
let n = 0;
setInterval(() => void ticks.push(++n), 20);
server.on("clientConnected", (id) => console.log(`connected ${id}`));
server.on("clientDisconnected", (id) => console.log(`disconnected ${id}`));
process.stdin.on("data", () => console.log(`heap ${process.memoryUsage().heapUsed}`));
await server.run();
console.log(`listening ${server.port}`);
