// One or a few cells of the WAN matrix, for working on one of them:
// tsx bench/wan-cell.ts <profile> <system substring> [frames]   e.g. 25ms-2% "werift realtime" 300
import { createImpairedLink } from "../test/helpers/impaired-link.js";
import { GRACE_MS, PROFILES, WAN_SYSTEMS, wanRun } from "./wan.js";

const [profileName, systemPart = "", framesArg = "300"] = process.argv.slice(2);
const profile = PROFILES.find((p) => p.name === profileName);
if (!profile) throw new Error(`profile one of ${PROFILES.map((p) => p.name).join(", ")}`);
const link = await createImpairedLink({ delayMs: profile.delayMs, loss: 0 });
try {
  for (const [system, run] of WAN_SYSTEMS.filter(([s]) => s.includes(systemPart))) {
    const r = await wanRun(link, run, Number(framesArg), profile.loss, GRACE_MS);
    console.log(`${profile.name} ${system}: ${JSON.stringify(r)}`);
  }
} finally {
  await link.close();
}
