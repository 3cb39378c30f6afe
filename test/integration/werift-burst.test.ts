// Bursts on loopback lose nothing to a full UDP receive buffer with the werift patch; without it
// (the kernel's ~208 KB default) datagrams were dropped silently and retransmitted, and a lost
// retransmission stalled the association for a retransmission timeout (1 s and more).
// Runs in a network namespace of its own, so the kernel's UDP counters count only this.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Resources } from "../helpers/net.js";
import { ip } from "../helpers/netns.js";
import { exitCode, lineMatching, runTs } from "../helpers/process.js";

const skip =
  process.getuid?.() !== 0
    ? "needs root to create a network namespace"
    : (() => {
        try {
          execFileSync("ip", ["-V"], { stdio: "pipe" });
          return undefined;
        } catch {
          return "needs iproute2: apt-get install iproute2";
        }
      })();
if (skip) console.log(`werift burst tests skipped: ${skip}`);

describe.skipIf(skip !== undefined)("werift bursts on loopback", () => {
  const res = new Resources();
  const ns = `cdb${process.pid % 100000}`;
  beforeAll(() => {
    ip("netns", "add", ns);
    ip("-n", ns, "link", "set", "lo", "up");
  });
  afterAll(async () => {
    await res.closeAll();
    ip("netns", "del", ns);
  });

  async function run(mode: "raw" | "conduit") {
    const child = runTs(res, "test/helpers/werift-burst.ts", { MODE: mode }, [], ns);
    const [, json] = await lineMatching(child, /^result (.*)$/);
    expect(await exitCode(child)).toBe(0);
    const result = JSON.parse(json as string);
    console.log(`${mode}:`, json);
    return result;
  }

  it("200 KB frames as 13 × 16 KiB messages at 30 fps: nothing dropped, nothing resent", async () => {
    expect(await run("raw")).toMatchObject({ receiveBufferErrors: 0, retransmitted: 0 });
  });

  it("a realtime stream of 30 fps × 200 KB frames through conduit loses nothing", async () => {
    expect(await run("conduit")).toMatchObject({ receiveBufferErrors: 0, lost: 0, received: 90 });
  });
});
