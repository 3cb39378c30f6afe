// client.connect() to the first message, `n` times: auth, offer/answer, ICE, DTLS, SCTP,
// subscribe/start, and one message. Returns milliseconds.
import type { EngineName } from "../src/index.js";
import { connectConduitClient, startConduitServer } from "./conduit.js";

export async function connectTimes(engine: EngineName, n: number): Promise<number[]> {
  const { server, streams } = await startConduitServer(engine);
  const hello = streams.create("hello", { delivery: "reliable" });
  hello.onSubscribe(() => void hello.push({ hi: true }));
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const { client, streams: clientStreams } = await connectConduitClient(server, engine);
    const sub = clientStreams.subscribe("hello");
    await sub.next();
    times.push(performance.now() - start);
    sub.close();
    await client.close();
  }
  await server.stop();
  return times;
}
