// connect() across the impaired link: a client at the far end (its own process) connects
// `n` times, one after another, to a server on this side; Client.connectStats() of each.
import type { ConnectTimings, EngineName } from "../src/index.js";
import type { ImpairedLink } from "../test/helpers/impaired-link.js";
import { PASSWORD, Resources } from "../test/helpers/net.js";
import { exitCode, runTs } from "../test/helpers/process.js";
import { startConduitServer } from "./conduit.js";

export async function wanConnectTimings(
  link: ImpairedLink,
  engine: EngineName,
  n: number,
): Promise<ConnectTimings[]> {
  const res = new Resources();
  try {
    const { server } = await startConduitServer(engine, {
      host: link.hostAddress,
      iceBindAddress: link.hostAddress,
      password: PASSWORD,
    });
    res.add(() => server.stop());
    const client = runTs(
      res,
      "test/helpers/phases-client.ts",
      {
        SERVER_HOST: link.hostAddress,
        SERVER_PORT: String(server.port),
        ENGINE: engine,
        REPEAT: String(n),
      },
      [],
      link.ns,
    );
    const code = await exitCode(client);
    const lines = client.output().split("\n");
    const failed = lines.find((l) => l.startsWith("error "));
    if (code !== 0 || failed) throw new Error(failed ?? `client exited with ${code}`);
    return lines
      .filter((l) => l.startsWith("timings "))
      .map((l) => JSON.parse(l.slice("timings ".length)) as ConnectTimings);
  } finally {
    await res.closeAll();
  }
}
