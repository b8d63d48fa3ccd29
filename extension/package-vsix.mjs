// @ts-check
// Packages the extension into out/discforge.vsix with @vscode/vsce, offline.
//   node extension/package-vsix.mjs [--out PATH]     (npm run package:vsix; needs `node scripts/build.mjs` first)
// .vscodeignore is the allow-list of what ships. vsce matches it against every file of the folder it packages
// (node_modules, .tools/ with code-server, test/.work/ …: tens of thousands of files, half a minute), so the top-level
// entries the allow-list can admit are staged into a temporary folder with .vscodeignore, and vsce packages that:
// the allow-list still decides, file by file. Prints the package's path and size.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vm from 'node:vm';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The staged bundles must be whole: a build writing dist/ at the same moment (another terminal, a watch) would
 * otherwise ship a truncated file. Compiles each staged dist/*.js without running it.
 * @param {string} stage @returns {string | undefined} what is wrong
 */
function brokenBundle(stage) {
  const dist = path.join(stage, 'dist');
  if (!fs.existsSync(dist)) return 'dist/ is missing: run node scripts/build.mjs first';
  for (const f of fs.readdirSync(dist).filter((n) => n.endsWith('.js'))) {
    try {
      new vm.Script(fs.readFileSync(path.join(dist, f), 'utf8'), { filename: f });
    } catch (err) {
      return `dist/${f} does not compile (${err instanceof Error ? err.message : String(err)}): is a build writing it?`;
    }
  }
  return undefined;
}

/** @param {string} out */
export function packageVsix(out = path.join(root, 'out', 'discforge.vsix')) {
  for (let attempt = 1; ; attempt++) {
    try {
      return packageOnce(out);
    } catch (err) {
      if (!(err instanceof StagingError) || attempt === 5) throw err;
      console.error(`${err.message}; trying again`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
    }
  }
}

class StagingError extends Error {}

/** @param {string} out */
function packageOnce(out) {
  const ignore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8');
  // Top-level names that a `!pattern` line can re-include.
  const tops = new Set(
    ignore.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/^\//, '').split('/')[0]),
  );
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'discforge-vsix-'));
  try {
    fs.copyFileSync(path.join(root, '.vscodeignore'), path.join(stage, '.vscodeignore'));
    for (const name of tops) {
      if (/[*?[{]/.test(name)) throw new Error(`.vscodeignore: a top-level glob (${name}) cannot be staged; name the folder`);
      const src = path.join(root, name);
      if (fs.existsSync(src)) fs.cpSync(src, path.join(stage, name), { recursive: true, dereference: true });
    }
    const broken = brokenBundle(stage);
    if (broken) throw new StagingError(broken);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.rmSync(out, { force: true });
    const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
    const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--out', out], { cwd: stage, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vsce package failed:\n${r.stdout}\n${r.stderr}`);
    return { out, bytes: fs.statSync(out).size, listing: r.stdout };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const { out, bytes, listing } = packageVsix(i > 0 ? path.resolve(process.argv[i + 1]) : undefined);
  process.stdout.write(listing);
  console.log(`${path.relative(process.cwd(), out)}: ${bytes} bytes (${(bytes / 1024).toFixed(0)} KiB)`);
}
