// The fallback when WebRTC cannot connect (UDP blocked) or is turned off: the same two lanes,
// frames and flow control, carried over the Socket.IO connection instead of data channels.
// Socket.IO keeps order and never drops, so both lanes arrive in order; realtime stays
// realtime through the sender, which drops stale messages when the connection falls behind.
import { MAX_FRAME_BYTES } from "../core/defaults.js";
import type {
  ChannelHandlers,
  ChannelSpec,
  Engine,
  EngineChannel,
  EnginePeer,
  PeerHandlers,
} from "./engine.js";

/** What the relay needs from a Socket.IO connection (either end). */
export interface RelayTransport {
  /** Sends one frame on `lane`; `delivered` runs when the far end acknowledges it. */
  send(lane: number, frame: Uint8Array, delivered: () => void): void;
  /** Receives frames; returns a function that stops receiving. */
  receive(handler: (lane: number, frame: Uint8Array) => void): () => void;
}

/** An engine whose one peer rides `transport`; it is connected as soon as it exists. */
export function relayEngine(transport: RelayTransport): Engine {
  return {
    name: "relay",
    createPeer: (_id, _config, handlers) => new RelayPeer(transport, handlers),
  };
}

class RelayPeer implements EnginePeer {
  private readonly channels = new Map<number, RelayChannel>();
  private readonly stopReceiving: () => void;
  private closed = false;

  constructor(
    private readonly transport: RelayTransport,
    private readonly handlers: PeerHandlers,
  ) {
    this.stopReceiving = transport.receive((lane, frame) => {
      if (!this.closed) this.channels.get(lane)?.handlers.message(frame);
    });
    // Open once the link has made its channels (they are made right after the peer).
    queueMicrotask(() => {
      if (this.closed) return;
      handlers.stateChange("connected");
      for (const channel of this.channels.values()) channel.open();
    });
  }

  createChannel(spec: ChannelSpec, handlers: ChannelHandlers): EngineChannel {
    const channel = new RelayChannel(spec, handlers, this.transport);
    this.channels.set(spec.id, channel);
    return channel;
  }

  async startOffer(): Promise<void> {}

  async applyRemote(): Promise<void> {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopReceiving();
    for (const channel of this.channels.values()) channel.close();
    this.handlers.stateChange("closed");
  }
}

class RelayChannel implements EngineChannel {
  private isOpenNow = false;
  /** Bytes sent and not yet acknowledged: the relay's bufferedAmount. */
  private unacknowledged = 0;
  private lowThreshold = 0;

  constructor(
    readonly spec: ChannelSpec,
    readonly handlers: ChannelHandlers,
    private readonly transport: RelayTransport,
  ) {}

  open(): void {
    this.isOpenNow = true;
    this.handlers.open();
  }

  isOpen(): boolean {
    return this.isOpenNow;
  }

  maxMessageSize(): number {
    return MAX_FRAME_BYTES;
  }

  bufferedAmount(): number {
    return this.unacknowledged;
  }

  setBufferedAmountLowThreshold(bytes: number): void {
    this.lowThreshold = bytes;
  }

  send(frame: Uint8Array): void {
    const bytes = frame.byteLength;
    this.unacknowledged += bytes;
    this.transport.send(this.spec.id, frame, () => {
      const before = this.unacknowledged;
      this.unacknowledged -= bytes;
      if (
        this.isOpenNow &&
        before > this.lowThreshold &&
        this.unacknowledged <= this.lowThreshold
      ) {
        this.handlers.bufferedAmountLow();
      }
    });
  }

  close(): void {
    if (!this.isOpenNow) return;
    this.isOpenNow = false;
    this.handlers.close();
  }
}
