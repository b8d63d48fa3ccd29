// Drives and burning through the language server, on the engine's emulated recorders (virtual:<profile>:<file>):
// listing with media state, a burn as a job (work-done progress, job notifications, verification), a busy recorder
// refused, cancellation mid-write, erase and eject.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { LspClient } from './client';
import { makeProject, type Project } from './fixture';

interface DriveInfo {
  id: string;
  vendor: string;
  model: string;
  virtual: boolean;
  media?: { type: string; state: string; usedBytes: number; freeBytes: number; sessions?: number };
  busyWith?: string;
  error?: string;
}
interface JobResult {
  jobId: string;
  status: string;
  message: string;
  bytes?: number;
  verification?: { drive: string; result: string }[];
  problems: { code: string }[];
}

describe('language server: drives and burning (emulated recorders)', () => {
  let c: LspClient;
  let proj: Project;
  let manifest: string;
  let disc: (name: string, profile: string, opts?: string) => string;
  before(async () => {
    proj = makeProject();
    manifest = proj.manifest('burn.disc.json', `{ "kind": "data", "volume": { "created": "2026-01-01T00:00:00Z" }, "files": [ { "source": "content" } ] }`);
    disc = (name, profile, opts = '') => `virtual:${profile}:${path.join(proj.dir, 'discs', name)}${opts}`;
    fs.mkdirSync(path.join(proj.dir, 'discs'));
    c = await LspClient.start();
  });
  after(async () => {
    await c.stop();
    proj.cleanup();
  });

  const notes = (jobId: string, method: string) => c.notifications.filter((x) => x.method === method && x.params.jobId === jobId).map((x) => x.params);
  const drives = async (...specs: string[]) => (await c.request<{ drives: DriveInfo[] }>('discforge/drives', { virtual: specs })).drives;

  test('the server says it can burn', () => {
    const df = (c.initializeResult.capabilities.experimental as { discforge: { burn: boolean } }).discforge;
    assert.equal(df.burn, true);
  });

  test('drives: a virtual recorder with a blank disc', async () => {
    const spec = disc('list.img', 'dvd+r');
    const [d] = await drives(spec);
    assert.equal(d.id, spec);
    assert.equal(d.virtual, true);
    assert.equal(d.error, undefined);
    assert.match(`${d.vendor} ${d.model}`, /Virtual/);
    assert.equal(d.media?.state, 'blank');
    assert.match(d.media?.type ?? '', /DVD\+R/);
    assert.equal(d.media?.usedBytes, 0);
    assert.ok((d.media?.freeBytes ?? 0) > 4e9, `a DVD+R holds 4.7 GB (${d.media?.freeBytes})`);
  });

  test('burn a manifest to a virtual CD-R with full verification', async () => {
    const spec = disc('burn.img', 'cd-r');
    const jobId = 'burn-1';
    const tokens = c.progressTokens.length;
    const r = await c.request<JobResult>('discforge/burn', { jobId, uri: pathToFileURL(manifest).toString(), drive: spec, verify: 'full' });
    assert.equal(r.status, 'done', r.message);
    assert.deepEqual(r.verification, [{ drive: spec, result: 'passed' }]);
    assert.ok((r.bytes ?? 0) > 0);
    const started = notes(jobId, 'discforge/jobStarted');
    assert.equal(started.length, 1);
    assert.equal(started[0].kind, 'burn');
    assert.equal(started[0].drive, spec);
    assert.equal(started[0].title, 'Burn burn.disc.json to CD-R burn.img');
    const phases = [...new Set(notes(jobId, 'discforge/jobProgress').map((p) => p.phase))];
    for (const ph of ['writing', 'verifying', 'completed']) assert.ok(phases.includes(ph), `${ph} in ${phases.join(', ')}`);
    assert.ok(phases.indexOf('writing') < phases.indexOf('verifying'));
    const last = notes(jobId, 'discforge/jobProgress').at(-1);
    assert.equal(last.percent, 100);
    assert.deepEqual(notes(jobId, 'discforge/jobFinished'), [r]);
    assert.equal(c.progress.get(c.progressTokens[tokens])?.at(-1)?.kind, 'end');
    assert.ok(c.notifications.some((n) => n.method === 'discforge/drivesChanged'));
    // The disc now holds a session.
    const [d] = await drives(spec);
    assert.notEqual(d.media?.state, 'blank');
    assert.ok((d.media?.usedBytes ?? 0) >= (r.bytes ?? 0));
  });

  test('a manifest with errors is refused before the drive is touched', async () => {
    const bad = proj.manifest('burn-bad.disc.json', `{ "kind": "data", "files": [ { "source": "nope" } ] }`);
    const spec = disc('untouched.img', 'cd-r');
    const r = await c.request<JobResult>('discforge/burn', { jobId: 'burn-bad', uri: pathToFileURL(bad).toString(), drive: spec, verify: 'none' });
    assert.equal(r.status, 'failed');
    assert.deepEqual(r.problems.map((p) => p.code), ['source-missing']);
    const [d] = await drives(spec);
    assert.equal(d.media?.state, 'blank');
  });

  test('a recorder that is burning refuses a second burn at once; cancelling leaves the disc in a defined state', async () => {
    // A slow drive (every WRITE takes 250 ms longer), so the first burn is still writing.
    const spec = disc('busy.img', 'cd-rw', '?slow=250');
    const uri = pathToFileURL(manifest).toString();
    const first = c.request<JobResult>('discforge/burn', { jobId: 'burn-busy-1', uri, drive: spec, verify: 'none' });
    await c.waitFor(() => notes('burn-busy-1', 'discforge/jobProgress').some((p) => p.phase === 'writing'), 'writing');
    const t0 = performance.now();
    const second = await c.request<JobResult>('discforge/burn', { jobId: 'burn-busy-2', uri, drive: spec, verify: 'none' });
    assert.equal(second.status, 'failed');
    assert.match(second.message, /busy/);
    assert.ok(performance.now() - t0 < 2000, 'refused at once');
    const listed = await drives(spec);
    assert.match(listed[0].busyWith ?? '', /burn burn\.disc\.json/);
    c.notify('discforge/cancelJob', { jobId: 'burn-busy-1' });
    const r = await first;
    assert.equal(r.status, 'cancelled', r.message);
    assert.match(r.message, /cancel/);
    // The lock is released.
    const [d] = await drives(spec);
    assert.equal(d.busyWith, undefined);
  });

  test('erase a rewritable disc, then eject', async () => {
    const spec = disc('rw.img', 'cd-rw');
    const burned = await c.request<JobResult>('discforge/burn', { jobId: 'burn-rw', uri: pathToFileURL(manifest).toString(), drive: spec, verify: 'none' });
    assert.equal(burned.status, 'done', burned.message);
    assert.notEqual((await drives(spec))[0].media?.state, 'blank');
    const erased = await c.request<JobResult>('discforge/erase', { jobId: 'erase-1', drive: spec, full: false });
    assert.equal(erased.status, 'done', erased.message);
    assert.equal(notes('erase-1', 'discforge/jobStarted')[0].kind, 'erase');
    assert.equal((await drives(spec))[0].media?.state, 'blank');
    assert.deepEqual(await c.request('discforge/eject', { drive: spec }), { ok: true });
  });

  test('a drive that cannot be opened is listed with the reason', async () => {
    const [d] = await drives('virtual:cd-r:/nonexistent-dir/x.img');
    assert.ok(d.error, 'an error is given');
  });
});
