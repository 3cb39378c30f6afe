// Viewers for the fan-out bench, many in one process (forked by fanout-server.ts with IPC):
// conduit clients subscribing to "frames", or bare node-datachannel peers answering the
// server's offers. Records each frame's one-way latency; on "finish" reports and exits.
import ndc from "node-datachannel";
import { Client, ClientDescriptor, StreamManager } from "../src/index.js";
import {
  FANOUT_CHANNEL,
  RemoteCandidates,
  type ToServer,
  type ToViewers,
  wallClock,
} from "./fanout-protocol.js";

const latencies: number[] = [];
const closers: (() => Promise<void> | void)[] = [];
const send = (message: ToServer) => process.send?.(message);

async function startConduitViewer(port: number): Promise<void> {
  const client = new Client(
    new ClientDescriptor({
      serverHost: "127.0.0.1",
      serverPort: port,
      password: "bench",
      engine: "node-datachannel",
      iceBindAddress: "127.0.0.1",
    }),
  );
  const streams = new StreamManager();
  streams.registerClientHandlers(client);
  await client.connect();
  closers.push(() => client.close());
  // wait: on a second cluster node the stream appears once the first node announces it.
  const subscription = streams.subscribe("frames", { bufferSize: 4, wait: true });
  void (async () => {
    for await (const m of subscription) {
      const { sentAt } = m as { sentAt?: number };
      if (sentAt !== undefined) latencies.push(wallClock() - sentAt); // not the warm-up
    }
  })();
}

const candidates = new RemoteCandidates();
/** Held so they are not collected: a collected channel stops delivering. */
const rawChannels: ndc.DataChannel[] = [];

function answerRawOffer(id: number, sdp: string): void {
  const pc = new ndc.PeerConnection(`viewer-${id}`, {
    iceServers: [],
    bindAddress: "127.0.0.1",
    disableAutoNegotiation: true,
  });
  closers.push(() => pc.close());
  pc.onLocalDescription((answer) => send({ kind: "answer", id, sdp: answer }));
  pc.onLocalCandidate((candidate, mid) => send({ kind: "candidate", id, candidate, mid }));
  const channel = pc.createDataChannel("frames", FANOUT_CHANNEL);
  rawChannels.push(channel);
  channel.onMessage((m) => {
    if (typeof m === "string") return;
    const bytes = m instanceof ArrayBuffer ? new Uint8Array(m) : m;
    latencies.push(wallClock() - new DataView(bytes.buffer, bytes.byteOffset).getFloat64(0));
  });
  pc.setRemoteDescription(sdp, "offer");
  pc.setLocalDescription("answer");
  // Only now does the peer have its ICE transport to take candidates.
  candidates.ready(id, pc);
}

// Whatever ends the server process ends its viewers too.
process.on("disconnect", () => process.exit(0));

process.on("message", async (message: ToViewers) => {
  switch (message.kind) {
    case "conduit": {
      // A few at a time: all at once only measures how the server copes with a connect storm.
      for (let i = 0; i < message.count; i += 8) {
        const batch = Math.min(8, message.count - i);
        await Promise.all(Array.from({ length: batch }, () => startConduitViewer(message.port)));
      }
      send({ kind: "connected" });
      break;
    }
    case "offer":
      answerRawOffer(message.id, message.sdp);
      break;
    case "candidate":
      candidates.add(message.id, message.candidate, message.mid);
      break;
    case "finish": {
      await Promise.all(closers.map((close) => close()));
      send({ kind: "result", latencies });
      process.disconnect();
      break;
    }
  }
});
