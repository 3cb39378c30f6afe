// The bench runs and writes valid rows; its numbers are not checked here (see bench/).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { browserUnavailable } from "../../bench/browser.js";
import { natsServerUnavailable } from "../../bench/fanout.js";
import { WAN_BULK_SYSTEMS, WAN_SYSTEMS } from "../../bench/wan.js";
import { burstUnavailable } from "../../bench/werift-burst.js";
import { IMPAIRED_LINK_NEEDS } from "../helpers/impaired-link.js";
import { Resources } from "../helpers/net.js";
import { exitCode, runTs } from "../helpers/process.js";
import { systemMissing } from "../helpers/system.js";

const res = new Resources();
afterEach(() => res.closeAll());

// --quick takes about 150 s alone on a 2-core machine; the full suite runs beside it.
it("npm run bench -- --quick runs every system and writes well-formed rows", {
  timeout: 420_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "conduit-bench-"));
  res.add(() => rmSync(dir, { recursive: true, force: true }));
  // A folder that does not exist yet: the bench makes it.
  const out = join(dir, "results", "latest.json");
  const run = runTs(res, "bench/run.ts", {}, ["--quick", `--out=${out}`]);
  // Past 400 s, fail with what the bench printed (where it was), not a bare timeout.
  const tooLong = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`bench still running after 400 s:\n${run.output()}`)),
      400_000,
    ).unref(),
  );
  expect(await Promise.race([exitCode(run), tooLong]), run.output()).toBe(0);
  const result = JSON.parse(readFileSync(out, "utf8")) as {
    rows: {
      case: string;
      system: string;
      metric: string;
      value: number;
      unit: string;
      direction?: string;
    }[];
  };
  const isWan = (r: { case: string }) => r.case.startsWith("wan-");
  const systems = new Set(result.rows.filter((r) => !isWan(r)).map((r) => r.system));
  expect([...systems].sort()).toEqual([
    "conduit:node-datachannel",
    "conduit:werift",
    "raw:node-datachannel",
    "raw:werift",
    "socket.io",
  ]);
  // The WAN matrix needs root (a namespace and TUN devices); without it, it is skipped.
  // --quick runs its 2 % loss profile, every system.
  const wanCase =
    systemMissing("the WAN matrix", IMPAIRED_LINK_NEEDS) === undefined
      ? ["wan-25ms-2%", "connect-wan-25ms"]
      : [];
  if (wanCase.length > 0) {
    expect(new Set(result.rows.filter(isWan).map((r) => r.system))).toEqual(
      new Set([...WAN_SYSTEMS, ...WAN_BULK_SYSTEMS].map(([system]) => system)),
    );
  }
  // So does the browser case, which needs Chromium too.
  const browserCase = browserUnavailable() === undefined ? ["browser-100KB"] : [];
  const clusterCase = natsServerUnavailable() === undefined ? ["fanout-2-processes-50KB"] : [];
  const burstCase = burstUnavailable() === undefined ? ["werift-burst-200KB"] : [];
  expect([...new Set(result.rows.map((r) => r.case))].sort()).toEqual(
    [
      "connect",
      "fanout-50KB",
      "latency-500KB",
      "latency-50KB",
      ...wanCase,
      ...browserCase,
      ...clusterCase,
      ...burstCase,
      "throughput-16KiB",
      "throughput-256KiB",
    ].sort(),
  );
  const units: Record<string, string> = {
    p50_ms: "ms",
    p99_ms: "ms",
    mb_per_s: "MB/s",
    delivered_pct: "%",
    within_100ms_pct: "%",
    goodput_mb_per_s: "MB/s",
    max_subscribers: "subscribers",
    cpu_pct: "%",
    rss_mb: "MB",
    cpu_pct_per_subscriber: "%",
    rss_mb_per_subscriber: "MB",
    receive_buffer_errors: "datagrams",
    retransmitted: "chunks",
    max_ms: "ms",
    received: "frames of 90",
    lost: "frames",
  };
  // Counts, and what a system that delivered nothing in time measures: on a loaded machine
  // (the full suite runs beside this) a fan-out step can miss its target, giving 0 subscribers.
  const counts = [
    "max_subscribers",
    "received",
    "delivered_pct",
    "within_100ms_pct",
    "goodput_mb_per_s",
    "receive_buffer_errors",
    "retransmitted",
    "lost",
  ];
  for (const row of result.rows) {
    expect(Object.keys(units)).toContain(row.metric);
    expect(row.unit).toBe(units[row.metric]);
    // A count of losses can be 0; everything else is a positive measurement.
    expect(
      Number.isFinite(row.value) && (counts.includes(row.metric) ? row.value >= 0 : row.value > 0),
      JSON.stringify(row),
    ).toBe(true);
    // Latency is measured both ways; other cases have no direction.
    expect(row.direction).toEqual(row.case.startsWith("latency-") ? expect.any(String) : undefined);
  }
  // Each latency cell (2 sizes × 5 systems, each way) says what share arrived, and its
  // p50 and p99 unless nothing did (werift's 500 KB frames, on a loaded machine).
  for (const direction of ["down", "up"]) {
    const cells = result.rows.filter((r) => r.direction === direction);
    const delivered = cells.filter((r) => r.metric === "delivered_pct");
    expect(delivered).toHaveLength(2 * 5);
    for (const cell of delivered) {
      const latencies = cells.filter(
        (r) => r.case === cell.case && r.system === cell.system && r.metric !== "delivered_pct",
      );
      const measured = cell.value > 0 || latencies.length > 0;
      expect(latencies.map((r) => r.metric)).toEqual(measured ? ["p50_ms", "p99_ms"] : []);
    }
  }
  // Fan-out is measured for conduit and for node-datachannel fanned out by hand.
  expect(new Set(result.rows.filter((r) => r.case === "fanout-50KB").map((r) => r.system))).toEqual(
    new Set(["conduit:node-datachannel", "raw:node-datachannel"]),
  );
});
