// Run inside a consumer project: a server and a client from the installed package exchange a
// stream both ways, for each pair of engines (across engines, so werift meets libdatachannel).
import { Client, ClientDescriptor, Server, ServerDescriptor, StreamManager } from "conduit-rtc";

const pairs = [
  ["node-datachannel", "node-datachannel"],
  ["node-datachannel", "werift"],
  ["werift", "node-datachannel"],
];
const results = [];
for (const [serverEngine, clientEngine] of pairs) {
  const server = new Server(
    new ServerDescriptor({
      host: "127.0.0.1",
      port: 0,
      password: "pw",
      engine: serverEngine,
      iceBindAddress: "127.0.0.1",
    }),
  );
  const serverStreams = new StreamManager({ owner: "server" });
  serverStreams.registerServerHandlers(server);
  const uploaded = new Promise((resolve) =>
    serverStreams.onClientStream("up", (_id, data) => resolve(data)),
  );
  const down = serverStreams.create("down", { delivery: "reliable" });
  await server.run();
  const client = new Client(
    new ClientDescriptor({
      serverHost: "127.0.0.1",
      serverPort: server.port,
      password: "pw",
      engine: clientEngine,
      iceBindAddress: "127.0.0.1",
    }),
  );
  const clientStreams = new StreamManager();
  clientStreams.registerClientHandlers(client);
  await client.connect();
  const subscribed = new Promise((resolve) => down.onSubscribe(resolve));
  const first = clientStreams.subscribe("down")[Symbol.asyncIterator]().next();
  await subscribed;
  await down.push({ n: 1, bytes: new Uint8Array([1, 2, 3]) });
  const received = (await first).value;
  await clientStreams.pushToServer("up", { n: 2 }, { delivery: "reliable" });
  results.push({
    serverEngine,
    clientEngine,
    received: { n: received.n, bytes: [...received.bytes] },
    uploaded: await uploaded,
  });
  await client.close();
  await server.stop();
}
console.log(JSON.stringify(results));
