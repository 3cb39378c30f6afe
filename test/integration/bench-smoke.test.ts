// The bench runs and writes valid rows; its numbers are not checked here (see bench/).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { impairedLinkUnavailable } from "../helpers/impaired-link.js";
import { Resources } from "../helpers/net.js";
import { exitCode, runTs } from "../helpers/process.js";

const res = new Resources();
afterEach(() => res.closeAll());

// --quick takes about 30 s alone; the full suite runs beside it.
it("npm run bench -- --quick runs every system and writes well-formed rows", {
  timeout: 180_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "conduit-bench-"));
  res.add(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, "latest.json");
  const run = runTs(res, "bench/run.ts", {}, ["--quick", `--out=${out}`]);
  expect(await exitCode(run), run.output()).toBe(0);
  const result = JSON.parse(readFileSync(out, "utf8")) as {
    rows: { case: string; system: string; metric: string; value: number; unit: string }[];
  };
  const systems = new Set(result.rows.map((r) => r.system));
  expect([...systems].sort()).toEqual([
    "conduit:node-datachannel",
    "conduit:werift",
    "raw:node-datachannel",
    "raw:werift",
    "socket.io",
  ]);
  // The loss case needs root (a namespace and TUN devices); without it, it is skipped.
  const lossCase = impairedLinkUnavailable() === undefined ? ["loss-latency-50KB"] : [];
  expect([...new Set(result.rows.map((r) => r.case))].sort()).toEqual(
    [
      "connect",
      "latency-500KB",
      "latency-50KB",
      ...lossCase,
      "throughput-16KiB",
      "throughput-256KiB",
    ].sort(),
  );
  const units: Record<string, string> = {
    p50_ms: "ms",
    p99_ms: "ms",
    mb_per_s: "MB/s",
    lost_pct: "%",
  };
  for (const row of result.rows) {
    expect(Object.keys(units)).toContain(row.metric);
    expect(row.unit).toBe(units[row.metric]);
    // A share lost can be 0; everything else is a positive measurement.
    expect(
      Number.isFinite(row.value) && (row.metric === "lost_pct" ? row.value >= 0 : row.value > 0),
    ).toBe(true);
  }
});
