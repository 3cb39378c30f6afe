import type { LinkPhase, SetupClock } from "../peer/setup-clock.js";

/**
 * A step of connecting, in order: `signaling` (Socket.IO connected and authenticated),
 * `hello` (protocol versions agreed), `restart` (a new link in the same session was agreed),
 * `retries` (WebRTC setups that failed, and the pauses after them), the WebRTC link's own
 * steps (see SetupClock), or `relay` (the data link set up over Socket.IO instead).
 */
export type ConnectPhase = "signaling" | "hello" | "restart" | "retries" | LinkPhase | "relay";

/** Where the time of the last connect (or reconnect, link restart, upgrade) went. */
export interface ConnectTimings {
  /** From the start to the data link open: the sum of the phases. */
  totalMs: number;
  /** Each step that took place, in order, with how long it took. */
  phases: { phase: ConnectPhase; ms: number }[];
  /** WebRTC setups started (a failed one is tried again); 0 for the relay alone. */
  attempts: number;
  /** The server answered the offer in the handshake at once: the first setup had no
   * offer/answer round trip after hello (docs/PROTOCOL.md §2). */
  offerInHandshake: boolean;
  link: "webrtc" | "relay";
}

/** Times the steps of one connect as they end. */
export class ConnectStopwatch {
  private readonly startedAt = performance.now();
  private lastEnd = this.startedAt;
  private readonly phases: ConnectTimings["phases"] = [];
  attempts = 0;
  offerInHandshake = false;

  /** `phase` ended at `at` (now by default); a phase met again adds to its time. */
  lap(phase: ConnectPhase, at = performance.now()): void {
    const ms = Math.max(0, at - this.lastEnd);
    this.lastEnd = Math.max(this.lastEnd, at);
    const last = this.phases.at(-1);
    if (last?.phase === phase) last.ms += ms;
    else this.phases.push({ phase, ms });
  }

  /** A WebRTC link's own steps, as its clock saw them end. */
  lapLink(setup: SetupClock): void {
    for (const [phase, at] of setup.endTimes()) this.lap(phase, at);
  }

  finish(link: ConnectTimings["link"]): ConnectTimings {
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      totalMs: round(this.lastEnd - this.startedAt),
      phases: this.phases.map(({ phase, ms }) => ({ phase, ms: round(ms) })),
      attempts: this.attempts,
      offerInHandshake: this.offerInHandshake,
      link,
    };
  }
}

/** "12.3 ms: signaling 4.1, hello 0.9, …" for the debug log. */
export function describeTimings(t: ConnectTimings): string {
  const steps = t.phases.map(({ phase, ms }) => `${phase} ${ms}`).join(", ");
  const offer = t.offerInHandshake ? ", offer in the handshake" : "";
  return `${t.totalMs} ms over ${t.link} (${t.attempts} attempt(s)${offer}): ${steps}`;
}
