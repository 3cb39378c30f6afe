// A client built only from docs/PROTOCOL.md: socket.io-client plus a bare engine peer.
// Tests use it to send what a well-behaved Client never would.
import type { Socket } from "socket.io-client";
import type { Delivery } from "../../src/core/delivery.js";
import type {
  EngineChannel,
  EngineName,
  EnginePeer,
  SignalMessage,
} from "../../src/peer/engine.js";
import { loadEngine } from "../../src/peer/engines.js";
import { isKeepalive } from "../../src/wire/frame.js";
import type { Resources } from "./net.js";
import { connectedSocket } from "./raw-socket.js";

type Reply = { ok: boolean; error?: { code: string; message: string } } & Record<string, unknown>;

export interface RawPeer {
  socket: Socket;
  peer: EnginePeer;
  channels: Record<Delivery, EngineChannel>;
  /** Frames received, keepalives left out (one comes every linkTimeoutMs / 5). */
  received: Uint8Array[];
  /** Settles when the server's answer has arrived. */
  answered: Promise<void>;
  /** The server's signals, as they came. */
  signals: SignalMessage[];
  /** Stops applying the server's signals to this peer. */
  detach(): void;
  request(event: string, payload: unknown): Promise<Reply>;
}

/**
 * Authenticates (unless given a socket that already did), sends `hello`, offers a peer
 * connection with the two negotiated channels and waits for them to open (unless
 * `policy: "relay"`, which can never connect without a TURN server).
 */
export async function rawPeer(
  res: Resources,
  port: number,
  engineName: EngineName,
  options: {
    socket?: Socket;
    policy?: "all" | "relay";
    protocol?: number;
    /** Send candidates as SDP lines ("a=candidate:…"), as libdatachannel gives them. */
    sdpCandidates?: boolean;
  } = {},
): Promise<RawPeer> {
  const socket = options.socket ?? (await connectedSocket(res, port));
  const request = (event: string, payload: unknown): Promise<Reply> =>
    socket.timeout(5000).emitWithAck(event, payload);
  if (!options.socket) await request("hello", { protocol: options.protocol ?? 2 });
  const engine = await loadEngine(engineName);
  // What the setup went through, for the error if the channels never open.
  const progress: string[] = [];
  const peer = engine.createPeer(
    "raw",
    { iceServers: [], bindAddress: "127.0.0.1", iceTransportPolicy: options.policy ?? "all" },
    {
      signal: (m) => socket.emit("signal", asDocumented(m, options.sdpCandidates ?? false)),
      stateChange: (state) => progress.push(state),
      iceConnected: () => progress.push("ice connected"),
      dtlsConnected: () => progress.push("dtls connected"),
    },
  );
  res.add(() => peer.close());
  let answer!: () => void;
  const answered = new Promise<void>((r) => {
    answer = r;
  });
  const signals: SignalMessage[] = [];
  const onSignal = (m: SignalMessage) => {
    signals.push(m);
    progress.push(`got ${m.kind}`);
    if (m.kind === "description") answer();
    peer.applyRemote(m).catch(() => {}); // a closed or failed peer refuses late candidates
  };
  socket.on("signal", onSignal);
  const detach = () => {
    socket.off("signal", onSignal);
  };
  res.add(detach);

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
        open: () => {
          progress.push(`${label} open`);
          open();
        },
        close: () => {},
        message: (d) => {
          if (!isKeepalive(d)) received.push(Uint8Array.from(d));
        },
        bufferedAmountLow: () => {},
      },
    );
  };
  const channels = {
    realtime: make(0, false, "conduit-realtime"),
    reliable: make(1, true, "conduit-reliable"),
  };
  await peer.startOffer();
  if (options.policy !== "relay") {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`raw peer not open after 15 s; it saw: ${progress.join(", ")}`)),
        15_000,
      );
    });
    await Promise.race([Promise.all(opened), stuck]).finally(() => clearTimeout(timer));
  }
  return { socket, peer, channels, received, answered, signals, detach, request };
}

/** What the client sends, as PROTOCOL.md §3.2 advises: the offer asks to be the DTLS client
 * (`a=setup:active`; with actpass, a node-datachannel server's ClientHello can arrive before
 * this peer can take it); candidates optionally as SDP lines ("a=candidate:…"). */
function asDocumented(m: SignalMessage, sdpCandidates: boolean): SignalMessage {
  if (m.kind === "description" && m.type === "offer") {
    return { ...m, sdp: m.sdp.replace(/^a=setup:actpass(?=\r?$)/gm, "a=setup:active") };
  }
  if (m.kind === "candidate" && sdpCandidates) {
    return { ...m, candidate: `a=${m.candidate.replace(/^a=/, "")}` };
  }
  return m;
}
