import { ServerDescriptor } from "../config/server-descriptor.js";
import { ConnectionError, InvalidArgumentError } from "../core/errors.js";
import type { Engine } from "../peer/engine.js";
import { loadEngine } from "../peer/engines.js";
import type { PathReport } from "../peer/link.js";
import { SignalingServer } from "../signaling/server.js";
import { mintTurnCredentials } from "../signaling/turn.js";
import type { StreamHost, StreamManager } from "../streams/manager.js";
import { addRemovable, Emitter } from "../util/emitter.js";
import { log } from "../util/log.js";
import { importOptional } from "../util/optional-dependency.js";
import { ClientStreamProgress } from "./client-stream-progress.js";
import { ClientSession, type ClientStats } from "./session.js";

const debug = log("server");

type StartupHook = (server: Server) => void | Promise<void>;

interface ServerEvents {
  /** A client authenticated. */
  clientConnected: [clientId: string];
  /** A client is gone and everything it held is released. */
  clientDisconnected: [clientId: string];
  /** What the path reports say of the way to a client, each time one comes (~10 a second on
   * a protocol-3 WebRTC link): follow `capacityBytesPerSecond` to size what you push to it. */
  path: [clientId: string, report: PathReport];
}

/**
 * The signaling server plus one WebRTC peer per authenticated client.
 * `await server.run()` resolves once it listens and the startup hooks have run.
 */
export class Server extends Emitter<ServerEvents> implements StreamHost {
  readonly descriptor: ServerDescriptor;
  private readonly startupHooks: StartupHook[] = [];
  private readonly sessions = new Map<string, ClientSession>();
  private readonly clientStreamProgress = new ClientStreamProgress();
  private signaling: SignalingServer | undefined;
  private streams: StreamManager | undefined;
  private cluster: { close(): Promise<void> } | undefined;
  private listeningPort: number | undefined;
  private state: "idle" | "starting" | "running" | "stopped" = "idle";

  constructor(descriptor: ServerDescriptor = new ServerDescriptor()) {
    super();
    if (!(descriptor instanceof ServerDescriptor)) {
      throw new InvalidArgumentError(
        "Server takes a ServerDescriptor: new Server(new ServerDescriptor({ ... }))",
      );
    }
    this.descriptor = descriptor;
  }

  /** The port it listens on (useful with `port: 0`). */
  get port(): number {
    if (this.listeningPort === undefined)
      throw new ConnectionError("server is not running", "not-connected");
    return this.listeningPort;
  }

  get clientCount(): number {
    return this.sessions.size;
  }

  /** Connections refused so far: for their browser Origin, or by authentication. */
  get refusedConnections(): { origin: number; auth: number } {
    return { ...(this.signaling?.refused ?? { origin: 0, auth: 0 }) };
  }

  /** Per connected client: its subscriptions, streams, and what it sent that was refused. */
  clientStats(): ClientStats[] {
    return [...this.sessions.values()].map((s) => s.stats());
  }

  useStreams(manager: StreamManager): void {
    if (this.streams && this.streams !== manager) {
      throw new InvalidArgumentError("this server already has a StreamManager registered");
    }
    this.streams = manager;
  }

  /** Runs `hook` when the server starts (before it accepts clients); returns a function that
   * removes it. */
  onStartup(hook: StartupHook): () => void {
    if (typeof hook !== "function") throw new InvalidArgumentError("hook must be a function");
    return addRemovable(this.startupHooks, hook);
  }

  async run(): Promise<void> {
    if (this.state !== "idle")
      throw new InvalidArgumentError(`server cannot run: it is ${this.state}`);
    this.state = "starting";
    const d = this.descriptor;
    const engine: Engine = await loadEngine(d.engine);
    const signaling = new SignalingServer({
      password: d.password,
      tokenSecret: d.tokenSecret,
      allowedOrigins: d.allowedOrigins,
      pingIntervalMs: d.pingIntervalMs,
      pingTimeoutMs: d.pingTimeoutMs,
      httpHandler: d.httpHandler,
    });
    signaling.on("connection", (clientSignaling) => {
      const session = new ClientSession(
        clientSignaling,
        {
          engine,
          iceServersFor: (user) =>
            d.turn ? [...d.iceServers, mintTurnCredentials(d.turn, user)] : d.iceServers,
          peerConfig: { bindAddress: d.iceBindAddress, iceTransportPolicy: d.iceTransportPolicy },
          maxMessageBytes: d.maxMessageBytes,
          linkTimeoutMs: d.linkTimeoutMs,
          streams: () => this.streams,
          clientStreamProgress: this.clientStreamProgress,
          pathReported: (clientId, report) => this.emit("path", clientId, report),
        },
        (s) => {
          this.sessions.delete(s.id);
          this.emit("clientDisconnected", s.id);
        },
      );
      this.sessions.set(session.id, session);
      this.emit("clientConnected", session.id);
    });
    try {
      this.listeningPort = await signaling.listen(d.host, d.port);
    } catch (err) {
      this.state = "stopped";
      await signaling.close();
      throw new ConnectionError(
        `cannot listen on ${d.host}:${d.port}: ${(err as Error).message}`,
        "unreachable",
        { cause: err },
      );
    }
    this.signaling = signaling;
    if (d.cluster) {
      if (!this.streams) {
        await signaling.close();
        this.state = "stopped";
        throw new InvalidArgumentError(
          "a cluster node needs a StreamManager: streams.registerServerHandlers(server) first",
        );
      }
      try {
        // Loaded only for clusters: a single process needs no NATS client.
        const { NatsCluster } = await importOptional(() => import("../cluster/nats-cluster.js"), {
          name: "@nats-io/transport-node",
          range: ">=3.0.0 <4",
          neededBy: "the cluster option",
        });
        this.cluster = await NatsCluster.join(d.cluster, this.streams);
      } catch (err) {
        await signaling.close();
        this.state = "stopped";
        if (err instanceof InvalidArgumentError) throw err;
        throw new ConnectionError(
          `cannot join the cluster: ${(err as Error).message}`,
          "unreachable",
          { cause: err },
        );
      }
    }
    this.state = "running";
    debug("listening on %s:%d (%s)", d.host, this.listeningPort, engine.name);
    if (d.auth === "none") {
      console.warn(
        `conduit-rtc: the server on port ${this.listeningPort} accepts every client without credentials (auth: "none")`,
      );
    }
    for (const hook of this.startupHooks) await hook(this);
  }

  /** Disconnects every client, frees every peer, and stops listening. Streams stay open. */
  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    for (const session of [...this.sessions.values()]) session.close();
    await this.signaling?.close();
    await this.cluster?.close();
    this.cluster = undefined;
    this.signaling = undefined;
    this.listeningPort = undefined;
  }
}
