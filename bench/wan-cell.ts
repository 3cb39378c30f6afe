// One or a few cells of the WAN matrix (Chromium's too), for working on one of them:
// tsx bench/wan-cell.ts <profile> <system substring> [frames]   e.g. 25ms-2% "werift realtime" 300
// Bulk cells run 10 s (e.g. 25ms-0% "reliable, bulk").
import { createImpairedLink } from "../test/helpers/impaired-link.js";
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

const BULK_MS = 10_000;

const [profileName, systemPart = "", framesArg = "300"] = process.argv.slice(2);
const profile = PROFILES.find((p) => p.name === profileName);
if (!profile) throw new Error(`profile one of ${PROFILES.map((p) => p.name).join(", ")}`);
const link = await createImpairedLink({ delayMs: profile.delayMs, loss: 0 });
try {
  const systems = [...WAN_SYSTEMS, ...BROWSER_WAN_SYSTEMS];
  for (const [system, run] of systems.filter(([s]) => s.includes(systemPart))) {
    const r = await wanRun(link, run, Number(framesArg), profile.loss, GRACE_MS);
    console.log(`${profile.name} ${system}: ${JSON.stringify(r)}`);
  }
  const bulk = [...WAN_BULK_SYSTEMS, ...BROWSER_WAN_BULK_SYSTEMS];
  for (const [system, run] of bulk.filter(([s]) => s.includes(systemPart))) {
    const r = await wanBulkRun(link, run, BULK_MS, profile.loss);
    console.log(`${profile.name} ${system}: ${JSON.stringify(r)}`);
  }
} finally {
  await link.close();
}
