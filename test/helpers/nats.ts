// A real nats-server on an ephemeral loopback port, for the cluster tests.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import type { Resources } from "./net.js";

export interface Nats {
  url: string;
  port: number;
  /** Kills it (SIGKILL) and starts it again on the same port. */
  restart(): Promise<void>;
  kill(): void;
}

/** Throws, saying how to install it, where nats-server is missing. */
export function requireNatsServer(): void {
  try {
    execFileSync("nats-server", ["--version"], { stdio: "pipe" });
  } catch {
    throw new Error("the cluster tests need nats-server: apt-get install nats-server");
  }
}

function launch(port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port)], { stdio: "pipe" });
  return new Promise((resolve, reject) => {
    let log = "";
    const onData = (c: Buffer) => {
      log += c.toString();
      const m = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        child.stderr?.off("data", onData);
        resolve({ child, port: Number(m[1]) });
      }
    };
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`nats-server exited (${code}):\n${log}`)));
  });
}

export async function startNats(res: Resources): Promise<Nats> {
  requireNatsServer();
  let { child, port } = await launch(-1); // -1: a random free port
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  res.add(() => kill());
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    kill,
    async restart() {
      kill();
      await new Promise((r) =>
        child.exitCode !== null || child.signalCode !== null ? r(null) : child.once("exit", r),
      );
      ({ child } = await launch(port));
    },
  };
}
