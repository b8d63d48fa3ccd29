// Diagnostics are cancellable: an edit that arrives while the previous version is still being planned stops that
// plan (the planner's worker is terminated) and only the newest version is published.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LspClient } from './client';
import { makeProject, type Project } from './fixture';

describe('language server: a stale plan is cancelled', () => {
  let c: LspClient;
  let proj: Project;
  before(async () => {
    proj = makeProject();
    // 30,000 small files: planning them takes a good fraction of a second.
    for (let d = 0; d < 150; d++) {
      const dir = path.join(proj.dir, 'many', `d${d}`);
      fs.mkdirSync(dir, { recursive: true });
      for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(dir, `f${i}.txt`), 'x');
    }
    c = await LspClient.start({ diagnosticsDelay: 0 });
  });
  after(async () => {
    await c.stop();
    proj.cleanup();
  });

  test('planning the whole tree takes a while (the premise)', async () => {
    const uri = c.open(proj.manifest('heavy-a.disc.json', `{ "kind": "data", "files": [ { "source": "many" } ] }`));
    const t0 = performance.now();
    assert.deepEqual(await c.diagnostics(uri, 1, 60000), []);
    const ms = performance.now() - t0;
    assert.ok(ms > 150, `planning 30,000 files took ${ms.toFixed(0)} ms`);
  });

  test('an edit during planning stops the stale plan; only the newest version is published', async () => {
    c.notify('$/setTrace', { value: 'verbose' });
    const uri = c.open(proj.manifest('heavy-b.disc.json', `{ "kind": "data", "files": [ { "source": "many" } ] }`));
    // Once the server is planning version 1, edit.
    await c.waitFor(() => c.traces.includes(`planning ${uri}`), 'the plan of version 1 to start');
    const v = c.change(uri, `{ "kind": "data", "files": [ { "source": "nope" } ] }`);
    const d = await c.diagnostics(uri, v, 60000);
    assert.equal(d.length, 1);
    assert.equal(d[0].code, 'source-missing');
    await c.waitFor(() => c.logs.some((l) => l.includes(`stopped the plan of ${uri}`)), 'the stale plan to be stopped', 5000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(c.published.filter((p) => p.uri === uri).map((p) => p.version), [v], 'version 1 was never published');
  });
});
