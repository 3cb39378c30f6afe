import { DEFAULT_MAX_MESSAGE_BYTES } from "../core/defaults.js";
import { InvalidArgumentError } from "../core/errors.js";
import { validateNonEmpty, validatePositiveInt } from "../core/validation.js";
import type { EngineName, IceServer } from "../peer/engine.js";
import { DEFAULT_ENGINE_NAME, ENGINE_NAMES } from "../peer/engines.js";
import { iceUrls, parseIceUrl } from "../peer/ice-servers.js";

/** Options both ends share. */
export interface PeerOptions {
  /** WebRTC engine. @default "node-datachannel" in Node, "browser" in the browser build */
  engine?: EngineName | undefined;
  /** STUN/TURN servers. @default [] — host candidates only; no public STUN server is contacted. */
  iceServers?: IceServer[] | undefined;
  /** Gather ICE host candidates on this local address only, e.g. "127.0.0.1". @default all interfaces */
  iceBindAddress?: string | undefined;
  /** "relay" forces traffic through TURN. @default "all" */
  iceTransportPolicy?: "all" | "relay" | undefined;
  /** Largest encoded message sent or accepted. @default 16 MiB */
  maxMessageBytes?: number | undefined;
}

/** The names of the options both ends share (checked for typos). */
export const PEER_OPTION_NAMES: Record<keyof PeerOptions, true> = {
  engine: true,
  iceServers: true,
  iceBindAddress: true,
  iceTransportPolicy: true,
  maxMessageBytes: true,
};

/** PeerOptions checked, with their defaults. */
export interface PeerSettings {
  engine: EngineName;
  iceServers: IceServer[];
  iceBindAddress: string | undefined;
  iceTransportPolicy: "all" | "relay";
  maxMessageBytes: number;
}

export function validatePeerOptions(options: PeerOptions): PeerSettings {
  const engine = options.engine ?? DEFAULT_ENGINE_NAME;
  if (!ENGINE_NAMES.includes(engine)) {
    throw new InvalidArgumentError(
      `engine must be one of ${ENGINE_NAMES.join(", ")}, not "${engine}"`,
    );
  }
  const iceServers = options.iceServers ?? [];
  if (!Array.isArray(iceServers)) throw new InvalidArgumentError("iceServers must be an array");
  for (const server of iceServers) {
    for (const url of iceUrls(server)) {
      try {
        parseIceUrl(url);
      } catch {
        throw new InvalidArgumentError(
          `iceServers: "${url}" is not a stun:, stuns:, turn: or turns: URL`,
        );
      }
    }
  }
  const policy = options.iceTransportPolicy ?? "all";
  if (policy !== "all" && policy !== "relay") {
    throw new InvalidArgumentError(`iceTransportPolicy must be "all" or "relay"`);
  }
  if (options.iceBindAddress !== undefined)
    validateNonEmpty(options.iceBindAddress, "iceBindAddress");
  return {
    engine,
    iceServers,
    iceBindAddress: options.iceBindAddress,
    iceTransportPolicy: policy,
    maxMessageBytes: validatePositiveInt(
      options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      "maxMessageBytes",
    ),
  };
}
