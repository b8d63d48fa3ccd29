// @ts-check
// The real-VS-Code tests, headless and offline: code-server + chromium + playwright-core.
//   node test/vscode/run.mjs [ext-host] [ui]        (both when none is named)
// 1. ext-host: the mocha suite in test/vscode/suite/ runs inside code-server's extension host against this
//    checkout (extensionDevelopmentPath), the way VS Code's own browser integration tests run.
// 2. ui: the packaged .vsix is installed into a fresh code-server; from the command palette "DiscForge: Build
//    Image" on the hello example must show the panel reaching 100 % and the image on disk; the Drives view lists
//    two emulated recorders; Burn… to both shows two burn jobs side by side reaching 100 %. Screenshots go to
//    test/.work/vscode/ (look at them).
// Needs `node scripts/build.mjs` first (dist/); installs code-server into .tools/ on first use.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as util from 'node:util';
import * as esbuild from 'esbuild';
import { packageVsix as packageExtension } from '../../extension/package-vsix.mjs';
import { ensureCodeServer } from './install-code-server.mjs';
import { copyExamples, freshDir, installVsix, launchBrowser, log, profile, root, startCodeServer, workDir } from './harness.mjs';

const suiteOut = path.join(root, 'out', 'vscode-test', 'suite');
const vsixPath = path.join(root, 'out', 'discforge.vsix');

/** Bundles the extension-host suite (mocha stays external: resolved from node_modules at run time). */
export async function buildSuite() {
  fs.rmSync(suiteOut, { recursive: true, force: true });
  const dir = path.join(root, 'test', 'vscode', 'suite');
  const entryPoints = fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
  await esbuild.build({
    entryPoints, outdir: suiteOut, bundle: true, platform: 'node', target: 'node20', format: 'cjs',
    external: ['vscode', 'mocha'], sourcemap: 'inline', logLevel: 'warning',
  });
  return suiteOut;
}

export function packageVsix() {
  const { out, bytes } = packageExtension(vsixPath);
  log(`packaged ${path.relative(root, out)}: ${(bytes / 1024).toFixed(0)} KiB`);
  return out;
}

/** @param {string} cs */
export async function runExtensionHostSuite(cs) {
  const tests = await buildSuite();
  const base = freshDir('ext-host');
  const ws = path.join(base, 'workspace');
  fs.mkdirSync(ws);
  copyExamples(ws, ['hello', 'broken']);
  const p = profile(base);
  const server = await startCodeServer(cs, p, ws);
  const { context, page } = await launchBrowser(base, { width: 1200, height: 800 });
  try {
    /** @type {(code: number) => void} */
    let exit = () => {};
    const exited = new Promise((r) => (exit = r));
    await page.exposeFunction('codeAutomationLog', (/** @type {string} */ type, /** @type {unknown[]} */ args) => {
      const line = util.format(...args);
      (type === 'error' ? console.error : console.log)(line.split('\n').map((l) => `  [exthost] ${l}`).join('\n'));
    });
    await page.exposeFunction('codeAutomationExit', (/** @type {number} */ code) => exit(code));
    const host = `127.0.0.1:${server.port}`;
    const remote = (/** @type {string} */ p) => `vscode-remote://${host}${p}`;
    const payload = JSON.stringify([['extensionDevelopmentPath', remote(root)], ['extensionTestsPath', remote(tests)], ['skipWelcome', 'true']]);
    await page.goto(`http://${host}/?folder=${encodeURIComponent(remote(ws))}&payload=${encodeURIComponent(payload)}`);
    const timeout = new Promise((r) => setTimeout(() => r('timeout'), 180000));
    const code = await Promise.race([exited, timeout]);
    if (code === 'timeout') {
      await page.screenshot({ path: path.join(base, 'timeout.png') }).catch(() => {});
      throw new Error('the extension-host suite did not finish within 180 s');
    }
    log(`extension-host suite exited with ${code}`);
    return Number(code);
  } finally {
    await context.close().catch(() => {});
    server.stop();
  }
}

/** @param {string} cs */
export async function runUiSuite(cs) {
  const vsix = packageVsix();
  const base = freshDir('ui');
  const ws = path.join(base, 'workspace');
  fs.mkdirSync(ws);
  copyExamples(ws, ['hello']);
  const image = path.join(ws, 'hello', 'out', 'hello.iso');
  // Two emulated recorders; the CD-R writes at 1× (150 kB/s) so that the burn can be watched.
  const cdr = `virtual:cd-r:${path.join(base, 'discs', 'cd.img')}?speed=1x`;
  const dvd = `virtual:dvd+r:${path.join(base, 'discs', 'dvd.img')}?speed=1x`;
  fs.mkdirSync(path.join(base, 'discs'));
  const p = profile(base, { 'discforge.drives.virtual': [cdr, dvd], 'discforge.burn.verify': 'full' });
  installVsix(cs, p, vsix);
  const server = await startCodeServer(cs, p, ws);
  const { context, page } = await launchBrowser(base);
  const shots = workDir;
  fs.rmSync(path.join(shots, 'ui-failure.png'), { force: true });
  try {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(ws)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
    await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: 60000 });
    log('workbench ready');
    const input = page.locator('.quick-input-widget input');

    /** Opens the quick input and picks the row showing `text` (retrying: contributions appear a bit after load). @param {string} query @param {string} text */
    async function quickPick(query, text, timeoutMs = 60000) {
      const start = Date.now();
      for (let attempt = 0; ; attempt++) {
        await page.keyboard.press('Escape');
        // F1 goes to the workbench only when the focus is not inside a webview (the burn panel): after a failed
        // attempt, give the focus back to the workbench first (a click in the editor area: the open editor, or its
        // empty watermark).
        if (attempt > 0) await page.locator('.part.editor').first().click().catch(() => {});
        await page.keyboard.press('F1');
        try {
          await input.waitFor({ state: 'visible', timeout: 10000 });
        } catch (e) {
          if (Date.now() - start > timeoutMs) throw e;
          continue;
        }
        await input.fill(query);
        const row = page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
        try {
          await row.waitFor({ timeout: 2000 });
        } catch (e) {
          if (Date.now() - start > timeoutMs) throw e;
          continue;
        }
        await page.keyboard.press('Enter');
        return;
      }
    }

    // Open the manifest (Quick Open), wait for the language server's code lenses, then Build Image from the palette.
    await quickPick('hello.disc.json', 'hello.disc.json');
    await page.locator('.tab', { hasText: 'hello.disc.json' }).first().waitFor({ timeout: 30000 });
    await page.locator('.codelens-decoration', { hasText: 'Build image' }).first().waitFor({ timeout: 60000 });
    log('manifest open, code lenses shown');
    await quickPick('>DiscForge: Build Image', 'DiscForge: Build Image');
    log('ran DiscForge: Build Image');

    const panel = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    const job = panel.locator('[data-job]').first();
    await job.waitFor({ timeout: 60000 });
    await panel.locator('[data-job][data-status="done"]').first().waitFor({ timeout: 120000 });
    const percent = (await job.locator('.percent').innerText()).trim();
    const status = (await job.locator('.status').innerText()).trim();
    const title = (await job.locator('.title').innerText()).trim();
    log(`panel: ${title} — ${status}, ${percent}`);
    if (percent !== '100%') throw new Error(`the panel shows ${percent}, not 100%`);
    if (status !== 'Done') throw new Error(`the panel's status is ${status}`);
    if (title !== 'Build hello.iso') throw new Error(`the panel's title is ${title}`);
    if (!fs.existsSync(image)) throw new Error(`${image} was not written`);
    const size = fs.statSync(image).size;
    const message = (await job.locator('.message').innerText()).trim();
    if (!message.includes(`(${size} bytes)`)) throw new Error(`the panel's message "${message}" does not give the image's size ${size}`);
    const where = (await job.locator('.output').innerText()).trim();
    if (where !== image) throw new Error(`the panel names ${where}, not ${image}`);
    const head = Buffer.alloc(5);
    const fd = fs.openSync(image, 'r');
    fs.readSync(fd, head, 0, 5, 32769);
    fs.closeSync(fd);
    if (head.toString('latin1') !== 'CD001') throw new Error('the image is not an ISO 9660 image');
    log(`image on disk: ${size} bytes`);
    // Let the completion toast and the bar's transition settle, then keep a picture of the panel.
    await page.waitForTimeout(800);
    await page.screenshot({ path: path.join(shots, 'panel.png') });
    log(`screenshot ${path.relative(root, path.join(shots, 'panel.png'))}`);

    // The Drives view lists the emulated recorders with their blank discs.
    await page.locator('.activitybar .action-item a[aria-label^="DiscForge"]').first().click();
    const rows = page.locator('.pane-body .monaco-list-row', { hasText: 'Virtual' });
    await rows.nth(1).waitFor({ timeout: 30000 });
    const listed = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    log(`drives view: ${listed.join(' | ')}`);
    if (listed.length !== 2 || !listed.every((t) => /blank/.test(t)) || !listed.some((t) => /CD-R/.test(t)) || !listed.some((t) => /DVD\+R/.test(t))) {
      throw new Error(`the Drives view shows ${JSON.stringify(listed)}`);
    }
    await page.screenshot({ path: path.join(shots, 'drives.png') });

    // Burn… from the palette to both recorders at once: two burn jobs side by side in the panel.
    await page.locator('.tab', { hasText: 'hello.disc.json' }).first().click();
    await quickPick('>DiscForge: Burn…', 'DiscForge: Burn…');
    const choices = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Virtual' });
    await choices.nth(1).waitFor({ timeout: 30000 });
    await choices.nth(0).click(); // in a multi-select pick a click toggles the row
    await choices.nth(1).click();
    await page.locator('.quick-input-widget', { hasText: '2 Selected' }).waitFor({ timeout: 5000 });
    await page.keyboard.press('Enter');
    log('burning to both recorders');
    const burns = panel.locator('[data-job^="burn-"]');
    await burns.nth(1).waitFor({ timeout: 30000 });
    await panel.locator('[data-job^="burn-"][data-status="running"] .speed', { hasText: /B\/s/ }).first().waitFor({ timeout: 30000 });
    await page.screenshot({ path: path.join(shots, 'burn-running.png') });
    await panel.locator('[data-job^="burn-"][data-status="done"]').nth(1).waitFor({ timeout: 120000 });
    const burnTexts = await Promise.all([0, 1].map(async (i) => {
      const b = burns.nth(i);
      return `${(await b.locator('.title').innerText()).trim()}: verification ${(await b.locator('.verification').innerText()).trim()}, ${(await b.locator('.percent').innerText()).trim()}`;
    }));
    log(`panel: ${burnTexts.join(' | ')}`);
    if (!burnTexts.every((t) => t.endsWith('100%'))) throw new Error(`burns: ${burnTexts.join(', ')}`);
    if (!burnTexts.some((t) => t.startsWith('Burn hello.disc.json to CD-R cd.img: verification passed')) || !burnTexts.some((t) => t.startsWith('Burn hello.disc.json to DVD+R dvd.img: verification passed'))) {
      throw new Error(`burn titles: ${burnTexts.join(', ')}`);
    }
    await page.waitForTimeout(800);
    await page.screenshot({ path: path.join(shots, 'burn.png') });
    // The Drives view follows: the discs are no longer blank.
    await page.locator('.pane-body .monaco-list-row', { hasText: 'Virtual' }).filter({ hasNotText: 'blank' }).nth(1).waitFor({ timeout: 30000 });
    log('drives view updated after the burn');
    return 0;
  } catch (err) {
    console.error('UI suite failed:', err);
    await page.screenshot({ path: path.join(shots, 'ui-failure.png') }).catch(() => {});
    return 1;
  } finally {
    await context.close().catch(() => {});
    server.stop();
  }
}

async function main() {
  const which = process.argv.slice(2);
  const all = which.length === 0;
  if (!fs.existsSync(path.join(root, 'dist', 'extension.js'))) throw new Error('dist/ is missing: run node scripts/build.mjs first');
  fs.mkdirSync(workDir, { recursive: true });
  const cs = ensureCodeServer();
  let failed = 0;
  if (all || which.includes('ext-host')) failed += (await runExtensionHostSuite(cs)) === 0 ? 0 : 1;
  if (all || which.includes('ui')) failed += (await runUiSuite(cs)) === 0 ? 0 : 1;
  return failed;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().then(
    (failed) => process.exit(failed ? 1 : 0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
