// What tests that build networks or run system programs need of the machine. A test that
// lacks one fails, saying how to get it: none is skipped (CI runs as root and .ci/run
// installs every package named here).
import { execFileSync } from "node:child_process";

/** Each program the tests run, and the Debian package that has it. */
const PACKAGES = {
  ip: "iproute2",
  iptables: "iptables",
  turnserver: "coturn",
  "nats-server": "nats-server",
  python3: "python3",
  ffmpeg: "ffmpeg",
} as const;

export type SystemTool = keyof typeof PACKAGES;

export interface SystemNeeds {
  root?: boolean;
  tools?: SystemTool[];
}

/** What `what` lacks here, said with how to get it; undefined when nothing is missing. */
export function systemMissing(what: string, needs: SystemNeeds): string | undefined {
  if (needs.root && process.getuid?.() !== 0) {
    return `${what} need root (network namespaces): run as root, as CI does`;
  }
  for (const tool of needs.tools ?? []) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "pipe" });
    } catch {
      return `${what} need ${tool}: apt-get install ${PACKAGES[tool]}`;
    }
  }
  return undefined;
}

/** Throws what systemMissing says, if anything. */
export function requireSystem(what: string, needs: SystemNeeds): void {
  const missing = systemMissing(what, needs);
  if (missing) throw new Error(missing);
}
