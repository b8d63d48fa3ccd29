// The real-VS-Code suites as part of `npm test`: code-server (installed into .tools/ on first use) with Debian's
// chromium, driven by test/vscode/run.mjs. Each suite's full output is kept in test/.work/vscode/*.log; a failure
// shows its tail. Screenshots: test/.work/vscode/*.png.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';

const root = (() => {
  let d = __dirname;
  while (!fs.existsSync(path.join(d, 'test', 'vscode', 'run.mjs'))) {
    const up = path.dirname(d);
    if (up === d) throw new Error(`cannot find the repository root above ${__dirname}`);
    d = up;
  }
  return d;
})();
const work = path.join(root, 'test', '.work', 'vscode');

function run(suite: string, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  fs.mkdirSync(work, { recursive: true });
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'test', 'vscode', 'run.mjs'), suite], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      fs.writeFileSync(path.join(work, `${suite}.log`), out);
      resolve({ code, out });
    });
  });
}

const tail = (s: string) => s.split('\n').filter((l) => !/Ignoring fetching additional builtin|Creating a socket|connection token/.test(l)).slice(-60).join('\n');

describe('DiscForge in a real VS Code (code-server + chromium)', { concurrency: false }, () => {
  test('extension-host suite: diagnostics of the broken example, Build Image, tasks, commands', { timeout: 420000 }, async () => {
    const r = await run('ext-host', 400000);
    assert.equal(r.code, 0, tail(r.out));
    assert.match(r.out, /\d+ passing/);
    assert.doesNotMatch(r.out, /\d+ failing/);
  });

  test('UI suite with the packaged .vsix: palette → Build Image → panel at 100 %, image on disk, screenshot', { timeout: 300000 }, async () => {
    const r = await run('ui', 280000);
    assert.equal(r.code, 0, tail(r.out));
    assert.match(r.out, /panel: Build hello\.iso — Done, 100%/);
    assert.ok(fs.statSync(path.join(work, 'panel.png')).size > 10000, 'the panel screenshot');
  });
});
