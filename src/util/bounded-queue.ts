/** FIFO ring buffer of fixed capacity: pushing onto a full queue drops (and counts) the oldest. */
export class BoundedQueue<T> {
  private slots: (T | undefined)[];
  private head = 0;
  private count = 0;
  /** Items dropped because the queue was full. */
  dropped = 0;
  /** Resolved once the queue has room (see whenRoom). */
  private roomWaiters: (() => void)[] = [];

  constructor(private cap: number) {
    this.slots = new Array(cap);
  }

  get capacity(): number {
    return this.cap;
  }

  /** Changes the capacity, keeping the newest items that fit (older ones count as dropped). */
  resize(capacity: number): void {
    const kept: T[] = [];
    while (this.count > 0) kept.push(this.shift() as T);
    this.cap = capacity;
    this.slots = new Array(capacity);
    this.head = 0;
    const excess = Math.max(0, kept.length - capacity);
    this.dropped += excess;
    for (const item of kept.slice(excess)) this.push(item);
    if (this.hasRoom) this.wakeRoomWaiters();
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
    this.slots[(this.head + this.count) % this.cap] = item;
    this.count++;
    return evicted;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.cap;
    this.count--;
    if (this.roomWaiters.length > 0) this.wakeRoomWaiters();
    return item;
  }

  /** A push would not drop anything. */
  get hasRoom(): boolean {
    return this.count < this.cap;
  }

  /** Resolves once a push would not drop anything (at once if it would not now). */
  whenRoom(): Promise<void> {
    if (this.hasRoom) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /** The items, oldest first, without removing them. */
  *items(): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.slots[(this.head + i) % this.cap] as T;
  }

  clear(): void {
    while (this.count > 0) this.shift();
  }
}
