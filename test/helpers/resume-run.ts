// The parent side of resume-viewer.ts: starts it at the far end of an impaired link, collects its
// status lines, and numbers the frames the test pushes. Used by the reconnect and fallback tests.
import type { EngineName, Server, Stream } from "../../src/index.js";
import type { ImpairedLink } from "./impaired-link.js";
import { childEnv, type Resources } from "./net.js";
import { lineMatching, runTs } from "./process.js";

export interface ResumeViewer {
  /** "status <state> <ms>" lines, as they come. */
  statuses: string[];
  /** What the viewer received, once its stream ends. */
  result: Promise<{ seqs: number[]; lost: number }>;
}

export function startResumeViewer(
  res: Resources,
  link: ImpairedLink,
  server: Server,
  engine: EngineName,
  env: Record<string, string> = {},
): ResumeViewer {
  const viewer = runTs(
    res,
    "test/helpers/resume-viewer.ts",
    childEnv(link.hostAddress, server.port, engine, env),
    [],
    link.ns,
  );
  const statuses: string[] = [];
  viewer.stdout.on("data", (c: Buffer) =>
    statuses.push(
      ...c
        .toString()
        .split("\n")
        .filter((l) => l.startsWith("status")),
    ),
  );
  const result = lineMatching(viewer, /^result (.*)$/).then(
    ([, json]) => JSON.parse(json as string) as { seqs: number[]; lost: number },
  );
  result.catch(() => undefined);
  return { statuses, result };
}

/** Pushes { n } at 30 fps, numbering on from the last call; `sent()` is the last n. */
export function numberedPusher(stream: Stream) {
  let n = 0;
  async function pushFor(ms: number): Promise<void> {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      await stream.push({ n: ++n });
      await new Promise((r) => setTimeout(r, 1000 / 30));
    }
  }
  return {
    sent: () => n,
    pushFor,
    /** Pushes on until `check` holds; resolves with how long that took (ms). */
    async pushUntil(
      check: () => boolean | Promise<boolean>,
      what: string,
      timeoutMs = 10_000,
    ): Promise<number> {
      const start = performance.now();
      while (!(await check())) {
        await pushFor(100);
        if (performance.now() - start > timeoutMs)
          throw new Error(`timed out waiting for: ${what}`);
      }
      return performance.now() - start;
    },
  };
}
