// Mistakes a new user makes, each met with a clear, typed error that says what to do.
import { createServer, type Server as NetServer } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  Client,
  ClientDescriptor,
  ConnectionError,
  InvalidArgumentError,
  MessageTooLargeError,
  Server,
  ServerDescriptor,
  StreamManager,
  StreamNotFoundError,
} from "../../src/index.js";
import { clientFor, connectClient, Resources, startServer, until } from "../helpers/net.js";
import { exitCode, runTs } from "../helpers/process.js";

const res = new Resources();
afterEach(() => res.closeAll());

function listen(server: NetServer): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
}

describe("options", () => {
  it("an unknown option name throws, naming it and the nearest valid one", () => {
    expect(() => new ServerDescriptor({ passwrd: "typo" } as never)).toThrow(
      new InvalidArgumentError(
        'ServerDescriptor has no option "passwrd"; did you mean "password"?',
      ),
    );
    expect(() => new ClientDescriptor({ serverPot: 9000 } as never)).toThrow(
      new InvalidArgumentError(
        'ClientDescriptor has no option "serverPot"; did you mean "serverPort"?',
      ),
    );
  });

  it("a server needs credentials, or auth: none said explicitly", () => {
    expect(() => new ServerDescriptor({ port: 0 })).toThrow(/needs a password or a tokenSecret/);
    expect(() => new ServerDescriptor({ auth: "none", password: "x" })).toThrow(
      /cannot go with a password/,
    );
    expect(() => new ServerDescriptor({ auth: "open" as never })).toThrow(/auth must be "none"/);
    expect(new ServerDescriptor({ auth: "none" }).auth).toBe("none");
    expect(new ServerDescriptor({ password: "x" }).auth).toBe("credentials");
  });

  it('auth: "none" accepts a client without credentials, and the server warns when it starts', async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    res.add(() => warn.mockRestore());
    const { server } = await startServer(res, "node-datachannel", {
      password: undefined,
      auth: "none",
    });
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/without credentials \(auth: "none"\)/),
    );
    await connectClient(res, server, "node-datachannel", { password: undefined });
    expect(server.clientCount).toBe(1);
  });

  it("a port given as a string of digits is taken; another string says it is a string", () => {
    expect(new ClientDescriptor({ serverPort: "8080" }).serverPort).toBe(8080);
    expect(new ServerDescriptor({ port: "0", auth: "none" }).port).toBe(0);
    expect(() => new ClientDescriptor({ serverPort: "80a" })).toThrow(
      'serverPort must be an integer from 0 to 65535, not the string "80a"',
    );
  });
});

/** What connect() rejects with for a client of the server on `port` that does not reconnect. */
function connectError(port: number, options: { connectTimeoutMs?: number } = {}): Promise<unknown> {
  const descriptor = new ClientDescriptor({
    serverHost: "127.0.0.1",
    serverPort: port,
    password: "x",
    reconnect: false,
    ...options,
  });
  return new Client(descriptor).connect().catch((e: unknown) => e);
}

describe("connecting", () => {
  it("a refused connection says ECONNREFUSED in the message", async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    const error = await connectError(port);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).reason).toBe("unreachable");
    expect((error as Error).message).toMatch(/ECONNREFUSED 127\.0\.0\.1/);
  });

  it("a server that never answers: the message says how long it waited", async () => {
    const silent = createServer(() => {}); // accepts, then says nothing
    const sockets: { destroy(): void }[] = [];
    silent.on("connection", (s) => sockets.push(s));
    const port = await listen(silent);
    res.add(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => silent.close(() => r()));
    });
    const error = await connectError(port, { connectTimeoutMs: 300 });
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).reason).toBe("unreachable");
    expect((error as Error).message).toMatch(/no answer within 300 ms/);
  });

  it("a manager not registered with a client says so when a stream is not found", async () => {
    const streams = new StreamManager();
    const error = await streams
      .subscribe("sensors")
      .next()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamNotFoundError);
    expect((error as Error).message).toMatch(/registerClientHandlers\(client\)/);
    // A server's own manager has no such hint: it owns its streams.
    const server = new Server(new ServerDescriptor({ port: 0, auth: "none" }));
    const own = new StreamManager({ owner: "server" });
    own.registerServerHandlers(server);
    const plain = await own
      .subscribe("sensors")
      .next()
      .catch((e: unknown) => e);
    expect((plain as Error).message).toBe('stream "sensors" does not exist');
  });

  it("after close(), every call tells the same story", async () => {
    const { server } = await startServer(res, "node-datachannel");
    const { client, streams } = await connectClient(res, server, "node-datachannel");
    await client.close();
    const story =
      /the client is closed \(closed by client\); a closed client cannot connect again: create a new Client/;
    await expect(streams.pushToServer("metrics", { a: 1 })).rejects.toThrow(story);
    await expect(client.connect()).rejects.toThrow(story);
    await expect(streams.subscribe("x").next()).rejects.toThrow(story);
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).reason).toBe("not-connected");
    expect((error as ConnectionError).code).toBe("NOT_CONNECTED");
  });

  it("connect() twice: the second is refused, the first goes on", async () => {
    const { server } = await startServer(res, "node-datachannel");
    const client = clientFor(server, "node-datachannel");
    res.add(() => client.close());
    const first = client.connect();
    await expect(client.connect()).rejects.toThrow(InvalidArgumentError);
    await first;
    expect(client.status.state).toBe("connected");
    await expect(client.connect()).rejects.toThrow(/connect\(\) called while connected/);
  });
});

describe("pushing", () => {
  it("a value over maxMessageBytes throws whether or not anyone subscribes, and takes no place", async () => {
    const streams = new StreamManager({ owner: "server", maxMessageBytes: 1000 });
    const stream = streams.create("big");
    await expect(stream.push(new Uint8Array(2000))).rejects.toThrow(MessageTooLargeError);
    expect(stream.info.messageCount).toBe(0);
    const subscription = streams.subscribe("big");
    await expect(stream.push(new Uint8Array(2000))).rejects.toThrow(MessageTooLargeError);
    expect(await stream.push({ ok: 1 })).toBe(1);
    expect((await subscription.next()).value).toEqual({ ok: 1 });
    subscription.close();
  });

  it("a client stream's failed first push does not fix its delivery class", async () => {
    const { server, streams: serverStreams } = await startServer(res, "node-datachannel");
    const got: unknown[] = [];
    serverStreams.onClientStream("up", (_id, data) => {
      got.push(data);
    });
    const { streams } = await connectClient(res, server, "node-datachannel", {
      maxMessageBytes: 1000,
    });
    await expect(streams.pushToServer("up", new Uint8Array(2000))).rejects.toThrow(
      MessageTooLargeError,
    );
    await streams.pushToServer("up", { n: 1 }, { delivery: "reliable" });
    await until(() => got.length === 1, "the reliable push");
    expect(got).toEqual([{ n: 1 }]);
  });
});

describe("the command line", () => {
  for (const args of [["--help"], ["token", "--help"], ["-h"]]) {
    it(`conduit-rtc ${args.join(" ")} prints the usage and exits 0`, async () => {
      const cli = runTs(res, "src/cli.ts", {}, args);
      expect(await exitCode(cli)).toBe(0);
      expect(cli.output()).toMatch(/^usage: conduit-rtc token --client ID/);
    });
  }
});
