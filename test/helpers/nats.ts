// A real nats-server on an ephemeral loopback port, for the cluster tests; killed at teardown.

import { startNatsServer } from "../../examples/cluster/nats-server.js";
import type { Resources } from "./net.js";
import { requireSystem } from "./system.js";

export interface Nats {
  url: string;
  /** Kills it (SIGKILL) and starts it again on the same port. */
  restart(): Promise<void>;
}

/** Throws, saying how to install it, where nats-server is missing. */
export function requireNatsServer(): void {
  requireSystem("the cluster tests", { tools: ["nats-server"] });
}

export async function startNats(res: Resources): Promise<Nats> {
  requireNatsServer();
  let running = await startNatsServer();
  const kill = async () => {
    const child = running.process;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  };
  res.add(() => kill());
  return {
    url: running.url,
    async restart() {
      await kill();
      running = await startNatsServer(running.port);
    },
  };
}
