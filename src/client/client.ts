import { ClientDescriptor } from "../config/client-descriptor.js";
import type { StreamSummary } from "../core/delivery.js";
import { InvalidArgumentError } from "../core/errors.js";
import type { LinkStats, PathReport } from "../peer/link.js";
import type { OutboundStats } from "../peer/sender.js";
import type { PushToServerOptions, RemoteStreams, SubscribeOptions } from "../streams/manager.js";
import type { Subscription } from "../streams/subscription.js";
import { Emitter } from "../util/emitter.js";
import { ClientStreams } from "./client-streams.js";
import type { ConnectTimings } from "./connect-timings.js";
import { type ClientStatus, ConnectionKeeper } from "./connection-keeper.js";
import { ClientSubscriptions } from "./subscriptions.js";

export type { ClientStatus } from "./connection-keeper.js";

interface ClientEvents {
  status: [ClientStatus];
  /** What the path reports say of the way to the server, each time one comes (~10 a second
   * on a protocol-3 WebRTC link): follow `capacityBytesPerSecond` to size what you push. */
  path: [PathReport];
}

/**
 * Connects to a conduit server: Socket.IO for control, a WebRTC peer for data.
 * Use it through a StreamManager: `streams.registerClientHandlers(client)`.
 */
export class Client extends Emitter<ClientEvents> implements RemoteStreams {
  readonly descriptor: ClientDescriptor;
  private readonly keeper: ConnectionKeeper;
  private readonly subscriptions: ClientSubscriptions;
  private readonly clientStreams: ClientStreams;

  constructor(descriptor: ClientDescriptor = new ClientDescriptor()) {
    super();
    if (!(descriptor instanceof ClientDescriptor)) {
      throw new InvalidArgumentError(
        "Client takes a ClientDescriptor: new Client(new ClientDescriptor({ ... }))",
      );
    }
    this.descriptor = descriptor;
    const keeper: ConnectionKeeper = new ConnectionKeeper(
      descriptor,
      {
        attach: (connection) => {
          this.subscriptions.attach(connection);
          connection.on("path", (report) => this.emit("path", report));
        },
        resume: () => {
          this.subscriptions.resume();
          this.clientStreams.resume();
        },
        restarting: () => {
          this.clientStreams.discardQueued();
          return this.subscriptions.restartPoints();
        },
        restarted: async (reply) => {
          this.subscriptions.restarted(reply);
          await this.clientStreams.restarted(reply.published);
        },
        dropped: () => {
          this.subscriptions.dropped();
          this.clientStreams.discardQueued();
        },
        closing: (error) => {
          this.subscriptions.closeAll(error);
          this.clientStreams.clear();
        },
      },
      (status) => this.emit("status", status),
    );
    this.keeper = keeper;
    this.subscriptions = new ClientSubscriptions(keeper);
    this.clientStreams = new ClientStreams(keeper);
  }

  /** The id the server gave this client; set once connected. */
  get id(): string | undefined {
    return this.keeper.id;
  }

  get status(): ClientStatus {
    return this.keeper.status;
  }

  /** Messages dropped because they could not be decoded. */
  get undecodable(): number {
    return this.subscriptions.undecodable;
  }

  /** Messages for streams no longer subscribed (in flight at unsubscribe). */
  get unplaced(): number {
    return this.subscriptions.unplaced;
  }

  /**
   * Authenticates, then sets up the WebRTC link; resolves once both data channels are open.
   * Rejects with AuthenticationError (wrong password) or ConnectionError (unreachable, timeout).
   */
  connect(): Promise<void> {
    return this.keeper.connect();
  }

  /** Closes the link; every subscription's loop ends normally. */
  async close(): Promise<void> {
    this.keeper.close("closed by client");
  }

  subscribe(name: string, options: SubscribeOptions): Subscription {
    return this.subscriptions.subscribe(name, options);
  }

  publish(name: string, data: unknown, options: PushToServerOptions): Promise<void> {
    return this.clientStreams.push(name, data, options);
  }

  async listStreams(): Promise<StreamSummary[]> {
    const { keeper } = this;
    if (keeper.reconnected) await keeper.reconnected;
    const signaling = keeper.connection?.signaling;
    if (!keeper.isConnected || !signaling) throw keeper.notConnected();
    return (await signaling.request("list", {})).streams;
  }

  /** Per client stream: messages handed to the link, bytes, drops, queue depth. */
  publishStats(): Record<string, OutboundStats> {
    return this.clientStreams.stats();
  }

  /**
   * The data link now, or undefined between links: per lane, frames and messages received
   * (completed, rebuilt from repair, incomplete, stale) and the engine's backlog; `path`, on
   * a protocol-3 WebRTC link, what the reports say of the path to the server (round trip,
   * loss of our pieces, bytes per second it receives from us, messages that came too old).
   */
  linkStats(): LinkStats | undefined {
    return this.keeper.connection?.link?.stats();
  }

  /**
   * Where the time of setting up the current data link went (connect, reconnect, link restart
   * or upgrade): each phase in order with its milliseconds, so a slow connect can be
   * diagnosed. Undefined before the first connect. The debug log (`conduit:client`) says the
   * same as each link opens.
   */
  connectStats(): ConnectTimings | undefined {
    return this.keeper.connection?.timings;
  }
}
