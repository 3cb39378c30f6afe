import { log } from "../util/log.js";
import { KEEPALIVE_FRAME } from "../wire/frame.js";
import type { EngineChannel } from "./engine.js";

const debug = log("peer");

/**
 * ICE consent freshness takes some 30 s to give up on a dead path, and is not exposed by
 * every engine: a link watches for silence itself. It sends a keepalive every fifth of
 * `timeoutMs` on `channel` (the realtime lane: unordered, so a keepalive never waits behind a
 * lost packet), and calls `silent` once nothing has been heard for `timeoutMs`.
 */
export class Keepalive {
  private lastHeard = performance.now();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    id: string,
    channel: EngineChannel,
    timeoutMs: number,
    silent: (reason: string) => void,
  ) {
    this.timer = setInterval(() => {
      if (performance.now() - this.lastHeard > timeoutMs) {
        silent(`no data for ${timeoutMs} ms`);
        return;
      }
      try {
        if (channel.isOpen()) channel.send(KEEPALIVE_FRAME);
      } catch (err) {
        debug("%s keepalive failed: %O", id, err);
      }
    }, timeoutMs / 5);
    // The peer connection keeps the process alive while it is open, not this timer.
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Something came from the other end. */
  heard(): void {
    this.lastHeard = performance.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
