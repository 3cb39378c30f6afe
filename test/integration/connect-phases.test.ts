// connect() reports where its time went, phase by phase, in Client.connectStats() and the debug
// log; and a setup whose DTLS handshake stalls after ICE is started again instead of waiting
// for OpenSSL's 1 s retransmission.
import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import type { ConnectTimings } from "../../src/index.js";
import { logged } from "../helpers/debug-log.js";
import { childEnv, connectClient, ENGINES, Resources, startServer } from "../helpers/net.js";
import { createNamespace, requireRoot } from "../helpers/netns.js";
import { lineMatching, runTs } from "../helpers/process.js";

const res = new Resources();
afterEach(() => res.closeAll());

const WEBRTC_PHASES = ["signaling", "hello", "offer-answer", "ice", "dtls", "sctp", "channels"];
/** node-datachannel does not tell DTLS apart from SCTP: its DTLS time is counted in sctp. */
const NDC_PHASES = WEBRTC_PHASES.filter((p) => p !== "dtls");
const phasesOf = (engine: string) => (engine === "werift" ? WEBRTC_PHASES : NDC_PHASES);

function expectConsistent(t: ConnectTimings | undefined): asserts t is ConnectTimings {
  expect(t).toBeDefined();
  if (!t) return;
  for (const { ms } of t.phases) expect(ms).toBeGreaterThanOrEqual(0);
  const sum = t.phases.reduce((total, { ms }) => total + ms, 0);
  // Each figure is rounded to 0.1 ms.
  expect(Math.abs(sum - t.totalMs)).toBeLessThan(0.05 * (t.phases.length + 1));
}

describe("connect phases", () => {
  for (const engine of ENGINES) {
    it(`${engine}: every phase of a WebRTC connect is reported, in order`, async () => {
      const { server } = await startServer(res, engine);
      let timings: ConnectTimings | undefined;
      const lines = await logged("conduit:client", async () => {
        const { client } = await connectClient(res, server, engine);
        timings = client.connectStats();
      });
      expectConsistent(timings);
      expect(timings.link).toBe("webrtc");
      // A setup that failed and was tried again shows as "retries" before the last one's steps.
      const retried = timings.attempts > 1;
      const phases = phasesOf(engine);
      expect(timings.phases.map((p) => p.phase)).toEqual(
        retried ? [...phases.slice(0, 2), "retries", ...phases.slice(2)] : phases,
      );
      const line = lines.find((l) => l.includes("link open in"));
      expect(line, lines.join("\n")).toBeDefined();
      for (const phase of phases) expect(line).toContain(`${phase} `);
    });
  }

  it("the relay reports its own setup", async () => {
    const { server } = await startServer(res, "node-datachannel");
    const { client } = await connectClient(res, server, "node-datachannel", { webrtc: false });
    const timings = client.connectStats();
    expectConsistent(timings);
    expect(timings.link).toBe("relay");
    expect(timings.attempts).toBe(0);
    expect(timings.phases.map((p) => p.phase)).toEqual(["signaling", "hello", "relay"]);
  });

  it("a link restart reports the restart and the new link's steps", async () => {
    const { server } = await startServer(res, "node-datachannel");
    const { client } = await connectClient(res, server, "node-datachannel");
    const first = client.connectStats();
    const restarted = new Promise<void>((resolve) =>
      client.on("status", (s) => {
        if (s.state === "connected") resolve();
      }),
    );
    // The link fails while signaling stays up: the client sets up a new one in the session.
    const internals = client as unknown as {
      keeper: { connection: { link: { close(r: string): void } } };
    };
    internals.keeper.connection.link.close("test breaks the link");
    await restarted;
    const timings = client.connectStats();
    expect(timings).not.toBe(first);
    expectConsistent(timings);
    expect(timings.phases.map((p) => p.phase).filter((p) => p !== "retries")).toEqual([
      "restart",
      ...NDC_PHASES.slice(2),
    ]);
  });
});

describe("a stalled DTLS handshake", () => {
  it("is started again at once, not after DTLS's 1 s retransmission (node-datachannel)", async () => {
    requireRoot();
    const ns = createNamespace();
    res.add(() => ns.close());
    // Inside the namespace, drop the client's first DTLS ClientHello (UDP payload: record type
    // 22, handshake type 1 at byte 13): the first setup stalls after ICE as a lost flight does.
    const rule = [
      "OUTPUT",
      "-p",
      "udp",
      "-m",
      "u32",
      "--u32",
      "0>>22&0x3C@8>>24=0x16&&0>>22&0x3C@21>>24=0x01",
      "-m",
      "statistic",
      "--mode",
      "nth",
      "--every",
      "1000000",
      "--packet",
      "0",
      "-j",
      "DROP",
    ];
    execFileSync("ip", ["netns", "exec", ns.name, "iptables", "-A", ...rule]);
    const { server } = await startServer(res, "node-datachannel", {
      host: ns.hostAddress,
      iceBindAddress: ns.hostAddress,
    });
    const client = runTs(
      res,
      "test/helpers/phases-client.ts",
      childEnv(ns.hostAddress, server.port, "node-datachannel"),
      [],
      ns.name,
    );
    const [, json] = await lineMatching(client, /^(?:timings (.*)|error .*)$/);
    expect(json, client.output()).toBeDefined();
    const timings = JSON.parse(json as string) as ConnectTimings;
    const dropped = execFileSync("ip", [
      "netns",
      "exec",
      ns.name,
      "iptables",
      "-L",
      "OUTPUT",
      "-v",
      "-x",
      "-n",
    ])
      .toString()
      .split("\n")
      .find((l) => l.includes("DROP"));
    expect(Number(dropped?.trim().split(/\s+/)[0])).toBe(1);
    // The first attempt stalled on the dropped flight and a later one opened (a loaded machine
    // may stall the second past its allowance too: how many is the CPU's, not the rule's).
    expect(timings.attempts).toBeGreaterThanOrEqual(2);
    expect(timings.phases.map((p) => p.phase)).toEqual([
      "signaling",
      "hello",
      "retries",
      ...NDC_PHASES.slice(2),
    ]);
  });
});
