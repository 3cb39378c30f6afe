// A network namespace joined to this one by a slow, lossy link (delay and random loss each
// way), made and removed by the caller. `tc netem` would be the usual tool, but this kernel
// has no sch_netem, so impair.py forwards packets between two TUN devices in userspace.
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Network } from "./netns.js";
import { requireSystem, type SystemNeeds } from "./system.js";

export interface LinkCounts {
  forwarded: number;
  dropped: number;
}

export interface ImpairedLink {
  /** The namespace at the far end of the link. */
  ns: string;
  /** This side of the link: where the server listens. */
  hostAddress: string;
  /** The namespace's side. */
  nsAddress: string;
  /** Changes the drop probability, each way, from now on. */
  setLoss(loss: number): void;
  /** Makes each direction a bottleneck of `bytesPerSecond` (0: none), with 200 ms of queue. */
  setRate(bytesPerSecond: number): void;
  /** Drops every UDP packet (a firewall that blocks UDP), or stops doing so; "from-ns":
   * only those the namespace sends. */
  blockUdp(blocked: boolean, direction?: "both" | "from-ns"): void;
  /** Sets TCP congestion control on the link's routes, both ends (`ip route … congctl`): this
   * machine's default is BBR, and a namespace may only pick what the host allows. */
  setCongestionControl(algorithm: "cubic" | "bbr" | "reno"): void;
  /** The congestion control of this side's TCP connections to the namespace, as `ss -ti`
   * shows it (undefined: no connection). */
  tcpCongestionControl(): string | undefined;
  /** Removes the link and namespace; resolves with the packets forwarded and dropped. */
  close(): Promise<{ toNs: LinkCounts; fromNs: LinkCounts }>;
}

export interface Impairment {
  /** One-way delay, each way. */
  delayMs: number;
  /** Probability that a packet is dropped, each way. */
  loss: number;
  seed?: number;
}

/** What making the link takes: namespaces and TUN devices, iproute2, and impair.py. */
export const IMPAIRED_LINK_NEEDS: SystemNeeds = { root: true, tools: ["ip", "python3"] };

const RELAY = fileURLToPath(new URL("./impair.py", import.meta.url));

export async function createImpairedLink({
  delayMs,
  loss,
  seed = 1,
}: Impairment): Promise<ImpairedLink> {
  requireSystem("tests on the impaired link", IMPAIRED_LINK_NEEDS);
  const net = new Network();
  const hostIf = `clh${net.tag}`;
  const nsIf = `cln${net.tag}`;
  // A pair in 10.214.0.0/16 picked at random, so parallel test files do not collide.
  const block = Math.floor(Math.random() * 32768) * 2;
  const hostAddress = `10.214.${block >> 8}.${block & 255}`;
  const nsAddress = `10.214.${block >> 8}.${(block & 255) + 1}`;

  const relay = spawn("python3", [
    RELAY,
    hostIf,
    nsIf,
    String(delayMs),
    String(loss),
    String(seed),
  ]);
  let output = "";
  relay.stdout.on("data", (c: Buffer) => {
    output += c.toString();
  });
  relay.stderr.on("data", (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<void>((resolve) => relay.once("exit", () => resolve()));
  await Promise.race([
    new Promise<void>((resolve) => {
      const check = () => output.includes("ready\n") && resolve();
      relay.stdout.on("data", check);
    }),
    exited.then(() => {
      throw new Error(`impair.py exited before it was ready:\n${output}`);
    }),
  ]);

  // impair.py made the two TUN devices; one end goes into the namespace.
  let ns: string;
  try {
    ns = net.namespace("cdl");
    net.move(nsIf, ns);
    net.address(undefined, hostIf, hostAddress, nsAddress);
    net.address(ns, nsIf, nsAddress, hostAddress);
  } catch (err) {
    relay.kill();
    net.close();
    throw err;
  }

  return {
    ns,
    hostAddress,
    nsAddress,
    setRate(bytesPerSecond) {
      relay.stdin.write(`rate ${bytesPerSecond}\n`);
    },
    setLoss(loss) {
      relay.stdin.write(`loss ${loss}\n`);
    },
    blockUdp(blocked, direction = "both") {
      const only = blocked && direction === "from-ns" ? " from-ns" : "";
      relay.stdin.write(`udp ${blocked ? "off" : "on"}${only}\n`);
    },
    setCongestionControl(algorithm) {
      const cc = ["congctl", algorithm];
      net.ip(
        undefined,
        "route",
        "replace",
        `${nsAddress}/32`,
        "dev",
        hostIf,
        "src",
        hostAddress,
        ...cc,
      );
      net.ip(ns, "route", "replace", `${hostAddress}/32`, "dev", nsIf, "src", nsAddress, ...cc);
    },
    tcpCongestionControl() {
      const out = execFileSync("ss", ["-tin", "dst", nsAddress], { encoding: "utf8" });
      return /\b(cubic|bbr|reno)\b/.exec(out)?.[1];
    },
    async close() {
      relay.stdin.end();
      await exited;
      net.close();
      const line = output.split("\n").find((l) => l.startsWith("{"));
      if (!line) throw new Error(`impair.py printed no counts:\n${output}`);
      const { aToB, bToA } = JSON.parse(line) as Record<string, LinkCounts>;
      return { toNs: aToB as LinkCounts, fromNs: bToA as LinkCounts };
    },
  };
}
