import { CandidateQueue, type SignalMessage } from "./engine.js";

/** The part of the W3C RTCPeerConnection API that offer/answer needs (browser and werift). */
export interface W3cConnection {
  createOffer(): Promise<{ type: string; sdp?: string }>;
  createAnswer(): Promise<{ type: string; sdp?: string }>;
  // biome-ignore lint/suspicious/noExplicitAny: each implementation types its own description
  setLocalDescription(description: any): Promise<unknown>;
  setRemoteDescription(description: { type: "offer" | "answer"; sdp: string }): Promise<unknown>;
  addIceCandidate(candidate: { candidate: string; sdpMid: string }): Promise<unknown>;
  readonly localDescription: { sdp: string } | null;
}

/**
 * Offer/answer and candidate handling for W3C-style peer connections: answers offers,
 * holds candidates until the remote description is set, emits local descriptions.
 */
export class W3cNegotiation {
  private readonly candidates = new CandidateQueue();

  constructor(
    private readonly pc: W3cConnection,
    private readonly emit: (message: SignalMessage) => void,
  ) {}

  async startOffer(): Promise<void> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    this.emitLocalDescription("offer");
  }

  async applyRemote(message: SignalMessage): Promise<void> {
    if (message.kind === "candidate") {
      if (!this.candidates.hold(message.candidate, message.mid)) {
        await this.pc.addIceCandidate({ candidate: message.candidate, sdpMid: message.mid });
      }
      return;
    }
    await this.pc.setRemoteDescription({ type: message.type, sdp: message.sdp });
    if (message.type === "offer") {
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      this.emitLocalDescription("answer");
    }
    for (const c of this.candidates.release()) {
      await this.pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.mid });
    }
  }

  private emitLocalDescription(type: "offer" | "answer"): void {
    const sdp = this.pc.localDescription?.sdp;
    if (sdp) this.emit({ kind: "description", type, sdp });
  }
}
