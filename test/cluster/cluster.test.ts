// Several server processes joined by a real nats-server: streams on any node are listed and
// subscribable everywhere, client streams reach the node with the handler, a node that dies
// leaves the list and its clients move to another node, and a NATS restart is waited out.
import { afterEach, describe, expect, it } from "vitest";
import { CLUSTER_NODE_TIMEOUT_MS } from "../../src/core/defaults.js";
import {
  Client,
  ClientDescriptor,
  Server,
  ServerDescriptor,
  StreamManager,
} from "../../src/index.js";
import { type Nats, startNats } from "../helpers/nats.js";
import { connectClient, PASSWORD, Resources, until } from "../helpers/net.js";
import { lineMatching, runTs } from "../helpers/process.js";

const ENGINE = "node-datachannel";
const res = new Resources();
afterEach(() => res.closeAll());

async function startNode(nats: Nats, node: string) {
  const server = new Server(
    new ServerDescriptor({
      host: "127.0.0.1",
      port: 0,
      password: PASSWORD,
      engine: ENGINE,
      iceBindAddress: "127.0.0.1",
      cluster: { natsUrl: nats.url, node },
    }),
  );
  const streams = new StreamManager({ owner: node });
  streams.registerServerHandlers(server);
  await server.run();
  res.add(() => server.stop());
  return { server, streams };
}

/** Collects what arrives on a subscription, in the background. */
function collect(streams: StreamManager, name: string) {
  const got: { n: number; node?: string }[] = [];
  const subscription = streams.subscribe(name, { wait: true });
  const done = (async () => {
    for await (const m of subscription) got.push(m as { n: number; node?: string });
  })();
  done.catch(() => undefined);
  return { got, subscription, done };
}

describe("cluster on NATS", () => {
  it("a client on node A gets a stream pushed on node B; lists and counts span the cluster", async () => {
    const nats = await startNats(res);
    const a = await startNode(nats, "a");
    const b = await startNode(nats, "b");
    const video = b.streams.create("video", { delivery: "reliable" });
    a.streams.create("local-to-a");
    const { streams: viewer } = await connectClient(res, a.server, ENGINE);
    await until(async () => (await viewer.listServerStreams()).length === 2, "cluster-wide list");
    expect((await viewer.listServerStreams()).map((s) => [s.name, s.owner]).sort()).toEqual([
      ["local-to-a", "a"],
      ["video", "b"],
    ]);
    // B hears of A's stream in its own time: A's viewer seeing both says nothing of B.
    await until(() => b.streams.listStreams().length === 2, "B's list");
    expect(
      b.streams
        .listStreams()
        .map((s) => s.name)
        .sort(),
    ).toEqual(["local-to-a", "video"]);

    const { got } = collect(viewer, "video");
    // B learns that A mirrors "video" (A says so at once): then a push counts A's viewer.
    let n = 0;
    await until(async () => (await video.push({ n: ++n })) === 1, "B counts A's subscriber");
    const counted = n;
    for (let i = 0; i < 20; i++) await video.push({ n: ++n });
    await until(() => got.at(-1)?.n === n, "pushes from B on A's client");
    // Everything from the push B first counted A's subscriber on, in order.
    const tail = got.map((m) => m.n).filter((x) => x >= counted);
    expect(tail).toEqual(Array.from({ length: n - counted + 1 }, (_, i) => counted + i));
  });

  it("client streams pushed on node A reach the handler registered on node B", async () => {
    const nats = await startNats(res);
    const a = await startNode(nats, "a");
    const b = await startNode(nats, "b");
    const received: [string, unknown][] = [];
    b.streams.onClientStream("metrics", (clientId, data) => {
      received.push([clientId, data]);
    });
    const { client, streams: pusher } = await connectClient(res, a.server, ENGINE);
    for (let i = 1; i <= 5; i++)
      await pusher.pushToServer("metrics", { i }, { delivery: "reliable" });
    await until(() => received.length === 5, "messages on B");
    expect(received).toEqual([1, 2, 3, 4, 5].map((i) => [client.id, { i }]));
  });

  it("a node that dies: its streams leave the list, and its clients resume on another node", async () => {
    const nats = await startNats(res);
    const a = await startNode(nats, "a");
    const b = await startNode(nats, "b");
    b.streams.create("sensors");
    const pusher = setInterval(() => void b.streams.get("sensors")?.push({ n: Date.now() }), 30);
    res.add(() => clearInterval(pusher));
    // Node C, in a process of its own, with a stream of its own.
    const c = runTs(res, "examples/cluster/node.ts", { CONDUIT_PASSWORD: PASSWORD }, [
      nats.url,
      "c",
      "c-only",
    ]);
    const cPort = Number((await lineMatching(c, /listening on port (\d+)/))[1]);
    await until(
      () => a.streams.listStreams().some((s) => s.name === "c-only"),
      "C's stream listed",
    );

    // A client on C, with A as the next server to try.
    const client = new Client(
      new ClientDescriptor({
        serverHost: "127.0.0.1",
        serverPort: cPort,
        servers: [{ host: "127.0.0.1", port: a.server.port }],
        password: PASSWORD,
        engine: ENGINE,
        iceBindAddress: "127.0.0.1",
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      }),
    );
    res.add(() => client.close());
    const viewer = new StreamManager();
    viewer.registerClientHandlers(client);
    await client.connect();
    const states: string[] = [];
    client.on("status", (s) => states.push(s.state));
    const { got } = collect(viewer, "sensors");
    await until(() => got.length > 3, "sensors via C");

    c.kill("SIGKILL");
    const killedAt = performance.now();
    await until(() => states.includes("reconnecting"), "client noticed");
    const before = got.length;
    await until(() => got.length > before + 3, "sensors via A", 20_000);
    const resumedAfter = performance.now() - killedAt;
    // Each node gives C up on its own clock: wait for both.
    await until(
      () => [a, b].every((n) => !n.streams.listStreams().some((s) => s.name === "c-only")),
      "C's stream gone from A's and B's lists",
      CLUSTER_NODE_TIMEOUT_MS + 5_000,
    );
    const unlistedAfter = performance.now() - killedAt;
    console.log(
      `node C killed: its client resumed on A after ${Math.round(resumedAfter)} ms; ` +
        `C's streams left both lists after ${Math.round(unlistedAfter)} ms`,
    );
    expect(a.server.clientCount).toBe(1);
    expect(b.streams.listStreams().map((s) => s.name)).toEqual(["sensors"]);
  });

  it("a NATS restart is waited out: cross-node streams flow again", async () => {
    const nats = await startNats(res);
    const a = await startNode(nats, "a");
    const b = await startNode(nats, "b");
    const live = b.streams.create("live");
    const pusher = setInterval(() => void live.push({ n: Date.now() }), 30);
    res.add(() => clearInterval(pusher));
    const { streams: viewer } = await connectClient(res, a.server, ENGINE);
    const { got } = collect(viewer, "live");
    await until(() => got.length > 3, "flowing before the restart");
    await nats.restart();
    const restartedAt = performance.now();
    const before = got.length;
    await until(() => got.length > before + 3, "flowing after the restart", 20_000);
    console.log(
      `NATS restarted: data flowed again after ${Math.round(performance.now() - restartedAt)} ms`,
    );
  });
});
