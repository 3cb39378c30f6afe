// One connection of a Client to the server: Socket.IO for control, and a data link that is a
// WebRTC peer, or (when WebRTC cannot connect in time, or is turned off) the relay over the
// Socket.IO connection itself. A Client replaces it when it reconnects or upgrades.

import type { ClientDescriptor } from "../config/client-descriptor.js";
import {
  CLOCK_SAMPLES,
  CLOCK_TIMEOUT_MS,
  OLDEST_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
} from "../core/defaults.js";
import { type ConduitError, ConnectionError } from "../core/errors.js";
import type { PathReport, PeerLink } from "../peer/link.js";
import { SignalingClient } from "../signaling/client.js";
import type {
  HelloReply,
  RestartReply,
  RestartRequest,
  StreamClosedNotice,
} from "../signaling/protocol.js";
import { wallClockMs } from "../util/clock.js";
import { Emitter } from "../util/emitter.js";
import { log } from "../util/log.js";
import { ConnectStopwatch, type ConnectTimings, describeTimings } from "./connect-timings.js";
import { HandshakeOffer } from "./handshake-offer.js";
import { openRelay, openWebRtc, remaining, type Setup } from "./link-setup.js";

const debug = log("client");

/** webrtc: WebRTC only; relay: the Socket.IO relay only; auto: WebRTC, else the relay. */
export type LinkMode = "webrtc" | "relay" | "auto";

interface ConnectionEvents {
  message: [streamId: number, seq: number, body: Uint8Array, ageMs: number | undefined];
  /** A realtime message arrived past its age bound and was dropped. */
  expired: [streamId: number, seq: number];
  path: [PathReport];
  streamClosed: [StreamClosedNotice];
  /** The connection broke (not emitted for close()). */
  lost: [reason: string, error: ConduitError];
}

export class Connection extends Emitter<ConnectionEvents> {
  private closed = false;
  /** The data link in use, or being set up: remote signals go to it. */
  private current: PeerLink | undefined;
  private isRelayed = false;
  /** The server's clock minus ours, once compared. */
  private clockOffsetMs: number | undefined;
  private linkTimings: ConnectTimings | undefined;

  private constructor(
    readonly signaling: SignalingClient,
    private readonly d: ClientDescriptor,
    private readonly hello: HelloReply,
    readonly maxMessageBytes: number,
  ) {
    super();
    signaling.on("signal", (message) => {
      this.current?.applyRemote(message).catch((err) => debug("bad signal from server: %O", err));
    });
    signaling.on("disconnect", (reason, error) => this.lose(`signaling lost: ${reason}`, error));
    signaling.on("linkLost", () => {
      if (this.current?.opened) this.current.close("the server lost its end");
    });
    signaling.on("streamClosed", (notice) => this.emit("streamClosed", notice));
  }

  get clientId(): string {
    return this.hello.clientId;
  }

  /** The data link; undefined while a restart sets up the next one. */
  get link(): PeerLink | undefined {
    return this.current;
  }

  /** Where the time of setting up the current link went. */
  get timings(): ConnectTimings | undefined {
    return this.linkTimings;
  }

  /** The data rides the Socket.IO relay, not WebRTC. */
  get relayed(): boolean {
    return this.isRelayed;
  }

  /**
   * Authenticates, says hello, and opens the data link. Rejects with AuthenticationError or
   * ConnectionError; leaves nothing open then. `instance` is the client's id for itself.
   */
  static async open(
    d: ClientDescriptor,
    instance: string,
    mode: LinkMode,
    url = d.url,
  ): Promise<Connection> {
    const deadline = Date.now() + d.connectTimeoutMs;
    const watch = new ConnectStopwatch();
    const signaling = new SignalingClient();
    let connection: Connection | undefined;
    // A relay-only policy needs the server's TURN credentials before it can offer.
    const offer =
      mode !== "relay" && d.iceTransportPolicy === "all"
        ? await HandshakeOffer.make(d, instance, signaling)
        : undefined;
    try {
      const handshake = {
        password: d.password,
        token: d.token,
        hello: { protocol: PROTOCOL_VERSION, instance },
      };
      await signaling.connect(url, handshake, d.connectTimeoutMs, offer && (() => offer.signals()));
      watch.lap("signaling");
      const hello = await signaling.hello(remaining(deadline));
      if (hello.protocol < OLDEST_PROTOCOL_VERSION || hello.protocol > PROTOCOL_VERSION) {
        throw new ConnectionError(
          `server speaks protocol ${hello.protocol}, this client ${OLDEST_PROTOCOL_VERSION} to ${PROTOCOL_VERSION}`,
          "incompatible",
        );
      }
      connection = new Connection(
        signaling,
        d,
        hello,
        Math.min(d.maxMessageBytes, hello.maxMessageBytes),
      );
      watch.lap("hello");
      if (hello.protocol >= 3) connection.compareClocks();
      const answered = hello.offerAnswered ? offer?.take() : undefined;
      if (answered) {
        answered.setTimeoutMs(hello.linkTimeoutMs);
        connection.current = answered;
      } else {
        offer?.drop("the server did not answer the handshake offer");
      }
      await connection.openLink(mode, deadline, watch, answered);
      return connection;
    } catch (err) {
      offer?.drop("connect failed");
      connection?.close("connect failed");
      signaling.close();
      throw err;
    }
  }

  /**
   * The link failed while signaling stayed up: drops it and sets up a new one in the same
   * session (a new peer connection: ICE restart on the old one is not supported by
   * libdatachannel). The server queues again what the old link may have lost on reliable
   * streams after `resume`; the reply says what it could not, and what it took of ours.
   */
  async restartLink(mode: LinkMode, resume: RestartRequest["resume"]): Promise<RestartReply> {
    const deadline = Date.now() + this.d.connectTimeoutMs;
    const watch = new ConnectStopwatch();
    const old = this.current;
    this.current = undefined;
    old?.close("restarting");
    const reply = await this.signaling.request("restart", { resume }, remaining(deadline));
    watch.lap("restart");
    await this.openLink(mode, deadline, watch);
    return reply;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.current?.close(reason);
    this.current = undefined;
    this.signaling.close();
    this.removeAllListeners();
  }

  private lose(reason: string, error: ConduitError): void {
    if (this.closed) return;
    this.emit("lost", reason, error);
  }

  /**
   * Compares clocks with the server over signaling, beside the link setup (it does not delay
   * connecting): the offset from the quickest of CLOCK_SAMPLES round trips is off by at most
   * half that round trip. The server is told it too.
   */
  private compareClocks(): void {
    const measure = async () => {
      let best: { rttMs: number; offsetMs: number } | undefined;
      for (let i = 0; i < CLOCK_SAMPLES && !this.closed; i++) {
        const sentAt = wallClockMs();
        const { now } = await this.signaling.request("clock", {}, CLOCK_TIMEOUT_MS);
        const receivedAt = wallClockMs();
        const rttMs = receivedAt - sentAt;
        if (!best || rttMs < best.rttMs) best = { rttMs, offsetMs: now + rttMs / 2 - receivedAt };
      }
      if (!best || this.closed) return;
      const offsetMs = Math.round(best.offsetMs);
      this.clockOffsetMs = offsetMs;
      this.current?.setClockOffset(offsetMs);
      await this.signaling.request("clock", { offsetMs }, CLOCK_TIMEOUT_MS);
    };
    measure().catch((err) => debug("%s clock comparison failed: %O", this.clientId, err));
  }

  /** Sets up WebRTC, or the relay (mode "relay", or "auto" once WebRTC is out of time).
   * `answered`: the link of the handshake's offer, which the server answered. */
  private async openLink(
    mode: LinkMode,
    deadline: number,
    watch: ConnectStopwatch,
    answered?: PeerLink,
  ): Promise<void> {
    const d = this.d;
    const setup: Setup = {
      d,
      signaling: this.signaling,
      clientId: this.clientId,
      watch,
      linkOptions: {
        maxMessageBytes: this.maxMessageBytes,
        timeoutMs: this.hello.linkTimeoutMs,
        coded: this.hello.protocol >= 3,
      },
      use: (link) => {
        this.current = link;
        if (this.clockOffsetMs !== undefined) link.setClockOffset(this.clockOffsetMs);
        // From the start: the server may send as soon as its end is open, before ours is.
        link.on("message", (_delivery, streamId, seq, body, ageMs) => {
          if (this.current === link) this.emit("message", streamId, seq, body, ageMs);
        });
        link.on("expired", (streamId, seq) => {
          if (this.current === link) this.emit("expired", streamId, seq);
        });
        link.on("path", (report) => {
          if (this.current === link) this.emit("path", report);
        });
      },
    };
    let link: PeerLink | undefined;
    if (mode !== "relay") {
      const iceServers = [...this.hello.iceServers, ...d.iceServers];
      const budgetMs =
        mode === "auto" && d.fallbackAfterMs !== undefined
          ? Math.min(d.connectTimeoutMs, d.fallbackAfterMs)
          : d.connectTimeoutMs;
      try {
        link = await openWebRtc(
          setup,
          iceServers,
          Math.min(deadline, Date.now() + budgetMs),
          budgetMs,
          answered,
        );
      } catch (err) {
        // Signaling lost or refused: the relay would not do better.
        if (mode !== "auto" || !this.signaling.connected) throw err;
        debug("%s WebRTC did not connect (%s): relaying over Socket.IO", this.clientId, err);
        watch.lap("retries");
      }
    }
    // The relay has a connect timeout of its own: WebRTC may have used all of the first.
    link ??= await openRelay(setup, mode === "relay" ? deadline : Date.now() + d.connectTimeoutMs);
    this.isRelayed = link.engineName === "relay";
    this.linkTimings = watch.finish(this.isRelayed ? "relay" : "webrtc");
    debug("%s link open in %s", this.clientId, describeTimings(this.linkTimings));
    link.on("close", (reason) => {
      if (this.current === link) {
        this.lose(
          `peer link lost: ${reason}`,
          new ConnectionError(`the data link failed: ${reason}`, "link-failed"),
        );
      }
    });
  }
}
