// @ts-check
// Installs code-server (a real VS Code built for the browser, from the npm registry) into the git-ignored
// .tools/code-server/ folder, offline apart from the npm registry: the recipe in shared/recipes/vscode-e2e.
// Idempotent: does nothing when the right version is already there. Prints the code-server path.
//   node test/vscode/install-code-server.mjs
// Needs the Debian packages chromium, ripgrep and libkrb5-dev (scripts/ensure-tools.mjs installs them) and g++/make.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3'; // the last code-server whose engines.node is 20 (4.103+ needs 22)
const RG_PKG_VERSION = '1.15.11'; // @vscode/ripgrep pinned by code-server 4.100.3's lib/vscode shrinkwrap
const RG_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const TOOLS = process.env.DISCFORGE_TOOLS_DIR ?? join(root, '.tools', 'code-server');
export const CODE_SERVER = join(TOOLS, 'node_modules', '.bin', 'code-server');

/** @returns {boolean} */
function installed() {
  if (!existsSync(CODE_SERVER) || !existsSync(join(TOOLS, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules.asar'))) return false;
  const r = spawnSync(CODE_SERVER, ['--version'], { encoding: 'utf8', env: { ...process.env, EXTENSIONS_GALLERY: '{}' } });
  return r.status === 0 && r.stdout.startsWith(CODE_SERVER_VERSION + ' ');
}

export function ensureCodeServer() {
  if (installed()) return CODE_SERVER;
  for (const [what, file] of [['ripgrep', '/usr/bin/rg'], ['chromium', '/usr/bin/chromium'], ['libkrb5-dev', '/usr/include/gssapi/gssapi.h']]) {
    if (!existsSync(file)) throw new Error(`code-server needs the Debian package ${what} (run node scripts/ensure-tools.mjs)`);
  }
  console.error(`installing code-server@${CODE_SERVER_VERSION} into ${TOOLS} (about a minute, once)`);
  rmSync(TOOLS, { recursive: true, force: true });
  const tmp = join(TOOLS, 'tmp');
  const cache = join(tmp, `vscode-ripgrep-cache-${RG_PKG_VERSION}`);
  mkdirSync(cache, { recursive: true });
  // @vscode/ripgrep's postinstall downloads rg from GitHub: pre-seed its cache with Debian's rg.
  const tar = spawnSync('tar', ['czf', join(cache, RG_ASSET), '-C', '/usr/bin', 'rg'], { stdio: 'inherit' });
  if (tar.status !== 0) throw new Error('tar failed');
  writeFileSync(join(TOOLS, 'package.json'), JSON.stringify({ name: 'discforge-tools', private: true }) + '\n');
  // code-server's postinstall runs `npm install` in lib/vscode, whose native modules (node-pty, kerberos, …)
  // build in their own install scripts: npm 11 skips dependencies' install scripts unless allowed, and the nested
  // installs have no package.json of ours to carry an allowScripts list, so this pinned install allows them all.
  // unsafe_perm: the postinstall refuses to run as root otherwise; yes: node-pty's postinstall runs `npx node-gyp`.
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: TOOLS,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      TMPDIR: tmp,
      npm_config_yes: 'true',
      npm_config_unsafe_perm: 'true',
      npm_config_dangerously_allow_all_scripts: 'true',
    },
  });
  if (npm.status !== 0) throw new Error(`npm install code-server@${CODE_SERVER_VERSION} failed (exit ${npm.status})`);
  if (!existsSync(join(TOOLS, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules', 'node-pty')) || !installed()) {
    throw new Error(`code-server@${CODE_SERVER_VERSION} installed incompletely (its postinstall did not run?)`);
  }
  rmSync(tmp, { recursive: true, force: true });
  return CODE_SERVER;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(ensureCodeServer());
  } catch (err) {
    console.error(String(err instanceof Error ? err.message : err));
    process.exit(1);
  }
}
