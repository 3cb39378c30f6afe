// Setting up a Connection's data link: WebRTC with retries within the deadline, or the relay
// over Socket.IO; and the wait for either to open.

import type { ClientDescriptor } from "../config/client-descriptor.js";
import {
  LINK_RETRY_DELAYS_MS,
  TRANSPORT_STALL_BASE_MS,
  TRANSPORT_STALL_ROUND_TRIPS,
} from "../core/defaults.js";
import { ConduitError, ConnectionError } from "../core/errors.js";
import type { IceServer } from "../peer/engine.js";
import { loadEngine } from "../peer/engines.js";
import { type LinkOptions, PeerLink } from "../peer/link.js";
import { relayEngine } from "../peer/relay.js";
import type { SignalingClient } from "../signaling/client.js";
import { log } from "../util/log.js";
import type { ConnectStopwatch } from "./connect-timings.js";

const debug = log("client");

export interface Setup {
  d: ClientDescriptor;
  signaling: SignalingClient;
  clientId: string;
  watch: ConnectStopwatch;
  linkOptions: LinkOptions;
  /** Called with each link as it is made: remote signals go to it, its messages come here. */
  use(link: PeerLink): void;
}

/**
 * Sets up the WebRTC link. A setup that fails outright (ICE or DTLS failure) is tried again
 * with a fresh peer connection after each pause in LINK_RETRY_DELAYS_MS, within the deadline.
 * libdatachannel loses about 1 loopback handshake in 70 under load: it gives the ICE agent
 * the answer before it keeps it for the fingerprint check, and a DTLS flight that comes in
 * between is refused ("unknown CA").
 */
export async function openWebRtc(
  setup: Setup,
  iceServers: IceServer[],
  deadline: number,
  budgetMs: number,
  answered?: PeerLink,
): Promise<PeerLink> {
  const { d, signaling, clientId, linkOptions, watch } = setup;
  const engine = await loadEngine(d.engine);
  for (let attempt = 1; ; attempt++) {
    watch.attempts = attempt;
    const pause = LINK_RETRY_DELAYS_MS[attempt - 1];
    const another = pause !== undefined && Date.now() + pause < deadline;
    // The first attempt may be the handshake's offer, already answered and under way.
    const fromHandshake = attempt === 1 && answered !== undefined;
    if (fromHandshake) watch.offerInHandshake = true;
    const link = fromHandshake
      ? answered
      : new PeerLink(
          clientId,
          engine,
          { iceServers, bindAddress: d.iceBindAddress, iceTransportPolicy: d.iceTransportPolicy },
          linkOptions,
        );
    setup.use(link);
    if (!fromHandshake) link.on("signal", (message) => signaling.sendSignal(message));
    const failure = await awaitOpen(
      link,
      signaling,
      deadline,
      `WebRTC link not open within ${budgetMs} ms`,
      () => (fromHandshake ? Promise.resolve() : link.start()),
      another && engine.slowDtlsRetransmit ? stalledAfterMs(link) : undefined,
    );
    if (!failure) {
      watch.lapLink(link.setup);
      return link;
    }
    link.close(failure.message);
    if (!another || failure.final || Date.now() + pause >= deadline) throw failure.error;
    debug(
      "%s link attempt %d failed (%s); again in %d ms",
      clientId,
      attempt,
      failure.message,
      pause,
    );
    // Let the failed peer connections finish closing before the next one starts.
    await new Promise((r) => setTimeout(r, pause));
    watch.lap("retries");
  }
}

/**
 * How long after ICE connects the rest of a setup (DTLS, SCTP) may take before it is tried
 * again from the start. A DTLS flight that reaches a peer whose DTLS transport is not up yet
 * is lost, and OpenSSL sends it again only after 1 s: on loopback under load, libdatachannel
 * lost one in some 100–300 setups so. DTLS and SCTP take ~4 round trips; the offer/answer
 * exchange just measured one (over signaling, so a little over).
 */
function stalledAfterMs(link: PeerLink): () => number {
  return () => {
    const answeredIn = link.setup.offerAnswerMs() ?? 0;
    return TRANSPORT_STALL_BASE_MS + TRANSPORT_STALL_ROUND_TRIPS * answeredIn;
  };
}

/** The relay: both lanes over the Socket.IO connection; the server is asked to switch too. */
export async function openRelay(setup: Setup, deadline: number): Promise<PeerLink> {
  const { signaling, clientId, linkOptions, watch } = setup;
  // No keepalives: Socket.IO's own heartbeat watches the connection the relay rides.
  const link = new PeerLink(
    clientId,
    relayEngine(signaling.relay()),
    { iceServers: [], iceTransportPolicy: "all" },
    { maxMessageBytes: linkOptions.maxMessageBytes },
  );
  setup.use(link);
  const failure = await awaitOpen(link, signaling, deadline, "relay not open in time", async () => {
    await signaling.request("relay", {}, remaining(deadline));
  });
  if (failure) {
    link.close(failure.message);
    throw failure.error;
  }
  watch.lap("relay");
  return link;
}

/**
 * Runs `start`, then resolves undefined once both lanes are open and `start` is done, or with
 * why not; a `final` failure (out of time, or signaling lost) is not worth another attempt.
 * `stallAfterMs`: the setup fails (not final) if the link is not open that long after ICE
 * connected.
 */
function awaitOpen(
  link: PeerLink,
  signaling: SignalingClient,
  deadline: number,
  timeoutMessage: string,
  start: () => Promise<void>,
  stallAfterMs?: () => number,
): Promise<{ error: ConduitError; message: string; final: boolean } | undefined> {
  return new Promise((resolve) => {
    let lastState = link.state;
    let started = false;
    const fail = (message: string, final: boolean, cause?: unknown, error?: ConduitError) => {
      cleanup();
      resolve({
        error: error ?? new ConnectionError(message, final ? "timeout" : "link-failed", { cause }),
        message,
        final,
      });
    };
    const timer = setTimeout(
      () => fail(`${timeoutMessage} (peer state: ${lastState})`, true),
      remaining(deadline),
    );
    const succeedIfReady = () => {
      if (!link.opened || !started) return;
      cleanup();
      resolve(undefined);
    };
    let stallTimer: ReturnType<typeof setTimeout> | undefined;
    const watchForStall = () => {
      if (!stallAfterMs) return;
      const ms = Math.round(stallAfterMs());
      stallTimer = setTimeout(() => fail(`DTLS/SCTP not done ${ms} ms after ICE`, false), ms);
    };
    const offPhase = link.on("phase", (phase) => {
      if (phase === "ice") watchForStall();
    });
    // The handshake's offer may have got this far already.
    if (link.setup.reached("ice")) watchForStall();
    const offState = link.on("state", (s) => {
      lastState = s;
    });
    const offOpen = link.on("open", succeedIfReady);
    const offClose = link.on("close", (reason) => fail(`data link failed: ${reason}`, false));
    const offLost = signaling.on("disconnect", (reason, error) =>
      fail(`signaling lost while connecting: ${reason}`, true, undefined, error),
    );
    const cleanup = () => {
      clearTimeout(timer);
      clearTimeout(stallTimer);
      offPhase();
      offState();
      offOpen();
      offClose();
      offLost();
    };
    start().then(
      () => {
        started = true;
        succeedIfReady();
      },
      (err: unknown) =>
        fail(
          "could not start the data link",
          false,
          err,
          err instanceof ConduitError ? err : undefined,
        ),
    );
  });
}

export function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now());
}
