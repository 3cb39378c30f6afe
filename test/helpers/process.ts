import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import type { Resources } from "./net.js";

/**
 * Runs a TypeScript file with tsx in its own process (inside network namespace `ns` if given);
 * killed at teardown if still running.
 */
export function runTs(
  res: Resources,
  file: string,
  env: Record<string, string> = {},
  args: string[] = [],
  ns?: string,
): ChildProcessWithoutNullStreams & { output: () => string } {
  // The condition resolves `import "conduit-rtc"` (as the examples write it) to src/, not dist/.
  const command = [
    process.execPath,
    "--conditions=conduit-rtc-source",
    "--import",
    "tsx",
    file,
    ...args,
  ];
  const [exe, ...rest] = ns ? ["ip", "netns", "exec", ns, ...command] : command;
  const child = spawn(exe as string, rest, {
    env: { ...process.env, ...env },
    stdio: "pipe",
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    out += c.toString();
  });
  res.add(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return Object.assign(child, { output: () => out });
}

/** Resolves with the first stdout line matching `re` (as the process prints it). */
export function lineMatching(
  child: ChildProcessWithoutNullStreams,
  re: RegExp,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    const onData = (c: Buffer) => {
      buffer += c.toString();
      // Complete lines only: a long line comes in several chunks.
      for (const line of buffer.split("\n").slice(0, -1)) {
        const m = line.match(re);
        if (m) {
          child.stdout.off("data", onData);
          resolve(m);
          return;
        }
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`process exited (${code}) before printing ${re}:\n${buffer}`)),
    );
  });
}

export function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}
