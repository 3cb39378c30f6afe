import { InvalidArgumentError } from "../core/errors.js";
import { importOptional } from "../util/optional-dependency.js";
import type { Engine, EngineName } from "./engine.js";

// The browser build swaps this module for engines.browser.ts (see scripts/build-web.mjs).
export const ENGINE_NAMES: readonly EngineName[] = ["node-datachannel", "werift"];
/** node-datachannel: measured ~10x werift's throughput and 3-4x lower latency. */
export const DEFAULT_ENGINE_NAME: EngineName = "node-datachannel";

/** Loads an engine on first use, so an app on one engine never loads the other. */
export async function loadEngine(name: EngineName): Promise<Engine> {
  switch (name) {
    case "node-datachannel":
      return (await import("./node-datachannel.js")).nodeDataChannelEngine;
    case "werift":
      return (
        await importOptional(() => import("./werift.js"), {
          name: "werift",
          range: "~0.24.4", // the versions src/peer/werift-fixes.ts is written for
          neededBy: 'engine: "werift"',
        })
      ).weriftEngine;
    default:
      throw new InvalidArgumentError(
        `unknown engine "${String(name)}"; use one of: ${ENGINE_NAMES.join(", ")}`,
      );
  }
}
