// @ts-check
// The one build script: esbuild bundles the CLI, the language server and the VS Code extension
// (type checking is `tsc -b`'s job). `--tests` also bundles every test/**/*.test.ts into out/test/.
// `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));

/** @type {esbuild.BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  // `vscode` is provided by the editor; the native addon is loaded at run time (node-gyp-build).
  external: ['vscode', '*.node'],
  absWorkingDir: root,
  // jsonc-parser's UMD build hides its requires from bundlers; its ES module build bundles cleanly.
  mainFields: ['module', 'main'],
};

/** @type {esbuild.BuildOptions[]} */
const targets = [
  { ...common, entryPoints: { cli: 'server/src/cli/main.ts' }, outdir: 'dist' },
  { ...common, entryPoints: { server: 'server/src/server.ts' }, outdir: 'dist' },
  { ...common, entryPoints: { extension: 'extension/src/extension.ts' }, outdir: 'dist' },
];

/** @param {string} dir @returns {string[]} */
function findTests(dir) {
  /** @type {string[]} */
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) continue;
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

if (args.has('--tests')) {
  const entries = Object.fromEntries(
    findTests(join(root, 'test')).map((f) => [relative(join(root, 'test'), f).replace(/\.ts$/, ''), f]),
  );
  targets.push({ ...common, entryPoints: entries, outdir: 'out/test', sourcemap: 'inline' });
}

if (args.has('--watch')) {
  for (const t of targets) await (await esbuild.context(t)).watch();
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
}
