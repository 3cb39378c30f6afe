import { DEFAULT_BUFFER_SIZE } from "../core/defaults.js";
import { BoundedQueue } from "../util/bounded-queue.js";
import { log } from "../util/log.js";
import { RecentSamples } from "../util/recent-samples.js";

const debug = log("streams");

// biome-ignore lint/suspicious/noExplicitAny: data is whatever the client pushed; the handler narrows it
export type ClientStreamHandler = (clientId: string, data: any) => unknown | Promise<unknown>;

export interface ClientStreamStats {
  clientId: string;
  stream: string;
  received: number;
  /** Dropped: the handler fell more than a buffer behind, or no handler was registered. */
  dropped: number;
  handlerErrors: number;
  depth: number;
  /** How old its recent messages were on arrival (push to arrival, across both clocks), where
   * the link measures it (realtime messages on a protocol-3 WebRTC link). */
  ageMs: { p50: number; p99: number } | undefined;
}

interface Inbox {
  clientId: string;
  stream: string;
  queue: BoundedQueue<unknown>;
  running: boolean;
  received: number;
  unhandled: number;
  handlerErrors: number;
  ages: RecentSamples;
}

/**
 * Runs `onClientStream` handlers: one at a time per (client, stream), in arrival order,
 * behind a bounded inbox. A slow handler for one client never delays another client.
 */
export class ClientStreamDispatcher {
  private readonly handlers = new Map<string, ClientStreamHandler>();
  private readonly inboxes = new Map<string, Inbox>();

  hasHandler(stream: string): boolean {
    return this.handlers.has(stream);
  }

  handledStreams(): string[] {
    return [...this.handlers.keys()];
  }

  setHandler(stream: string, handler: ClientStreamHandler): () => void {
    this.handlers.set(stream, handler);
    return () => {
      if (this.handlers.get(stream) === handler) this.handlers.delete(stream);
    };
  }

  dispatch(clientId: string, stream: string, data: unknown, ageMs?: number): void {
    const key = `${clientId}\u0000${stream}`;
    let inbox = this.inboxes.get(key);
    if (!inbox) {
      inbox = {
        clientId,
        stream,
        queue: new BoundedQueue(DEFAULT_BUFFER_SIZE),
        running: false,
        received: 0,
        unhandled: 0,
        handlerErrors: 0,
        ages: new RecentSamples(),
      };
      this.inboxes.set(key, inbox);
    }
    inbox.received++;
    if (ageMs !== undefined) inbox.ages.add(ageMs);
    if (!this.handlers.has(stream)) {
      inbox.unhandled++;
      return;
    }
    inbox.queue.push(data);
    if (!inbox.running) void this.drain(inbox);
  }

  /** Forgets a client's inboxes (it disconnected); queued messages are discarded. */
  releaseClient(clientId: string): void {
    for (const [key, inbox] of this.inboxes) {
      if (inbox.clientId === clientId) {
        inbox.queue.clear();
        this.inboxes.delete(key);
      }
    }
  }

  stats(): ClientStreamStats[] {
    return [...this.inboxes.values()].map((i) => ({
      clientId: i.clientId,
      stream: i.stream,
      received: i.received,
      dropped: i.queue.dropped + i.unhandled,
      handlerErrors: i.handlerErrors,
      depth: i.queue.length,
      ageMs: i.ages.percentiles(),
    }));
  }

  private async drain(inbox: Inbox): Promise<void> {
    inbox.running = true;
    while (inbox.queue.length > 0) {
      const data = inbox.queue.shift();
      const handler = this.handlers.get(inbox.stream);
      if (!handler) {
        inbox.unhandled++;
        continue;
      }
      try {
        await handler(inbox.clientId, data);
      } catch (err) {
        inbox.handlerErrors++;
        debug(
          "handler for client stream %s (client %s) threw: %O",
          inbox.stream,
          inbox.clientId,
          err,
        );
      }
    }
    inbox.running = false;
  }
}
