// What the fan-out bench's server process and its viewer processes say to each other (Node IPC).
import type ndc from "node-datachannel";

export type ToViewers =
  /** Connect `count` conduit clients to the server on `port` and subscribe each to "frames". */
  | { kind: "conduit"; port: number; count: number }
  | { kind: "offer"; id: number; sdp: string }
  | { kind: "candidate"; id: number; candidate: string; mid: string }
  | { kind: "finish" };

export type ToServer =
  | { kind: "connected" }
  | { kind: "answer"; id: number; sdp: string }
  | { kind: "candidate"; id: number; candidate: string; mid: string }
  /** One-way latency in ms of every frame that arrived, all viewers. */
  | { kind: "result"; latencies: number[] };

/** The raw baseline's channel: what conduit's realtime lane is (unordered, no retransmits). */
export const FANOUT_CHANNEL: ndc.DataChannelInitConfig = {
  negotiated: true,
  id: 0,
  unordered: true,
  maxRetransmits: 0,
};

/** Milliseconds on a clock all processes on this machine share (unlike performance.now()). */
export const wallClock = () => performance.timeOrigin + performance.now();

/**
 * Remote candidates for peers by id. node-datachannel can report a candidate before its
 * description, so one may arrive before the remote description is set: it waits for it.
 */
export class RemoteCandidates {
  private readonly described = new Map<number, ndc.PeerConnection>();
  private readonly early = new Map<number, [string, string][]>();

  /** The remote description of `pc` is set: candidates may be added now. */
  ready(id: number, pc: ndc.PeerConnection): void {
    this.described.set(id, pc);
    for (const [candidate, mid] of this.early.get(id) ?? []) addTo(pc, candidate, mid);
    this.early.delete(id);
  }

  add(id: number, candidate: string, mid: string): void {
    const pc = this.described.get(id);
    if (pc) addTo(pc, candidate, mid);
    else this.early.set(id, [...(this.early.get(id) ?? []), [candidate, mid]]);
  }
}

/** A peer that already failed refuses candidates: it shows as a peer that never opens. */
function addTo(pc: ndc.PeerConnection, candidate: string, mid: string): void {
  try {
    pc.addRemoteCandidate(candidate, mid);
  } catch (err) {
    console.error(`candidate refused (${(err as Error).message})`);
  }
}
