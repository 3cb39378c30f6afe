/**
 * A systematic Reed-Solomon erasure code over GF(2^8) with a Cauchy matrix: k source pieces
 * and r repair pieces, from which any k rebuild the sources. Repair piece j is
 * Σ_i C[j][i]·source_i with C[j][i] = 1 / (x_j + y_i), y_i = i and x_j = 128 + j; every
 * square submatrix of a Cauchy matrix is invertible, so any k pieces determine the sources.
 * See docs/PROTOCOL.md §5.3.
 */

/** Sources per group (y_i = i) and repair pieces (x_j = 128 + j) must not share an element. */
export const MAX_SOURCE_PIECES = 128;
export const MAX_REPAIR_PIECES = 127;

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255] as number;
}

function mul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : (EXP[(LOG[a] as number) + (LOG[b] as number)] as number);
}

function inv(a: number): number {
  return EXP[255 - (LOG[a] as number)] as number;
}

/** Row c of the multiplication table, made on first use: product[c * 256 + b] = c·b. */
const products = new Uint8Array(256 * 256);
const productsMade = new Uint8Array(256);
function productRow(c: number): Uint8Array {
  if (!productsMade[c]) {
    for (let b = 0; b < 256; b++) products[c * 256 + b] = mul(c, b);
    productsMade[c] = 1;
  }
  return products.subarray(c * 256, c * 256 + 256);
}

function coefficient(repair: number, source: number): number {
  return inv((MAX_SOURCE_PIECES + repair) ^ source);
}

/** target ^= c · piece, byte by byte. */
function addScaled(target: Uint8Array, piece: Uint8Array, c: number): void {
  if (c === 0) return;
  if (c === 1) {
    for (let b = 0; b < target.length; b++)
      target[b] = (target[b] as number) ^ (piece[b] as number);
    return;
  }
  const row = productRow(c);
  for (let b = 0; b < target.length; b++) {
    target[b] = (target[b] as number) ^ (row[piece[b] as number] as number);
  }
}

/** Writes repair piece `repair` of `sources` (all the same length) into `target`. */
export function encodeRepair(sources: readonly Uint8Array[], repair: number, target: Uint8Array) {
  checkShape(sources.length, repair + 1);
  target.fill(0);
  for (let i = 0; i < sources.length; i++) {
    addScaled(target, sources[i] as Uint8Array, coefficient(repair, i));
  }
}

/**
 * Rebuilds the missing sources in place. `sources[i]` is the source piece i or undefined;
 * `repairs` holds received repair pieces by index. Returns false when fewer than k pieces
 * are present in all (nothing is changed then).
 */
export function rebuildSources(
  sources: (Uint8Array | undefined)[],
  repairs: ReadonlyMap<number, Uint8Array>,
  pieceBytes: number,
): boolean {
  const missing: number[] = [];
  for (let i = 0; i < sources.length; i++) if (!sources[i]) missing.push(i);
  if (missing.length === 0) return true;
  if (repairs.size < missing.length) return false;
  const rows = [...repairs.keys()].slice(0, missing.length);
  // Syndromes: each repair piece with the known sources' share taken out.
  const syndromes = rows.map((j) => {
    const s = new Uint8Array(repairs.get(j) as Uint8Array);
    for (let i = 0; i < sources.length; i++) {
      const known = sources[i];
      if (known) addScaled(s, known, coefficient(j, i));
    }
    return s;
  });
  const inverse = invert(rows.map((j) => missing.map((i) => coefficient(j, i))));
  for (let m = 0; m < missing.length; m++) {
    const piece = new Uint8Array(pieceBytes);
    for (let a = 0; a < rows.length; a++) {
      addScaled(piece, syndromes[a] as Uint8Array, (inverse[m] as number[])[a] as number);
    }
    sources[missing[m] as number] = piece;
  }
  return true;
}

/** Gauss-Jordan inversion of a square matrix over GF(2^8); a Cauchy submatrix always has one. */
function invert(matrix: number[][]): number[][] {
  const n = matrix.length;
  const a = matrix.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => +(i === j))]);
  for (let col = 0; col < n; col++) {
    const pivot = a.findIndex((row, r) => r >= col && row[col] !== 0);
    if (pivot < 0) throw new Error("singular matrix: not a Cauchy submatrix");
    [a[col], a[pivot]] = [a[pivot] as number[], a[col] as number[]];
    const pivotRow = a[col] as number[];
    const scale = inv(pivotRow[col] as number);
    for (let c = 0; c < 2 * n; c++) pivotRow[c] = mul(pivotRow[c] as number, scale);
    for (let r = 0; r < n; r++) {
      const row = a[r] as number[];
      const factor = row[col] as number;
      if (r === col || factor === 0) continue;
      for (let c = 0; c < 2 * n; c++)
        row[c] = (row[c] as number) ^ mul(factor, pivotRow[c] as number);
    }
  }
  return a.map((row) => row.slice(n));
}

function checkShape(sourceCount: number, repairCount: number): void {
  if (sourceCount < 1 || sourceCount > MAX_SOURCE_PIECES || repairCount > MAX_REPAIR_PIECES) {
    throw new RangeError(`erasure code: ${sourceCount} sources, ${repairCount} repairs`);
  }
}
