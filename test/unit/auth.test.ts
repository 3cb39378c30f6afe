import { describe, expect, it } from "vitest";
import { AuthRateLimiter, passwordMatches } from "../../src/signaling/auth.js";

describe("password check", () => {
  it("matches only the exact password, whatever the lengths or types", () => {
    expect(passwordMatches("secret", "secret")).toBe(true);
    expect(passwordMatches("secret", "secreT")).toBe(false);
    expect(passwordMatches("secret", "secret-and-more")).toBe(false);
    expect(passwordMatches("secret", "")).toBe(false);
    expect(passwordMatches("secret", undefined)).toBe(false);
    expect(passwordMatches("secret", { toString: () => "secret" })).toBe(false);
  });
});

describe("rate limiter", () => {
  it("blocks an address after the limit within the window, and forgets after it", () => {
    let now = 0;
    const limiter = new AuthRateLimiter(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) {
      expect(limiter.isBlocked("a")).toBe(false);
      limiter.recordFailure("a");
    }
    expect(limiter.isBlocked("a")).toBe(true);
    expect(limiter.isBlocked("b")).toBe(false);
    now = 60_000;
    expect(limiter.isBlocked("a")).toBe(false);
  });

  it("a success clears the address's failures", () => {
    const limiter = new AuthRateLimiter(2, 60_000);
    limiter.recordFailure("a");
    limiter.recordSuccess("a");
    limiter.recordFailure("a");
    expect(limiter.isBlocked("a")).toBe(false);
  });

  it("tracks a bounded number of addresses", () => {
    const limiter = new AuthRateLimiter(1, 60_000);
    for (let i = 0; i < 20_000; i++) limiter.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    // The oldest entries were forgotten to stay within AUTH_TRACKED_ADDRESSES.
    expect(limiter.isBlocked("10.0.0.0")).toBe(false);
    expect(limiter.isBlocked("10.0.78.31")).toBe(true);
  });
});
