// Several server processes (nodes) joined by NATS. What crosses NATS:
// - conduit.nodes: each node's announcement, every ANNOUNCE_MS and on change: its own streams,
//   and how many local subscribers its mirrors of other nodes' streams have. A node not heard
//   from for NODE_TIMEOUT_MS is gone, with its streams.
// - conduit.data.<stream>: a stream's pushes, MessagePack-encoded once by the node that owns
//   it, sent only while some other node mirrors the stream.
// - conduit.up.<stream>: client-stream messages for a stream no handler on their node takes.
// A node subscribes to data only for streams it has local subscribers for (its mirrors), and
// fans out locally the bytes it was sent, decoding them only for in-process subscribers.
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { CLUSTER_ANNOUNCE_MS, CLUSTER_NODE_TIMEOUT_MS } from "../core/defaults.js";
import type { StreamSummary } from "../core/delivery.js";
import type { StreamCluster, StreamManager } from "../streams/manager.js";
import type { PushedMessage, Stream } from "../streams/stream.js";
import { log } from "../util/log.js";
import { decodeBody, encodeBody } from "../wire/codec.js";

const debug = log("cluster");

export interface ClusterOptions {
  /** NATS server URL(s), e.g. "nats://127.0.0.1:4222". */
  natsUrl: string | string[];
  /** This node's name, unique in the cluster. */
  node: string;
}

interface Announcement {
  node: string;
  streams: StreamSummary[];
  /** Local subscribers of this node's mirrors, by stream name. */
  mirrors: Record<string, number>;
}

/** Subject-safe form of a stream name (names may hold "." and other NATS-special characters). */
const token = (name: string) => Buffer.from(name, "utf8").toString("hex");

export class NatsCluster implements StreamCluster {
  private readonly nodes = new Map<string, Announcement & { seenAt: number }>();
  private readonly mirrorFeeds = new Map<string, Subscription>();
  private readonly handlerFeeds = new Map<string, Subscription>();
  private readonly timer: ReturnType<typeof setInterval>;
  private announceQueued = false;
  private left = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly node: string,
    private readonly manager: StreamManager,
  ) {
    nc.subscribe("conduit.nodes", {
      callback: (err, msg) => {
        if (err) return;
        try {
          this.heard(decodeBody(msg.data) as Announcement);
        } catch (e) {
          debug("bad announcement: %O", e);
        }
      },
    });
    this.timer = setInterval(() => {
      this.prune();
      this.announce();
    }, CLUSTER_ANNOUNCE_MS);
    manager.attachCluster(this);
    this.announce();
  }

  static async join(options: ClusterOptions, manager: StreamManager): Promise<NatsCluster> {
    const nc = await connect({
      servers: options.natsUrl,
      name: `conduit-${options.node}`,
      // A NATS restart is waited out: the node carries on when it is back.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    return new NatsCluster(nc, options.node, manager);
  }

  // --- StreamCluster ---

  remoteStreams(): StreamSummary[] {
    const out: StreamSummary[] = [];
    for (const a of this.nodes.values()) if (a.node !== this.node) out.push(...a.streams);
    return out;
  }

  remoteStream(name: string): StreamSummary | undefined {
    return this.remoteStreams().find((s) => s.name === name);
  }

  pushed(stream: Stream, message: PushedMessage): number {
    let elsewhere = 0;
    for (const a of this.nodes.values()) {
      if (a.node !== this.node) elsewhere += a.mirrors[stream.name] ?? 0;
    }
    if (this.mirroredElsewhere(stream.name)) {
      this.nc.publish(`conduit.data.${token(stream.name)}`, message.outgoing.body);
    }
    return elsewhere;
  }

  created(): void {
    // Said at once, so other nodes can serve it without waiting for the next announcement.
    this.announceSoon();
  }

  closed(stream: Stream): void {
    this.mirrorFeeds.get(stream.name)?.unsubscribe();
    this.mirrorFeeds.delete(stream.name);
    this.announceSoon();
  }

  feedMirror(mirror: Stream): void {
    const feed = this.nc.subscribe(`conduit.data.${token(mirror.name)}`, {
      callback: (err, msg) => {
        if (err || !mirror.isActive) return;
        // As its node encoded it: sent on without decoding (in-process subscribers decode).
        mirror.pushEncoded(msg.data).catch((e) => debug("bad data for %s: %O", mirror.name, e));
      },
    });
    this.mirrorFeeds.set(mirror.name, feed);
    // A mirror with no local subscriber left is not needed.
    mirror.onUnsubscribe(() => {
      if (mirror.subscriberCount === 0) void mirror.close();
      else this.announceSoon();
    });
    mirror.onSubscribe(() => this.announceSoon());
    // Said at once: the owner sends data only while someone mirrors it.
    this.announceSoon();
  }

  forwardClientMessage(clientId: string, stream: string, data: unknown): void {
    this.nc.publish(`conduit.up.${token(stream)}`, encodeBody({ clientId, data }));
  }

  handlerAdded(stream: string): void {
    if (this.handlerFeeds.has(stream)) return;
    const feed = this.nc.subscribe(`conduit.up.${token(stream)}`, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const { clientId, data } = decodeBody(msg.data) as { clientId: string; data: unknown };
          this.manager.dispatchClientMessage(String(clientId), stream, data);
        } catch (e) {
          debug("bad client message for %s: %O", stream, e);
        }
      },
    });
    this.handlerFeeds.set(stream, feed);
  }

  // --- membership ---

  async close(): Promise<void> {
    if (this.left) return;
    this.left = true;
    clearInterval(this.timer);
    await this.nc.drain().catch(() => undefined);
  }

  private mirroredElsewhere(name: string): boolean {
    for (const a of this.nodes.values()) {
      if (a.node !== this.node && (a.mirrors[name] ?? 0) > 0) return true;
    }
    return false;
  }

  private heard(a: Announcement): void {
    if (typeof a?.node !== "string" || !Array.isArray(a.streams)) return;
    if (a.node === this.node) return;
    this.nodes.set(a.node, { ...a, seenAt: Date.now() });
    this.endVanishedMirrors();
    // Local subscribers waiting for a name another node now has.
    for (const name of this.manager.awaitedNames()) {
      if (a.streams.some((s) => s.name === name)) this.manager.getOrMirror(name);
    }
  }

  private prune(): void {
    const cutoff = Date.now() - CLUSTER_NODE_TIMEOUT_MS;
    for (const [node, a] of this.nodes) {
      if (a.seenAt < cutoff) {
        debug("node %s not heard from: gone", node);
        this.nodes.delete(node);
      }
    }
    this.endVanishedMirrors();
  }

  /** Mirrors of streams no node has any more end, as the streams did. */
  private endVanishedMirrors(): void {
    for (const mirror of this.manager.mirrors()) {
      if (!this.remoteStream(mirror.name)) void mirror.close();
    }
  }

  private announceSoon(): void {
    if (this.announceQueued) return;
    this.announceQueued = true;
    queueMicrotask(() => {
      this.announceQueued = false;
      this.announce();
    });
  }

  private announce(): void {
    if (this.left || this.nc.isClosed()) return;
    const mirrors: Record<string, number> = {};
    for (const m of this.manager.mirrors()) mirrors[m.name] = m.subscriberCount;
    const announcement: Announcement = {
      node: this.node,
      streams: this.manager.ownStreams().map((s) => ({ ...s.summary(), owner: this.node })),
      mirrors,
    };
    this.nc.publish("conduit.nodes", encodeBody(announcement));
  }
}
