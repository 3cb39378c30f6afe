import { describe, expect, it } from "vitest";
import { grantAllows } from "../../src/signaling/tokens.js";

describe("grantAllows", () => {
  it.each([
    [["sensors"], "sensors", true],
    [["sensors"], "sensors2", false],
    [["sensors"], "sensor", false],
    [["video/*"], "video/cam1", true],
    [["video/*"], "video/", true],
    [["video/*"], "video", false],
    [["video/*"], "audio/cam1", false],
    [["*"], "anything/at/all", true],
    [["*/raw"], "cam1/raw", true],
    [["*/raw"], "cam1/raw/x", false],
    [["a*b*c"], "abc", true],
    [["a*b*c"], "a-b-b-c", true],
    [["a*b*c"], "acb", false],
    [["ab*ba"], "aba", false], // the fixed ends may not overlap
    [["a*a"], "a", false],
    [[], "sensors", false],
    [["metrics", "video/*"], "video/x", true],
  ] as const)("%j allows %s: %s", (patterns, name, allowed) => {
    expect(grantAllows(patterns, name)).toBe(allowed);
  });
});
