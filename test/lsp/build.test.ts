// Builds run in the language server: LSP work-done progress plus DiscForge's job notifications, the image on
// disk, and cancellation from each side (the job notification, $/cancelRequest, work-done progress cancel)
// leaving neither the image nor its .partial behind.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { CancellationTokenSource, LspClient } from './client';
import { makeProject, type Project } from './fixture';

interface JobResult {
  jobId: string;
  title: string;
  status: string;
  message: string;
  output?: string;
  bytes?: number;
  problems: { severity: string; code: string; line: number; column: number; file: string }[];
}

describe('language server: build jobs', () => {
  let c: LspClient;
  let proj: Project;
  let bigManifest: string;
  before(async () => {
    proj = makeProject();
    // 512 MiB of non-zero data (zeros would be skipped as sparse): a build that takes a moment even from the page
    // cache (the engine yields to the event loop every 50 ms; this writes for well over that).
    const big = path.join(proj.dir, 'slow', 'data.bin');
    fs.mkdirSync(path.dirname(big), { recursive: true });
    const fd = fs.openSync(big, 'w');
    const chunk = Buffer.alloc(16 * 1024 * 1024, 0xa5);
    for (let i = 0; i < 32; i++) fs.writeSync(fd, chunk);
    fs.closeSync(fd);
    bigManifest = proj.manifest('slow.disc.json', `{ "kind": "data", "files": [ { "source": "slow" } ], "output": "out/slow.iso" }`);
    c = await LspClient.start();
  });
  after(async () => {
    await c.stop();
    proj.cleanup();
  });

  const jobNotes = (jobId: string, method: string) => c.notifications.filter((x) => x.method === method && x.params.jobId === jobId).map((x) => x.params);

  test('a build writes the image and reports progress (work-done and job notifications)', async () => {
    const manifest = proj.manifest('ok.disc.json', `{\n  "kind": "data",\n  "volume": { "created": "2026-01-01T00:00:00Z" },\n  "files": [ { "source": "content" } ],\n  "output": "out/ok.iso"\n}\n`);
    const tokensBefore = c.progressTokens.length;
    const r = await c.request<JobResult>('discforge/build', { jobId: 'job-ok', uri: pathToFileURL(manifest).toString() });
    const image = path.join(proj.dir, 'out', 'ok.iso');
    assert.equal(r.status, 'done', r.message);
    assert.equal(r.jobId, 'job-ok');
    assert.equal(r.title, 'Build ok.iso');
    assert.equal(r.output, image);
    assert.equal(fs.statSync(image).size, r.bytes);
    assert.equal(fs.existsSync(image + '.partial'), false);
    // The image is an ISO 9660 image: "CD001" at 32769.
    const head = Buffer.alloc(5);
    const fd = fs.openSync(image, 'r');
    fs.readSync(fd, head, 0, 5, 32769);
    fs.closeSync(fd);
    assert.equal(head.toString(), 'CD001');
    // DiscForge notifications: started, progress up to 100 %, finished with the same result.
    const started = jobNotes('job-ok', 'discforge/jobStarted');
    assert.equal(started.length, 1);
    assert.equal(started[0].kind, 'build');
    assert.equal(started[0].title, 'Build ok.iso');
    assert.equal(started[0].output, image);
    const progress = jobNotes('job-ok', 'discforge/jobProgress');
    assert.ok(progress.length >= 2, `progress notifications: ${progress.length}`);
    const last = progress[progress.length - 1];
    assert.equal(last.percent, 100);
    assert.equal(last.phase, 'done');
    assert.equal(last.done, r.bytes);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].percent >= progress[i - 1].percent, 'percent never goes back');
    assert.ok(progress.some((p) => p.phase === 'write'));
    const finished = jobNotes('job-ok', 'discforge/jobFinished');
    assert.deepEqual(finished, [r]);
    // LSP work-done progress: created by the server, begin … end, cancellable.
    assert.equal(c.progressTokens.length, tokensBefore + 1);
    const token = c.progressTokens[tokensBefore];
    const values = c.progress.get(token) ?? [];
    assert.equal(values[0]?.kind, 'begin');
    assert.equal((values[0] as { cancellable?: boolean }).cancellable, true);
    assert.equal((values[0] as { title: string }).title, 'Build ok.iso');
    assert.equal(values[values.length - 1]?.kind, 'end');
  });

  test('a manifest with errors fails with its problems (CLI positions) and writes nothing', async () => {
    const manifest = proj.manifest('bad.disc.json', `{\n  "kind": "data",\n  "files": [ { "source": "content/nope" } ],\n  "output": "out/bad.iso"\n}\n`);
    const r = await c.request<JobResult>('discforge/build', { jobId: 'job-bad', uri: pathToFileURL(manifest).toString() });
    assert.equal(r.status, 'failed');
    assert.match(r.message, /1 error/);
    assert.equal(r.problems.length, 1);
    assert.deepEqual(
      { code: r.problems[0].code, line: r.problems[0].line, column: r.problems[0].column, file: r.problems[0].file },
      { code: 'source-missing', line: 3, column: 26, file: manifest },
    );
    assert.equal(fs.existsSync(path.join(proj.dir, 'out', 'bad.iso')), false);
  });

  /**
   * Starts the slow build and cancels it once its OUT.partial exists (the image is being written): the server sees
   * the cancellation at the engine's next yield.
   */
  async function cancelledBuild(jobId: string, cancel: (token: CancellationTokenSource, progressToken: string | number) => void): Promise<void> {
    const image = path.join(proj.dir, 'out', 'slow.iso');
    fs.rmSync(image, { force: true });
    const tokensBefore = c.progressTokens.length;
    const cts = new CancellationTokenSource();
    let answered = false;
    const pending = c.request<JobResult>('discforge/build', { jobId, uri: pathToFileURL(bigManifest).toString() }, cts);
    pending.then(() => (answered = true), () => (answered = true));
    const t0 = Date.now();
    while (!fs.existsSync(image + '.partial')) {
      assert.ok(!answered && Date.now() - t0 < 20000, 'the build never wrote OUT.partial');
      await new Promise((r) => setImmediate(r));
    }
    cancel(cts, c.progressTokens[tokensBefore]);
    let r: JobResult;
    try {
      r = await pending;
    } catch (err) {
      // $/cancelRequest: the client library rejects the request itself; the server's own report says what happened.
      assert.match(String((err as Error).message), /cancel/i);
      await c.waitFor(() => jobNotes(jobId, 'discforge/jobFinished').length === 1, 'jobFinished');
      r = jobNotes(jobId, 'discforge/jobFinished')[0];
    }
    assert.equal(r.status, 'cancelled', r.message);
    assert.match(r.message, /no image was written/);
    const progress = jobNotes(jobId, 'discforge/jobProgress');
    const last = progress[progress.length - 1];
    assert.equal(last.phase, 'write', 'it was writing when it stopped');
    assert.ok(last.done < last.total && last.percent < 100, `stopped before the end (${last.done} of ${last.total})`);
    assert.equal(fs.existsSync(image), false, 'no image');
    assert.equal(fs.existsSync(image + '.partial'), false, 'no partial image');
    assert.deepEqual(fs.readdirSync(path.dirname(image)).filter((f) => f.startsWith('slow')), []);
    // Work-done progress ended too.
    const values = c.progress.get(c.progressTokens[tokensBefore]) ?? [];
    assert.equal(values[values.length - 1]?.kind, 'end');
  }

  test('cancelled with discforge/cancelJob (the panel): no image, no partial', async () => {
    await cancelledBuild('job-cancel-1', () => c.notify('discforge/cancelJob', { jobId: 'job-cancel-1' }));
  });

  test('cancelled with $/cancelRequest (the editor cancels the request)', async () => {
    await cancelledBuild('job-cancel-2', (cts) => cts.cancel());
  });

  test('cancelled from the work-done progress (the notification\'s Cancel)', async () => {
    await cancelledBuild('job-cancel-3', (_cts, token) => c.notify('window/workDoneProgress/cancel', { token }));
  });

  test('the server answers other requests while a build runs, and refuses a second build of the same image', async () => {
    const jobId = 'job-busy';
    const uri = pathToFileURL(bigManifest).toString();
    const pending = c.request<JobResult>('discforge/build', { jobId, uri });
    const second = c.request<JobResult>('discforge/build', { jobId: 'job-busy-2', uri });
    await c.waitFor(() => jobNotes(jobId, 'discforge/jobStarted').length === 1, 'jobStarted');
    const text = `{ "kind": "data", "media": , "files": [] }`;
    const doc = c.open(proj.manifest('during.disc.json', text));
    const t0 = performance.now();
    const items = await c.request<{ items: unknown[] }>('textDocument/completion', { textDocument: { uri: doc }, position: { line: 0, character: 27 } });
    const ms = performance.now() - t0;
    assert.ok(items.items.length > 10);
    assert.equal(jobNotes(jobId, 'discforge/jobFinished').length, 0, 'answered while the build was still running');
    assert.ok(ms < 500, `completion took ${ms.toFixed(0)} ms during a build`);
    const refused = await second;
    assert.equal(refused.status, 'failed');
    assert.match(refused.message, /slow\.iso is being built already/);
    const r = await pending;
    assert.equal(r.status, 'done', r.message);
    assert.equal(fs.statSync(path.join(proj.dir, 'out', 'slow.iso')).size, r.bytes);
  });

  test('inspect: the engine\'s report of an image', async () => {
    const image = path.join(proj.dir, 'out', 'ok.iso');
    assert.ok(fs.existsSync(image), 'built by the first test');
    const r = await c.request<{ text: string; problems: string[] }>('discforge/inspect', { uri: pathToFileURL(image).toString() });
    assert.match(r.text, /Volume descriptors/);
    assert.match(r.text, /README\.md/i);
    assert.deepEqual(r.problems, []);
    await assert.rejects(c.request('discforge/inspect', { uri: pathToFileURL(path.join(proj.dir, 'content', 'README.md')).toString() }));
  });
});
