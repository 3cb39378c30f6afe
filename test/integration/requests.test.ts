// Every request to the server ends: with its reply, with a typed error when no reply comes in
// time, or at once when the connection drops. A Socket.IO server that takes requests and never
// answers them stands in for a stalled or vanishing conduit server.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Socket, Server as SocketIoServer } from "socket.io";
import { afterEach, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "../../src/core/defaults.js";
import { ConnectionError } from "../../src/index.js";
import { SignalingClient } from "../../src/signaling/client.js";
import { Resources } from "../helpers/net.js";

const res = new Resources();
afterEach(() => res.closeAll());

/** A server that accepts every connection and answers no request; `sockets` as they come. */
async function silentServer(): Promise<{ url: string; sockets: Socket[] }> {
  const http = createServer();
  const io = new SocketIoServer(http);
  const sockets: Socket[] = [];
  io.on("connection", (socket) => sockets.push(socket));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  res.add(() => new Promise<void>((resolve) => io.close(() => resolve())));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, sockets };
}

async function connected(url: string): Promise<SignalingClient> {
  const signaling = new SignalingClient();
  res.add(() => signaling.close());
  await signaling.connect(url, { password: "x", hello: { protocol: PROTOCOL_VERSION } }, 5_000);
  return signaling;
}

it("hello from a server that sends no welcome (older versions) is its reply to the request", async () => {
  const { url, sockets } = await silentServer();
  const signaling = await connected(url);
  const reply = { clientId: "c", protocol: 2, iceServers: [], maxMessageBytes: 1024 };
  sockets[0]?.on("hello", (_request: unknown, ack: (r: unknown) => void) =>
    ack({ ok: true, ...reply, linkTimeoutMs: 5000 }),
  );
  expect(await signaling.hello(5_000)).toMatchObject(reply);
});

it("a request with no reply in time fails with ConnectionError, saying how long it waited", async () => {
  const { url } = await silentServer();
  const signaling = await connected(url);
  const error = await signaling.request("list", {}, 50).catch((err: unknown) => err);
  expect(error).toBeInstanceOf(ConnectionError);
  expect((error as ConnectionError).code).toBe("CONNECTION_FAILED");
  expect((error as Error).message).toMatch(/"list".*within 50 ms/);
});

it("a request without a deadline fails at once when the connection drops", async () => {
  const { url, sockets } = await silentServer();
  const signaling = await connected(url);
  const pending = signaling.request("subscribe", { stream: "s", wait: true }, Infinity);
  pending.catch(() => undefined);
  const requested = new Promise<void>((resolve) => sockets[0]?.once("subscribe", () => resolve()));
  await requested;
  sockets[0]?.disconnect(true);
  const error = await pending.catch((err: unknown) => err);
  expect(error).toBeInstanceOf(ConnectionError);
  expect((error as Error).message).toMatch(/"subscribe".*connection was lost/);
});
