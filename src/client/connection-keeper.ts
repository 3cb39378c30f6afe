import type { ClientDescriptor } from "../config/client-descriptor.js";
import {
  asConduitError,
  type ConduitError,
  ConnectionError,
  InvalidArgumentError,
} from "../core/errors.js";
import type { RestartReply, RestartRequest } from "../signaling/protocol.js";
import { log } from "../util/log.js";
import { Connection, type LinkMode } from "./connection.js";
import { Reconnector } from "./reconnector.js";

const debug = log("client");

export type ClientStatus =
  | { state: "idle" }
  | { state: "connecting" }
  | { state: "connected"; clientId: string }
  /** Connected, with the data relayed over Socket.IO: WebRTC could not connect (or is off).
   * Same API and delivery; the client moves to WebRTC once it connects. */
  | { state: "fallback"; clientId: string }
  /** The connection was lost; attempt `attempt` to get it back is next. Subscriptions and
   * client streams wait, and resume by themselves. */
  | { state: "reconnecting"; attempt: number; error: ConduitError }
  | { state: "closed"; reason: string; error?: ConduitError };

/** What the client's subscriptions and client streams do as connections come and go. */
export interface ConnectionUsers {
  /** `connection` is now the current one: route its messages. */
  attach(connection: Connection): void;
  /** A new session (reconnect, upgrade): subscribe and publish again. */
  resume(): void;
  /** A link restart within the session: where each reliable subscription stands. */
  restarting(): RestartRequest["resume"];
  /** The new link is up: what the server said it lost, dropped, and took. */
  restarted(reply: RestartReply): Promise<void>;
  /** The connection was closed; subscriptions and client streams stay. */
  dropped(): void;
  /** The client closes: end every subscription, with `error` if there is one. */
  closing(error: ConduitError | undefined): void;
}

/**
 * Keeps a Client connected: the first connect, reconnects (backoff, the next cluster node),
 * link restarts within the session, and the move from the relay to WebRTC. Owns the status.
 */
export class ConnectionKeeper {
  private current: Connection | undefined;
  /** This client's own id, the same across its reconnects (unlike the server-given id). */
  private readonly instance = randomHex(16);
  private clientId: string | undefined;
  private upgradeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Which of the descriptor's server URLs the current connection uses. */
  private serverIndex = 0;
  private readonly reconnector: Reconnector;
  private currentStatus: ClientStatus = { state: "idle" };
  private lastMaxMessageBytes: number;
  private isClosing = false;

  constructor(
    private readonly descriptor: ClientDescriptor,
    private readonly users: ConnectionUsers,
    private readonly onStatus: (status: ClientStatus) => void,
  ) {
    this.lastMaxMessageBytes = descriptor.maxMessageBytes;
    this.reconnector = new Reconnector(descriptor, {
      connection: () => this.current,
      closing: () => this.isClosing,
      serverIndex: () => this.serverIndex,
      open: (url) => Connection.open(descriptor, this.instance, this.linkMode, url),
      install: (connection, serverIndex) => {
        this.serverIndex = serverIndex;
        this.install(connection);
        this.users.resume();
      },
      restartLink: (connection) => this.restartLink(connection),
      drop: (reason) => this.dropConnection(reason),
      close: (reason, error) => this.close(reason, error),
      setStatus: (status) => this.setStatus(status),
    });
  }

  get connection(): Connection | undefined {
    return this.current;
  }

  get id(): string | undefined {
    return this.clientId;
  }

  get status(): ClientStatus {
    return this.currentStatus;
  }

  /** The server's message size limit (the descriptor's until the first connect). */
  get maxMessageBytes(): number {
    return this.lastMaxMessageBytes;
  }

  /** Set once close() began: nothing new starts. */
  get closing(): boolean {
    return this.isClosing;
  }

  /** While reconnecting: settles once connected again, or closed. */
  get reconnected(): Promise<void> | undefined {
    return this.reconnector.pending;
  }

  /** Connected, or getting the connection back: subscribing and pushing are possible. */
  get isUp(): boolean {
    return this.isConnected || this.currentStatus.state === "reconnecting";
  }

  /** Data flows: over WebRTC, or over the fallback relay. */
  get isConnected(): boolean {
    return this.currentStatus.state === "connected" || this.currentStatus.state === "fallback";
  }

  private get linkMode(): LinkMode {
    const d = this.descriptor;
    if (!d.webrtc) return "relay";
    return d.fallbackAfterMs === undefined ? "webrtc" : "auto";
  }

  async connect(): Promise<void> {
    const status = this.currentStatus;
    if (status.state === "closed") throw this.notConnected();
    if (status.state !== "idle") {
      throw new InvalidArgumentError(
        `connect() called while ${status.state}: a Client connects once, and reconnects by itself`,
      );
    }
    this.setStatus({ state: "connecting" });
    let connection: Connection;
    try {
      connection = await Connection.open(this.descriptor, this.instance, this.linkMode);
    } catch (err) {
      const error = asConduitError(err);
      this.close("connect failed", error);
      throw error;
    }
    if (this.isClosing) {
      connection.close("client closed while connecting");
      return;
    }
    this.install(connection);
  }

  /** Why a call that needs the connection cannot be made now: the same story for every call. */
  notConnected(): ConnectionError {
    const status = this.currentStatus;
    const message =
      status.state === "closed"
        ? `the client is closed (${status.reason}); a closed client cannot connect again: create a new Client`
        : "not connected; await client.connect() first";
    return new ConnectionError(message, "not-connected");
  }

  close(reason: string, error?: ConduitError): void {
    if (this.isClosing) return;
    this.isClosing = true;
    debug("%s shutting down: %s", this.clientId ?? "client", reason);
    this.users.closing(error);
    this.dropConnection(reason);
    this.reconnector.stop();
    this.setStatus(error ? { state: "closed", reason, error } : { state: "closed", reason });
  }

  /** Makes `connection` the current one, and says so in the status. */
  private install(connection: Connection): void {
    this.current = connection;
    this.clientId = connection.clientId;
    this.lastMaxMessageBytes = connection.maxMessageBytes;
    connection.on("lost", (reason, error) => {
      if (!this.isClosing && this.isConnected) this.reconnector.start(reason, error);
    });
    this.users.attach(connection);
    this.showConnected(connection);
  }

  private showConnected(connection: Connection): void {
    if (connection.relayed) {
      this.setStatus({ state: "fallback", clientId: connection.clientId });
      this.scheduleUpgrade();
    } else {
      this.setStatus({ state: "connected", clientId: connection.clientId });
    }
  }

  /** While relaying, tries WebRTC again now and then; moves over once it connects. */
  private scheduleUpgrade(): void {
    const after = this.descriptor.upgradeAfterMs;
    if (!this.descriptor.webrtc || after === undefined) return;
    clearTimeout(this.upgradeTimer);
    this.upgradeTimer = setTimeout(() => void this.upgrade(), after);
  }

  private async upgrade(): Promise<void> {
    const relayed = this.current;
    if (this.isClosing || !relayed?.relayed || this.currentStatus.state !== "fallback") return;
    let direct: Connection;
    try {
      direct = await Connection.open(
        this.descriptor,
        this.instance,
        "webrtc",
        this.descriptor.urls[this.serverIndex],
      );
    } catch (err) {
      debug("%s WebRTC still unavailable: %s", this.clientId, (err as Error).message);
      this.scheduleUpgrade();
      return;
    }
    if (this.isClosing || this.current !== relayed) {
      direct.close("not needed");
      return;
    }
    debug("%s WebRTC connected: leaving the relay", this.clientId);
    this.dropConnection("upgraded to WebRTC");
    this.install(direct);
    this.users.resume();
  }

  /**
   * A new data link in the same session (the signaling connection stayed up). Subscriptions
   * and client streams keep their ids; reliable ones resend what the old link may have lost.
   */
  private async restartLink(connection: Connection): Promise<void> {
    const reply = await connection.restartLink(this.linkMode, this.users.restarting());
    if (this.current !== connection || this.isClosing) return;
    await this.users.restarted(reply);
    debug("%s link restarted in session", this.clientId);
    this.showConnected(connection);
  }

  /** Closes the link and the signaling connection, keeping subscriptions and client streams. */
  private dropConnection(reason: string): void {
    clearTimeout(this.upgradeTimer);
    const connection = this.current;
    this.current = undefined;
    connection?.close(reason);
    this.users.dropped();
  }

  private setStatus(status: ClientStatus): void {
    this.currentStatus = status;
    this.onStatus(status);
  }
}

/** Random hex digits; crypto.getRandomValues works in plain-http pages too. */
function randomHex(bytes: number): string {
  const out = new Uint8Array(bytes);
  crypto.getRandomValues(out);
  return Array.from(out, (b) => b.toString(16).padStart(2, "0")).join("");
}
