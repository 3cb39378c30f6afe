// What conduit's debug log says while a test runs (the `debug` package, captured in-process).
import { format } from "node:util";
import createDebug from "debug";

/** The debug log's lines of `namespace` while `run` runs. */
export async function logged(namespace: string, run: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const previous = createDebug.disable();
  const previousLog = createDebug.log;
  createDebug.enable(namespace);
  createDebug.log = (...args: unknown[]) => lines.push(format(...args));
  try {
    await run();
  } finally {
    createDebug.log = previousLog;
    createDebug.enable(previous);
  }
  return lines;
}
