// Connects REPEAT times (1 by default), one client after another, and prints where the time of
// each connect went: "timings <json>" (Client.connectStats()), or "error <name>: <message>".
// env: SERVER_HOST, SERVER_PORT, ENGINE, REPEAT.
import { Client, ClientDescriptor } from "../../src/index.js";
import { clientOptionsFromEnv } from "./net.js";

for (let i = 0; i < Number(process.env.REPEAT ?? 1); i++) {
  const client = new Client(
    new ClientDescriptor({
      ...clientOptionsFromEnv(),
      fallbackAfterMs: false,
    }),
  );
  try {
    await client.connect();
    console.log(`timings ${JSON.stringify(client.connectStats())}`);
  } catch (err) {
    console.log(`error ${(err as Error).name}: ${(err as Error).message}`);
  }
  await client.close();
}
