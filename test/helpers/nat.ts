// Two NATs and a "public" network, in network namespaces the test makes and removes:
//
//   client ns ── NAT 1 ──┐                 ┌── NAT 2 ── server ns
//   10.a.1.2    (masq)   └── public ns ────┘   (masq, DNAT of the signaling port)
//                            coturn on the public side of NAT 1's link
//
// Both NATs masquerade with random ports (symmetric), so only a relay gets through.
import { Network } from "./netns.js";
import { requireSystem } from "./system.js";

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
  return Network.build((net) => {
    const tag = net.tag;
    const o = 100 + Math.floor(Math.random() * 100); // second octet, per run
    const ns = {
      client: net.namespace("nc"),
      nat1: net.namespace("n1"),
      public: net.namespace("np"),
      nat2: net.namespace("n2"),
      server: net.namespace("ns"),
    };
    net.veth(ns.client, `c${tag}`, `10.${o}.1.2/24`, ns.nat1, `a${tag}`, `10.${o}.1.1/24`);
    net.veth(ns.nat1, `b${tag}`, `10.${o}.101.2/30`, ns.public, `p${tag}`, `10.${o}.101.1/30`);
    net.veth(ns.server, `s${tag}`, `10.${o}.2.2/24`, ns.nat2, `d${tag}`, `10.${o}.2.1/24`);
    net.veth(ns.nat2, `e${tag}`, `10.${o}.102.2/30`, ns.public, `q${tag}`, `10.${o}.102.1/30`);
    net.ip(ns.client, "route", "add", "default", "via", `10.${o}.1.1`);
    net.ip(ns.nat1, "route", "add", "default", "via", `10.${o}.101.1`);
    net.ip(ns.server, "route", "add", "default", "via", `10.${o}.2.1`);
    net.ip(ns.nat2, "route", "add", "default", "via", `10.${o}.102.1`);
    for (const n of [ns.nat1, ns.nat2, ns.public])
      net.exec(n, "sysctl", "-qw", "net.ipv4.ip_forward=1");
    // Symmetric NAT: masquerade with a random source port per mapping.
    const masquerade = (n: string, out: string) =>
      net.exec(
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
    return {
      client: ns.client,
      server: ns.server,
      public: ns.public,
      serverAddress: `10.${o}.2.2`,
      natAddress: `10.${o}.102.2`,
      turnAddress: `10.${o}.101.1`,
      forward(port) {
        net.exec(
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
      close: () => net.close(),
    };
  });
}
