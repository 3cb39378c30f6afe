import { errors, jwtVerify, SignJWT } from "jose";
import { MIN_TOKEN_SECRET_BYTES } from "../core/defaults.js";
import { AuthenticationError, InvalidArgumentError } from "../core/errors.js";

/** Stream name patterns a client may use; `*` matches any run of characters. */
export interface Grants {
  subscribe: string[];
  publish: string[];
}

/** What an authenticated client may do, and until when (ms since the epoch). */
export interface Access {
  grants: Grants;
  expiresAt?: number;
}

/** A password (or no authentication at all) grants every stream, for as long as it lasts. */
export const FULL_ACCESS: Access = { grants: { subscribe: ["*"], publish: ["*"] } };

export function secretKey(secret: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.byteLength < MIN_TOKEN_SECRET_BYTES) {
    throw new InvalidArgumentError(`tokenSecret must be at least ${MIN_TOKEN_SECRET_BYTES} bytes`);
  }
  return key;
}

export function grantAllows(patterns: readonly string[], name: string): boolean {
  return patterns.some((pattern) => {
    const parts = pattern.split("*");
    if (parts.length === 1) return pattern === name;
    const first = parts[0] as string;
    const last = parts[parts.length - 1] as string;
    if (!name.startsWith(first) || name.length < first.length + last.length) return false;
    // Each middle part in order, after the previous one, before the fixed end.
    let at = first.length;
    for (const part of parts.slice(1, -1)) {
      const found = name.indexOf(part, at);
      if (found < 0 || found + part.length > name.length - last.length) return false;
      at = found + part.length;
    }
    return name.endsWith(last);
  });
}

export interface TokenClaims {
  /** Becomes the token's `sub`. */
  client: string;
  subscribe: string[];
  publish: string[];
  ttlSeconds: number;
}

export async function mintToken(secret: string, claims: TokenClaims): Promise<string> {
  if (!Number.isFinite(claims.ttlSeconds) || claims.ttlSeconds <= 0) {
    throw new InvalidArgumentError("ttl must be a positive duration");
  }
  return new SignJWT({ subscribe: claims.subscribe, publish: claims.publish })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.client)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + Math.ceil(claims.ttlSeconds))
    .sign(secretKey(secret));
}

const patternList = (value: unknown, claim: string): string[] => {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((p) => typeof p === "string" && p.length <= 256)) {
    return value.slice(0, 64);
  }
  throw new AuthenticationError(`token claim "${claim}" must be a list of stream patterns`);
};

/**
 * Verifies an HS256 token with `exp`; any other algorithm (`none` included), a bad signature,
 * a missing or past `exp` is refused with AuthenticationError (code TOKEN_EXPIRED when expired).
 */
export async function verifyToken(key: Uint8Array, token: string): Promise<Access> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      requiredClaims: ["exp"],
    });
    return {
      grants: {
        subscribe: patternList(payload.subscribe, "subscribe"),
        publish: patternList(payload.publish, "publish"),
      },
      expiresAt: (payload.exp as number) * 1000,
    };
  } catch (err) {
    if (err instanceof AuthenticationError) throw err;
    if (err instanceof errors.JWTExpired) {
      throw new AuthenticationError("token expired", "TOKEN_EXPIRED");
    }
    throw new AuthenticationError(`invalid token: ${(err as Error).message}`);
  }
}
