// @ts-check
// Running a real VS Code offline and headless: code-server (from .tools/, see install-code-server.mjs) serving the
// workbench, Debian's chromium driven by playwright-core. Adapted from the recipe in shared/recipes/vscode-e2e.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = fileURLToPath(new URL('../..', import.meta.url));
/** Logs, screenshots, workspaces: git-ignored, kept for CI artifacts. */
export const workDir = path.join(root, 'test', '.work', 'vscode');

const t0 = Date.now();
/** @param {...unknown} a */
export const log = (...a) => console.log(`[vscode ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A fresh folder under test/.work/vscode/. @param {string} name */
export function freshDir(name) {
  const d = path.join(workDir, name);
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** Copies examples/<name> for each name into `ws` (without their out/ folders). @param {string} ws @param {string[]} names */
export function copyExamples(ws, names) {
  for (const n of names) {
    fs.cpSync(path.join(root, 'examples', n), path.join(ws, n), { recursive: true, filter: (src) => !/[\\/]out$/.test(src) });
  }
}

/**
 * An isolated code-server profile: XDG folders, user data with quiet settings, an extensions folder.
 * @param {string} dir @param {Record<string, unknown>} [settings] more user settings
 */
export function profile(dir, settings = {}) {
  const p = {
    dir,
    userData: path.join(dir, 'user-data'),
    extensions: path.join(dir, 'extensions'),
    config: path.join(dir, 'code-server.yaml'),
    env: {
      ...process.env,
      EXTENSIONS_GALLERY: '{}', // no marketplace lookups
      XDG_CONFIG_HOME: path.join(dir, 'xdg', 'config'),
      XDG_DATA_HOME: path.join(dir, 'xdg', 'data'),
      XDG_CACHE_HOME: path.join(dir, 'xdg', 'cache'),
      XDG_STATE_HOME: path.join(dir, 'xdg', 'state'),
    },
  };
  fs.mkdirSync(path.join(p.userData, 'User'), { recursive: true });
  fs.mkdirSync(p.extensions, { recursive: true });
  fs.writeFileSync(path.join(p.userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.enabled': false,
    'git.enabled': false,
    'update.mode': 'none',
    'window.commandCenter': false,
    'chat.commandCenter.enabled': false,
    'workbench.colorTheme': 'Default Dark Modern',
    ...settings,
  }, null, 2));
  return p;
}

/** @param {string} cs @param {ReturnType<typeof profile>} p @param {string} vsix */
export function installVsix(cs, p, vsix) {
  const r = spawnSync(cs, ['--user-data-dir', p.userData, '--extensions-dir', p.extensions, '--install-extension', vsix, '--force'], {
    env: p.env,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`installing ${vsix} failed:\n${r.stdout}\n${r.stderr}`);
  log(r.stdout.trim().split('\n').pop());
}

/**
 * Starts code-server on a free port in its own process group; `stop()` ends the whole group (its file watchers and
 * extension hosts too).
 * @param {string} cs @param {ReturnType<typeof profile>} p @param {string} folder
 */
export async function startCodeServer(cs, p, folder) {
  const port = await freePort();
  const logFile = path.join(p.dir, 'code-server.log');
  const out = fs.openSync(logFile, 'w');
  const server = spawn(cs, [
    '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--disable-getting-started-override', '--user-data-dir', p.userData,
    '--extensions-dir', p.extensions, '--config', p.config, folder,
  ], { env: p.env, stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  const pid = server.pid;
  let stopped = false;
  const stop = () => {
    if (stopped || pid === undefined) return;
    stopped = true;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
  process.once('exit', stop);
  const started = Date.now();
  for (;;) {
    if (server.exitCode !== null) throw new Error(`code-server exited (${server.exitCode}); see ${logFile}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() - started > 60000) {
      stop();
      throw new Error(`code-server did not start within 60 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`code-server on port ${port} (pid ${pid}), log ${path.relative(root, logFile)}`);
  return { port, url: `http://127.0.0.1:${port}`, stop, logFile };
}

/** @param {string} dir @param {{ width: number, height: number }} viewport */
export async function launchBrowser(dir, viewport = { width: 1400, height: 900 }) {
  const context = await chromium.launchPersistentContext(path.join(dir, 'chromium'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => console.error('[pageerror]', e.message));
  const consoleLog = fs.createWriteStream(path.join(dir, 'browser-console.log'));
  page.on('console', (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
  return { context, page };
}
