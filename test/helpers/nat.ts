// Two NATs and a "public" network, in network namespaces the test makes and removes:
//
//   client ns ── NAT 1 ──┐                 ┌── NAT 2 ── server ns
//   10.a.1.2    (masq)   └── public ns ────┘   (masq, DNAT of the signaling port)
//                            coturn on the public side of NAT 1's link
//
// Both NATs masquerade with random ports (symmetric), so only a relay gets through.
import { execFileSync } from "node:child_process";
import { requireSystem } from "./system.js";

const run = (cmd: string, ...args: string[]) =>
  execFileSync(cmd, args, { stdio: "pipe" }).toString();

export interface NatTopology {
  client: string;
  server: string;
  public: string;
  serverAddress: string;
  /** Where clients reach the server: NAT 2's public address. */
  natAddress: string;
  turnAddress: string;
  /** Forwards one TCP port on NAT 2's public address to the server. */
  forward(port: number): void;
  close(): void;
}

export function createNatTopology(): NatTopology {
  requireSystem("the NAT tests", { root: true, tools: ["ip", "iptables", "turnserver"] });
  const tag = `${process.pid % 1000}${Math.floor(Math.random() * 100)}`;
  const o = 100 + Math.floor(Math.random() * 100); // second octet, per run
  const ns = {
    client: `nc${tag}`,
    nat1: `n1${tag}`,
    public: `np${tag}`,
    nat2: `n2${tag}`,
    server: `ns${tag}`,
  };
  const made: string[] = [];
  const ip = (...args: string[]) => run("ip", ...args);
  const inNs = (n: string, ...cmd: string[]) => run("ip", "netns", "exec", n, ...cmd);
  const link = (a: string, aIf: string, aAddr: string, b: string, bIf: string, bAddr: string) => {
    ip("link", "add", aIf, "type", "veth", "peer", "name", bIf);
    ip("link", "set", aIf, "netns", a);
    ip("link", "set", bIf, "netns", b);
    ip("-n", a, "addr", "add", aAddr, "dev", aIf);
    ip("-n", b, "addr", "add", bAddr, "dev", bIf);
    ip("-n", a, "link", "set", aIf, "up");
    ip("-n", b, "link", "set", bIf, "up");
  };
  const close = () => {
    for (const n of made.reverse()) {
      try {
        ip("netns", "del", n);
      } catch {
        // already gone
      }
    }
  };
  try {
    for (const n of Object.values(ns)) {
      ip("netns", "add", n);
      made.push(n);
      ip("-n", n, "link", "set", "lo", "up");
    }
    link(ns.client, `c${tag}`, `10.${o}.1.2/24`, ns.nat1, `a${tag}`, `10.${o}.1.1/24`);
    link(ns.nat1, `b${tag}`, `10.${o}.101.2/30`, ns.public, `p${tag}`, `10.${o}.101.1/30`);
    link(ns.server, `s${tag}`, `10.${o}.2.2/24`, ns.nat2, `d${tag}`, `10.${o}.2.1/24`);
    link(ns.nat2, `e${tag}`, `10.${o}.102.2/30`, ns.public, `q${tag}`, `10.${o}.102.1/30`);
    ip("-n", ns.client, "route", "add", "default", "via", `10.${o}.1.1`);
    ip("-n", ns.nat1, "route", "add", "default", "via", `10.${o}.101.1`);
    ip("-n", ns.server, "route", "add", "default", "via", `10.${o}.2.1`);
    ip("-n", ns.nat2, "route", "add", "default", "via", `10.${o}.102.1`);
    for (const n of [ns.nat1, ns.nat2, ns.public])
      inNs(n, "sysctl", "-qw", "net.ipv4.ip_forward=1");
    // Symmetric NAT: masquerade with a random source port per mapping.
    const masquerade = (n: string, out: string) =>
      inNs(
        n,
        "iptables",
        "-t",
        "nat",
        "-A",
        "POSTROUTING",
        "-o",
        out,
        "-j",
        "MASQUERADE",
        "--random",
      );
    masquerade(ns.nat1, `b${tag}`);
    masquerade(ns.nat2, `e${tag}`);
  } catch (err) {
    close();
    throw err;
  }
  return {
    client: ns.client,
    server: ns.server,
    public: ns.public,
    serverAddress: `10.${o}.2.2`,
    natAddress: `10.${o}.102.2`,
    turnAddress: `10.${o}.101.1`,
    forward(port) {
      inNs(
        ns.nat2,
        "iptables",
        "-t",
        "nat",
        "-A",
        "PREROUTING",
        "-i",
        `e${tag}`,
        "-p",
        "tcp",
        "--dport",
        String(port),
        "-j",
        "DNAT",
        "--to-destination",
        `10.${o}.2.2:${port}`,
      );
    },
    close,
  };
}
