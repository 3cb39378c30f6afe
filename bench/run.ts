// npm run bench [-- --quick] [-- --out=file.json]: each case runs conduit and its baselines in the same run,
// repeats, and reports medians. Writes bench/results/latest.json and prints a table.
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { conduitLatency, rawNdcLatency, socketIoLatency } from "./latency.js";

interface Row {
  case: string;
  system: string;
  metric: string;
  value: number;
  unit: string;
}

const quick = process.argv.includes("--quick");
const out = process.argv.find((a) => a.startsWith("--out="))?.slice(6);
const repeats = quick ? 1 : 3;
const frames = quick ? 45 : 300;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const median = (xs: number[]) => quantile(xs, 0.5);
const round = (x: number) => Math.round(x * 100) / 100;

const systems: [string, (size: number, n: number) => Promise<number[]>][] = [
  ["conduit:node-datachannel", (s, n) => conduitLatency("node-datachannel", s, n)],
  ["conduit:werift", (s, n) => conduitLatency("werift", s, n)],
  ["raw:node-datachannel", rawNdcLatency],
  ["socket.io", socketIoLatency],
];

const rows: Row[] = [];
for (const [name, size] of [["latency-50KB", 50_000]] as const) {
  for (const [system, run] of systems) {
    const p50s: number[] = [];
    const p99s: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const lat = await run(size, frames);
      p50s.push(quantile(lat, 0.5));
      p99s.push(quantile(lat, 0.99));
    }
    rows.push({ case: name, system, metric: "p50_ms", value: round(median(p50s)), unit: "ms" });
    rows.push({ case: name, system, metric: "p99_ms", value: round(median(p99s)), unit: "ms" });
    console.error(
      `${name} ${system}: p50 ${round(median(p50s))} ms, p99 ${round(median(p99s))} ms`,
    );
  }
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
writeFileSync(
  out ?? new URL("./results/latest.json", import.meta.url),
  `${JSON.stringify({ machine, quick, repeats, frames, rows }, null, 2)}\n`,
);
console.log(`| case | system | p50 ms | p99 ms |\n|---|---|---|---|`);
for (const r of rows.filter((x) => x.metric === "p50_ms")) {
  const p99 = rows.find((x) => x.case === r.case && x.system === r.system && x.metric === "p99_ms");
  console.log(`| ${r.case} | ${r.system} | ${r.value} | ${p99?.value} |`);
}
console.log(`\n${machine}${quick ? " (--quick)" : ""}`);
process.exit(0);
