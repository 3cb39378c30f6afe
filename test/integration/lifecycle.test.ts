import { afterEach, describe, expect, it } from "vitest";
import { InvalidArgumentError, Server, ServerDescriptor } from "../../src/index.js";
import { OutgoingMessage } from "../../src/wire/outgoing.js";
import { connectClient, ENGINES, PASSWORD, Resources, startServer } from "../helpers/net.js";
import { exitCode, runTs } from "../helpers/process.js";
import { rawPeer } from "../helpers/raw-peer.js";

const res = new Resources();
afterEach(() => res.closeAll());

describe.each(ENGINES)("lifecycle (%s)", (engine) => {
  it("client.close() and server.stop() leave nothing running: the process exits by itself", async () => {
    const run = runTs(res, "test/helpers/clean-exit.ts", {}, [engine]);
    expect(await exitCode(run)).toBe(0);
    expect(run.output()).toMatch(/closed; active handles:/);
  });

  it("server.stop() disconnects clients that do not reconnect: their loops throw ConnectionError", async () => {
    const { server, streams } = await startServer(res, engine);
    streams.create("s");
    const { client, streams: clientStreams } = await connectClient(res, server, engine, {
      reconnect: false,
    });
    const statuses: string[] = [];
    client.on("status", (s) => statuses.push(s.state));
    const loop = (async () => {
      for await (const _ of clientStreams.subscribe("s"));
    })();
    await new Promise<void>((r) => streams.get("s")?.onSubscribe(() => r()));
    const failed = expect(loop).rejects.toMatchObject({ name: "ConnectionError" });
    await server.stop();
    await failed;
    expect(statuses).toEqual(["closed"]);
    expect(server.clientCount).toBe(0);
  });

  it("a client closing frees its server session at once", async () => {
    const { server, streams } = await startServer(res, engine);
    const stream = streams.create("s");
    const { client, streams: clientStreams } = await connectClient(res, server, engine);
    clientStreams.subscribe("s");
    await new Promise<void>((r) => stream.onSubscribe(() => r()));
    const left = new Promise<string>((r) => server.on("clientDisconnected", r));
    const unsubscribed = new Promise<string>((r) => stream.onUnsubscribe(r));
    const id = client.id;
    await client.close();
    expect(await left).toBe(id);
    expect(await unsubscribed).toBe(id);
    expect(server.clientCount).toBe(0);
  });
});

it("onStartup hooks run as the server starts, in order; a removed one does not run", async () => {
  const server = new Server(
    new ServerDescriptor({ host: "127.0.0.1", port: 0, password: PASSWORD }),
  );
  const ran: string[] = [];
  server.onStartup(() => {
    ran.push("first");
  });
  const remove = server.onStartup(() => {
    ran.push("removed");
  });
  server.onStartup(async (srv) => {
    ran.push(`last on port ${srv.port > 0}`);
  });
  remove();
  expect(() => server.onStartup("nope" as never)).toThrow(InvalidArgumentError);
  res.add(() => server.stop());
  await server.run();
  expect(ran).toEqual(["first", "last on port true"]);
});

describe("setup retry", () => {
  it("a new offer replaces a peer connection that never opened; the session carries on", async () => {
    // werift on both ends: this is about the server taking a second offer, and werift has no
    // occasional loopback DTLS failure of its own to retry around.
    const { server, streams } = await startServer(res, "werift");
    const received = new Promise<unknown>((resolve) =>
      streams.onClientStream("up", (_id, data) => resolve(data)),
    );
    // First attempt: relay-only with no TURN server, so it can never connect.
    const first = await rawPeer(res, server.port, "werift", { policy: "relay" });
    await first.answered;
    expect(server.clientStats()[0]?.peerOpen).toBe(false);
    first.detach();
    first.peer.close();
    const retry = await rawPeer(res, server.port, "werift", { socket: first.socket });
    const { streamId } = await retry.request("publish", { stream: "up", delivery: "reliable" });
    for (const f of new OutgoingMessage(streamId as number, 1, { attempt: 2 }, 1 << 20).frames(
      65536,
    )) {
      retry.channels.reliable.send(f);
    }
    expect(await received).toEqual({ attempt: 2 });
    expect(server.clientCount).toBe(1);
  });
});

describe("mixed engines", () => {
  it.each([
    ["node-datachannel", "werift"],
    ["werift", "node-datachannel"],
  ] as const)(
    "a %s server streams to a %s client, both ways",
    async (serverEngine, clientEngine) => {
      const { server, streams } = await startServer(res, serverEngine);
      const stream = streams.create("mix", { delivery: "reliable" });
      const { client, streams: clientStreams } = await connectClient(res, server, clientEngine);
      const sub = clientStreams.subscribe("mix");
      const first = sub.next();
      await new Promise<void>((r) => stream.onSubscribe(() => r()));
      await stream.push({ hello: serverEngine });
      expect((await first).value).toEqual({ hello: serverEngine });
      const got = new Promise<[string, unknown]>((r) =>
        streams.onClientStream("back", (id, d) => r([id, d])),
      );
      await clientStreams.pushToServer("back", { hello: clientEngine });
      expect(await got).toEqual([client.id, { hello: clientEngine }]);
      sub.close();
    },
  );
});
