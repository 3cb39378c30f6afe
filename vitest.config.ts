import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // node-datachannel is a native addon: keep each test file in its own process.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ["default"],
    projects: [
      {
        extends: true,
        // Two files at a time on this 2-core machine (vitest's default is cores − 1): most
        // files wait on sockets, peers and child processes, not on the CPU.
        test: {
          name: "main",
          include: ["test/**/*.test.ts"],
          exclude: ["test/loss/**"],
          maxWorkers: 2,
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
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
