import { createHash, timingSafeEqual } from "node:crypto";
import {
  AUTH_FAILURE_WINDOW_MS,
  AUTH_MAX_FAILURES,
  AUTH_TRACKED_ADDRESSES,
} from "../core/defaults.js";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Compares in constant time: both sides are hashed to equal length first. */
export function passwordMatches(expected: string, given: unknown): boolean {
  if (typeof given !== "string") return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/**
 * Counts failed attempts per address in a fixed window. An address over the limit is
 * refused without its password being checked. Memory is bounded: past
 * `AUTH_TRACKED_ADDRESSES` the oldest entry is forgotten.
 */
export class AuthRateLimiter {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly maxFailures = AUTH_MAX_FAILURES,
    private readonly windowMs = AUTH_FAILURE_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  isBlocked(address: string): boolean {
    const entry = this.current(address);
    return entry !== undefined && entry.count >= this.maxFailures;
  }

  recordFailure(address: string): void {
    const entry = this.current(address);
    if (entry) {
      entry.count++;
      return;
    }
    if (this.failures.size >= AUTH_TRACKED_ADDRESSES) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(address, { count: 1, since: this.now() });
  }

  recordSuccess(address: string): void {
    this.failures.delete(address);
  }

  private current(address: string): { count: number; since: number } | undefined {
    const entry = this.failures.get(address);
    if (entry && this.now() - entry.since >= this.windowMs) {
      this.failures.delete(address);
      return undefined;
    }
    return entry;
  }
}
