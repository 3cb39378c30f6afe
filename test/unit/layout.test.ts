// The source layout holds: each folder imports only from the layers below it (ARCHITECTURE.md
// draws them), and no file or class grows into the place where everything happens.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(import.meta.dirname, "../../src");

/** What each folder may import from, besides itself. The entry points (src/*.ts) take any. */
const ALLOWED: Record<string, string[]> = {
  core: [],
  util: ["core"],
  wire: ["core", "util"],
  peer: ["core", "util", "wire"],
  signaling: ["core", "util", "wire", "peer"],
  streams: ["core", "util", "wire"],
  config: ["core", "util", "peer", "signaling"],
  cluster: ["core", "util", "wire", "streams"],
  client: ["core", "util", "wire", "peer", "signaling", "streams", "config"],
  server: ["core", "util", "wire", "peer", "signaling", "streams", "config", "cluster"],
  video: ["core", "util", "streams", "client"],
};
const MAX_FILE_LINES = 400;
const MAX_CLASS_LINES = 250;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

const files = sourceFiles(SRC).filter((f) => f.endsWith(".ts"));

function folderOf(file: string): string {
  const rel = path.relative(SRC, file);
  return rel.includes(path.sep) ? (rel.split(path.sep)[0] as string) : "entry";
}

/** Relative import specifiers: `from "./x.js"` and `import("./x.js")`. */
function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\(\s*)"(\.{1,2}\/[^"]+)"/g)].map(
    (m) => m[1] as string,
  );
}

/** Each top-level class with its length in lines (declaration to its closing brace). */
function classesOf(text: string): { name: string; lines: number }[] {
  const lines = text.split("\n");
  const out: { name: string; lines: number }[] = [];
  lines.forEach((line, i) => {
    const m = /^(?:export )?(?:abstract )?class (\w+)/.exec(line);
    if (!m) return;
    const end = lines.findIndex((l, j) => j > i && l === "}");
    out.push({ name: m[1] as string, lines: end - i + 1 });
  });
  return out;
}

describe("source layout", () => {
  it("finds the folders it checks", () => {
    const folders = new Set(files.map(folderOf));
    for (const folder of Object.keys(ALLOWED)) expect(folders).toContain(folder);
    expect([...folders].filter((f) => f !== "entry" && !(f in ALLOWED))).toEqual([]);
  });

  it("imports only go down the layers", () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = folderOf(file);
      if (from === "entry") continue;
      for (const spec of importsOf(readFileSync(file, "utf8"))) {
        const to = folderOf(path.resolve(path.dirname(file), spec));
        if (to !== from && !ALLOWED[from]?.includes(to)) {
          wrong.push(`${path.relative(SRC, file)} imports ${spec}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it(`no file is over ${MAX_FILE_LINES} lines, no class over ${MAX_CLASS_LINES}`, () => {
    const tooLong: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      const name = path.relative(SRC, file);
      const lines = text.split("\n").length;
      if (lines > MAX_FILE_LINES) tooLong.push(`${name}: ${lines} lines`);
      for (const c of classesOf(text)) {
        if (c.lines > MAX_CLASS_LINES) tooLong.push(`${name}: class ${c.name}, ${c.lines} lines`);
      }
    }
    expect(tooLong).toEqual([]);
  });
});
