// Network namespaces made and removed by the tests and the bench. `Network` is the one
// builder: namespaces, veth pairs and addresses, removed in reverse when closed. The
// topologies are built from it: `createNamespace` below (one namespace on a veth pair),
// the impaired link (impaired-link.ts, a userspace-forwarded pair) and two NATs (nat.ts).
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireSystem } from "./system.js";

/** A namespace's name, or `undefined` for the one this process runs in. */
export type Where = string | undefined;

const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { stdio: "pipe", encoding: "utf8" });

export class Network {
  /** Unique to this builder (pid and a random part), so parallel test files do not collide;
   * short enough for interface names ("x" + tag fits the kernel's 15 characters). */
  readonly tag = `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
  private readonly made: string[] = [];

  /** A new namespace named prefix + tag, with its loopback up. */
  namespace(prefix: string): string {
    const name = `${prefix}${this.tag}`;
    run("ip", ["netns", "add", name]);
    this.made.push(name);
    this.ip(name, "link", "set", "lo", "up");
    return name;
  }

  /** Runs `ip` in a namespace. */
  ip(where: Where, ...args: string[]): string {
    return run("ip", where ? ["-n", where, ...args] : args);
  }

  /** Runs a program in a namespace. */
  exec(where: Where, cmd: string, ...args: string[]): string {
    return where ? run("ip", ["netns", "exec", where, cmd, ...args]) : run(cmd, args);
  }

  /** A veth pair between two namespaces, each end addressed (a CIDR) and up. */
  veth(a: Where, aIf: string, aAddress: string, b: Where, bIf: string, bAddress: string): void {
    run("ip", ["link", "add", aIf, "type", "veth", "peer", "name", bIf]);
    if (!a) this.made.push(`link:${aIf}`); // in this namespace: not removed with any namespace
    if (a) this.ip(undefined, "link", "set", aIf, "netns", a);
    if (b) this.ip(undefined, "link", "set", bIf, "netns", b);
    this.address(a, aIf, aAddress);
    this.address(b, bIf, bAddress);
  }

  /** Moves an interface of this namespace into another. */
  move(dev: string, to: string): void {
    this.ip(undefined, "link", "set", dev, "netns", to);
  }

  /** Gives `dev` an address (with `peer`: a point-to-point one) and brings it up. */
  address(where: Where, dev: string, address: string, peer?: string): void {
    this.ip(where, "addr", "add", address, ...(peer ? ["peer", peer] : []), "dev", dev);
    this.ip(where, "link", "set", dev, "up");
  }

  /** Removes what was made, newest first; what is already gone is skipped. */
  close(): void {
    for (const item of this.made.splice(0).reverse()) {
      try {
        if (item.startsWith("link:")) run("ip", ["link", "del", item.slice(5)]);
        else run("ip", ["netns", "del", item]);
      } catch {
        // already gone (a veth end goes with its namespace)
      }
    }
  }

  /** Builds with `build`; if it throws, removes what it made and rethrows. */
  static build<T>(build: (net: Network) => T): T {
    const net = new Network();
    try {
      return build(net);
    } catch (err) {
      net.close();
      throw err;
    }
  }
}

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

/** One namespace joined to this one by a veth pair. Chromium gathers no loopback ICE
 * candidates, so browser tests put Chromium in here. */
export function createNamespace(): Namespace {
  requireRoot();
  return Network.build((net) => {
    const name = net.namespace("cdt");
    // A /30 in 10.213.0.0/16 picked at random, so parallel test files do not collide.
    const block = Math.floor(Math.random() * 16384) * 4;
    const base = `10.213.${block >> 8}.`;
    const hostAddress = `${base}${(block & 255) + 1}`;
    const nsAddress = `${base}${(block & 255) + 2}`;
    net.veth(
      undefined,
      `cdh${net.tag}`,
      `${hostAddress}/30`,
      name,
      `cdn${net.tag}`,
      `${nsAddress}/30`,
    );
    const dir = mkdtempSync(join(tmpdir(), "conduit-ns-"));
    return {
      name,
      hostAddress,
      nsAddress,
      wrapper: (executable) => createWrapper(name, executable, dir),
      close() {
        net.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
