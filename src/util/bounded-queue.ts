/** FIFO ring buffer of fixed capacity: pushing onto a full queue drops (and counts) the oldest. */
export class BoundedQueue<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;
  /** Items dropped because the queue was full. */
  dropped = 0;

  constructor(private cap: number) {
    this.items = new Array(cap);
  }

  get capacity(): number {
    return this.cap;
  }

  /** Changes the capacity, keeping the newest items that fit (older ones count as dropped). */
  resize(capacity: number): void {
    const kept: T[] = [];
    while (this.count > 0) kept.push(this.shift() as T);
    this.cap = capacity;
    this.items = new Array(capacity);
    this.head = 0;
    const excess = Math.max(0, kept.length - capacity);
    this.dropped += excess;
    for (const item of kept.slice(excess)) this.push(item);
  }

  get length(): number {
    return this.count;
  }

  /** Returns the item dropped to make room, if any. */
  push(item: T): T | undefined {
    let evicted: T | undefined;
    if (this.count === this.cap) {
      evicted = this.shift();
      this.dropped++;
    }
    this.items[(this.head + this.count) % this.cap] = item;
    this.count++;
    return evicted;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.cap;
    this.count--;
    return item;
  }

  clear(): void {
    while (this.count > 0) this.shift();
  }
}
