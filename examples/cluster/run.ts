// One command for a cluster on this machine: nats-server, three conduit nodes (n1 pushes
// 30 fps × 20 KB frames on "video"), and a load client whose viewers are spread across the
// nodes. Prints, each second, what each node's viewers got; stops after DURATION seconds.
//   npx tsx examples/cluster/run.ts          (CLIENTS=12 DURATION=10)
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client, ClientDescriptor, StreamManager } from "conduit-rtc";
import { startNatsServer } from "./nats-server.js";

const CLIENTS = Number(process.env.CLIENTS ?? 12);
const DURATION_S = Number(process.env.DURATION ?? 10);
const PASSWORD = "cluster-example";
const NODE = fileURLToPath(new URL("./node.ts", import.meta.url));

const nats = await startNatsServer();
console.log(`nats-server on ${nats.url}`);
const children: ChildProcess[] = [nats.process];

/** Starts a node process; resolves with its signaling port. */
function startNode(name: string, stream?: string): Promise<number> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", NODE, nats.url, name, ...(stream ? [stream] : [])],
    {
      env: { ...process.env, CONDUIT_PASSWORD: PASSWORD },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (c: Buffer) => {
      const m = /listening on port (\d+)/.exec(c.toString());
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`node ${name} exited (${code})`)));
  });
}

const ports = await Promise.all([startNode("n1", "video"), startNode("n2"), startNode("n3")]);
console.log(`nodes n1, n2, n3 on ports ${ports.join(", ")}`);

interface Viewer {
  node: string;
  client: Client;
  latencies: number[];
}
const viewers: Viewer[] = [];
for (let i = 0; i < CLIENTS; i++) {
  const index = i % ports.length;
  const client = new Client(
    new ClientDescriptor({
      serverHost: "127.0.0.1",
      serverPort: ports[index],
      password: PASSWORD,
      iceBindAddress: "127.0.0.1",
    }),
  );
  const streams = new StreamManager();
  streams.registerClientHandlers(client);
  await client.connect();
  const viewer: Viewer = { node: `n${index + 1}`, client, latencies: [] };
  viewers.push(viewer);
  void (async () => {
    for await (const m of streams.subscribe("video", { wait: true })) {
      viewer.latencies.push(
        performance.timeOrigin + performance.now() - (m as { sentAt: number }).sentAt,
      );
    }
  })().catch(() => undefined);
}
console.log(`${CLIENTS} viewers connected, spread across the nodes`);

const p99 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)] ?? Number.NaN;
for (let s = 1; s <= DURATION_S; s++) {
  await new Promise((r) => setTimeout(r, 1000));
  const line = ["n1", "n2", "n3"].map((node) => {
    const mine = viewers.filter((v) => v.node === node);
    const got = mine.flatMap((v) => v.latencies.splice(0));
    return `${node}: ${mine.length} viewers, ${Math.round(got.length / Math.max(1, mine.length))} fps each, p99 ${p99(got).toFixed(1)} ms`;
  });
  console.log(`[${s}s] ${line.join(" | ")}`);
}

await Promise.all(viewers.map((v) => v.client.close()));
for (const child of children) child.kill("SIGTERM");
console.log("done");
