// The browser entry type-checks with the DOM's types and without Node's: the module graph the
// browser bundle is built from (scripts/build-web.mjs swaps peer/engines.ts for
// engines.browser.ts; the same swap is made here), with `types: []` so no @types/node global
// (Buffer, process, NodeJS.Timeout) can hide in code the browser runs.
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");

function browserProgram(): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(ROOT, "tsconfig.json"),
    { noEmit: true, types: [], lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"] },
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  );
  if (!config) throw new Error("tsconfig.json could not be read");
  const host = ts.createCompilerHost(config.options);
  host.resolveModuleNameLiterals = (literals, containingFile, _ref, options) =>
    literals.map((literal) => {
      const name = literal.text.replace(/\/engines\.js$/, "/engines.browser.js");
      return ts.resolveModuleName(name, containingFile, options, host);
    });
  return ts.createProgram([path.join(ROOT, "src/browser.ts")], config.options, host);
}

describe("the browser entry", () => {
  it("type-checks with DOM types only, and no Node engine or Node type is in its graph", () => {
    const program = browserProgram();
    const files = program.getSourceFiles().map((f) => path.relative(ROOT, f.fileName));
    expect(files).toContain("src/peer/engines.browser.ts");
    expect(files).not.toContain("src/peer/engines.ts");
    expect(
      files.filter((f) => f.includes("@types/node") || f.includes("node-datachannel")),
    ).toEqual([]);
    const errors = ts.getPreEmitDiagnostics(program).map((d) =>
      ts.formatDiagnostic(d, {
        ...ts.sys,
        getCanonicalFileName: (f) => f,
        getNewLine: () => "\n",
      }),
    );
    expect(errors).toEqual([]);
  });
});
