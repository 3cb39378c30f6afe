// fanout-50KB: the most viewers one server process streams 30 fps × 50 KB frames to with
// p99 < 100 ms and < 1 % of frames dropped. Each run is a fresh fanout-server.ts process.
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { FanoutResult } from "./fanout-server.js";

/** conduit: one server process; raw: node-datachannel by hand; cluster: two conduit processes. */
export type FanoutSystem = "conduit" | "raw" | "cluster";

const SERVER = fileURLToPath(new URL("./fanout-server.ts", import.meta.url));

export function fanoutRun(system: FanoutSystem, viewers: number, frames: number) {
  return new Promise<FanoutResult>((resolve, reject) => {
    const child = spawn(process.execPath, [
      "--import",
      "tsx",
      SERVER,
      system,
      String(viewers),
      String(frames),
    ]);
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.once("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("result "));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)) as FanoutResult);
      else reject(new Error(`fanout-server ${system} ${viewers} exited with ${code}:\n${out}`));
    });
  });
}

/** Why the two-process case cannot run here, or undefined when it can. */
export function natsServerUnavailable(): string | undefined {
  try {
    execFileSync("nats-server", ["--version"], { stdio: "pipe" });
    return undefined;
  } catch {
    return "needs nats-server: apt-get install nats-server";
  }
}

export const meetsTarget = (r: FanoutResult) => r.p99 < 100 && r.dropPct < 1;

/**
 * Tries `steps` viewer counts in order until one misses the target. Returns the last count
 * that met it with its run, or undefined when even the first missed.
 */
export async function maxSubscribers(
  system: FanoutSystem,
  steps: number[],
  frames: number,
  report: (viewers: number, r: FanoutResult) => void,
): Promise<{ viewers: number; run: FanoutResult } | undefined> {
  let best: { viewers: number; run: FanoutResult } | undefined;
  for (const viewers of steps) {
    let run: FanoutResult;
    try {
      run = await fanoutRun(system, viewers, frames);
    } catch (err) {
      // A run that cannot even set up its viewers (peers failing under load) misses the target.
      console.error(
        `${system} with ${viewers} viewers failed: ${(err as Error).message.split("\n")[0]}`,
      );
      break;
    }
    report(viewers, run);
    if (!meetsTarget(run)) break;
    best = { viewers, run };
  }
  return best;
}
