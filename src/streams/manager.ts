import {
  DEFAULT_BUFFER_SIZE,
  DEFAULT_DELIVERY,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_OVERFLOW_WAIT_MS,
  MAX_AGE_LIMIT_MS,
  MAX_OVERFLOW_WAIT_MS,
} from "../core/defaults.js";
import type { Delivery, StreamSummary } from "../core/delivery.js";
import {
  ConnectionError,
  InvalidArgumentError,
  StreamExistsError,
  StreamNotFoundError,
} from "../core/errors.js";
import { validateDelivery, validateStreamName } from "../core/validation.js";
import {
  ClientStreamDispatcher,
  type ClientStreamHandler,
  type ClientStreamStats,
} from "./client-streams.js";
import { type OverflowPolicy, Stream, type StreamClusterHooks } from "./stream.js";
import { Subscription } from "./subscription.js";

export interface StreamManagerOptions {
  /** Shown as `stream.info.owner`. @default "server" */
  owner?: string | undefined;
  /** Largest encoded message a stream accepts. @default 16 MiB (DEFAULT_MAX_MESSAGE_BYTES) */
  maxMessageBytes?: number | undefined;
}

export interface StreamOptions {
  /** Messages each subscriber may hold before the oldest is dropped. @default 100 */
  bufferSize?: number | undefined;
  /** "realtime": unordered, repaired from parity rather than waited for, dropped once older
   * than `maxAgeMs`. "reliable": ordered, nothing lost while the link is up.
   * @default "realtime" */
  delivery?: Delivery | undefined;
  /** Realtime: how old a message may be when delivered; an older one is dropped (and counted)
   * in the queue, the engine or the receiver. @default 500 (DEFAULT_MAX_AGE_MS) */
  maxAgeMs?: number | undefined;
  /** When a subscriber's queue is full: "wait" (push() resolves once every subscriber has
   * room; reliable streams only) or "drop-oldest" (the oldest queued message is dropped and
   * counted). @default "wait" for reliable streams, "drop-oldest" for realtime ones */
  overflow?: OverflowPolicy["mode"] | undefined;
  /** Overflow "wait": a subscriber whose queue stays full this long is cut off (it gets
   * SlowSubscriberError) and the others go on. @default 10000 (DEFAULT_OVERFLOW_WAIT_MS) */
  overflowWaitMs?: number | undefined;
}

export interface SubscribeOptions {
  /** This subscriber's buffer. @default the stream's bufferSize */
  bufferSize?: number | undefined;
  /** Wait for the stream to be created instead of failing with StreamNotFoundError. @default false */
  wait?: boolean | undefined;
}

export interface PushToServerOptions {
  /** Delivery class of this client stream, fixed by its first push. @default "realtime" */
  delivery?: Delivery | undefined;
  /** Messages queued for the server. @default 100 */
  bufferSize?: number | undefined;
  /** Realtime: how old a message may be when the server gets it. @default 500 */
  maxAgeMs?: number | undefined;
  /** When the queue to the server is full: "wait" (the push resolves once it has room;
   * reliable only) or "drop-oldest". @default "wait" for reliable, "drop-oldest" for realtime */
  overflow?: OverflowPolicy["mode"] | undefined;
  /** Overflow "wait": a push that finds no room in this long rejects with
   * SlowSubscriberError, unsent. @default 10000 (DEFAULT_OVERFLOW_WAIT_MS) */
  overflowWaitMs?: number | undefined;
}

/** A server's cluster (src/cluster): other nodes' streams and client-stream handlers. */
export interface StreamCluster extends StreamClusterHooks {
  /** Streams that live on other nodes. */
  remoteStreams(): StreamSummary[];
  /** The delivery and buffer size of a stream on another node, if one has it. */
  remoteStream(name: string): StreamSummary | undefined;
  /** Starts feeding `mirror` (a local copy of a stream on another node). */
  feedMirror(mirror: Stream): void;
  /** A client message for a stream no handler here takes: to the node that has one. */
  forwardClientMessage(clientId: string, stream: string, data: unknown): void;
  /** A handler for `stream` was registered here. */
  handlerAdded(stream: string): void;
}

/** What a connected Client provides to a StreamManager (see `registerClientHandlers`). */
export interface RemoteStreams {
  subscribe(name: string, options: SubscribeOptions): Subscription;
  publish(name: string, data: unknown, options: PushToServerOptions): Promise<void>;
  listStreams(): Promise<StreamSummary[]>;
}

/** What a Server provides to a StreamManager (see `registerServerHandlers`). */
export interface StreamHost {
  useStreams(manager: StreamManager): void;
}

export function validateBufferSize(value: unknown, what = "bufferSize"): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 1_000_000) {
    throw new InvalidArgumentError(
      `${what} must be an integer from 1 to 1000000, not ${String(value)}`,
    );
  }
  return value;
}

/** A realtime stream's age bound (0 for a reliable one: it has none). */
/** A stream's or a client stream's overflow policy. A mirror (a copy of another node's
 * stream) cannot hold back its feed: it drops. */
export function validateOverflow(
  options: Pick<StreamOptions, "overflow" | "overflowWaitMs">,
  delivery: Delivery,
  mirror = false,
): OverflowPolicy {
  const mode = options.overflow ?? (delivery === "reliable" && !mirror ? "wait" : "drop-oldest");
  if (mode !== "wait" && mode !== "drop-oldest") {
    throw new InvalidArgumentError(`overflow must be "wait" or "drop-oldest", not ${String(mode)}`);
  }
  if (mode === "wait" && delivery === "realtime") {
    throw new InvalidArgumentError(
      'overflow "wait" applies to reliable streams only: realtime keeps the newest',
    );
  }
  const waitMs = options.overflowWaitMs ?? DEFAULT_OVERFLOW_WAIT_MS;
  if (!Number.isInteger(waitMs) || waitMs < 1 || waitMs > MAX_OVERFLOW_WAIT_MS) {
    throw new InvalidArgumentError(
      `overflowWaitMs must be an integer from 1 to ${MAX_OVERFLOW_WAIT_MS}, not ${String(waitMs)}`,
    );
  }
  return { mode: mirror ? "drop-oldest" : mode, waitMs };
}

export function validateMaxAge(value: unknown, delivery: Delivery): number {
  if (delivery === "reliable") {
    if (value === undefined) return 0;
    throw new InvalidArgumentError("maxAgeMs applies to realtime streams only");
  }
  if (value === undefined) return DEFAULT_MAX_AGE_MS;
  if (
    typeof value !== "number" ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_AGE_LIMIT_MS
  ) {
    throw new InvalidArgumentError(
      `maxAgeMs must be an integer from 1 to ${MAX_AGE_LIMIT_MS}, not ${String(value)}`,
    );
  }
  return value;
}

/**
 * The registry of named streams, on a server or a client.
 * On a server: `create`, `onClientStream`, `listStreams`. On a client: `subscribe`,
 * `pushToServer`, `listServerStreams`. In one process, `subscribe` works locally too.
 */
export class StreamManager {
  readonly owner: string;
  readonly maxMessageBytes: number;
  /** Registered with a server (registerServerHandlers). */
  private serving = false;
  private readonly streams = new Map<string, Stream>();
  private readonly waiters = new Map<string, Set<(stream: Stream) => void>>();
  private readonly dispatcher = new ClientStreamDispatcher();
  private remote: RemoteStreams | undefined;
  private cluster: StreamCluster | undefined;
  private nextStreamId = 1;

  constructor(options: StreamManagerOptions = {}) {
    if (
      options.owner !== undefined &&
      (typeof options.owner !== "string" || options.owner === "")
    ) {
      throw new InvalidArgumentError("owner must be a non-empty string");
    }
    this.owner = options.owner ?? "server";
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isInteger(this.maxMessageBytes) || this.maxMessageBytes < 1) {
      throw new InvalidArgumentError("maxMessageBytes must be a positive integer");
    }
  }

  registerServerHandlers(server: StreamHost): void {
    server.useStreams(this);
    this.serving = true;
  }

  registerClientHandlers(client: RemoteStreams): void {
    this.remote = client;
  }

  /** @internal Joins this (server) manager to a cluster of nodes. */
  attachCluster(cluster: StreamCluster): void {
    this.cluster = cluster;
    for (const name of this.dispatcher.handledStreams()) cluster.handlerAdded(name);
  }

  create(name: string, options: StreamOptions = {}): Stream {
    return this.make(name, options);
  }

  /**
   * @internal The stream `name` here, or a local mirror of it if it lives on another node of
   * the cluster; undefined if no node has it.
   */
  getOrMirror(name: string): Stream | undefined {
    const local = this.streams.get(name);
    if (local || !this.cluster) return local;
    const remote = this.cluster.remoteStream(name);
    if (!remote) return undefined;
    const mirror = this.make(name, remote, remote.owner);
    this.cluster.feedMirror(mirror);
    return mirror;
  }

  /** @internal Names that local subscribers wait for (`wait: true`). */
  awaitedNames(): string[] {
    return [...this.waiters.keys()];
  }

  private make(name: string, options: StreamOptions, mirrorOf?: string): Stream {
    validateStreamName(name);
    const bufferSize = validateBufferSize(options.bufferSize ?? DEFAULT_BUFFER_SIZE);
    const delivery = validateDelivery(options.delivery ?? DEFAULT_DELIVERY);
    const maxAgeMs = validateMaxAge(options.maxAgeMs, delivery);
    const overflow = validateOverflow(options, delivery, mirrorOf !== undefined);
    if (this.streams.has(name)) throw new StreamExistsError(name);
    const id = this.nextStreamId;
    this.nextStreamId = (this.nextStreamId % 0xffffffff) + 1;
    const stream = new Stream(
      name,
      id,
      this.owner,
      delivery,
      bufferSize,
      maxAgeMs,
      overflow,
      this.maxMessageBytes,
      (s) => {
        if (this.streams.get(s.name) === s) this.streams.delete(s.name);
      },
      mirrorOf,
      this.cluster,
    );
    this.streams.set(name, stream);
    this.cluster?.created(stream);
    const waiters = this.waiters.get(name);
    if (waiters) {
      this.waiters.delete(name);
      for (const wake of waiters) wake(stream);
    }
    return stream;
  }

  get(name: string): Stream | undefined {
    return this.streams.get(name);
  }

  /**
   * Iterates a stream's messages. With a registered client, subscribes on the server;
   * otherwise subscribes to a stream of this manager. An unknown stream makes the first
   * `next()` throw StreamNotFoundError, unless `wait: true`.
   */
  subscribe(name: string, options: SubscribeOptions = {}): Subscription {
    validateStreamName(name);
    if (options.bufferSize !== undefined) validateBufferSize(options.bufferSize);
    if (this.remote) return this.remote.subscribe(name, options);
    const stream = this.streams.get(name);
    if (stream) return stream.subscribe(options);
    if (!options.wait) {
      // A manager tied to neither end was most likely meant to be a client's.
      const hint = this.serving
        ? undefined
        : "this StreamManager is not registered with a client, so it looks only at its own streams; call streams.registerClientHandlers(client) to subscribe to a server's";
      const error = new StreamNotFoundError(name, hint);
      return new Subscription(name, 1, () => {}, Promise.reject(error));
    }
    return this.subscribeWhenCreated(name, options);
  }

  /** Sends `data` on the client stream `name` to the server's `onClientStream` handler. */
  async pushToServer(
    name: string,
    data: unknown,
    options: PushToServerOptions = {},
  ): Promise<void> {
    validateStreamName(name);
    if (options.delivery !== undefined) validateDelivery(options.delivery);
    if (options.bufferSize !== undefined) validateBufferSize(options.bufferSize);
    if (!this.remote) {
      throw new ConnectionError(
        "pushToServer needs a client: call streams.registerClientHandlers(client) first",
        "not-connected",
      );
    }
    await this.remote.publish(name, data, options);
  }

  /** Registers the handler for a client stream; returns a function that removes it. */
  onClientStream(name: string, handler: ClientStreamHandler): () => void {
    validateStreamName(name);
    if (typeof handler !== "function") throw new InvalidArgumentError("handler must be a function");
    const remove = this.dispatcher.setHandler(name, handler);
    this.cluster?.handlerAdded(name);
    return remove;
  }

  /** This manager's streams; in a cluster, every node's (each once, mirrors left out). */
  listStreams(): StreamSummary[] {
    const local = [...this.streams.values()].filter((s) => !s.mirrorOf).map((s) => s.summary());
    if (!this.cluster) return local;
    const names = new Set(local.map((s) => s.name));
    return [...local, ...this.cluster.remoteStreams().filter((s) => !names.has(s.name))];
  }

  /** @internal This node's own streams (not mirrors), for the cluster to announce. */
  ownStreams(): Stream[] {
    return [...this.streams.values()].filter((s) => !s.mirrorOf);
  }

  /** @internal Local mirrors of other nodes' streams. */
  mirrors(): Stream[] {
    return [...this.streams.values()].filter((s) => s.mirrorOf);
  }

  /** The server's streams: asked over the network with a client, else this manager's. */
  async listServerStreams(): Promise<StreamSummary[]> {
    return this.remote ? this.remote.listStreams() : this.listStreams();
  }

  clientStreamStats(): ClientStreamStats[] {
    return this.dispatcher.stats();
  }

  /** Closes every stream (their subscribers' loops end). */
  async close(): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => s.close()));
  }

  /** @internal Calls `found` once the stream exists; returns a cancel function. */
  waitForStream(name: string, found: (stream: Stream) => void): () => void {
    const existing = this.streams.get(name);
    if (existing) {
      found(existing);
      return () => {};
    }
    let set = this.waiters.get(name);
    if (!set) {
      set = new Set();
      this.waiters.set(name, set);
    }
    set.add(found);
    return () => {
      set.delete(found);
      if (set.size === 0 && this.waiters.get(name) === set) this.waiters.delete(name);
    };
  }

  /** @internal Called by the server for each message a client pushed. */
  dispatchClientMessage(clientId: string, stream: string, data: unknown, ageMs?: number): void {
    if (this.cluster && !this.dispatcher.hasHandler(stream)) {
      this.cluster.forwardClientMessage(clientId, stream, data);
    } else {
      this.dispatcher.dispatch(clientId, stream, data, ageMs);
    }
  }

  /** @internal The client disconnected. */
  releaseClient(clientId: string): void {
    this.dispatcher.releaseClient(clientId);
  }

  private subscribeWhenCreated(name: string, options: SubscribeOptions): Subscription {
    // A proxy subscription: filled from the real one once the stream appears.
    let inner: Subscription | undefined;
    let cancel = () => {};
    const outer = new Subscription(name, options.bufferSize ?? DEFAULT_BUFFER_SIZE, () => {
      cancel();
      inner?.close();
    });
    cancel = this.waitForStream(name, (stream) => {
      inner = stream.subscribe({ bufferSize: options.bufferSize ?? stream.bufferSize });
      void (async () => {
        for await (const value of inner) outer.deliver(value);
        outer.end();
      })();
    });
    return outer;
  }
}
