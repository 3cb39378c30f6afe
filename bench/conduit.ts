// A conduit server and one client on loopback, for the bench cases.
import {
  Client,
  ClientDescriptor,
  type EngineName,
  Server,
  ServerDescriptor,
  type ServerOptions,
  StreamManager,
} from "../src/index.js";

export interface ConduitSetup {
  server: Server;
  streams: StreamManager;
}

export async function startConduitServer(
  engine: EngineName,
  options: ServerOptions = {},
): Promise<ConduitSetup> {
  const server = new Server(
    new ServerDescriptor({
      host: "127.0.0.1",
      port: 0,
      password: "bench",
      engine,
      iceBindAddress: "127.0.0.1",
      ...options,
    }),
  );
  const streams = new StreamManager();
  streams.registerServerHandlers(server);
  await server.run();
  return { server, streams };
}

export async function connectConduitClient(
  server: Server,
  engine: EngineName,
): Promise<{ client: Client; streams: StreamManager }> {
  const client = new Client(
    new ClientDescriptor({
      serverHost: "127.0.0.1",
      serverPort: server.port,
      password: "bench",
      engine,
      iceBindAddress: "127.0.0.1",
    }),
  );
  const streams = new StreamManager();
  streams.registerClientHandlers(client);
  await client.connect();
  return { client, streams };
}
