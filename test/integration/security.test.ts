// Who gets in, and what they learn before they do: origins, password guessing, and nothing
// (no stream data, no TURN credentials) before authentication. Raw Socket.IO clients play
// the intruders, since they can send what conduit's Client never would.
import { afterEach, describe, expect, it } from "vitest";
import {
  AUTH_FAILURE_WINDOW_MS,
  AUTH_MAX_FAILURES,
  PROTOCOL_VERSION,
} from "../../src/core/defaults.js";
import { InvalidArgumentError, type Server, ServerDescriptor } from "../../src/index.js";
import { connectClient, PASSWORD, Resources, startServer } from "../helpers/net.js";
import { rawSocket } from "../helpers/raw-socket.js";

const ENGINE = "node-datachannel";
const res = new Resources();
afterEach(() => res.closeAll());

interface Attempt {
  /** The connect_error's code or message, or "connected". */
  outcome: string;
  /** Every event the server sent this socket. */
  events: string[];
}

/** One raw handshake; resolves with how it ended, then closes the socket. */
function attempt(
  server: Server,
  auth: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Attempt> {
  const socket = rawSocket(res, server.port, auth, headers);
  const events: string[] = [];
  socket.onAny((event: string) => events.push(event));
  return new Promise<Attempt>((resolve) => {
    socket.once("connect", () => resolve({ outcome: "connected", events }));
    socket.once("connect_error", (err: Error & { data?: { code?: string } }) =>
      resolve({ outcome: err.data?.code ?? err.message, events }),
    );
  }).finally(() => socket.close());
}

describe("allowed origins", () => {
  it("refuse other browser origins before authentication, on WebSocket too", async () => {
    const { server } = await startServer(res, ENGINE, { allowedOrigins: ["http://app.example"] });
    // More tries with wrong passwords than the rate limit allows: had they reached
    // authentication, the right password would now be refused too.
    for (let i = 0; i < AUTH_MAX_FAILURES * 2; i++) {
      const refused = await attempt(
        server,
        { password: "guess" },
        { Origin: "http://evil.example" },
      );
      expect(refused.outcome).not.toBe("connected");
      expect(refused.events).toEqual([]);
    }
    expect(server.refusedConnections).toEqual({ origin: AUTH_MAX_FAILURES * 2, auth: 0 });
    const allowed = await attempt(server, { password: PASSWORD }, { Origin: "http://app.example" });
    expect(allowed.outcome).toBe("connected");
    // Node clients send no Origin and are not affected.
    await connectClient(res, server, ENGINE);
    expect(server.refusedConnections.auth).toBe(0);
  });

  it("must be origins, not URLs with paths or other schemes", () => {
    for (const bad of [["http://a.example/"], ["app.example"], ["ftp://a.example"], "*"]) {
      expect(() => new ServerDescriptor({ allowedOrigins: bad as unknown as string[] })).toThrow(
        InvalidArgumentError,
      );
    }
  });
});

describe("password guessing", () => {
  it("1000 wrong passwords from one address: the password is checked 5 times a minute", async () => {
    const { server } = await startServer(res, ENGINE);
    const started = Date.now();
    const outcomes: Record<string, number> = {};
    for (let batch = 0; batch < 20; batch++) {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => attempt(server, { password: `guess-${batch}-${i}` })),
      );
      for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    }
    const minutes = Math.max(1, (Date.now() - started) / AUTH_FAILURE_WINDOW_MS);
    // Checked and refused: AUTH_FAILED. Refused unchecked: RATE_LIMITED. Never connected.
    expect(outcomes.connected).toBeUndefined();
    expect(outcomes.AUTH_FAILED).toBe(AUTH_MAX_FAILURES);
    expect(outcomes.RATE_LIMITED).toBe(1000 - AUTH_MAX_FAILURES);
    expect(server.refusedConnections.auth).toBe(1000);
    expect(server.clientCount).toBe(0);
    console.log(
      `1000 wrong passwords in ${Date.now() - started} ms: ${(outcomes.AUTH_FAILED ?? 0) / minutes} checked per minute`,
    );
  });
});

describe("before authentication", () => {
  it("a client learns nothing: no events, no stream data, no TURN credentials", async () => {
    const { server, streams } = await startServer(res, ENGINE, {
      turn: { urls: ["turn:127.0.0.1:3478"], secret: "turn-shared-secret" },
    });
    const stream = streams.create("secret-stream");
    const timer = setInterval(() => void stream.push({ secret: true }), 5);
    res.add(() => clearInterval(timer));
    for (const auth of [{}, { password: "wrong" }, { token: "x.y.z" }, { password: 42 }]) {
      const refused = await attempt(server, auth);
      expect(refused.outcome).toBe("AUTH_FAILED");
      expect(refused.events).toEqual([]);
    }
    expect(stream.subscriberCount).toBe(0);
    // Authenticated, a client is given TURN credentials minted for it, when it asks.
    const socket = rawSocket(res, server.port);
    const hello = await socket.timeout(5000).emitWithAck("hello", { protocol: PROTOCOL_VERSION });
    expect(hello.iceServers).toEqual([
      expect.objectContaining({
        urls: ["turn:127.0.0.1:3478"],
        username: expect.stringMatching(/^\d+:/),
        credential: expect.any(String),
      }),
    ]);
  });
});
