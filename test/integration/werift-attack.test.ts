// Malformed SCTP packets sent over a real association (inside DTLS) to a conduit server on
// the werift engine, in its own process: it stays up, keeps serving others, and frees the
// sender. Each case hung or killed werift 0.24.4 without conduit's fixes (src/peer/werift-fixes.ts).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { crc32c } from "werift";
import { Client, ClientDescriptor, StreamManager } from "../../src/index.js";
import { PASSWORD, Resources } from "../helpers/net.js";
import { lineMatching, runTs } from "../helpers/process.js";
import { rawPeer } from "../helpers/raw-peer.js";
import { type Association, associationOf } from "../helpers/werift-pair.js";

const res = new Resources();
let target: ReturnType<typeof runTs>;
let port: number;

// A fresh server for each case, so that each fails on its own.
beforeEach(async () => {
  target = runTs(res, "test/helpers/werift-target-server.ts");
  port = Number((await lineMatching(target, /^listening (\d+)/))[1]);
});
afterEach(() => res.closeAll());

function chunk(type: number, flags: number, body: Buffer, length = body.length + 4): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt8(type, 0);
  header.writeUInt8(flags, 1);
  header.writeUInt16BE(length, 2);
  const padding = Buffer.alloc((4 - (body.length % 4)) % 4);
  return Buffer.concat([header, body, padding]);
}

/** A packet the server's association accepts as its peer's: right ports, tag and checksum. */
function packet(sctp: Association, ...chunks: Buffer[]): Buffer {
  const out = Buffer.concat([Buffer.alloc(12), ...chunks]);
  out.writeUInt16BE(5000, 0);
  out.writeUInt16BE(5000, 2);
  out.writeUInt32BE(sctp.remoteVerificationTag, 4);
  out.writeUInt32LE(crc32c(out), 8);
  return out;
}

function dataChunk(tsn: number, flags: number, payload: Buffer): Buffer {
  const body = Buffer.alloc(12);
  body.writeUInt32BE(tsn, 0);
  body.writeUInt16BE(1, 4); // stream 1, the reliable channel
  body.writeUInt16BE(0, 6); // stream sequence number
  body.writeUInt32BE(53, 8); // binary
  return chunk(0, flags, Buffer.concat([body, payload]));
}

async function attacker() {
  const raw = await rawPeer(res, port, "werift");
  const pc = (raw.peer as unknown as { pc: Parameters<typeof associationOf>[0] }).pc;
  // The server says so when it drops its end of the link (the session stays, for a restart).
  const linkLost = new Promise<void>((resolve) => raw.socket.once("link_lost", () => resolve()));
  return { sctp: associationOf(pc), linkLost };
}

/** A well-behaved client on the other engine connects and receives the ticks stream. */
async function anotherClientIsServed(): Promise<void> {
  const client = new Client(
    new ClientDescriptor({
      serverHost: "127.0.0.1",
      serverPort: port,
      password: PASSWORD,
      engine: "node-datachannel",
      iceBindAddress: "127.0.0.1",
    }),
  );
  res.add(() => client.close());
  const streams = new StreamManager();
  streams.registerClientHandlers(client);
  await client.connect();
  const got: unknown[] = [];
  for await (const tick of streams.subscribe("ticks")) {
    got.push(tick);
    if (got.length === 3) break;
  }
  expect(got).toHaveLength(3);
}

const DISCARD_PACKET = 0x3f; // an unknown type whose top bits say "stop, discard the packet"
const SKIP_CHUNK = 0xbf; // an unknown type whose top bits say "skip this chunk"
const RECONFIG = 130;

describe("a werift server receiving malformed SCTP", () => {
  for (const [what, build] of [
    ["a chunk whose length is 0", (s: Association) => packet(s, chunk(0, 0, Buffer.alloc(8), 0))],
    [
      "a parameter whose length is 0",
      (s: Association) => packet(s, chunk(RECONFIG, 0, Buffer.from([0, 13, 0, 0, 1, 2, 3, 4]))),
    ],
    [
      "unknown chunk types",
      (s: Association) =>
        Buffer.concat([
          packet(s, chunk(DISCARD_PACKET, 0, Buffer.alloc(4))),
          packet(s, chunk(SKIP_CHUNK, 0, Buffer.alloc(4))),
        ]),
    ],
  ] as const) {
    it(`${what}: stays up and serves other clients`, async () => {
      const { sctp } = await attacker();
      const bytes = build(sctp);
      // Each packet separately: concatenated cases hold two.
      for (let at = 0; at < bytes.length; ) {
        const length = what === "unknown chunk types" ? 20 : bytes.length;
        await sctp.transport.send(bytes.subarray(at, at + length));
        at += length;
      }
      await anotherClientIsServed();
      expect(target.exitCode).toBeNull();
    });
  }

  it("fragments of a message that never ends: the sender is cut off, memory stays bounded", async () => {
    const { sctp, linkLost } = await attacker();
    const payload = Buffer.alloc(1200, 7);
    const first = sctp.localTsn;
    // 4 MB of one message with no last fragment: four times werift's receive window.
    for (let i = 0; i < 3500; i++) {
      await sctp.transport.send(
        packet(sctp, dataChunk((first + i) >>> 0, i === 0 ? 2 : 0, payload)),
      );
    }
    await linkLost;
    await anotherClientIsServed();
    expect(target.exitCode).toBeNull();
  });
});
