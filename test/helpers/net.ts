import {
  Client,
  ClientDescriptor,
  type ClientOptions,
  type EngineName,
  Server,
  ServerDescriptor,
  type ServerOptions,
  StreamManager,
} from "../../src/index.js";

export const ENGINES: EngineName[] = ["node-datachannel", "werift"];
export const PASSWORD = "test-password";

/** Everything a test opened, closed in afterEach. */
export class Resources {
  private readonly closers: (() => Promise<void> | void)[] = [];

  add(close: () => Promise<void> | void): void {
    this.closers.push(close);
  }

  async closeAll(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close();
  }
}

/**
 * The environment a client in a child process (the *-client and *-viewer helpers) finds its
 * server in: SERVER_HOST, SERVER_PORT, ENGINE, and whatever else that helper reads.
 */
export function childEnv(
  host: string,
  port: number,
  engine: EngineName,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { SERVER_HOST: host, SERVER_PORT: String(port), ENGINE: engine, ...extra };
}

/** In the child: the client options that environment says, with the tests' password. */
export function clientOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ClientOptions {
  return {
    serverHost: env.SERVER_HOST,
    serverPort: Number(env.SERVER_PORT),
    password: PASSWORD,
    engine: (env.ENGINE ?? "node-datachannel") as EngineName,
  };
}

export async function startServer(
  res: Resources,
  engine: EngineName,
  options: ServerOptions = {},
): Promise<{ server: Server; streams: StreamManager }> {
  const server = new Server(
    new ServerDescriptor({
      host: "127.0.0.1",
      port: 0,
      password: PASSWORD,
      engine,
      iceBindAddress: "127.0.0.1",
      ...options,
    }),
  );
  const streams = new StreamManager({ owner: "server" });
  streams.registerServerHandlers(server);
  await server.run();
  res.add(() => server.stop());
  return { server, streams };
}

export function clientFor(server: Server, engine: EngineName, options: ClientOptions = {}): Client {
  return new Client(
    new ClientDescriptor({
      serverHost: "127.0.0.1",
      serverPort: server.port,
      password: PASSWORD,
      engine,
      iceBindAddress: "127.0.0.1",
      ...options,
    }),
  );
}

export async function connectClient(
  res: Resources,
  server: Server,
  engine: EngineName,
  options: ClientOptions = {},
): Promise<{ client: Client; streams: StreamManager }> {
  const client = clientFor(server, engine, options);
  const streams = new StreamManager();
  streams.registerClientHandlers(client);
  res.add(() => client.close());
  await client.connect();
  return { client, streams };
}

/** Resolves when `check` is true, testing it after each event-loop turn; no fixed sleeps. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Byte i of test frame `seed`: every test's frames, and what receivers check them against. */
export const patternByte = (seed: number, i: number): number => (i * 7 + seed * 13) & 0xff;
/** The same function as source, for pages and other processes that check frames. */
export const PATTERN_BYTE_JS = patternByte.toString();

/** `n` bytes of test frame `seed`. */
export function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = patternByte(seed, i);
  return out;
}
