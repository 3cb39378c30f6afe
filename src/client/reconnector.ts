import type { ClientDescriptor, ReconnectPolicy } from "../config/client-descriptor.js";
import { AuthenticationError, asConduitError, type ConduitError } from "../core/errors.js";
import { log } from "../util/log.js";
import type { Connection } from "./connection.js";
import type { ClientStatus } from "./connection-keeper.js";

const debug = log("client");

/** What the reconnect loop does to the client's connection (the keeper's side of it). */
export interface ReconnectTarget {
  connection(): Connection | undefined;
  closing(): boolean;
  /** Which of the descriptor's URLs the current connection uses. */
  serverIndex(): number;
  open(url: string | undefined): Promise<Connection>;
  /** A new session on server `serverIndex`: it becomes the current connection. */
  install(connection: Connection, serverIndex: number): void;
  /** A new data link in the current session. */
  restartLink(connection: Connection): Promise<void>;
  drop(reason: string): void;
  close(reason: string, error: ConduitError): void;
  setStatus(status: ClientStatus): void;
}

/**
 * Gets a lost connection back: a link restart in the same session while signaling stays up,
 * else a new connection, to the next server when there are several, with exponential backoff
 * until the policy's attempts run out. Credentials refused are not tried again.
 */
export class Reconnector {
  /** While reconnecting: settles when connected again (or closed). */
  private reconnected: Promise<void> | undefined;
  private endWait: (() => void) | undefined;
  /** Ends a pause between attempts at once when the client closes. */
  private endPause: (() => void) | undefined;

  constructor(
    private readonly descriptor: ClientDescriptor,
    private readonly target: ReconnectTarget,
  ) {}

  /** Settles once the reconnect under way is over; undefined when none is. */
  get pending(): Promise<void> | undefined {
    return this.reconnected;
  }

  /** The connection broke: reconnect, unless told not to or the server refused us. */
  start(reason: string, error: ConduitError): void {
    if (this.reconnected) return;
    const policy = this.descriptor.reconnect;
    if (!policy || error instanceof AuthenticationError) {
      this.target.close(reason, error);
      return;
    }
    debug("%s; reconnecting", reason);
    this.reconnected = new Promise((resolve) => {
      this.endWait = resolve;
    });
    void this.run(policy, error);
  }

  /** The client closes: a reconnect under way ends now, and whoever waits for it goes on. */
  stop(): void {
    this.endPause?.();
    this.done();
  }

  private async run(policy: ReconnectPolicy, lastError: ConduitError): Promise<void> {
    const { target } = this;
    let error = lastError;
    for (let attempt = 1; ; attempt++) {
      // Signaling still up: only the data link failed; the session stays.
      const current = target.connection();
      const kept = current?.signaling.connected ? current : undefined;
      if (!kept) target.drop("reconnecting");
      if (attempt > policy.maxAttempts) {
        target.close(`gave up after ${policy.maxAttempts} reconnect attempts`, error);
        return;
      }
      target.setStatus({ state: "reconnecting", attempt, error });
      // A link restart goes at once the first time; it needs no new authentication.
      if (!kept || attempt > 1) await this.pause(backoffMs(policy, attempt));
      if (target.closing()) return;
      if (kept) {
        try {
          await target.restartLink(kept);
        } catch (err) {
          if (target.closing()) return;
          error = asConduitError(err);
          debug("link restart %d failed: %s", attempt, error.message);
          continue;
        }
        this.done();
        return;
      }
      // With several servers (cluster nodes), each attempt tries the next one.
      const urls = this.descriptor.urls;
      const index = (target.serverIndex() + (urls.length > 1 ? attempt : 0)) % urls.length;
      let connection: Connection;
      try {
        connection = await target.open(urls[index]);
      } catch (err) {
        if (target.closing()) return;
        error = asConduitError(err);
        // Refused credentials will not become right by trying again.
        if (error instanceof AuthenticationError && error.code !== "RATE_LIMITED") {
          target.close("reconnect refused", error);
          return;
        }
        debug("reconnect attempt %d failed: %s", attempt, error.message);
        continue;
      }
      if (target.closing()) {
        connection.close("client closed while reconnecting");
        return;
      }
      target.install(connection, index);
      this.done();
      return;
    }
  }

  private done(): void {
    this.endWait?.();
    this.reconnected = undefined;
  }

  /** Waits `ms`, or less if the client is closed meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.endPause = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.endPause = finish;
    });
  }
}

/** Exponential, with equal jitter: between half and all of the doubled delay. */
function backoffMs(policy: ReconnectPolicy, attempt: number): number {
  const full = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return full / 2 + Math.random() * (full / 2);
}
