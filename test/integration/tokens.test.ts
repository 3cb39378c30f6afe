// Tokens (HS256 JWTs with per-stream grants) against a real server: what they open, what they
// refuse, what happens when one expires mid-session, and the CLI that mints them.
import { SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import {
  AuthenticationError,
  ForbiddenError,
  InvalidArgumentError,
  mintToken,
  ServerDescriptor,
} from "../../src/index.js";
import { connectClient, PASSWORD, Resources, startServer, until } from "../helpers/net.js";
import { exitCode, runTs } from "../helpers/process.js";

const SECRET = "a-token-secret-of-at-least-32-bytes!";
const ENGINE = "node-datachannel";
const res = new Resources();
afterEach(() => res.closeAll());

const key = new TextEncoder().encode(SECRET);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

const token = (claims: { subscribe?: string[]; publish?: string[] }, ttlSeconds = 3600) =>
  mintToken(SECRET, { client: "test", subscribe: [], publish: [], ...claims, ttlSeconds });

/** A server that accepts tokens only (no password), with a few streams. */
async function tokenServer(options: { password?: string } = {}) {
  const setup = await startServer(res, ENGINE, {
    password: undefined,
    tokenSecret: SECRET,
    ...options,
  });
  for (const name of ["sensors", "video/cam1", "video/cam2", "admin"]) setup.streams.create(name);
  return setup;
}

describe("tokens", () => {
  it("grant exactly the streams they name, to subscribe to and to publish", async () => {
    const { server, streams } = await tokenServer();
    const { streams: client } = await connectClient(res, server, ENGINE, {
      password: undefined,
      token: await token({ subscribe: ["sensors", "video/*"], publish: ["metrics"] }),
    });

    // Listing shows only what the token may subscribe to.
    expect((await client.listServerStreams()).map((s) => s.name).sort()).toEqual([
      "sensors",
      "video/cam1",
      "video/cam2",
    ]);
    // A granted stream delivers.
    const cam = client.subscribe("video/cam1");
    const first = cam.next();
    await until(() => (streams.get("video/cam1")?.subscriberCount ?? 0) === 1, "subscribed");
    await streams.get("video/cam1")?.push({ frame: 1 });
    expect((await first).value).toEqual({ frame: 1 });
    // An ungranted one is refused with a typed error, and leaves no subscriber behind.
    await expect(client.subscribe("admin").next()).rejects.toBeInstanceOf(ForbiddenError);
    expect(streams.get("admin")?.subscriberCount).toBe(0);

    // Publishing: granted names reach the handler, others are refused before any data flows.
    const received = new Promise<unknown>((resolve) =>
      streams.onClientStream("metrics", (_id, data) => resolve(data)),
    );
    let stolen = false;
    streams.onClientStream("admin", () => {
      stolen = true;
    });
    await client.pushToServer("metrics", { cpu: 0.5 });
    expect(await received).toEqual({ cpu: 0.5 });
    await expect(client.pushToServer("admin", { evil: true })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    expect(stolen).toBe(false);
  });

  it("sit beside a password, which still grants every stream", async () => {
    const { server } = await tokenServer({ password: PASSWORD });
    const { streams: withPassword } = await connectClient(res, server, ENGINE);
    expect(await withPassword.listServerStreams()).toHaveLength(4);
    const { streams: withToken } = await connectClient(res, server, ENGINE, {
      password: undefined,
      token: await token({ subscribe: ["sensors"] }),
    });
    expect((await withToken.listServerStreams()).map((s) => s.name)).toEqual(["sensors"]);
  });

  const refused: [string, () => Promise<string | undefined>, string][] = [
    ["an expired token", () => expiredToken(), "TOKEN_EXPIRED"],
    [
      "a token signed with another key",
      () =>
        new SignJWT({ subscribe: ["*"] })
          .setProtectedHeader({ alg: "HS256" })
          .setExpirationTime(nowSeconds() + 3600)
          .sign(new TextEncoder().encode("another-secret-another-secret-another")),
      "AUTH_FAILED",
    ],
    [
      'an unsigned token ("alg": "none")',
      async () =>
        `${b64({ alg: "none", typ: "JWT" })}.${b64({ subscribe: ["*"], exp: nowSeconds() + 3600 })}.`,
      "AUTH_FAILED",
    ],
    [
      "a token signed with the right key but another algorithm (HS512)",
      () =>
        new SignJWT({ subscribe: ["*"] })
          .setProtectedHeader({ alg: "HS512" })
          .setExpirationTime(nowSeconds() + 3600)
          .sign(key),
      "AUTH_FAILED",
    ],
    [
      "a token without exp",
      () => new SignJWT({ subscribe: ["*"] }).setProtectedHeader({ alg: "HS256" }).sign(key),
      "AUTH_FAILED",
    ],
    [
      "a forged payload under a real signature",
      async () => {
        const [header, , signature] = (await token({ subscribe: ["sensors"] })).split(".");
        return `${header}.${b64({ subscribe: ["*"], exp: nowSeconds() + 3600 })}.${signature}`;
      },
      "AUTH_FAILED",
    ],
    ["garbage", async () => "not.a.token", "AUTH_FAILED"],
    ["no token (and no password)", async () => undefined, "AUTH_FAILED"],
  ];
  it.each(refused)("refuse %s", async (_what, make, code) => {
    const { server, streams } = await tokenServer();
    const attempt = connectClient(res, server, ENGINE, {
      password: undefined,
      token: await make(),
    });
    await expect(attempt).rejects.toBeInstanceOf(AuthenticationError);
    await expect(attempt).rejects.toMatchObject({ code });
    expect(server.clientCount).toBe(0);
    expect(streams.get("admin")?.subscriberCount).toBe(0);
  });

  it("end the session when they expire mid-session, with TOKEN_EXPIRED", async () => {
    const { server, streams } = await tokenServer();
    // 3 s: ample for connecting (whose p99 is ~1 s), short enough to wait for.
    const t = await token({ subscribe: ["sensors"] }, 3);
    const exp = JSON.parse(Buffer.from(t.split(".")[1] as string, "base64url").toString()).exp;
    const { client, streams: clientStreams } = await connectClient(res, server, ENGINE, {
      password: undefined,
      token: t,
    });
    const subscription = clientStreams.subscribe("sensors");
    const ended = (async () => {
      for await (const _ of subscription);
    })();
    await until(() => streams.get("sensors")?.subscriberCount === 1, "subscribed");
    await expect(ended).rejects.toMatchObject({ code: "TOKEN_EXPIRED" });
    const endedAt = Date.now();
    expect(client.status).toMatchObject({ state: "closed", error: { code: "TOKEN_EXPIRED" } });
    // Not before the token's expiry (whole seconds), and everything it held is released.
    expect(endedAt).toBeGreaterThanOrEqual(exp * 1000);
    await until(() => server.clientCount === 0, "session released");
    expect(streams.get("sensors")?.subscriberCount).toBe(0);
    console.log(`token expiry → session closed after ${endedAt - exp * 1000} ms`);
  });

  it("need a secret of at least 32 bytes", () => {
    expect(() => new ServerDescriptor({ tokenSecret: "short" })).toThrow(InvalidArgumentError);
  });
});

/** An expired token, signed with the right key (mintToken refuses a past ttl). */
function expiredToken(): Promise<string> {
  return new SignJWT({ subscribe: ["*"] })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(nowSeconds() - 60)
    .sign(key);
}

describe("npx conduit-rtc token", () => {
  it("mints a token the server accepts, with the grants asked for", async () => {
    const cli = runTs(res, "src/cli.ts", { CONDUIT_TOKEN_SECRET: SECRET }, [
      "token",
      "--client",
      "cam-7",
      "--subscribe",
      "sensors, video/*",
      "--ttl",
      "15m",
    ]);
    expect(await exitCode(cli), cli.output()).toBe(0);
    const minted = cli.output().trim().split("\n").at(-1) as string;
    const claims = JSON.parse(Buffer.from(minted.split(".")[1] as string, "base64url").toString());
    expect(claims).toMatchObject({ sub: "cam-7", subscribe: ["sensors", "video/*"], publish: [] });
    expect(claims.exp - claims.iat).toBe(15 * 60);
    const { server } = await tokenServer();
    const { streams } = await connectClient(res, server, ENGINE, {
      password: undefined,
      token: minted,
    });
    expect(await streams.listServerStreams()).toHaveLength(3);
  });

  it.each([
    [["token"], { CONDUIT_TOKEN_SECRET: SECRET }, "--client is required"],
    [["token", "--client", "x"], {}, "CONDUIT_TOKEN_SECRET"],
    [["token", "--client", "x", "--ttl", "soon"], { CONDUIT_TOKEN_SECRET: SECRET }, "bad --ttl"],
    [["token", "--client", "x"], { CONDUIT_TOKEN_SECRET: "short" }, "at least 32 bytes"],
    [["mint"], { CONDUIT_TOKEN_SECRET: SECRET }, "usage:"],
  ])("refuses %j with exit code 2 and says why", async (args, env, says) => {
    const cli = runTs(res, "src/cli.ts", { CONDUIT_TOKEN_SECRET: "", ...env }, args);
    expect(await exitCode(cli)).toBe(2);
    expect(cli.output()).toContain(says);
  });
});
