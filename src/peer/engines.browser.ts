// Browser build of engines.ts: the browser's own RTCPeerConnection is the only engine.
import { InvalidArgumentError } from "../core/errors.js";
import { browserEngine } from "./browser.js";
import type { Engine, EngineName } from "./engine.js";

export const ENGINE_NAMES: readonly EngineName[] = ["browser"];
export const DEFAULT_ENGINE_NAME: EngineName = "browser";

export async function loadEngine(name: EngineName): Promise<Engine> {
  if (name !== "browser") {
    throw new InvalidArgumentError(
      `engine "${name}" is not available in the browser; use "browser"`,
    );
  }
  return browserEngine;
}
