// npm run bench [-- --quick] [-- --out=file.json]: each case runs conduit and its baselines in the same run,
// repeats, and reports medians. Prints each row of the table as it is measured, and rewrites
// bench/results/latest.json (or --out) after each, so a run cut short keeps what it measured.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { ConnectTimings } from "../src/index.js";
import { createImpairedLink, IMPAIRED_LINK_NEEDS } from "../test/helpers/impaired-link.js";
import { Resources } from "../test/helpers/net.js";
import { systemMissing } from "../test/helpers/system.js";
import { browserLatencies, browserUnavailable } from "./browser.js";
import { connectTimes } from "./connect.js";
import { maxSubscribers, natsServerUnavailable } from "./fanout.js";
import {
  conduitLatency,
  type Direction,
  rawNdcLatency,
  rawWeriftLatency,
  socketIoLatency,
} from "./latency.js";
import { conduitThroughput, rawNdcThroughput, socketIoThroughput } from "./throughput.js";
import { videoRun, videoUnavailable } from "./video.js";
import {
  BROWSER_WAN_BULK_SYSTEMS,
  BROWSER_WAN_SYSTEMS,
  GRACE_MS,
  PROFILES,
  WAN_BULK_SYSTEMS,
  WAN_SYSTEMS,
  wanBulkRun,
  wanRun,
} from "./wan.js";
import { wanConnectTimings } from "./wan-connect.js";
import { burstUnavailable, weriftBurst } from "./werift-burst.js";

interface Row {
  case: string;
  system: string;
  metric: string;
  value: number;
  unit: string;
  /** Latency cases: server → client ("down") or client → server ("up"). */
  direction?: Direction;
}

const quick = process.argv.includes("--quick");
const out = process.argv.find((a) => a.startsWith("--out="))?.slice(6);
const repeats = quick ? 1 : 3;
const frames = quick ? 45 : 150;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const median = (xs: number[]) => quantile(xs, 0.5);
const round = (x: number) => Math.round(x * 100) / 100;

const systems: [string, (size: number, n: number, d: Direction) => Promise<number[]>][] = [
  ["conduit:node-datachannel", (s, n, d) => conduitLatency("node-datachannel", s, n, d)],
  ["conduit:werift", (s, n, d) => conduitLatency("werift", s, n, d)],
  ["raw:node-datachannel", rawNdcLatency],
  ["raw:werift", rawWeriftLatency],
  ["socket.io", socketIoLatency],
];

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const resultsFile = out ?? fileURLToPath(new URL("./results/latest.json", import.meta.url));
mkdirSync(dirname(resultsFile), { recursive: true });
const rows: Row[] = [];

/** Adds a row: printed at once, and saved with every row so far. */
function record(row: Row): void {
  rows.push(row);
  const name = row.direction ? `${row.case} ${row.direction}` : row.case;
  console.log(`| ${name} | ${row.system} | ${row.metric} | ${row.value} ${row.unit} |`);
  writeFileSync(
    resultsFile,
    `${JSON.stringify({ machine, quick, repeats, frames, rows }, null, 2)}\n`,
  );
}

console.log(`${machine}${quick ? " (--quick)" : ""}\n`);
console.log("| case | system | metric | value |\n|---|---|---|---|");
for (const [name, size] of [
  ["latency-50KB", 50_000],
  ["latency-500KB", 500_000],
] as const) {
  for (const direction of ["down", "up"] as const) {
    for (const [system, run] of systems) {
      const p50s: number[] = [];
      const p99s: number[] = [];
      const deliveredPcts: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const lat = await run(size, frames, direction);
        deliveredPcts.push((100 * lat.length) / frames);
        // A run in which nothing arrived in time has no latency to report, only its share.
        if (lat.length === 0) continue;
        p50s.push(quantile(lat, 0.5));
        p99s.push(quantile(lat, 0.99));
      }
      for (const [metric, values, unit] of [
        ["delivered_pct", deliveredPcts, "%"],
        ["p50_ms", p50s, "ms"],
        ["p99_ms", p99s, "ms"],
      ] as const) {
        if (values.length === 0) continue;
        record({ case: name, system, metric, value: round(median(values)), unit, direction });
      }
      console.error(
        `${name} ${direction} ${system}: ${round(median(deliveredPcts))} % delivered, p50 ${round(median(p50s))} ms, p99 ${round(median(p99s))} ms`,
      );
    }
  }
}

const wanUnavailable = systemMissing("the WAN matrix", IMPAIRED_LINK_NEEDS);
if (wanUnavailable) {
  console.error(`wan matrix skipped: ${wanUnavailable}`);
} else {
  // One run per cell (the matrix is long); --quick: the 2 % profile only, 1 s of frames and
  // 2 s for what is in flight.
  const wanFrames = quick ? 30 : 300;
  for (const profile of quick ? PROFILES.filter((p) => p.name === "25ms-2%") : PROFILES) {
    const link = await createImpairedLink({ delayMs: profile.delayMs, loss: 0 });
    const name = `wan-${profile.name}`;
    // Chromium's cells have stalled in teardown now and then (bench/wan-browser.ts): they are
    // left out of --quick, which CI runs, and a failed cell is reported, not fatal.
    for (const [system, run] of quick ? WAN_SYSTEMS : [...WAN_SYSTEMS, ...BROWSER_WAN_SYSTEMS]) {
      let r: Awaited<ReturnType<typeof wanRun>>;
      try {
        r = await wanRun(link, run, wanFrames, profile.loss, quick ? 2_000 : GRACE_MS);
      } catch (err) {
        console.error(`${name} ${system}: failed: ${(err as Error).message}`);
        continue;
      }
      const at = (metric: string, value: number, unit: string) => {
        if (Number.isFinite(value))
          record({ case: name, system, metric, value: round(value), unit });
      };
      at("delivered_pct", r.deliveredPct, "%");
      at("p50_ms", r.p50, "ms");
      at("p99_ms", r.p99, "ms");
      at("within_100ms_pct", r.within100Pct, "%");
      at("goodput_mb_per_s", r.goodputMBps, "MB/s");
      console.error(
        `${name} ${system}: delivered ${round(r.deliveredPct)} %, p50 ${round(r.p50)} ms, ` +
          `p99 ${round(r.p99)} ms, within 100 ms ${round(r.within100Pct)} %, ` +
          `${round(r.goodputMBps)} MB/s${r.congestionControl ? ` (ss: ${r.congestionControl})` : ""}`,
      );
    }
    const bulkSystems = quick
      ? WAN_BULK_SYSTEMS
      : [...WAN_BULK_SYSTEMS, ...BROWSER_WAN_BULK_SYSTEMS];
    for (const [system, run] of bulkSystems) {
      try {
        const r = await wanBulkRun(link, run, quick ? 3_000 : 10_000, profile.loss);
        if (!r.intact) throw new Error("frames arrived out of order or damaged");
        record({
          case: name,
          system,
          metric: "goodput_mb_per_s",
          value: round(r.goodputMBps),
          unit: "MB/s",
        });
        console.error(`${name} ${system}: ${round(r.goodputMBps)} MB/s`);
      } catch (err) {
        console.error(`${name} ${system}: failed: ${(err as Error).message}`);
      }
    }
    await link.close();
  }
}

const throughputSystems: [string, (size: number, n: number) => Promise<number>][] = [
  ["conduit:node-datachannel", (s, n) => conduitThroughput("node-datachannel", s, n)],
  ["conduit:werift", (s, n) => conduitThroughput("werift", s, n)],
  ["raw:node-datachannel", rawNdcThroughput],
  ["socket.io", socketIoThroughput],
];
for (const [name, size, megabytes] of [
  ["throughput-16KiB", 16 * 1024, quick ? 8 : 64],
  ["throughput-256KiB", 256 * 1024, quick ? 8 : 64],
] as const) {
  for (const [system, run] of throughputSystems) {
    // werift moves ~10 MB/s: give it a tenth of the data so a run stays short.
    const bytes = (system === "conduit:werift" ? megabytes / 8 : megabytes) * 1e6;
    const count = Math.max(8, Math.round(bytes / size));
    const results: number[] = [];
    for (let r = 0; r < repeats; r++) results.push(await run(size, count));
    record({
      case: name,
      system,
      metric: "mb_per_s",
      value: round(median(results)),
      unit: "MB/s",
    });
    console.error(`${name} ${system}: ${round(median(results))} MB/s`);
  }
}

// The server and its viewers share this machine's 2 cores: the viewers' work counts against it.
// fanout-2-processes-50KB: the same with two conduit server processes joined by NATS
// (nats-server needed), half the viewers on each; CPU and RSS are the two processes' sum.
const fanoutSteps = quick ? [2, 4] : [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 120, 140];
const natsSkip = natsServerUnavailable();
if (natsSkip) console.error(`fanout-2-processes-50KB skipped: ${natsSkip}`);
for (const [kind, system, name] of [
  ["conduit", "conduit:node-datachannel", "fanout-50KB"],
  ["raw", "raw:node-datachannel", "fanout-50KB"],
  ...(natsSkip
    ? []
    : [["cluster", "conduit:node-datachannel", "fanout-2-processes-50KB"] as const]),
] as const) {
  const best = await maxSubscribers(kind, fanoutSteps, quick ? 30 : 90, (viewers, r) =>
    console.error(
      `${name} ${system} ${viewers} viewers: p50 ${round(r.p50)} ms, p99 ${round(r.p99)} ms, ` +
        `dropped ${round(r.dropPct)} %, server cpu ${round(r.cpuPct)} %, rss ${round(r.rssMb)} MB`,
    ),
  );
  const at = (metric: string, value: number, unit: string) =>
    record({ case: name, system, metric, value: round(value), unit });
  at("max_subscribers", best?.viewers ?? 0, "subscribers");
  if (best) {
    const { run, viewers } = best;
    at("p99_ms", run.p99, "ms");
    at("cpu_pct", run.cpuPct, "%");
    at("rss_mb", run.rssMb, "MB");
    at("cpu_pct_per_subscriber", run.cpuPct / viewers, "%");
    at("rss_mb_per_subscriber", (run.rssMb - run.rssMbIdle) / viewers, "MB");
  }
}

for (const engine of ["node-datachannel", "werift"] as const) {
  const times = await connectTimes(engine, quick ? 3 : 20);
  const system = `conduit:${engine}`;
  record({
    case: "connect",
    system,
    metric: "p50_ms",
    value: round(quantile(times, 0.5)),
    unit: "ms",
  });
  record({
    case: "connect",
    system,
    metric: "p99_ms",
    value: round(quantile(times, 0.99)),
    unit: "ms",
  });
  console.error(`connect ${system}: p50 ${round(quantile(times, 0.5))} ms`);
}

// connect() across the link at 25 ms each way (50 ms round trip), no loss: where the time goes.
if (!wanUnavailable) {
  const link = await createImpairedLink({ delayMs: 25, loss: 0 });
  for (const engine of ["node-datachannel", "werift"] as const) {
    const system = `conduit:${engine}`;
    let timings: ConnectTimings[];
    try {
      timings = await wanConnectTimings(link, engine, quick ? 3 : 20);
    } catch (err) {
      console.error(`connect-wan-25ms ${system}: failed: ${(err as Error).message}`);
      continue;
    }
    const totals = timings.map((t) => t.totalMs);
    for (const [metric, q] of [
      ["p50_ms", 0.5],
      ["p99_ms", 0.99],
    ] as const) {
      record({
        case: "connect-wan-25ms",
        system,
        metric,
        value: round(quantile(totals, q)),
        unit: "ms",
      });
    }
    const phaseMedians = [...new Set(timings.flatMap((t) => t.phases.map((p) => p.phase)))].map(
      (phase) => {
        const ms = timings.map((t) => t.phases.find((p) => p.phase === phase)?.ms ?? 0);
        return `${phase} ${round(quantile(ms, 0.5))}`;
      },
    );
    console.error(
      `connect-wan-25ms ${system}: p50 ${round(quantile(totals, 0.5))} ms, ` +
        `p99 ${round(quantile(totals, 0.99))} ms; phase medians: ${phaseMedians.join(", ")}`,
    );
  }
  await link.close();
}

const browserSkip = browserUnavailable();
if (browserSkip) {
  console.error(`browser-100KB skipped: ${browserSkip}`);
} else {
  const runs: Record<string, number[]>[] = [];
  for (let r = 0; r < repeats; r++) runs.push(await browserLatencies(frames));
  for (const system of Object.keys(runs[0] ?? {})) {
    for (const [metric, q] of [
      ["p50_ms", 0.5],
      ["p99_ms", 0.99],
    ] as const) {
      const value = round(median(runs.map((run) => quantile(run[system] ?? [], q))));
      record({ case: "browser-100KB", system, metric, value, unit: "ms" });
    }
    console.error(
      `browser-100KB ${system}: ${rows
        .filter((r) => r.case === "browser-100KB" && r.system === system)
        .map((r) => `${r.metric} ${r.value}`)
        .join(", ")}`,
    );
  }
}

// Encoded video to Chromium, on the namespace link with no impairment and on the lossy one.
// Left out of --quick (Chromium cells; see the WAN matrix).
const videoSkip = quick ? "--quick" : (browserSkip ?? videoUnavailable() ?? wanUnavailable);
if (videoSkip) {
  console.error(`video-30fps skipped: ${videoSkip}`);
} else {
  for (const profile of [
    { name: "ns", delayMs: 0, loss: 0 },
    { name: "25ms-2%", delayMs: 25, loss: 0.02 },
  ]) {
    const res = new Resources();
    try {
      const link = await createImpairedLink({ delayMs: profile.delayMs, loss: profile.loss });
      res.add(() => link.close().then(() => undefined));
      const r = await videoRun(res, link, 10);
      const at = (metric: string, value: number | undefined, unit: string) => {
        if (value !== undefined)
          record({
            case: `video-30fps-${profile.name}`,
            system: "conduit:node-datachannel→chromium",
            metric,
            value: round(value),
            unit,
          });
      };
      at("p50_ms", r.p50, "ms");
      at("p99_ms", r.p99, "ms");
      at("decoded_fps", r.fps, "fps");
      at("skipped", r.skipped, `frames of ${r.sent}`);
      console.error(`video-30fps-${profile.name}: ${JSON.stringify(r)}`);
    } catch (err) {
      console.error(`video-30fps-${profile.name} failed: ${(err as Error).message}`);
    } finally {
      await res.closeAll();
    }
  }
}

const burstSkip = burstUnavailable();
if (burstSkip) {
  console.error(`werift-burst-200KB skipped: ${burstSkip}`);
} else {
  for (const mode of ["raw", "conduit"] as const) {
    const system = `${mode}:werift`;
    const result = await weriftBurst(mode);
    const at = (metric: string, value: number | undefined, unit: string) => {
      if (value !== undefined)
        record({ case: "werift-burst-200KB", system, metric, value: round(value), unit });
    };
    at("receive_buffer_errors", result.receiveBufferErrors, "datagrams");
    at("retransmitted", result.retransmitted, "chunks");
    at("p50_ms", result.p50, "ms");
    at("max_ms", result.max, "ms");
    at("received", result.received, "frames of 90");
    at("lost", result.lost, "frames");
  }
}

process.exit(0);
