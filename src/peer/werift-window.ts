// A congestion response for real-time data on werift's SCTP (DESIGN §5, "On a WAN path").
// werift, like every SCTP stack, halves its window for each lost packet and falls to one
// packet when its retransmission timer fires. On a path with random loss (2 % at 50 ms RTT)
// that leaves ~0.1 MB/s, however empty the path is. conduit's realtime pacer already answers
// congestion where it shows, in queueing delay (peer/pacer.ts): while it paces, the window is
// kept at least as large as the pacer's rate needs, so loss without a queue no longer throttles
// the association. When a queue does build (a bottleneck shared with other traffic), the
// pacer cuts its rate and the floor falls with it, and werift's own response takes over again.
// Only the sender's window matters: this reaches unmodified browsers receiving from a server.

/** The window held is the pacer's rate over this many round trips: room for the ack clock. */
const ROUND_TRIPS_OF_ROOM = 1.5;
/** A round trip shorter than this (loopback) still gets this much room. */
const MIN_ROUND_TRIP_MS = 20;

interface Association {
  cwnd: number;
}

const floors = new WeakMap<object, { bytes: number }>();

/** Keeps `association.cwnd` (werift's private SCTP object) at least `rate × round trip`. */
export function holdWindowFloor(
  association: object,
  bytesPerSecond: number,
  roundTripMs: number | undefined,
): void {
  const bytes = Number.isFinite(bytesPerSecond)
    ? bytesPerSecond * (Math.max(MIN_ROUND_TRIP_MS, roundTripMs ?? 0) / 1000) * ROUND_TRIPS_OF_ROOM
    : 0;
  let floor = floors.get(association);
  if (!floor) {
    // Not werift 0.24's association (its window is a private field): leave it be.
    if (bytes === 0 || typeof (association as Partial<Association>).cwnd !== "number") return;
    floor = { bytes };
    floors.set(association, floor);
    const held = floor;
    const sctp = association as Association;
    // werift keeps its own window as before; what it reads back is never below the floor.
    let own = sctp.cwnd;
    Object.defineProperty(sctp, "cwnd", {
      configurable: true,
      enumerable: true,
      get: () => Math.max(own, held.bytes),
      set: (value: number) => {
        own = value;
      },
    });
  }
  floor.bytes = bytes;
}
