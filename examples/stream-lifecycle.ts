// The guide's "Stream Lifecycle" and "Stream Info" sections, with a real client subscribed.
import { Client, ClientDescriptor, Server, ServerDescriptor, StreamManager } from "conduit-rtc";

const server = new Server(new ServerDescriptor({ host: "127.0.0.1", port: 0, password: "secret" }));
const streams = new StreamManager({ owner: "server" });
streams.registerServerHandlers(server);

// Create stream
const stream = streams.create("my_stream", { bufferSize: 50, delivery: "reliable" });

// Subscribe callback
let subscribed!: () => void;
const firstSubscriber = new Promise<void>((resolve) => {
  subscribed = resolve;
});
stream.onSubscribe(async (subscriberId) => {
  console.log(`New subscriber: ${subscriberId}`);
  subscribed();
});

// Unsubscribe callback
stream.onUnsubscribe(async (subscriberId) => {
  console.log(`Lost subscriber: ${subscriberId}`);
});

await server.run();

const client = new Client(
  new ClientDescriptor({ serverHost: "127.0.0.1", serverPort: server.port, password: "secret" }),
);
const clientStreams = new StreamManager();
clientStreams.registerClientHandlers(client);
await client.connect();
const received = (async () => {
  for await (const data of clientStreams.subscribe("my_stream")) console.log("client got", data);
  console.log("client loop ended: stream closed");
})();
await firstSubscriber;

// Push data
const count = await stream.push({ value: 42 });
console.log(`Sent to ${count} subscribers`);

// Get stream info
console.log(`Name: ${stream.info.name}`);
console.log(`Owner: ${stream.info.owner}`);
console.log(`Messages sent: ${stream.info.messageCount}`);
console.log(`Subscribers: ${stream.subscriberCount}`);
console.log(`Active: ${stream.isActive}`);

// List all streams
for (const s of streams.listStreams()) {
  console.log(`${s.name}: ${s.subscribers} subscribers`);
}

// Close stream
await stream.close();
await received;
await client.close();
await server.stop();
