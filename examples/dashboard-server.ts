// The guide's "Complete Example: Live Dashboard", server side. `npm start` runs it.
//   PORT (default 8080; 0 = any free port), HOST (default 0.0.0.0), CONDUIT_PASSWORD (default "secret")
import { Server, ServerDescriptor, StreamManager } from "conduit-rtc";
import { cpuPercent, diskPercent, memoryPercent } from "./system-metrics.js";

const password = process.env.CONDUIT_PASSWORD ?? "secret";
const server = new Server(
  new ServerDescriptor({
    host: process.env.HOST ?? "0.0.0.0",
    port: Number(process.env.PORT ?? 8080),
    password,
  }),
);
const streams = new StreamManager();
streams.registerServerHandlers(server);

// System metrics stream
const metricsStream = streams.create("system_metrics");

async function collectMetrics(): Promise<void> {
  await metricsStream.push({
    cpu: cpuPercent(),
    memory: memoryPercent(),
    disk: diskPercent("/"),
  });
}

server.onStartup(async (srv) => {
  setInterval(() => void collectMetrics(), 1000);
  console.log(
    `conduit-rtc dashboard server listening on port ${srv.port} (password "${password}")`,
  );
  console.log(`  client: PORT=${srv.port} npx tsx examples/dashboard-client.ts`);
});

await server.run();
