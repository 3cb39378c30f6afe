import { MAX_TRACKED_CLIENT_STREAMS } from "../core/defaults.js";

/**
 * The last sequence number the server took from each reliable client stream, by client
 * instance (a random id the client makes, the same across its reconnects) and stream name.
 * A client that reconnects resends what came after it: nothing lost, nothing twice.
 * Bounded: past MAX_TRACKED_CLIENT_STREAMS entries the least recently used is forgotten.
 */
export class ClientStreamProgress {
  private readonly lastSeq = new Map<string, number>();

  get(instance: string, stream: string): number | undefined {
    return this.lastSeq.get(key(instance, stream));
  }

  set(instance: string, stream: string, seq: number): void {
    const k = key(instance, stream);
    this.lastSeq.delete(k); // re-inserted last: most recently used
    this.lastSeq.set(k, seq);
    if (this.lastSeq.size > MAX_TRACKED_CLIENT_STREAMS) {
      const oldest = this.lastSeq.keys().next().value;
      if (oldest !== undefined) this.lastSeq.delete(oldest);
    }
  }
}

const key = (instance: string, stream: string) => `${instance}\n${stream}`;
