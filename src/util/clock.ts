/** Wall-clock ms, from the monotonic clock (it does not jump when the system clock is set). */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** This end's clock for the wire: wall-clock ms, mod 2^32 (differences are taken as int32). */
export function clockMs(): number {
  return Math.floor(wallClockMs()) >>> 0;
}
