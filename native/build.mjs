// @ts-check
// Builds the SCSI pass-through addon in this folder with node-gyp: `configure` when there is no build yet (or
// binding.gyp changed), then an incremental `build` (make / MSBuild recompile only what changed), then loads
// the result once to prove it links. Used by `npm run build:native`, by `npm test` (pretest: a failure fails
// the tests) and by `npm ci` / `npm install` (the "install" script, with --if-possible: without a C++ toolchain
// it only says why; DiscForge then runs without OS drives and says so).
//   node native/build.mjs [--if-possible] [--rebuild]
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = new Set(process.argv.slice(2));
const ifPossible = args.has('--if-possible');
const require = createRequire(import.meta.url);

/** @param {string} msg */
function fail(msg) {
  if (ifPossible) {
    console.error(`discforge: the native SCSI addon was not built (${msg}).\n` +
      '  Image building and virtual recorders work without it; OS drives need it: run `npm run build:native`.');
    process.exit(0);
  }
  console.error(`native/build.mjs: ${msg}`);
  process.exit(1);
}

/** node-gyp: the one npm runs scripts with, else npm's bundled copy, else a node-gyp package. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package: fine
  }
  return candidates.find((p) => p && existsSync(p));
}

const gyp = findNodeGyp();
if (!gyp) fail('node-gyp not found (it comes with npm)');
try {
  require.resolve('node-addon-api');
} catch {
  fail('node-addon-api is not installed (run npm ci)');
}

// Node's headers: the nodedir npm was told about, else the ones installed beside this node (Debian's nodejs,
// the official tarballs), else node-gyp downloads them.
const extra = [];
if (!process.env.npm_config_nodedir) {
  const prefix = join(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h')) && existsSync(join(prefix, 'include', 'node', 'common.gypi'))) {
    extra.push(`--nodedir=${prefix}`);
  }
}

/** @param {string[]} a */
function nodeGyp(a) {
  const r = spawnSync(process.execPath, [/** @type {string} */ (gyp), ...a, ...extra], { cwd: here, stdio: 'inherit' });
  if (r.error) fail(`node-gyp could not run: ${r.error.message}`);
  return r.status === 0;
}

const buildDir = join(here, 'build');
const configured = join(buildDir, 'config.gypi');
if (args.has('--rebuild')) rmSync(buildDir, { recursive: true, force: true });
const stale = !existsSync(configured) || statSync(join(here, 'binding.gyp')).mtimeMs > statSync(configured).mtimeMs ||
  !existsSync(join(buildDir, process.platform === 'win32' ? 'binding.sln' : 'Makefile'));
if (stale && !nodeGyp(['configure'])) fail('node-gyp configure failed (see above: python3, make and a C++ compiler are needed)');
if (!nodeGyp(['build'])) fail('node-gyp build failed (see above)');

const out = join(buildDir, 'Release', 'discforge_scsi.node');
try {
  const addon = require(out);
  if (typeof addon.execute !== 'function') fail(`${out} does not export execute()`);
} catch (e) {
  fail(`${out} cannot be loaded: ${/** @type {Error} */ (e).message}`);
}
