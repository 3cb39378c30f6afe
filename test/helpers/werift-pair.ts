// Two bare werift peers joined over loopback, with a hook on each SCTP association's outgoing
// chunks: the tests of conduit's werift fixes drop chosen chunks there.
import { type RTCDataChannel, RTCPeerConnection } from "werift";
// conduit's werift adapter applies its fixes to werift when it loads.
import "../../src/peer/werift.js";
import type { Resources } from "./net.js";

const LOOPBACK = {
  iceServers: [],
  iceInterfaceAddresses: { udp4: "127.0.0.1" },
  iceAdditionalHostAddresses: ["127.0.0.1"],
  iceUseIpv6: false,
};

/** The parts of werift's (untyped) SCTP association the tests use. */
export interface Association {
  localTsn: number;
  sentQueue: unknown[];
  remoteVerificationTag: number;
  transport: { send(packet: Buffer): Promise<void> };
  sendChunk(chunk: { type: number; tsn: number }): Promise<void>;
}

export function associationOf(pc: RTCPeerConnection): Association {
  const sctp = (pc.sctpTransport as unknown as { sctp?: Association } | undefined)?.sctp;
  if (!sctp) throw new Error("no SCTP transport yet: create a data channel first");
  return sctp;
}

/** Calls `filter` for each DATA chunk (type 0) before it is sent; false drops it. */
export function filterDataChunks(
  sctp: Association,
  filter: (chunk: { tsn: number }, transmission: number) => boolean,
): void {
  const send = sctp.sendChunk.bind(sctp);
  const transmissions = new Map<number, number>();
  sctp.sendChunk = async (chunk) => {
    if (chunk.type !== 0) return send(chunk);
    const n = (transmissions.get(chunk.tsn) ?? 0) + 1;
    transmissions.set(chunk.tsn, n);
    if (filter(chunk, n)) return send(chunk);
  };
}

export interface WeriftPair {
  a: RTCPeerConnection;
  b: RTCPeerConnection;
}

/**
 * Connects two peers; `beforeConnect` runs once a's channels exist and before the offer,
 * the last moment to change a's association (its initial TSN, say).
 */
export async function weriftPair(
  res: Resources,
  createChannels: (a: RTCPeerConnection, b: RTCPeerConnection) => void,
  beforeConnect: (a: RTCPeerConnection) => void = () => undefined,
): Promise<WeriftPair> {
  const a = new RTCPeerConnection(LOOPBACK);
  const b = new RTCPeerConnection(LOOPBACK);
  res.add(async () => {
    await a.close();
    await b.close();
  });
  a.onIceCandidate.subscribe((c) => {
    if (c) b.addIceCandidate(c).catch(() => undefined);
  });
  b.onIceCandidate.subscribe((c) => {
    if (c) a.addIceCandidate(c).catch(() => undefined);
  });
  createChannels(a, b);
  beforeConnect(a);
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription as never);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription as never);
  return { a, b };
}

export function opened(channel: RTCDataChannel): Promise<void> {
  if (channel.readyState === "open") return Promise.resolve();
  return new Promise((resolve) =>
    channel.stateChanged.subscribe((s) => {
      if (s === "open") resolve();
    }),
  );
}

export interface ChannelPair extends WeriftPair {
  aChannel: RTCDataChannel;
  bChannel: RTCDataChannel;
}

/** A pair joined by one negotiated channel with a's `options` (b mirrors the ordering), open. */
export async function channelPair(
  res: Resources,
  options: { id: number; ordered?: boolean; maxRetransmits?: number; maxPacketLifeTime?: number },
  beforeConnect?: (a: RTCPeerConnection) => void,
): Promise<ChannelPair> {
  let aChannel!: RTCDataChannel;
  let bChannel!: RTCDataChannel;
  const pair = await weriftPair(
    res,
    (a, b) => {
      aChannel = a.createDataChannel("test", { negotiated: true, ...options });
      bChannel = b.createDataChannel("test", {
        negotiated: true,
        id: options.id,
        ordered: options.ordered ?? true,
      });
    },
    beforeConnect,
  );
  await Promise.all([opened(aChannel), opened(bChannel)]);
  return { ...pair, aChannel, bChannel };
}
