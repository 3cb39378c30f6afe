// A client built only from docs/PROTOCOL.md: socket.io-client plus a bare engine peer.
// Tests use it to send what a well-behaved Client never would.
import type { Socket } from "socket.io-client";
import { LINK_RETRY_DELAYS_MS } from "../../src/core/defaults.js";
import type { Delivery } from "../../src/core/delivery.js";
import type {
  Engine,
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
  const received: Uint8Array[] = [];
  const signals: SignalMessage[] = [];
  let answer!: () => void;
  const answered = new Promise<void>((r) => {
    answer = r;
  });
  let current: Attempt | undefined;
  const onSignal = (m: SignalMessage) => {
    signals.push(m);
    progress.push(`got ${m.kind}`);
    if (m.kind === "description") answer();
    current?.peer.applyRemote(m).catch(() => {}); // a closed or failed peer refuses late candidates
  };
  socket.on("signal", onSignal);
  const detach = () => {
    socket.off("signal", onSignal);
  };
  res.add(detach);

  // A setup that fails is offered again after the client's pauses, as PROTOCOL.md §1 says.
  // libdatachannel 0.24.5 gives the ICE agent the answer before it keeps it for the DTLS
  // fingerprint check: when the server's checks have already reached this peer, ICE connects
  // at once, and a handshake that reaches the check in between fails ("DTLS alert: unknown
  // CA"). Only a busy machine loses that race, and it can lose it several times in a row.
  for (let attempt = 1; ; attempt++) {
    const setup = offer(res, engine, socket, options, progress, received);
    current = setup;
    await setup.peer.startOffer();
    if (options.policy === "relay") break;
    const outcome = await setup.outcome;
    if (outcome === "open") break;
    setup.peer.close();
    const pause = LINK_RETRY_DELAYS_MS[attempt - 1];
    if (outcome === "stuck" || pause === undefined) {
      throw new Error(`raw peer not open (${outcome}); it saw: ${progress.join(", ")}`);
    }
    progress.push(`attempt ${attempt} failed, offering again in ${pause} ms`);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
  return {
    socket,
    peer: current.peer,
    channels: current.channels,
    received,
    answered,
    signals,
    detach,
    request,
  };
}

/** Far more than a setup takes on loopback, even under load: a failure report, not a measure. */
const STUCK_AFTER_MS = 15_000;

interface Attempt {
  peer: EnginePeer;
  channels: Record<Delivery, EngineChannel>;
  /** Both channels open, the peer failed, or neither within STUCK_AFTER_MS. */
  outcome: Promise<"open" | "failed" | "stuck">;
}

/** A peer connection with the two negotiated channels (PROTOCOL.md §4), not yet offered. */
function offer(
  res: Resources,
  engine: Engine,
  socket: Socket,
  options: { policy?: "all" | "relay"; sdpCandidates?: boolean },
  progress: string[],
  received: Uint8Array[],
): Attempt {
  let settle!: (outcome: "open" | "failed" | "stuck") => void;
  const outcome = new Promise<"open" | "failed" | "stuck">((r) => {
    settle = r;
  });
  const timer = setTimeout(() => settle("stuck"), STUCK_AFTER_MS);
  void outcome.then(() => clearTimeout(timer));
  res.add(() => clearTimeout(timer));
  const peer = engine.createPeer(
    "raw",
    { iceServers: [], bindAddress: "127.0.0.1", iceTransportPolicy: options.policy ?? "all" },
    {
      signal: (m) => socket.emit("signal", asDocumented(m, options.sdpCandidates ?? false)),
      stateChange: (state) => {
        progress.push(state);
        if (state === "failed") settle("failed");
      },
      iceConnected: () => progress.push("ice connected"),
      dtlsConnected: () => progress.push("dtls connected"),
    },
  );
  res.add(() => peer.close());
  let open = 0;
  const make = (id: number, ordered: boolean, label: string) =>
    peer.createChannel(
      { id, ordered, label, ...(ordered ? {} : { maxRetransmits: 0 }) },
      {
        open: () => {
          progress.push(`${label} open`);
          if (++open === 2) settle("open");
        },
        close: () => {},
        message: (d) => {
          if (!isKeepalive(d)) received.push(Uint8Array.from(d));
        },
        bufferedAmountLow: () => {},
      },
    );
  return {
    peer,
    channels: {
      realtime: make(0, false, "conduit-realtime"),
      reliable: make(1, true, "conduit-reliable"),
    },
    outcome,
  };
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
