// client.connect() to the first message, `n` times: auth, offer/answer, ICE, DTLS, SCTP,
// subscribe/start, and one message. Returns milliseconds.
import {
  Client,
  ClientDescriptor,
  type EngineName,
  Server,
  ServerDescriptor,
  StreamManager,
} from "../src/index.js";

export async function connectTimes(engine: EngineName, n: number): Promise<number[]> {
  const server = new Server(
    new ServerDescriptor({
      host: "127.0.0.1",
      port: 0,
      password: "bench",
      engine,
      iceBindAddress: "127.0.0.1",
    }),
  );
  const streams = new StreamManager();
  streams.registerServerHandlers(server);
  const hello = streams.create("hello", { delivery: "reliable" });
  hello.onSubscribe(() => void hello.push({ hi: true }));
  await server.run();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const client = new Client(
      new ClientDescriptor({
        serverHost: "127.0.0.1",
        serverPort: server.port,
        password: "bench",
        engine,
        iceBindAddress: "127.0.0.1",
      }),
    );
    const clientStreams = new StreamManager();
    clientStreams.registerClientHandlers(client);
    await client.connect();
    const sub = clientStreams.subscribe("hello");
    await sub.next();
    times.push(performance.now() - start);
    sub.close();
    await client.close();
  }
  await server.stop();
  return times;
}
