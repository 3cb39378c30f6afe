#!/usr/bin/env node
// npx conduit-rtc token --client ID [--subscribe 'sensors,video/*'] [--publish 'metrics'] [--ttl 1h]
// Prints an HS256 token for a server whose tokenSecret is $CONDUIT_TOKEN_SECRET (or --secret).
import { parseArgs } from "node:util";
import { ConduitError } from "./core/errors.js";
import { mintToken } from "./signaling/tokens.js";

const USAGE = `usage: conduit-rtc token --client ID [--subscribe PATTERNS] [--publish PATTERNS] [--ttl 1h]
  prints a token (HS256 JWT) granting those streams, for a server with that tokenSecret
  PATTERNS: comma-separated stream names; * matches any run of characters
  --ttl: a number of seconds, or with a unit: 90s, 15m, 1h, 7d (default 1h)
  the secret comes from $CONDUIT_TOKEN_SECRET, or --secret`;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

function parseTtl(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text);
  if (!match) throw new Error(`bad --ttl "${text}": use e.g. 90, 15m, 1h, 7d`);
  return Number(match[1]) * (UNITS[match[2] || "s"] as number);
}

const patterns = (text: string | undefined) =>
  (text ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.length > 0);

/** Resolves with what to print: a token, or the usage when asked for help. */
async function main(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      client: { type: "string" },
      subscribe: { type: "string" },
      publish: { type: "string" },
      ttl: { type: "string", default: "1h" },
      secret: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || (positionals.length === 1 && positionals[0] === "help")) return USAGE;
  if (positionals[0] !== "token" || positionals.length !== 1) throw new Error(USAGE);
  if (!values.client) throw new Error(`--client is required\n${USAGE}`);
  const secret = values.secret ?? process.env.CONDUIT_TOKEN_SECRET;
  if (!secret) throw new Error(`set CONDUIT_TOKEN_SECRET (or --secret)\n${USAGE}`);
  return mintToken(secret, {
    client: values.client,
    subscribe: patterns(values.subscribe),
    publish: patterns(values.publish),
    ttlSeconds: parseTtl(values.ttl),
  });
}

main(process.argv.slice(2)).then(
  (output) => console.log(output),
  (err: unknown) => {
    console.error(err instanceof ConduitError || err instanceof Error ? err.message : err);
    process.exitCode = 2;
  },
);
