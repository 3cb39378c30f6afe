import { MAX_PUBLISHED_STREAMS_PER_CLIENT } from "../core/defaults.js";
import { type Delivery, seqAfter } from "../core/delivery.js";
import { ForbiddenError, ProtocolError } from "../core/errors.js";
import type { PublishReply, RestartReply } from "../signaling/protocol.js";
import type { ClientSignaling } from "../signaling/server.js";
import { grantAllows } from "../signaling/tokens.js";
import type { StreamManager } from "../streams/manager.js";
import { decodeBody } from "../wire/codec.js";
import type { ClientStreamProgress } from "./client-stream-progress.js";

/**
 * The client streams one client pushes to the server: published under a per-session id,
 * their messages decoded and handed to the StreamManager's handlers. Reliable ones are
 * de-duplicated across reconnects by the client's instance id (see ClientStreamProgress).
 */
export class SessionClientStreams {
  private readonly byId = new Map<number, { name: string; delivery: Delivery }>();
  private readonly idByName = new Map<string, number>();
  /** The client's own id for itself, the same across reconnects (said in hello). */
  instance: string | undefined;
  /** Data frames from this client that could not be used (unknown stream, bad body). */
  rejectedMessages = 0;

  constructor(
    private readonly signaling: ClientSignaling,
    private readonly progress: ClientStreamProgress,
    private readonly manager: () => StreamManager | undefined,
  ) {}

  names(): string[] {
    return [...this.idByName.keys()];
  }

  publish(name: string, delivery: Delivery): PublishReply {
    if (!grantAllows(this.signaling.access.grants.publish, name)) {
      throw new ForbiddenError(`the token does not grant publish on "${name}"`, name);
    }
    const known = this.idByName.get(name);
    if (known !== undefined) {
      const stream = this.byId.get(known);
      if (stream && stream.delivery !== delivery) {
        throw new ProtocolError(`client stream "${name}" was published as ${stream.delivery}`);
      }
      return { streamId: known, after: this.lastTaken(name, delivery) };
    }
    if (this.byId.size >= MAX_PUBLISHED_STREAMS_PER_CLIENT) {
      throw new ProtocolError(
        `at most ${MAX_PUBLISHED_STREAMS_PER_CLIENT} client streams per client`,
        "LIMIT_EXCEEDED",
      );
    }
    const streamId = this.byId.size + 1;
    this.byId.set(streamId, { name, delivery });
    this.idByName.set(name, streamId);
    return { streamId, after: this.lastTaken(name, delivery) };
  }

  /** For a link restart: the last message taken of each reliable client stream. */
  restartPoints(): RestartReply["published"] {
    const published: RestartReply["published"] = [];
    for (const { name, delivery } of this.byId.values()) {
      const after = this.lastTaken(name, delivery);
      if (after !== undefined) published.push({ stream: name, after });
    }
    return published;
  }

  receive(
    delivery: Delivery,
    streamId: number,
    seq: number,
    body: Uint8Array,
    ageMs: number | undefined,
  ): void {
    const stream = this.byId.get(streamId);
    if (!stream || stream.delivery !== delivery) {
      this.rejectedMessages++;
      return;
    }
    if (delivery === "reliable" && this.instance !== undefined) {
      // Resent after a reconnect but taken already: skip it.
      const last = this.progress.get(this.instance, stream.name);
      if (last !== undefined && !seqAfter(seq, last)) return;
      this.progress.set(this.instance, stream.name, seq);
    }
    let value: unknown;
    try {
      value = decodeBody(body);
    } catch {
      this.rejectedMessages++;
      return;
    }
    this.manager()?.dispatchClientMessage(this.signaling.id, stream.name, value, ageMs);
  }

  private lastTaken(name: string, delivery: Delivery): number | undefined {
    if (delivery !== "reliable" || this.instance === undefined) return undefined;
    return this.progress.get(this.instance, name);
  }
}
