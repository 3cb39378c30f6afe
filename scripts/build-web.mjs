// Builds the browser client (src/browser.ts) into web/dist/conduit-rtc.js: one ESM file,
// minified, no Node polyfills. Prints its size, minified and gzipped. Copies the demo pages'
// chart library (uPlot) beside it, so the pages load nothing from a CDN.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = resolve(root, "web/dist/conduit-rtc.js");

/** The browser has one engine: swap the Node engine loader for the browser one. */
const browserEngines = {
  name: "browser-engines",
  setup(b) {
    b.onResolve({ filter: /\/engines\.js$/ }, (args) => ({
      path: resolve(args.resolveDir, args.path.replace(/engines\.js$/, "engines.browser.ts")),
    }));
  },
};

mkdirSync(dirname(outfile), { recursive: true });
await build({
  entryPoints: [resolve(root, "src/browser.ts")],
  outfile,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  keepNames: true, // error classes keep their names (err.name === "AuthenticationError")
  sourcemap: false, // shipped in the package: a map would point at sources it does not contain
  plugins: [browserEngines],
  logLevel: "warning",
});
const code = readFileSync(outfile);
const size = { minified: code.length, gzipped: gzipSync(code).length };
writeFileSync(resolve(root, "web/dist/size.json"), `${JSON.stringify(size)}\n`);
console.log(
  `web/dist/conduit-rtc.js: ${(size.minified / 1024).toFixed(1)} KiB minified, ${(size.gzipped / 1024).toFixed(1)} KiB gzipped`,
);

// The demo pages' charts. Only the demo needs it (a devDependency): skipped where it is absent.
try {
  const uplot = dirname(createRequire(import.meta.url).resolve("uplot/dist/uPlot.esm.js"));
  mkdirSync(resolve(root, "web/dist/vendor"), { recursive: true });
  for (const file of ["uPlot.esm.js", "uPlot.min.css"]) {
    copyFileSync(resolve(uplot, file), resolve(root, "web/dist/vendor", file));
  }
} catch {
  console.log("uplot not installed: the demo dashboard will have no charts");
}
