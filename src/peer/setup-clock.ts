/** The steps of setting up a WebRTC data link, in the order they end. */
export const LINK_PHASES = ["offer-answer", "ice", "dtls", "sctp", "channels"] as const;
export type LinkPhase = (typeof LINK_PHASES)[number];

/**
 * When each step of one link's setup ended, on the monotonic clock:
 * - offer-answer: the remote description is applied (the offerer: the answer came);
 * - ice: a candidate pair works;
 * - dtls: the DTLS handshake finished (node-datachannel does not say: its DTLS time is
 *   counted in sctp);
 * - sctp: the association is up, seen as the first channel opening (negotiated channels
 *   open the moment it is: no message is exchanged for them);
 * - channels: both channels are open.
 */
export class SetupClock {
  private readonly startedAt = performance.now();
  /** When the offer went out: at the start, or later for one held for the handshake. */
  private offeredAt = this.startedAt;
  private readonly ends = new Map<LinkPhase, number>();

  offerSent(): void {
    this.offeredAt = performance.now();
  }

  /** Notes that `phase` ended now; returns false if it had already. */
  reach(phase: LinkPhase): boolean {
    if (this.ends.has(phase)) return false;
    this.ends.set(phase, performance.now());
    return true;
  }

  reached(phase: LinkPhase): boolean {
    return this.ends.has(phase);
  }

  /** How long the offer/answer exchange took from the offer going out, once done. */
  offerAnswerMs(): number | undefined {
    const at = this.ends.get("offer-answer");
    return at === undefined ? undefined : at - this.offeredAt;
  }

  /** The steps that ended, in LINK_PHASES order, with when. */
  endTimes(): [LinkPhase, number][] {
    return LINK_PHASES.flatMap((phase) => {
      const at = this.ends.get(phase);
      return at === undefined ? [] : [[phase, at] as [LinkPhase, number]];
    });
  }
}
