// One fan-out run in a fresh process, so its CPU and RSS are its own: 30 fps × 50 KB frames to
// N viewers in separate processes (fanout-viewers.ts), through conduit (a realtime stream),
// bare node-datachannel channels fanned out by hand, or conduit on two server processes
// joined by NATS (this one and examples/cluster/node.ts; half the viewers on each).
// Prints "result <json>" (FanoutResult). argv: conduit|raw|cluster N FRAMES
import { type ChildProcess, fork, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ndc from "node-datachannel";
import { startNatsServer } from "../examples/cluster/nats-server.js";
import { REALTIME_HIGH_WATER_BYTES } from "../src/core/defaults.js";
import { startConduitServer } from "./conduit.js";
import {
  FANOUT_CHANNEL,
  RemoteCandidates,
  type ToServer,
  type ToViewers,
  wallClock,
} from "./fanout-protocol.js";

export interface FanoutResult {
  p50: number;
  p99: number;
  /** Frames that did not reach a viewer, in percent of frames × viewers. */
  dropPct: number;
  /** Server process CPU while streaming (both, for cluster); 100 = one core. */
  cpuPct: number;
  rssMb: number;
  /** RSS before any viewer connected. */
  rssMbIdle: number;
}

const FRAME_BYTES = 50_000;
const FPS = 30;
/** How long frames still in flight after the last one was sent may take to arrive. */
const SETTLE_MS = 200;
const VIEWER_PROCESSES = 4;

const [system, nArg, framesArg] = process.argv.slice(2);
const NODE = fileURLToPath(new URL("../examples/cluster/node.ts", import.meta.url));
const cleanups: (() => void)[] = [];
const n = Number(nArg);
const frames = Number(framesArg);
const rssMbIdle = process.memoryUsage.rss() / 2 ** 20;

const viewerFile = fileURLToPath(new URL("./fanout-viewers.ts", import.meta.url));
const workers = Array.from({ length: Math.min(VIEWER_PROCESSES, n) }, () =>
  fork(viewerFile, [], { execArgv: ["--import", "tsx"] }),
);
const tell = (worker: ChildProcess, message: ToViewers) => worker.send(message);
// A viewer process that fails (a client that cannot connect) ends the run, with its error.
for (const worker of workers) {
  worker.once("exit", (code) => {
    if (code !== 0) throw new Error(`a viewer process exited with ${code}`);
  });
}
const next = (worker: ChildProcess, kind: ToServer["kind"]) =>
  new Promise<ToServer>((resolve) => {
    const on = (m: ToServer) => {
      if (m.kind !== kind) return;
      worker.off("message", on);
      resolve(m);
    };
    worker.on("message", on);
  });

let sendFrame: () => void;
let close: () => Promise<void>;

/** Another server process's CPU time (ms) and RSS (MB), from /proc. */
function usageOf(pid: number): { cpuMs: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const rssPages = Number(fields[21]);
  return { cpuMs: (ticks * 1000) / CLOCK_TICKS, rssMb: (rssPages * 4096) / 2 ** 20 };
}
const CLOCK_TICKS = 100;
let secondNode: ChildProcess | undefined;

if (system === "conduit" || system === "cluster") {
  let options = {};
  let ports: number[] = [];
  if (system === "cluster") {
    const nats = await startNatsServer();
    cleanups.push(() => nats.process.kill());
    options = { cluster: { natsUrl: nats.url, node: "origin" } };
    secondNode = spawn(
      process.execPath,
      ["--conditions=conduit-rtc-source", "--import", "tsx", NODE, nats.url, "second"],
      {
        env: { ...process.env, CONDUIT_PASSWORD: "bench" },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const node = secondNode;
    cleanups.push(() => node.kill());
    ports = [
      await new Promise<number>((resolve) =>
        node.stdout?.on("data", (c: Buffer) => {
          const m = /listening on port (\d+)/.exec(c.toString());
          if (m) resolve(Number(m[1]));
        }),
      ),
    ];
  }
  const { server, streams } = await startConduitServer("node-datachannel", options);
  ports = [server.port, ...ports];
  const stream = streams.create("frames", { delivery: "realtime", bufferSize: 4 });
  await Promise.all(
    workers.map((worker, w) => {
      const connected = next(worker, "connected");
      const count = Math.floor(n / workers.length) + (w < n % workers.length ? 1 : 0);
      // Viewers on the second node get the frames through NATS.
      tell(worker, { kind: "conduit", port: ports[w % ports.length] as number, count });
      return connected;
    }),
  );
  // Every viewer counted, here or on the other node (push returns the cluster-wide count).
  const deadline = Date.now() + 60_000;
  while ((await stream.push({ warmup: true })) < n) {
    if (Date.now() > deadline)
      throw new Error(`only ${await stream.push({})} of ${n} viewers subscribed`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const frame = new Uint8Array(FRAME_BYTES);
  sendFrame = () => void stream.push({ sentAt: wallClock(), frame });
  close = () => server.stop();
} else {
  const peers: ndc.PeerConnection[] = [];
  const channels: ndc.DataChannel[] = [];
  const opened: Promise<void>[] = [];
  const candidates = new RemoteCandidates();
  for (const worker of workers) {
    worker.on("message", (m: ToServer) => {
      const pc = peers[m.kind === "answer" || m.kind === "candidate" ? m.id : -1];
      if (m.kind === "answer" && pc) {
        pc.setRemoteDescription(m.sdp, "answer");
        candidates.ready(m.id, pc);
      }
      if (m.kind === "candidate") candidates.add(m.id, m.candidate, m.mid);
    });
  }
  for (let id = 0; id < n; id++) {
    const worker = workers[id % workers.length] as ChildProcess;
    const pc = new ndc.PeerConnection(`fan-${id}`, {
      iceServers: [],
      bindAddress: "127.0.0.1",
      disableAutoNegotiation: true,
    });
    const channel = pc.createDataChannel("frames", FANOUT_CHANNEL);
    opened.push(
      new Promise((resolve, reject) => {
        channel.onOpen(() => resolve());
        pc.onStateChange((state) => state === "failed" && reject(new Error(`peer ${id} failed`)));
      }),
    );
    pc.onLocalDescription((sdp) => tell(worker, { kind: "offer", id, sdp }));
    pc.onLocalCandidate((candidate, mid) =>
      tell(worker, { kind: "candidate", id, candidate, mid }),
    );
    peers.push(pc);
    channels.push(channel);
    pc.setLocalDescription("offer");
  }
  await Promise.race([
    Promise.all(opened),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error("not every raw peer opened within 30 s")), 30_000),
    ),
  ]);
  sendFrame = () => {
    // One buffer per frame for all viewers, as conduit encodes once; a viewer whose channel
    // is backed up past conduit's realtime mark misses the frame, as in conduit.
    const frame = Buffer.allocUnsafe(FRAME_BYTES);
    frame.writeDoubleBE(wallClock(), 0);
    for (const channel of channels) {
      if (channel.bufferedAmount() < REALTIME_HIGH_WATER_BYTES) channel.sendMessageBinary(frame);
    }
  };
  close = async () => {
    for (const pc of peers) pc.close();
  };
}

const cpuBefore = process.cpuUsage();
const secondBefore = secondNode?.pid ? usageOf(secondNode.pid) : undefined;
const start = performance.now();
for (let i = 0; i < frames; i++) {
  sendFrame();
  const due = start + ((i + 1) * 1000) / FPS;
  await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
}
const cpu = process.cpuUsage(cpuBefore);
const secondAfter = secondNode?.pid ? usageOf(secondNode.pid) : undefined;
const secondCpuMs = secondAfter && secondBefore ? secondAfter.cpuMs - secondBefore.cpuMs : 0;
const cpuPct = (100 * ((cpu.user + cpu.system) / 1000 + secondCpuMs)) / (performance.now() - start);
const rssMb = process.memoryUsage.rss() / 2 ** 20 + (secondAfter?.rssMb ?? 0);
await new Promise((r) => setTimeout(r, SETTLE_MS));

const results = await Promise.all(
  workers.map((worker) => {
    const result = next(worker, "result");
    tell(worker, { kind: "finish" });
    return result;
  }),
);
await close();
for (const cleanup of cleanups) cleanup();
const latencies = results
  .flatMap((r) => (r.kind === "result" ? r.latencies : []))
  .sort((a, b) => a - b);
const at = (q: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
const result: FanoutResult = {
  p50: at(0.5) ?? Number.NaN,
  p99: at(0.99) ?? Number.NaN,
  dropPct: 100 * (1 - latencies.length / (n * frames)),
  cpuPct,
  rssMb,
  rssMbIdle,
};
console.log(`result ${JSON.stringify(result)}`);
process.exit(0);
