/** The last `capacity` samples of a quantity, for percentiles over recent history. */
export class RecentSamples {
  private readonly samples: number[] = [];
  private next = 0;

  constructor(private readonly capacity = 256) {}

  add(value: number): void {
    if (this.samples.length < this.capacity) this.samples.push(value);
    else this.samples[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
  }

  /** p50 and p99 of the samples held (nearest rank), or undefined when there are none. */
  percentiles(): { p50: number; p99: number } | undefined {
    if (this.samples.length === 0) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const rank = (p: number) => sorted[Math.ceil(p * sorted.length) - 1] as number;
    return { p50: rank(0.5), p99: rank(0.99) };
  }
}
