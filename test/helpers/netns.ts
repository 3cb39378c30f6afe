// A private network namespace joined to this one by a veth pair, made and removed by the test.
// Chromium gathers no loopback ICE candidates, so browser tests put Chromium in here.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireSystem } from "./system.js";

export interface Namespace {
  name: string;
  /** This side of the veth pair: where the server listens. */
  hostAddress: string;
  /** The namespace's side. */
  nsAddress: string;
  /** Runs a program inside the namespace: `${wrapper(path)}` is an executable script. */
  wrapper(executable: string): string;
  close(): void;
}

export const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" });

/** Writes an executable script that runs `executable` inside namespace `ns`; returns its path. */
export function createWrapper(ns: string, executable: string, dir: string): string {
  const file = join(dir, `run-${ns}.sh`);
  writeFileSync(file, `#!/bin/sh\nexec ip netns exec ${ns} ${executable} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

export function requireRoot(): void {
  requireSystem("tests in a network namespace", { root: true, tools: ["ip"] });
}

export function createNamespace(): Namespace {
  requireRoot();
  const tag = `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
  const name = `cdt${tag}`;
  const hostIf = `cdh${tag}`;
  const nsIf = `cdn${tag}`;
  // A /30 in 10.213.0.0/16 picked at random, so parallel test files do not collide.
  const block = Math.floor(Math.random() * 16384) * 4;
  const base = `10.213.${block >> 8}.`;
  const hostAddress = `${base}${(block & 255) + 1}`;
  const nsAddress = `${base}${(block & 255) + 2}`;
  const dir = mkdtempSync(join(tmpdir(), "conduit-ns-"));
  ip("netns", "add", name);
  try {
    ip("link", "add", hostIf, "type", "veth", "peer", "name", nsIf);
    ip("link", "set", nsIf, "netns", name);
    ip("addr", "add", `${hostAddress}/30`, "dev", hostIf);
    ip("link", "set", hostIf, "up");
    ip("-n", name, "addr", "add", `${nsAddress}/30`, "dev", nsIf);
    ip("-n", name, "link", "set", nsIf, "up");
    ip("-n", name, "link", "set", "lo", "up");
  } catch (err) {
    ip("netns", "del", name);
    throw err;
  }
  return {
    name,
    hostAddress,
    nsAddress,
    wrapper: (executable) => createWrapper(name, executable, dir),
    close() {
      try {
        ip("link", "del", hostIf);
      } catch {
        // already gone with the namespace
      }
      ip("netns", "del", name);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
