type EventMap<E> = { [K in keyof E]: unknown[] };
type Listener<A extends unknown[]> = (...args: A) => void;

/** A small typed event emitter that runs in Node and browsers alike. */
export class Emitter<E extends EventMap<E>> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>();

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  /** Calls every listener; one that throws is reported and the others still run (so an
   * application's bug cannot stop the state machine that emitted). */
  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E[K]>)(...args);
      } catch (err) {
        reportCallbackError(`a "${String(event)}" listener`, err);
      }
    }
  }

  protected removeAllListeners(): void {
    this.listeners.clear();
  }
}

/** An application callback threw (or its promise rejected): said on the console, where an
 * uncaught error would be, without unwinding conduit's own code. */
export function reportCallbackError(what: string, err: unknown): void {
  console.error(`conduit-rtc: ${what} threw:`, err);
}

/** Adds `item` to `list`; returns a function that removes it again. */
export function addRemovable<T>(list: T[], item: T): () => void {
  list.push(item);
  return () => {
    const at = list.indexOf(item);
    if (at >= 0) list.splice(at, 1);
  };
}
