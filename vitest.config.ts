import { defineConfig } from "vitest/config";

/** Files whose peers ride a userspace link (impair.py), Chromium or the NAT rig: their
 * protocol timers (DTLS and SCTP retransmission, keepalives) misfire when another file
 * takes the CPU, so each runs alone. */
const ALONE = [
  "test/browser/**/*.test.ts",
  "test/nat/**/*.test.ts",
  "test/integration/link-restart.test.ts",
  "test/integration/reconnect.test.ts",
  "test/integration/fallback.test.ts",
  "test/integration/slow-consumer.test.ts",
];

export default defineConfig({
  test: {
    // node-datachannel is a native addon: keep each test file in its own process.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ["default"],
    projects: [
      {
        // Two files at a time on this 2-core machine (vitest's default is cores − 1): these
        // mostly wait on sockets, peers and child processes; the bench smoke test (CPU-bound,
        // its figures not checked) runs beside the others.
        extends: true,
        test: {
          name: "main",
          include: ["test/**/*.test.ts"],
          exclude: ["test/loss/**", ...ALONE],
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: {
          name: "alone",
          include: ALONE,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // The lossy-link tests run last and alone: their verdicts compare what the path
        // carried with what conduit estimated, and the link is a userspace forwarder that
        // other test files on the same cores would slow down mid-run.
        extends: true,
        test: {
          name: "loss",
          include: ["test/loss/**/*.test.ts"],
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
