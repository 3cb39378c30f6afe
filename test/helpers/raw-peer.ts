// A client built only from docs/PROTOCOL.md: socket.io-client plus a bare engine peer.
// Tests use it to send what a well-behaved Client never would.
import { io, type Socket } from "socket.io-client";
import type { EngineChannel, EngineName, EnginePeer } from "../../src/peer/engine.js";
import { loadEngine } from "../../src/peer/engines.js";
import type { Delivery } from "../../src/peer/link.js";
import { PASSWORD, type Resources } from "./net.js";

export interface RawPeer {
  socket: Socket;
  peer: EnginePeer;
  channels: Record<Delivery, EngineChannel>;
  received: Uint8Array[];
  request(
    event: string,
    payload: unknown,
  ): Promise<{ ok: boolean; error?: { code: string; message: string } } & Record<string, unknown>>;
}

export async function rawSocket(
  res: Resources,
  port: number,
  password = PASSWORD,
): Promise<Socket> {
  const socket = io(`http://127.0.0.1:${port}`, {
    auth: { password },
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
  });
  res.add(() => {
    socket.close();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  return socket;
}

export async function rawPeer(
  res: Resources,
  port: number,
  engineName: EngineName,
): Promise<RawPeer> {
  const socket = await rawSocket(res, port);
  const request: RawPeer["request"] = (event, payload) =>
    socket.timeout(5000).emitWithAck(event, payload);
  const hello = await request("hello", { protocol: 1 });
  const engine = await loadEngine(engineName);
  const peer = engine.createPeer(
    `raw-${hello.clientId}`,
    {
      iceServers: [],
      bindAddress: "127.0.0.1",
      iceTransportPolicy: "all",
    },
    {
      signal: (m) => socket.emit("signal", m),
      stateChange: () => {},
    },
  );
  res.add(() => peer.close());
  socket.on("signal", (m) => void peer.applyRemote(m));
  const received: Uint8Array[] = [];
  const opened: Promise<void>[] = [];
  const make = (id: number, ordered: boolean, label: string) => {
    let open!: () => void;
    opened.push(
      new Promise((r) => {
        open = r;
      }),
    );
    return peer.createChannel(
      { id, ordered, label, ...(ordered ? {} : { maxRetransmits: 0 }) },
      {
        open: () => open(),
        close: () => {},
        message: (d) => received.push(Uint8Array.from(d)),
        bufferedAmountLow: () => {},
      },
    );
  };
  const channels = {
    realtime: make(0, false, "conduit-realtime"),
    reliable: make(1, true, "conduit-reliable"),
  };
  await peer.startOffer();
  await Promise.all(opened);
  return { socket, peer, channels, received, request };
}
