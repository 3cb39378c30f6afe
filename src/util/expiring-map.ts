/** A Map that holds at most `capacity` entries (the oldest goes first), each for `ttlMs`. */
export class ExpiringMap<K, V> {
  private readonly entries = new Map<K, { value: V; timer: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  *values(): IterableIterator<V> {
    for (const entry of this.entries.values()) yield entry.value;
  }

  /** Adds or replaces `key` as the newest entry. */
  set(key: K, value: V): void {
    this.delete(key);
    const timer = setTimeout(() => this.delete(key), this.ttlMs);
    // Expiry alone never keeps a process alive.
    (timer as { unref?: () => void }).unref?.();
    this.entries.set(key, { value, timer });
    if (this.entries.size > this.capacity) this.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.entries.delete(key);
  }

  clear(): void {
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
    this.entries.clear();
  }
}
