// Every example of the streaming guide, run as a user would run it.
import { afterEach, describe, expect, it } from "vitest";
import { requireNatsServer } from "../helpers/nats.js";
import { Resources } from "../helpers/net.js";
import { exitCode, lineMatching, runTs } from "../helpers/process.js";

const res = new Resources();
afterEach(() => res.closeAll());

describe("guide examples", () => {
  it("live dashboard: the server streams system metrics, the client prints them", async () => {
    const server = runTs(res, "examples/dashboard-server.ts", { PORT: "0", HOST: "127.0.0.1" });
    const [, port] = await lineMatching(server, /listening on port (\d+)/);
    const client = runTs(res, "examples/dashboard-client.ts", {
      PORT: port as string,
      HOST: "127.0.0.1",
    });
    await lineMatching(client, /Monitoring system metrics/);
    const [line] = await lineMatching(client, /^CPU: [\d.]+% \| Memory: [\d.]+% \| Disk: [\d.]+%$/);
    expect(line).toMatch(/CPU/);
  });

  it("the dashboard client gets a clear error for a wrong password", async () => {
    const server = runTs(res, "examples/dashboard-server.ts", { PORT: "0", HOST: "127.0.0.1" });
    const [, port] = await lineMatching(server, /listening on port (\d+)/);
    const client = runTs(res, "examples/dashboard-client.ts", {
      PORT: port as string,
      HOST: "127.0.0.1",
      CONDUIT_PASSWORD: "wrong",
    });
    expect(await exitCode(client)).not.toBe(0);
    expect(client.output()).toMatch(/AuthenticationError: wrong password/);
  });

  it("video frames: a client pushes 30 fps 100 KB frames and the server reports the rate", async () => {
    const run = runTs(res, "examples/video-frames.ts", { DURATION: "2" });
    expect(await exitCode(run), run.output()).toBe(0);
    const rates = [...run.output().matchAll(/server received (\d+) fps/g)].map((m) => Number(m[1]));
    expect(rates.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...rates)).toBeGreaterThan(0);
    expect(run.output()).toMatch(/pushed \d+ frames/);
  });

  it("stream lifecycle and info: callbacks, counts, listing, close", async () => {
    const run = runTs(res, "examples/stream-lifecycle.ts");
    expect(await exitCode(run), run.output()).toBe(0);
    const out = run.output();
    expect(out).toMatch(/New subscriber: [0-9a-f-]{36}/);
    expect(out).toMatch(/Sent to 1 subscribers/);
    expect(out).toMatch(
      /Name: my_stream\nOwner: server\nMessages sent: 1\nSubscribers: 1\nActive: true/,
    );
    expect(out).toMatch(/my_stream: 1 subscribers/);
    expect(out).toMatch(/Lost subscriber: [0-9a-f-]{36}/);
    expect(out).toMatch(/client got \{ value: 42 \}/);
    expect(out).toMatch(/client loop ended: stream closed/);
  });

  it("cluster: nats-server, three nodes and viewers on each, from one command", async () => {
    requireNatsServer();
    const run = runTs(res, "examples/cluster/run.ts", { DURATION: "2", CLIENTS: "3" });
    expect(await exitCode(run), run.output()).toBe(0);
    // Each node's viewer gets the stream pushed on n1, through NATS for n2 and n3.
    const last = run.output().match(/\[2s\] (.*)/)?.[1] ?? "";
    for (const node of ["n1", "n2", "n3"]) {
      expect(last).toMatch(new RegExp(`${node}: 1 viewers, [1-9]\\d* fps each`));
    }
  });
});
