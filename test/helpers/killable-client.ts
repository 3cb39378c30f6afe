// A client in its own process, so a test can SIGKILL it mid-stream.
// argv: port engine stream. Prints "ready <clientId>" after its first message.
import { Client, ClientDescriptor, type EngineName, StreamManager } from "../../src/index.js";
import { PASSWORD } from "./net.js";

const [port, engine, stream] = process.argv.slice(2);
const client = new Client(
  new ClientDescriptor({
    serverHost: "127.0.0.1",
    serverPort: Number(port),
    password: PASSWORD,
    engine: engine as EngineName,
    iceBindAddress: "127.0.0.1",
  }),
);
const streams = new StreamManager();
streams.registerClientHandlers(client);
await client.connect();
let first = true;
for await (const _ of streams.subscribe(stream as string)) {
  if (first) process.stdout.write(`ready ${client.id}\n`);
  first = false;
}
