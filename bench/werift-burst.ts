// werift-burst-200KB: 30 fps × 200 KB frames between werift peers on loopback, in a network
// namespace of its own (root and iproute2 needed), so that the kernel's count of datagrams
// dropped for a full UDP receive buffer is this run's alone. Raw peers (13 × 16 KiB messages a
// frame on a reliable channel) and a conduit realtime stream. Before conduit asked for a 4 MiB
// receive buffer, bursts overflowed the default (~208 KB) and stalled werift for its RTO.
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Network } from "../test/helpers/netns.js";

const RUNNER = fileURLToPath(new URL("./werift-burst-run.ts", import.meta.url));

export interface BurstResult {
  receiveBufferErrors: number;
  /** raw: DATA chunks sent more than once, and one-way latency. */
  retransmitted?: number;
  p50?: number;
  max?: number;
  /** Frames received (within 10 s of the last one sent), of 90; conduit: and counted lost. */
  received?: number;
  lost?: number;
}

export function burstUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root to create a network namespace";
  try {
    execFileSync("ip", ["-V"], { stdio: "pipe" });
    return undefined;
  } catch {
    return "needs iproute2: apt-get install iproute2";
  }
}

export async function weriftBurst(mode: "raw" | "conduit"): Promise<BurstResult> {
  const net = new Network();
  try {
    const ns = net.namespace("cdb");
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, "--import", "tsx", RUNNER], {
      env: { ...process.env, MODE: mode },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    const line = /^result (.*)$/m.exec(out);
    if (code !== 0 || !line) throw new Error(`werift burst (${mode}) failed: exit ${code}\n${out}`);
    return JSON.parse(line[1] as string) as BurstResult;
  } finally {
    net.close();
  }
}
