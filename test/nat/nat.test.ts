// NAT traversal for real: a client behind one NAT, the server behind another, coturn between.
// The rig (test/helpers/nat.ts) is network namespaces for the client, the server and a
// "public" network between them; both NATs masquerade with random ports (symmetric), so host
// and server-reflexive candidates cannot reach each other and only a TURN relay can. The server is a child process in its namespace (test/helpers/nat-server.ts);
// each client is a child process in the client namespace (nat-client.ts, or Chromium). It
// proves: without TURN the connect fails with a ConnectionError; with TURN, frames flow both
// ways on both engines and in Chromium; forged or expired TURN credentials get nothing.

import { spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/browser.js";
import { createNatTopology, type NatTopology } from "../helpers/nat.js";
import { PASSWORD, PATTERN_BYTE_JS, Resources } from "../helpers/net.js";
import { createWrapper } from "../helpers/netns.js";
import { exitCode, lineMatching, runTs } from "../helpers/process.js";

describe("across two NATs", () => {
  const res = new Resources();
  const secret = randomBytes(16).toString("hex");
  let net: NatTopology;
  let turnUrl: string;

  beforeAll(async () => {
    net = createNatTopology();
    const octet = net.turnAddress.split(".")[1];
    const coturn = spawn("ip", ["netns", "exec", net.public, "turn/start-coturn.sh"], {
      env: {
        ...process.env,
        LISTEN_IP: net.turnAddress,
        SECRET: secret,
        ALLOWED_PEERS: `10.${octet}.101.0-10.${octet}.101.3 10.${octet}.102.0-10.${octet}.102.3`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    res.add(() => {
      coturn.kill("SIGTERM");
    });
    await lineMatching(coturn as never, /Total General servers/);
    turnUrl = `turn:${net.turnAddress}:3478?transport=udp`;
  });
  afterAll(async () => {
    await res.closeAll();
    net?.close();
  });

  /** Starts the server in its namespace; `up` resolves with what it received from the client. */
  async function startServer(env: Record<string, string>) {
    const server = runTs(
      res,
      "test/helpers/nat-server.ts",
      { HOST: net.serverAddress, ...env },
      [],
      net.server,
    );
    const [, port] = await lineMatching(server, /^listening (\d+)/);
    net.forward(Number(port));
    const up = lineMatching(server, /^up (.*)$/).then(([, json]) => JSON.parse(json as string));
    up.catch(() => {});
    return { port: Number(port), up };
  }

  function nsWrapper(ns: string, exe: string): string {
    const dir = mkdtempSync(join(tmpdir(), "conduit-nat-"));
    res.add(() => rmSync(dir, { recursive: true, force: true }));
    return createWrapper(ns, exe, dir);
  }

  function runClient(port: number, env: Record<string, string>) {
    return runTs(
      res,
      "test/helpers/nat-client.ts",
      { SERVER_HOST: net.natAddress, SERVER_PORT: String(port), ...env },
      [],
      net.client,
    );
  }

  it("without TURN the peers cannot connect: a ConnectionError within the connect timeout", async () => {
    const { port } = await startServer({});
    const client = runClient(port, { CONNECT_TIMEOUT: "4000" });
    expect(await exitCode(client), client.output()).toBe(1);
    expect(client.output()).toMatch(
      /error ConnectionError: WebRTC link not open within 4000 ms \(peer state: connecting\)/,
    );
  });

  it.each(["node-datachannel", "werift"])(
    "through TURN, 30 fps 50 KB frames flow both ways, nothing lost on reliable (%s client)",
    async (engine) => {
      const { port, up } = await startServer({ TURN_URL: turnUrl, TURN_SECRET: secret });
      const client = runClient(port, { ENGINE: engine });
      const connected = lineMatching(client, /^connected (\d+)/);
      const down = lineMatching(client, /^down (.*)$/);
      expect(await exitCode(client), client.output()).toBe(0);
      const [, connectMs] = await connected;
      const downStats = JSON.parse((await down)[1] as string);
      const upStats = await up;
      expect(downStats).toMatchObject({ count: 60, inOrder: true, intact: true });
      // The server's client stats say the path goes through TURN.
      expect(upStats).toMatchObject({ count: 60, inOrder: true, intact: true, transport: "turn" });
      console.log(
        `${engine} client via TURN: connect ${connectMs} ms; one-way p50 server→client ${downStats.p50} ms, client→server ${upStats.p50} ms`,
      );
    },
  );

  it("Chromium behind NAT 1 streams both ways through TURN", async () => {
    const { port, up } = await startServer({ TURN_URL: turnUrl, TURN_SECRET: secret });
    const browser = await launchChromium({ wrapper: (exe) => nsWrapper(net.client, exe) });
    res.add(() => browser.close());
    const page = await browser.newPage();
    await page.goto(`http://${net.natAddress}:${port}/index.html`);
    const t0 = Date.now();
    const result = (await page.evaluate(`(async () => {
      const C = await import("/dist/conduit-rtc.js");
      const client = new C.Client(new C.ClientDescriptor({ serverHost: location.hostname, serverPort: ${port}, password: ${JSON.stringify(PASSWORD)} }));
      const streams = new C.StreamManager();
      streams.registerClientHandlers(client);
      const start = performance.now();
      await client.connect();
      const connectMs = performance.now() - start;
      const pattern = ${PATTERN_BYTE_JS};
      const down = (async () => {
        const seen = []; let intact = true; const lat = [];
        for await (const m of streams.subscribe("down")) {
          seen.push(m.n); lat.push(Date.now() - m.sentAt);
          for (let i = 0; i < m.frame.length && intact; i += 97) intact = m.frame[i] === pattern(m.n, i);
          if (seen.length === 60) break;
        }
        lat.sort((a, b) => a - b);
        return { count: seen.length, inOrder: seen.every((n, i) => n === i + 1), intact, p50: lat[30] };
      })();
      for (let n = 1; n <= 60; n++) {
        const frame = new Uint8Array(50000);
        for (let i = 0; i < frame.length; i++) frame[i] = pattern(n, i);
        await streams.pushToServer("up", { n, sentAt: Date.now(), frame }, { delivery: "reliable" });
        await new Promise((r) => setTimeout(r, 1000 / 30));
      }
      return { connectMs, down: await down };
    })()`)) as { connectMs: number; down: Record<string, unknown> };
    expect(result.down).toMatchObject({ count: 60, inOrder: true, intact: true });
    expect(await up).toMatchObject({ count: 60, inOrder: true, intact: true, transport: "turn" });
    console.log(
      `Chromium via TURN: connect ${result.connectMs.toFixed(0)} ms; one-way p50 server→browser ${result.down.p50} ms (whole run ${Date.now() - t0} ms)`,
    );
  });

  describe("coturn checks the credentials", () => {
    // The server has no TURN of its own here, only STUN (for a reflexive address); the client
    // is relay-only with the credentials under test, so it connects only if coturn accepts them.
    const creds = (username: string, key = secret) => ({
      TURN_URL: turnUrl,
      TURN_USERNAME: username,
      TURN_CREDENTIAL: createHmac("sha1", key).update(username).digest("base64"),
      POLICY: "relay",
      CONNECT_TIMEOUT: "4000",
    });
    const future = () => Math.floor(Date.now() / 1000) + 600;

    it("valid credentials: the relay-only client connects", async () => {
      const { port } = await startServer({ STUN_URL: `stun:${net.turnAddress}:3478` });
      const client = runClient(port, { ...creds(`${future()}:tester`), FRAMES: "5" });
      expect(await exitCode(client), client.output()).toBe(0);
    });

    it.each([
      ["forged (wrong secret)", () => creds(`${future()}:tester`, "not-the-secret")],
      ["expired", () => creds(`${Math.floor(Date.now() / 1000) - 60}:tester`)],
    ])("%s credentials are refused: no relay, no connection", async (_what, make) => {
      const { port } = await startServer({ STUN_URL: `stun:${net.turnAddress}:3478` });
      const client = runClient(port, { ...make(), FRAMES: "5" });
      expect(await exitCode(client), client.output()).toBe(1);
      expect(client.output()).toMatch(/error ConnectionError: WebRTC link not open within 4000 ms/);
    });
  });
});
