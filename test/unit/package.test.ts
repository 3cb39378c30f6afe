// The published entry point: the exports map resolves to the build, with types.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("package", () => {
  it("resolves conduit-rtc through its exports map to dist/, with type declarations", async () => {
    const pkg = await import("conduit-rtc");
    for (const name of [
      "Server",
      "ServerDescriptor",
      "Client",
      "ClientDescriptor",
      "StreamManager",
    ]) {
      expect(typeof (pkg as Record<string, unknown>)[name]).toBe("function");
    }
    expect(new pkg.ServerDescriptor({ port: 0 }).port).toBe(0);
    expect(existsSync("dist/index.d.ts")).toBe(true);
  });
});
