import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ServerDescriptor } from "../../src/index.js";
import { mintTurnCredentials } from "../../src/signaling/turn.js";

describe("TURN REST credentials", () => {
  it("username is expiry:clientId and the credential is base64 HMAC-SHA1 of it", () => {
    const turn = { urls: ["turn:10.0.0.1:3478"], secret: "s3cret", ttlSeconds: 600 };
    const ice = mintTurnCredentials(turn, "client-1", 1_700_000_000_000);
    expect(ice.username).toBe("1700000600:client-1");
    expect(ice.credential).toBe(
      createHmac("sha1", "s3cret").update("1700000600:client-1").digest("base64"),
    );
    expect(ice.urls).toEqual(["turn:10.0.0.1:3478"]);
  });

  it.each([
    [{ urls: [], secret: "x" }, /at least one/],
    [{ urls: ["stun:x"], secret: "x" }, /not a turn/],
    [{ urls: ["turn:x"], secret: "" }, /turn.secret/],
    [{ urls: ["turn:x"], secret: "x", ttlSeconds: 0 }, /ttlSeconds/],
  ])("ServerDescriptor rejects turn %j", (turn, message) => {
    expect(() => new ServerDescriptor({ turn: turn as never })).toThrow(message);
  });
});
