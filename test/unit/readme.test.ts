// The README's claims that come from the build and the package's own files.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const readme = readFileSync("README.md", "utf8");

describe("README", () => {
  it("gives the browser bundle's size as the build measured it", () => {
    // web/dist/size.json is written by `npm run build:web` (run by npm install).
    const size = JSON.parse(readFileSync("web/dist/size.json", "utf8")) as {
      minified: number;
      gzipped: number;
    };
    const kib = (bytes: number) => Math.round(bytes / 1024);
    expect(readme).toContain(
      `**${kib(size.minified)} KiB minified, ${kib(size.gzipped)} KiB gzipped**`,
    );
  });

  it("names the file npm start runs", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
      scripts: Record<string, string>;
    };
    const started = /examples\/[\w-]+\.ts/.exec(pkg.scripts.start ?? "")?.[0];
    expect(readme).toContain(`\`npm start\` runs [\`${started}\`](${started})`);
  });

  it("has examples that import conduit-rtc as a user's code would", () => {
    for (const file of readdirSync("examples", { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts")) continue;
      const source = readFileSync(`examples/${file}`, "utf8");
      expect(source, file).not.toMatch(/from "(\.\.\/)+src\//);
    }
  });
});
