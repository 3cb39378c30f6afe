// The WebRTC offer a client makes before signaling connects and puts in its handshake
// (docs/PROTOCOL.md §2). A server with no ICE servers to hand out answers it at once, which
// saves the offer/answer round trip after hello: one of the ~8 round trips a connect takes on
// a long path. It is made with the client's own ICE servers only; a server with TURN
// credentials to give declines it, and the client offers again after hello as before.

import type { ClientDescriptor } from "../config/client-descriptor.js";
import { HANDSHAKE_OFFER_WAIT_MS } from "../core/defaults.js";
import type { SignalMessage } from "../peer/engine.js";
import { loadEngine } from "../peer/engines.js";
import { PeerLink } from "../peer/link.js";
import type { SignalingClient } from "../signaling/client.js";
import { log } from "../util/log.js";

const debug = log("client");

export class HandshakeOffer {
  /** Signals made before the handshake went: the offer and the candidates gathered by then. */
  private held: SignalMessage[] | undefined = [];
  private readonly offerMade: Promise<void>;
  private readonly offServerSignals: () => void;
  /** Why the link closed, if it did before the connection took it. */
  private closedWith: string | undefined;

  private constructor(
    readonly link: PeerLink,
    signaling: SignalingClient,
  ) {
    let offered: () => void = () => {};
    this.offerMade = new Promise<void>((resolve) => {
      offered = resolve;
    });
    link.on("close", (reason) => {
      this.closedWith = reason;
    });
    link.on("signal", (message) => {
      if (!this.held) return signaling.sendSignal(message);
      this.held.push(message);
      if (message.kind === "description") offered();
    });
    // Until the connection takes the link over: the answer may come before the welcome.
    this.offServerSignals = signaling.on("signal", (message) => {
      link.applyRemote(message).catch((err) => debug("bad signal from server: %O", err));
    });
    link.start().catch((err) => {
      debug("%s could not make the handshake offer: %O", link.id, err);
      offered();
    });
  }

  /** Starts the offer for `signaling`'s handshake; `instance` names the link in logs. */
  static async make(
    d: ClientDescriptor,
    instance: string,
    signaling: SignalingClient,
  ): Promise<HandshakeOffer> {
    const engine = await loadEngine(d.engine);
    // Protocol 3 assumed: a server answers only if it speaks it. The inbound size bound is the
    // client's own (the server sends nothing larger than its own, which hello tells later).
    const link = new PeerLink(
      instance,
      engine,
      { iceServers: d.iceServers, bindAddress: d.iceBindAddress, iceTransportPolicy: "all" },
      { maxMessageBytes: d.maxMessageBytes, coded: true },
    );
    return new HandshakeOffer(link, signaling);
  }

  /**
   * For the handshake's `offer`: the offer and the candidates gathered so far (later ones go
   * as signals); undefined if no offer was made in HANDSHAKE_OFFER_WAIT_MS.
   */
  async signals(): Promise<SignalMessage[] | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.offerMade,
      new Promise((resolve) => {
        timer = setTimeout(resolve, HANDSHAKE_OFFER_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    const held = this.held ?? [];
    this.held = undefined;
    this.link.setup.offerSent();
    // The offer first: werift gives its candidates before it.
    const offer = held.find((m) => m.kind === "description");
    return offer && [offer, ...held.filter((m) => m !== offer)];
  }

  /** The server answered: the link is the connection's to finish setting up, unless it has
   * failed already (the connection then offers again). */
  take(): PeerLink | undefined {
    this.offServerSignals();
    if (this.closedWith === undefined) return this.link;
    debug("%s the handshake offer's link failed early: %s", this.link.id, this.closedWith);
    return undefined;
  }

  /** Not answered (or the connect failed). */
  drop(reason: string): void {
    this.offServerSignals();
    this.link.close(reason);
  }
}
