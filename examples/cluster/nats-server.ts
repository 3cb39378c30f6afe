// Starts nats-server on a loopback port (-1: a free one) and resolves once it listens.
import { type ChildProcess, spawn } from "node:child_process";

export interface RunningNats {
  url: string;
  port: number;
  process: ChildProcess;
}

export function startNatsServer(port = -1): Promise<RunningNats> {
  const child = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port)], { stdio: "pipe" });
  return new Promise((resolve, reject) => {
    let log = "";
    const onData = (c: Buffer) => {
      log += c.toString();
      const m = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(log);
      if (!m) return;
      child.stderr?.off("data", onData);
      resolve({ url: `nats://127.0.0.1:${m[1]}`, port: Number(m[1]), process: child });
    };
    child.stderr?.on("data", onData);
    child.once("error", (err) =>
      reject(new Error(`cannot run nats-server (apt-get install nats-server): ${err.message}`)),
    );
    child.once("exit", (code) => reject(new Error(`nats-server exited (${code}):\n${log}`)));
  });
}
