// Reconnecting for real: a server that restarts, and a network that drops for 5 s (an
// impaired link at 100 % loss). Subscriptions and client streams resume by themselves.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Server, ServerDescriptor, StreamManager } from "../../src/index.js";
import { createImpairedLink } from "../helpers/impaired-link.js";
import { connectClient, ENGINES, PASSWORD, Resources, startServer, until } from "../helpers/net.js";
import { numberedPusher, startResumeViewer } from "../helpers/resume-run.js";

const res = new Resources();
afterEach(() => res.closeAll());

describe.each(ENGINES)("reconnect (%s)", (engine) => {
  it("a restarted server: the client reconnects and its loops carry on", async () => {
    const reported = vi.spyOn(console, "error").mockImplementation(() => undefined);
    res.add(() => reported.mockRestore());
    const first = await startServer(res, engine);
    const port = first.server.port;
    first.streams.create("s");
    const { client, streams } = await connectClient(res, first.server, engine, {
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    });
    // An application's status listener that throws is reported, and stops nothing.
    client.on("status", () => {
      throw new Error("application bug");
    });
    const states: string[] = [];
    client.on("status", (s) => states.push(s.state));
    const received: number[] = [];
    const loop = (async () => {
      for await (const m of streams.subscribe("s")) {
        received.push((m as { n: number }).n);
        if ((m as { n: number }).n === 2) break;
      }
    })();
    await until(() => first.streams.get("s")?.subscriberCount === 1, "subscribed");
    await first.streams.get("s")?.push({ n: 1 });
    await until(() => received.length === 1, "first message");

    await first.server.stop();
    await until(() => states.includes("reconnecting"), "reconnecting");
    const stoppedAt = performance.now();
    // The same port, as a restarted process would have; the stream comes back a bit later.
    const server = new Server(
      new ServerDescriptor({
        host: "127.0.0.1",
        port,
        password: PASSWORD,
        engine,
        iceBindAddress: "127.0.0.1",
      }),
    );
    const again = new StreamManager({ owner: "server" });
    again.registerServerHandlers(server);
    await server.run();
    res.add(() => server.stop());
    const up = new Promise<unknown>((r) => again.onClientStream("up", (_id, d) => r(d)));
    const stream = again.create("s");
    await until(() => stream.subscriberCount === 1, "resubscribed", 15_000);
    console.log(
      `${engine}: server restart → resubscribed in ${Math.round(performance.now() - stoppedAt)} ms`,
    );
    await stream.push({ n: 2 });
    await loop;
    expect(received).toEqual([1, 2]);
    expect(states).toEqual(expect.arrayContaining(["reconnecting", "connected"]));
    expect(client.status.state).toBe("connected");
    expect(reported).toHaveBeenCalledWith(
      'conduit-rtc: a "status" listener threw:',
      expect.any(Error),
    );
    // Client streams work again too.
    await streams.pushToServer("up", { back: true });
    expect(await up).toEqual({ back: true });
  });

  it("close() while reconnecting ends the loops normally and stops trying", async () => {
    const { server, streams } = await startServer(res, engine);
    streams.create("s");
    const { client, streams: clientStreams } = await connectClient(res, server, engine, {
      reconnect: { initialDelayMs: 50, maxDelayMs: 100 },
    });
    const loop = (async () => {
      for await (const _ of clientStreams.subscribe("s"));
    })();
    await until(() => streams.get("s")?.subscriberCount === 1, "subscribed");
    await server.stop();
    await until(() => client.status.state === "reconnecting", "reconnecting");
    await client.close();
    await loop;
    expect(client.status.state).toBe("closed");
  });

  it("gives up after maxAttempts, failing the loops with the last error", async () => {
    const { server, streams } = await startServer(res, engine);
    streams.create("s");
    const { client, streams: clientStreams } = await connectClient(res, server, engine, {
      reconnect: { initialDelayMs: 20, maxDelayMs: 40, maxAttempts: 3 },
      connectTimeoutMs: 3000,
    });
    const attempts: number[] = [];
    client.on("status", (s) => s.state === "reconnecting" && attempts.push(s.attempt));
    const loop = (async () => {
      for await (const _ of clientStreams.subscribe("s"));
    })();
    await until(() => streams.get("s")?.subscriberCount === 1, "subscribed");
    await server.stop();
    await expect(loop).rejects.toMatchObject({ code: "CONNECTION_FAILED" });
    expect(attempts).toEqual([1, 2, 3]);
    expect(client.status.state).toBe("closed");
  });
});

describe("a network that drops for 5 s", () => {
  it.each(ENGINES)("%s: the client resumes; the reliable stream loses nothing", async (engine) => {
    const link = await createImpairedLink({ delayMs: 1, loss: 0 });
    res.add(() => link.close().then(() => undefined));
    // Heartbeats of 0.5 s with 1 s to answer: a dead link is noticed within 1.5 s.
    const { server, streams } = await startServer(res, engine, {
      host: link.hostAddress,
      iceBindAddress: link.hostAddress,
      pingIntervalMs: 500,
      pingTimeoutMs: 1000,
    });
    // Retains 600 messages (20 s at 30 fps) for a client that comes back.
    const stream = streams.create("frames", { delivery: "reliable", bufferSize: 600 });
    const ups: number[] = [];
    streams.onClientStream("up", (_id, d) => ups.push((d as { n: number }).n));
    const { statuses, result } = startResumeViewer(res, link, server, engine);
    await until(() => stream.subscriberCount === 1, "viewer subscribed", 15_000);

    const pusher = numberedPusher(stream);
    await pusher.pushFor(2000);
    // The server notices the vanished client (no FIN: its network is gone) by heartbeat.
    let detectedAfter: number | undefined;
    let heldOnDetection = -1;
    let outage = false;
    let detectedInOutage = false;
    server.on("clientDisconnected", () => {
      detectedAfter ??= performance.now() - droppedAt;
      detectedInOutage ||= outage;
      heldOnDetection = stream.subscriberCount + server.clientCount;
    });
    outage = true;
    link.setLoss(1);
    const droppedAt = performance.now();
    await pusher.pushFor(5000);
    outage = false;
    link.setLoss(0);
    const restoredAt = performance.now();
    await until(() => stream.subscriberCount === 1, "viewer back", 20_000);
    const resumedAfter = performance.now() - restoredAt;
    await pusher.pushFor(1000);
    await stream.close();
    const { seqs, lost } = await result;
    console.log(
      `${engine}: 5 s outage → resumed ${Math.round(resumedAfter)} ms after the link came back ` +
        `(${Math.round(restoredAt - droppedAt)} ms down); ${seqs.length}/${pusher.sent()} received, lost ${lost}; ` +
        `client pushes received ${ups.length}; ${statuses.join(", ")}`,
    );
    expect(seqs).toEqual(Array.from({ length: pusher.sent() }, (_, i) => i + 1));
    expect(lost).toBe(0);
    expect(statuses.some((l) => l.startsWith("status reconnecting"))).toBe(true);
    // Detected by the heartbeat (0.5 s + 1 s) while the client was still unreachable, not when
    // it came back, with everything it held released.
    console.log(`${engine}: vanished client detected after ${Math.round(detectedAfter ?? -1)} ms`);
    expect(detectedInOutage).toBe(true);
    expect(heldOnDetection).toBe(0);
    // The reliable client stream too: every push arrived, in order, once, though some were
    // sent into the dead link before the client noticed (they are resent).
    expect(ups).toEqual(Array.from({ length: ups.length }, (_, i) => i + 1));
    expect(ups.length).toBeGreaterThan(50);
  });
});
