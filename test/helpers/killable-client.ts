// A client in its own process, so a test can SIGKILL it mid-stream.
// env: SERVER_HOST, SERVER_PORT, ENGINE, STREAM. Prints "ready <clientId>" after its first
// message.
import { Client, ClientDescriptor, StreamManager } from "../../src/index.js";
import { clientOptionsFromEnv } from "./net.js";

const stream = process.env.STREAM ?? "live";
const client = new Client(
  new ClientDescriptor({ ...clientOptionsFromEnv(), iceBindAddress: "127.0.0.1" }),
);
const streams = new StreamManager();
streams.registerClientHandlers(client);
await client.connect();
let first = true;
for await (const _ of streams.subscribe(stream)) {
  if (first) process.stdout.write(`ready ${client.id}\n`);
  first = false;
}
