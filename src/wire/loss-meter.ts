import { groupSizes, type Piece } from "./pieces.js";

interface Tally {
  expected: number;
  received: number;
  firstAt: number;
}

/**
 * The share of coded pieces lost on the way, counted per message: how many its groups were
 * sent with (source + repair) against how many came, late ones included. A message is
 * settled `settleMs` after its first piece; messages no piece of which came are not seen.
 */
export class LossMeter {
  private readonly open = new Map<string, Tally>();
  private expected = 0;
  private received = 0;

  constructor(
    private readonly settleMs: number,
    private readonly now: () => number,
    private readonly maxOpen = 1024,
  ) {}

  piece(key: string, piece: Piece): void {
    let tally = this.open.get(key);
    if (!tally) {
      this.settle();
      const sent = groupSizes(piece.totalBytes, piece.pieceBytes).reduce(
        (sum, k) => sum + k + piece.repairCount,
        0,
      );
      tally = { expected: sent, received: 0, firstAt: this.now() };
      this.open.set(key, tally);
    }
    if (tally.received < tally.expected) tally.received++;
  }

  /** The share of pieces lost among messages settled since the last call (undefined: none). */
  take(): number | undefined {
    this.settle();
    const { expected, received } = this;
    this.expected = 0;
    this.received = 0;
    return expected === 0 ? undefined : 1 - received / expected;
  }

  private settle(): void {
    const cutoff = this.now() - this.settleMs;
    for (const [key, tally] of this.open) {
      if (tally.firstAt > cutoff && this.open.size < this.maxOpen) break;
      this.open.delete(key);
      this.expected += tally.expected;
      this.received += tally.received;
    }
  }
}
