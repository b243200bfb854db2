// Builds dist/: the TypeScript bundled and the CSS minified under
// assets/ with content hashes in their names (cached for good by the web
// component), and index.html pointing at them (revalidated on every load).
// `npm run build` runs it after api-types.mjs has generated the API's types
// (src/api-schema.d.ts) from ../openapi.yaml and tsc has checked the code.

import { build } from "esbuild";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");

// Empty dist/ but keep the directory itself: a running host that mounted
// it keeps seeing it, now with the new files.
mkdirSync(dist, { recursive: true });
for (const entry of readdirSync(dist)) rmSync(join(dist, entry), { recursive: true, force: true });

const result = await build({
  absWorkingDir: here,
  entryPoints: ["src/main.ts", "src/print.ts", "styles.css"],
  entryNames: "assets/[name]-[hash]",
  outdir: dist,
  bundle: true,
  format: "esm",
  target: ["es2022"],
  minify: true,
  sourcemap: "linked",
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});

const outputs = Object.entries(result.metafile.outputs);
const built = (entry) => {
  const found = outputs.find(([, output]) => output.entryPoint === entry);
  if (!found) throw new Error(`esbuild wrote nothing for ${entry}`);
  return found[0].slice(found[0].indexOf("assets/"));
};

const swaps = [
  ['href="styles.css"', `href="${built("styles.css")}"`],
  ['src="src/main.ts"', `src="${built("src/main.ts")}"`],
];
let page = readFileSync(join(here, "index.html"), "utf8");
for (const [from, to] of swaps) {
  if (!page.includes(from)) throw new Error(`index.html lacks ${from}`);
  page = page.replace(from, to);
}
writeFileSync(join(dist, "index.html"), page);

// The page letters and statements are printed from (src/print.ts).
const printPage = readFileSync(join(here, "print.html"), "utf8");
if (!printPage.includes('src="src/print.ts"')) throw new Error('print.html lacks src="src/print.ts"');
writeFileSync(join(dist, "print.html"), printPage.replace('src="src/print.ts"', `src="${built("src/print.ts")}"`));

const size = (name) => `${name} ${result.metafile.outputs[`dist/${name}`]?.bytes ?? "?"} bytes`;
const pages = ["index.html", "print.html"];
console.log(`web: built dist/ (${[...pages, built("src/main.ts"), built("src/print.ts"), built("styles.css")].map((n) => (pages.includes(n) ? n : size(n))).join(", ")})`);
