// The guide's "Complete Example: Live Dashboard", client side.
//   HOST (default localhost), PORT (default 8080), CONDUIT_PASSWORD (default "secret")
import { Client, ClientDescriptor, StreamManager } from "conduit-rtc";

const client = new Client(
  new ClientDescriptor({
    serverHost: process.env.HOST ?? "localhost",
    serverPort: Number(process.env.PORT ?? 8080),
    password: process.env.CONDUIT_PASSWORD ?? "secret",
  }),
);

const streams = new StreamManager();
streams.registerClientHandlers(client);

interface Metrics {
  cpu: number;
  memory: number;
  disk: number;
}

async function main(): Promise<void> {
  await client.connect();

  console.log("Monitoring system metrics...");
  for await (const data of streams.subscribe("system_metrics")) {
    const m = data as Metrics;
    console.log(`CPU: ${m.cpu}% | Memory: ${m.memory}% | Disk: ${m.disk}%`);
  }
}

await main();
