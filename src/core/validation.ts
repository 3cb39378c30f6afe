import { STREAM_NAME_MAX_LENGTH } from "./defaults.js";
import type { Delivery } from "./delivery.js";
import { InvalidArgumentError } from "./errors.js";

/** A port: an integer, or a string of digits (ports often come from environment variables). */
export function validatePort(port: unknown, what: string): number {
  const value = typeof port === "string" && /^\d{1,5}$/.test(port) ? Number(port) : port;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 65535) {
    const shown = typeof port === "string" ? `the string ${JSON.stringify(port)}` : String(port);
    throw new InvalidArgumentError(`${what} must be an integer from 0 to 65535, not ${shown}`);
  }
  return value;
}

export function validatePositiveInt(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`${what} must be a positive integer, not ${String(value)}`);
  }
  return value;
}

export function validateNonEmpty(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new InvalidArgumentError(`${what} must be a non-empty string`);
  }
  return value;
}

/** A duration option that `false` turns off. */
export function optionalDuration(
  value: number | false | undefined,
  fallback: number,
  name: string,
): number | undefined {
  if (value === false) return undefined;
  return validatePositiveInt(value ?? fallback, name);
}

/**
 * Throws for an option name the descriptor does not know (a typo such as `passwrd` would
 * otherwise be ignored), naming the nearest one it does.
 */
export function rejectUnknownOptions(
  options: object,
  known: Record<string, true>,
  descriptor: string,
): void {
  const names = Object.keys(known);
  for (const name of Object.keys(options)) {
    if (Object.hasOwn(known, name)) continue;
    const nearest = names.reduce((best, candidate) =>
      editDistance(name, candidate) < editDistance(name, best) ? candidate : best,
    );
    throw new InvalidArgumentError(
      `${descriptor} has no option "${name}"; did you mean "${nearest}"?`,
    );
  }
}

/** Levenshtein distance, case-insensitive. */
function editDistance(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const substitution = (previous[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1);
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        substitution,
      );
    }
    previous = current;
  }
  return previous[y.length] as number;
}

const STREAM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.\-/:]*$/;

/** Throws InvalidArgumentError saying what is wrong with a stream name. */
export function validateStreamName(name: unknown): string {
  if (typeof name !== "string") throw new InvalidArgumentError("stream name must be a string");
  if (name.length === 0) throw new InvalidArgumentError("stream name must not be empty");
  if (name.length > STREAM_NAME_MAX_LENGTH) {
    throw new InvalidArgumentError(
      `stream name is ${name.length} characters; the limit is ${STREAM_NAME_MAX_LENGTH}`,
    );
  }
  if (!STREAM_NAME.test(name)) {
    throw new InvalidArgumentError(
      `stream name "${name}" may use only letters, digits and _ . - / :, and must not start with . - / :`,
    );
  }
  return name;
}

export function validateDelivery(value: unknown): Delivery {
  if (value === "realtime" || value === "reliable") return value;
  throw new InvalidArgumentError(
    `delivery must be "realtime" or "reliable", not ${JSON.stringify(value)}`,
  );
}
