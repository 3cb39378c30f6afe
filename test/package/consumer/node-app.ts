// Type-checked in a consumer project (tsc --strict, Node): the package's public types.
import {
  Client,
  ClientDescriptor,
  type ClientStatus,
  ConduitError,
  Server,
  ServerDescriptor,
  StreamManager,
} from "conduit-rtc";

const server = new Server(new ServerDescriptor({ port: 0, password: "secret" }));
const streams = new StreamManager({ owner: "server" });
streams.registerServerHandlers(server);
const sensors = streams.create("sensors", { bufferSize: 100, delivery: "reliable" });
streams.onClientStream("video_frames", async (clientId: string, data: unknown) => {
  console.log(clientId, data);
});
server.onStartup(async (srv: Server) => {
  const subscribers: number = await sensors.push({ temperature: 21 });
  console.log(srv.port, subscribers, sensors.info.messageCount);
});

const client = new Client(new ClientDescriptor({ serverHost: "localhost", serverPort: 8080 }));
const clientStreams = new StreamManager();
clientStreams.registerClientHandlers(client);
client.on("status", (status: ClientStatus) => console.log(status.state));

export async function main(): Promise<void> {
  await server.run();
  await client.connect();
  try {
    for await (const data of clientStreams.subscribe("sensors")) console.log(data);
  } catch (err) {
    if (err instanceof ConduitError) console.log(err.code);
  }
}
