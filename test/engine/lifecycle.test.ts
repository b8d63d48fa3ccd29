/**
 * The build's promises about its output: written to OUT.partial and renamed when complete; a source that
 * changes during the build aborts it; cancellation leaves nothing; the same inputs give the same bytes;
 * zero runs are not written (sparse images).
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildImage } from '../../server/src/engine/build';
import { CancelledError, InputError } from '../../server/src/engine/util/errors';
import { tmpdir, writeTree } from '../util/tmpdir';

const root = tmpdir();
writeTree(root, { 'src/a.txt': 'alpha', 'src/b/c.txt': 'gamma', 'src/z.txt': 'zulu' });

function manifest(name: string, extra: object = {}): string {
  const file = path.join(root, name);
  fs.writeFileSync(file, JSON.stringify({ kind: 'data', files: [{ source: 'src', target: '/' }], output: `${name}.iso`, ...extra }));
  return file;
}

const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

test('a source that changes during the build aborts it, names the file, and leaves no image', async () => {
  const m = manifest('change.disc.json');
  const out = m + '.iso';
  const changed = path.join(root, 'src', 'z.txt');
  await assert.rejects(
    buildImage(m, {
      onProgress: (p) => {
        if (p.phase === 'write' && p.done === 0) fs.appendFileSync(changed, ' and more');
      },
    }),
    (err: unknown) => err instanceof InputError && err.message.includes(changed) && /changed during the build/.test(err.message),
  );
  assert.equal(fs.existsSync(out), false);
  assert.equal(fs.existsSync(out + '.partial'), false);
  fs.writeFileSync(changed, 'zulu');
});

test('a cancelled build leaves neither the image nor a partial file, and keeps an older image intact', async () => {
  const m = manifest('cancel.disc.json');
  const out = m + '.iso';
  fs.writeFileSync(out, 'previous image');
  const ac = new AbortController();
  await assert.rejects(
    buildImage(m, { signal: ac.signal, onProgress: (p) => p.phase === 'write' && ac.abort() }),
    (err: unknown) => err instanceof CancelledError,
  );
  assert.equal(fs.readFileSync(out, 'utf8'), 'previous image');
  assert.equal(fs.existsSync(out + '.partial'), false);
});

test('with volume.created, two builds are byte-identical, whatever the sources\' times', async () => {
  const created = { volume: { label: 'SAME', created: '2026-01-01T00:00:00Z' } };
  const a = await buildImage(manifest('det1.disc.json', created));
  fs.utimesSync(path.join(root, 'src', 'a.txt'), new Date(2001, 1, 1), new Date(2001, 1, 1));
  const b = await buildImage(manifest('det2.disc.json', created));
  assert.equal(sha(a.output), sha(b.output));
  const c = await buildImage(manifest('det3.disc.json', { volume: { label: 'SAME', created: '2026-01-02T00:00:00Z' } }));
  assert.notEqual(sha(a.output), sha(c.output));
});

test('progress reports scan, plan and write phases, and write reaches its total', async () => {
  const seen: { phase: string; done: number; total: number }[] = [];
  const r = await buildImage(manifest('progress.disc.json'), { onProgress: (p) => seen.push(p) });
  for (const phase of ['load', 'scan', 'plan', 'write', 'done']) assert.ok(seen.some((p) => p.phase === phase), phase);
  const last = seen.filter((p) => p.phase === 'write').at(-1)!;
  assert.equal(last.done, r.bytes);
  assert.equal(last.total, r.bytes);
});

test('runs of zeros are not written: a sparse source gives a sparse image of the full size', async () => {
  const big = path.join(root, 'sparse-src');
  fs.mkdirSync(big);
  const f = path.join(big, 'holes.bin');
  fs.closeSync(fs.openSync(f, 'w'));
  fs.truncateSync(f, 256 * 1024 * 1024);
  fs.writeFileSync(path.join(big, 'data.bin'), crypto.randomBytes(4096));
  const file = path.join(root, 'sparse.disc.json');
  fs.writeFileSync(file, JSON.stringify({ kind: 'data', files: [{ source: 'sparse-src', target: '/' }], output: 'sparse.iso' }));
  const r = await buildImage(file);
  const st = fs.statSync(r.output);
  assert.equal(st.size, r.bytes);
  assert.ok(st.size > 256 * 1024 * 1024);
  assert.ok(st.blocks * 512 < 16 * 1024 * 1024, `image occupies ${st.blocks * 512} bytes on disk`);
  fs.rmSync(r.output);
});

test('an image written inside its own source folder does not contain itself', async () => {
  const file = path.join(root, 'self.disc.json');
  fs.writeFileSync(file, JSON.stringify({ kind: 'data', files: [{ source: 'src', target: '/' }], output: 'src/self.iso' }));
  const first = await buildImage(file);
  const second = await buildImage(file);
  assert.equal(second.plan.stats!.files, first.plan.stats!.files);
  assert.ok(second.plan.diagnostics.some((d) => d.code === 'output-in-source'));
  fs.rmSync(first.output);
});
