// Message reassembly on one inbound SCTP stream of werift's association. werift's delivered
// the first complete message and then only what followed it in TSN order: the next complete
// message on the stream, if another stream's chunk sat between them (a keepalive, a path
// report), waited for the stream's next chunk. The last message before a pause never came,
// and a forward TSN later pruned it. Applied by werift-fixes.ts.

import { wrap } from "./werift-sctp-fixes.js";

const TSN_MODULO = 2 ** 32;
const DATA_LAST_FRAGMENT = 1;
const DATA_FIRST_FRAGMENT = 2;
const DATA_UNORDERED = 4;

interface ReassemblyChunk {
  tsn: number;
  flags: number;
  streamId: number;
  streamSeqNum: number;
  protocol: number;
  userData: Buffer;
}
export interface InboundStream {
  reassembly: ReassemblyChunk[];
  streamSequenceNumber: number;
  popMessages(): Iterable<[number, number, Buffer]>;
  pruneChunks(tsn: number): number;
}

/** `a` comes after `b` in 16-bit serial arithmetic (RFC 1982), as stream sequence numbers do. */
const ssnAfter = (a: number, b: number) => a !== b && ((a - b) & 0xffff) < 0x8000;

/** Where the message whose first fragment is at `start` ends, if all its fragments are here:
 * a message's fragments have consecutive TSNs. */
function lastFragmentAt(chunks: ReassemblyChunk[], start: number): number | undefined {
  for (let at = start; at < chunks.length; at++) {
    const chunk = chunks[at] as ReassemblyChunk;
    if (chunk.flags & DATA_LAST_FRAGMENT) return at;
    const next = chunks[at + 1];
    if (next?.tsn !== (chunk.tsn + 1) % TSN_MODULO) return undefined;
  }
  return undefined;
}

/** Every complete message that may go now, as [stream, protocol, data]: ordered ones in
 * sequence-number order, unordered ones as soon as they are whole. */
export function* popCompleteMessages(this: InboundStream): Generator<[number, number, Buffer]> {
  let at = 0;
  while (at < this.reassembly.length) {
    const first = this.reassembly[at] as ReassemblyChunk;
    const ordered = !(first.flags & DATA_UNORDERED);
    const starts = (first.flags & DATA_FIRST_FRAGMENT) !== 0;
    // An ordered message waits for the ones before it: the head of the queue must be next.
    if (ordered && (!starts || ssnAfter(first.streamSeqNum, this.streamSequenceNumber))) return;
    const last = starts ? lastFragmentAt(this.reassembly, at) : undefined;
    if (last === undefined) {
      if (ordered) return;
      at++;
      continue;
    }
    const fragments = this.reassembly.splice(at, last - at + 1);
    if (ordered && first.streamSeqNum === this.streamSequenceNumber) {
      this.streamSequenceNumber = (this.streamSequenceNumber + 1) & 0xffff;
    }
    const data =
      fragments.length === 1 ? first.userData : Buffer.concat(fragments.map((f) => f.userData));
    yield [first.streamId, first.protocol, data];
  }
}

/** werift's stream class is private too: its prototype is fixed through the first stream an
 * association makes, and `getInboundStream` (called for every DATA chunk) is then itself
 * again. */
export function fixReassembly(sctp: object): void {
  wrap(
    sctp,
    "getInboundStream",
    (getInboundStream) =>
      function (this: unknown, streamId: number) {
        const stream = getInboundStream.call(this, streamId) as InboundStream;
        (Object.getPrototypeOf(stream) as InboundStream).popMessages = popCompleteMessages;
        (sctp as Record<string, unknown>).getInboundStream = getInboundStream;
        return stream;
      },
  );
}
