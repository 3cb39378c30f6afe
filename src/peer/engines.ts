import { InvalidArgumentError } from "../errors.js";
import type { Engine, EngineName } from "./engine.js";

export const ENGINE_NAMES: readonly EngineName[] = ["node-datachannel", "werift"];

/** Loads an engine on first use, so an app on one engine never loads the other. */
export async function loadEngine(name: EngineName): Promise<Engine> {
  switch (name) {
    case "node-datachannel":
      return (await import("./node-datachannel.js")).nodeDataChannelEngine;
    case "werift":
      return (await import("./werift.js")).weriftEngine;
    default:
      throw new InvalidArgumentError(
        `unknown engine "${String(name)}"; use one of: ${ENGINE_NAMES.join(", ")}`,
      );
  }
}
