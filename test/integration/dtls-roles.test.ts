// The offerer (the client) asks to be the DTLS client, so the answerer (the server), whose ICE
// connects first, waits for its ClientHello instead of sending one the offerer may not yet be
// able to take (which cost a 1 s DTLS retransmission on about every other connection).
import { afterEach, describe, expect, it } from "vitest";
import type { EngineName, SignalMessage } from "../../src/peer/engine.js";
import { loadEngine } from "../../src/peer/engines.js";
import { PeerLink } from "../../src/peer/link.js";
import { ENGINES, Resources } from "../helpers/net.js";
import { retrySetup } from "../helpers/setup-retry.js";

const res = new Resources();
afterEach(() => res.closeAll());

const config = { iceServers: [], bindAddress: "127.0.0.1", iceTransportPolicy: "all" as const };

function setupOf(message: SignalMessage | undefined): string | undefined {
  return message?.kind === "description" ? /^a=setup:(\w+)/m.exec(message.sdp)?.[1] : undefined;
}

/** Two links, the first offering to the second: the descriptions they exchanged once both are
 * open, or undefined if the setup failed. */
async function setUp(
  offerer: EngineName,
  answerer: EngineName,
): Promise<SignalMessage[] | undefined> {
  const descriptions: SignalMessage[] = [];
  const links: PeerLink[] = [];
  for (const [i, name] of [offerer, answerer].entries()) {
    const link = new PeerLink(`${name}-${i}`, await loadEngine(name), config, {
      maxMessageBytes: 1 << 20,
    });
    link.on("signal", (message) => {
      if (message.kind === "description") descriptions.push(message);
      // A peer libdatachannel has failed refuses later candidates: that is this setup failing.
      setImmediate(() => {
        const other = links[1 - i];
        other?.applyRemote(message).catch((err) => other.close(`signal refused: ${err}`));
      });
    });
    res.add(() => link.close("test over"));
    links.push(link);
  }
  const outcome = Promise.race([
    Promise.all(links.map((link) => new Promise<void>((r) => link.once("open", r)))).then(
      () => "open" as const,
    ),
    ...links.map((link) => new Promise<"failed">((r) => link.once("close", () => r("failed")))),
  ]);
  await links[0]?.start();
  if ((await outcome) === "open") return descriptions;
  for (const link of links) link.close("setup failed");
  return undefined;
}

describe("DTLS roles", () => {
  for (const offerer of ENGINES) {
    for (const answerer of ENGINES) {
      // werift 0.24 answers active whatever the offer says; the offerer, which keeps actpass
      // itself, then takes the server role, so the link still opens.
      const answered = answerer === "werift" ? "active" : "passive";
      it(`${offerer} offers setup:active, ${answerer} answers setup:${answered}, and both open`, async () => {
        const descriptions = await retrySetup(`${offerer} → ${answerer}`, () =>
          setUp(offerer, answerer),
        );
        const [offer, answer] = descriptions;
        expect([offer?.kind === "description" && offer.type, setupOf(offer)]).toEqual([
          "offer",
          "active",
        ]);
        expect([answer?.kind === "description" && answer.type, setupOf(answer)]).toEqual([
          "answer",
          answered,
        ]);
      });
    }
  }
});
