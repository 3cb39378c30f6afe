import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ExpiringMap } from "../../src/util/expiring-map.js";

describe("ExpiringMap", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("holds at most its capacity, dropping the oldest", () => {
    const map = new ExpiringMap<string, number>(2, 1000);
    map.set("a", 1);
    map.set("b", 2);
    map.set("a", 3); // replaced: now the newest
    map.set("c", 4);
    expect([...map.values()]).toEqual([3, 4]);
    expect(map.get("b")).toBeUndefined();
  });

  it("forgets each entry after its time, counted from its last set", () => {
    const map = new ExpiringMap<string, number>(10, 1000);
    map.set("a", 1);
    vi.advanceTimersByTime(600);
    map.set("b", 2);
    map.set("a", 3);
    vi.advanceTimersByTime(600);
    expect([...map.values()]).toEqual([2, 3]);
    vi.advanceTimersByTime(400);
    expect(map.size).toBe(0);
  });

  it("clear() leaves no timer behind", () => {
    const map = new ExpiringMap<string, number>(10, 1000);
    map.set("a", 1);
    map.clear();
    expect(vi.getTimerCount()).toBe(0);
  });
});
