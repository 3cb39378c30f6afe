import { rebuildSources } from "./erasure.js";
import { groupSizes, type Piece } from "./pieces.js";

interface Group {
  sources: (Uint8Array | undefined)[];
  repairs: Map<number, Uint8Array>;
  /** Pieces held (sources and repairs). */
  held: number;
  done: boolean;
}

/** One coded message being gathered: done when every group has any `sourceCount` pieces. */
export class CodedPartial {
  readonly totalBytes: number;
  readonly pieceBytes: number;
  readonly sentAt: number;
  readonly maxAgeMs: number;
  /** Payload bytes held. */
  bytes = 0;
  /** Some source piece was rebuilt from repair pieces. */
  rebuilt = false;
  private readonly groups: Group[];
  private groupsLeft: number;

  constructor(first: Piece) {
    this.totalBytes = first.totalBytes;
    this.pieceBytes = first.pieceBytes;
    this.sentAt = first.sentAt;
    this.maxAgeMs = first.maxAgeMs;
    this.groups = groupSizes(first.totalBytes, first.pieceBytes).map((k) => ({
      sources: new Array<Uint8Array | undefined>(k),
      repairs: new Map(),
      held: 0,
      done: false,
    }));
    this.groupsLeft = this.groups.length;
  }

  /** False when the piece does not belong to this message as its first piece described it. */
  matches(piece: Piece): boolean {
    return (
      piece.totalBytes === this.totalBytes &&
      piece.pieceBytes === this.pieceBytes &&
      piece.sentAt === this.sentAt &&
      piece.maxAgeMs === this.maxAgeMs
    );
  }

  /** Adds a piece (a duplicate, or one for a finished group, is ignored); true once whole. */
  add(piece: Piece): boolean {
    const group = this.groups[piece.group] as Group;
    if (group.done) return false;
    const isSource = piece.index < piece.sourceCount;
    const slotTaken = isSource
      ? group.sources[piece.index] !== undefined
      : group.repairs.has(piece.index - piece.sourceCount);
    if (slotTaken) return false;
    if (isSource) group.sources[piece.index] = piece.payload;
    else group.repairs.set(piece.index - piece.sourceCount, piece.payload);
    group.held++;
    this.bytes += piece.payload.byteLength;
    if (group.held < group.sources.length) return false;
    const missing = group.sources.length - group.sources.filter(Boolean).length;
    if (missing > 0) {
      rebuildSources(group.sources, group.repairs, this.pieceBytes);
      this.rebuilt = true;
    }
    group.done = true;
    this.bytes -= group.repairs.size * this.pieceBytes;
    group.repairs.clear();
    return --this.groupsLeft === 0;
  }

  body(): Uint8Array {
    const out = new Uint8Array(this.totalBytes);
    let offset = 0;
    for (const group of this.groups) {
      for (const source of group.sources) {
        const piece = source as Uint8Array;
        const take = Math.min(piece.byteLength, this.totalBytes - offset);
        out.set(piece.subarray(0, take), offset);
        offset += take;
      }
    }
    return out;
  }
}
