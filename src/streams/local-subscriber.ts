import type { SlowSubscriberError } from "../core/errors.js";
import type { PushedMessage, Stream, Subscriber, SubscriberStats } from "./stream.js";
import { Subscription } from "./subscription.js";

/** An in-process subscriber: gets the pushed value itself, no encoding. */
export class LocalSubscriber implements Subscriber {
  readonly subscription: Subscription;
  readonly id: string;
  readonly remote = false;

  constructor(stream: Stream, bufferSize: number) {
    this.subscription = new Subscription(stream.name, bufferSize, () =>
      stream.removeSubscriber(this.id),
    );
    this.id = this.subscription.id;
  }

  deliver(message: PushedMessage): void {
    let value: unknown;
    try {
      value = message.value;
    } catch {
      this.subscription.noteLost(1); // a mirrored body that did not decode
      return;
    }
    this.subscription.deliver(value);
  }

  end(): void {
    this.subscription.end();
  }

  hasRoom(): boolean {
    return this.subscription.hasRoom;
  }

  whenRoom(): Promise<void> {
    return this.subscription.whenRoom();
  }

  cutOff(error: SlowSubscriberError): void {
    this.subscription.fail(error);
  }

  get stats(): SubscriberStats {
    const s = this.subscription.stats;
    return {
      messagesSent: s.received,
      bytesSent: 0,
      dropped: s.dropped,
      stale: 0,
      expired: 0,
      depth: s.depth,
    };
  }
}
