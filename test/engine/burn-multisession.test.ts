// Multisession on every write-once family: a second and a third session appended with --append, each a full
// ISO 9660 + Joliet + Rock Ridge volume at the next writable address whose tree keeps the earlier files at their
// old extents (not written again), adds and replaces what the manifest says and drops what --delete says.
// Judged by xorriso reading each session of the disc's data file (-load sbsector START), by our inspector's
// walker reading the last session through the drive, and by the media state (sessions, starts, NWA).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { burn, type BurnResult } from '../../server/src/engine/burn/engine';
import { readMediaState } from '../../server/src/engine/burn/media';
import { importSession, planAppend } from '../../server/src/engine/burn/multisession';
import { recorders } from '../../server/src/engine/burn/registry';
import { BASE_OPTS, run, sha256, sourceOf, xorrisoRead } from '../util/burn-fixtures';
import { runCli } from '../util/fixtures';
import { tmpdir, writeTree } from '../util/tmpdir';

const root = tmpdir('df-multi-');

function manifest(name: string, files: Record<string, string>): string {
  const dir = path.join(root, name);
  writeTree(dir, files);
  const m = path.join(root, `${name}.disc.json`);
  fs.writeFileSync(m, JSON.stringify({ kind: 'data', volume: { label: name.toUpperCase() }, fileSystems: ['iso9660', 'joliet', 'rockridge'], files: [{ source: name, target: '/' }] }));
  return m;
}

const big = 'B'.repeat(1_000_000);
const m1 = manifest('one', { 'keep.txt': 'kept since session 1\n', 'old.txt': 'old version\n', 'dir/a.txt': 'a in dir\n', 'big.bin': big });
const m2 = manifest('two', { 'old.txt': 'new version from session 2\n', 'dir/b.txt': 'b added in session 2\n', 'second.txt': 'second\n' });
const m3 = manifest('three', { 'third.txt': 'third\n' });

async function append(spec: string, m: string, deletes: string[] = []): Promise<BurnResult> {
  const lease = await recorders.lock(spec, 'test append');
  try {
    return await burn(lease.dev, { ...BASE_OPTS, append: true }, (t) => (t.startLba ? planAppend(m, t.dev, t.media, t.startLba, deletes, t.notes) : sourceOf(m)()));
  } finally {
    await lease.release();
  }
}

const expect1 = new Map([['keep.txt', 'kept since session 1\n'], ['old.txt', 'old version\n'], ['dir/a.txt', 'a in dir\n'], ['big.bin', big]]);
const expect2 = new Map([...expect1, ['old.txt', 'new version from session 2\n'], ['dir/b.txt', 'b added in session 2\n'], ['second.txt', 'second\n']]);
const expect3 = new Map([...expect2, ['third.txt', 'third\n']]);
expect3.delete('dir/a.txt');
expect3.delete('second.txt');

const shas = (m: Map<string, string>) => new Map([...m].map(([k, v]) => [k, sha256(Buffer.from(v))] as [string, string]).sort());

describe('multisession: second and third sessions on write-once media', () => {
  for (const profile of ['cd-r', 'dvd-r', 'dvd+r', 'dvd+r-dl', 'bd-r']) {
    test(`${profile}: three sessions; each readable by xorriso; old files kept at their old extents`, async () => {
      const file = path.join(root, `${profile}.img`);
      const spec = `virtual:${profile}:${file}`;
      const r1 = await append(spec, m1);
      assert.equal(r1.startLba, 0);
      const r2 = await append(spec, m2);
      assert.ok(r2.startLba > r1.blocks, `session 2 at ${r2.startLba}`);
      assert.match(r2.notes.join('\n'), /previous session at block 0 \(ONE, 4 files\): 3 kept, 2 added, 1 replaced, 0 deleted/);
      // Only the new and replaced files were written: far less than the 1 000 000-byte big.bin.
      assert.ok(r2.blocks * 2048 < 1_000_000, `session 2 is ${r2.blocks} blocks`);
      const r3 = await append(spec, m3, ['/dir/a.txt', '/second.txt']);
      assert.ok(r3.startLba > r2.startLba + r2.blocks);
      assert.match(r3.notes.join('\n'), /2 deleted/);

      const lease = await recorders.query(spec);
      try {
        const m = await readMediaState(lease.dev);
        assert.equal(m.status, 'appendable');
        assert.deepEqual(m.sessions.map((s) => s.start), [0, r2.startLba, r3.startLba]);
        assert.equal(m.startOfPreviousSession, r3.startLba);
        // Our inspector's tree walker, through the drive: the last session's tree.
        const imported = await importSession(lease.dev, r3.startLba);
        assert.equal(imported.volumeId, 'THREE');
        assert.equal(imported.rockRidge, true);
        const big1 = imported.root.children.get('big.bin');
        assert.ok(big1?.kind === 'file' && big1.recorded && big1.recorded[0].lba < r2.startLba, 'big.bin still points into session 1');
      } finally {
        await lease.release();
      }
      // xorriso reads every session at its start (the superblock sector), each with its own tree.
      assert.deepEqual(new Map([...xorrisoRead(file).files].sort()), shas(expect1));
      assert.deepEqual(new Map([...xorrisoRead(file, ['-load', 'sbsector', String(r2.startLba)]).files].sort()), shas(expect2));
      const x3 = xorrisoRead(file, ['-load', 'sbsector', String(r3.startLba)]);
      assert.equal(x3.volumeId, 'THREE');
      assert.deepEqual(new Map([...x3.files].sort()), shas(expect3));
    });
  }

  test('--append on a finalized disc, a missing --delete path, an image file as a later session: clear errors', async () => {
    const spec = `virtual:bd-r:${path.join(root, 'errors.img')}`;
    await append(spec, m1);
    await assert.rejects(append(spec, m2, ['/nope.txt']), /--delete \/nope.txt: there is no such file or folder in the previous session/);
    const image = path.join(root, 'x.iso');
    const built = runCli(['build', m3, '--output', image]);
    assert.equal(built.status, 0, built.stderr);
    const r = runCli(['burn', image, '--drive', spec, '--append']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot become a later session/);
    const closed = `virtual:dvd+r:${path.join(root, 'closed.img')}`;
    const lease = await recorders.lock(closed, 'test');
    try {
      await burn(lease.dev, { ...BASE_OPTS, close: true }, () => sourceOf(m1)());
    } finally {
      await lease.release();
    }
    await assert.rejects(append(closed, m2), /finalized/);
  });

  test('CLI: burn --append and media list the sessions', () => {
    const file = path.join(root, 'cli.img');
    const spec = `virtual:dvd+r:${file}`;
    assert.equal(runCli(['burn', m1, '--drive', spec, '-q']).status, 0);
    const r = runCli(['burn', m2, '--drive', spec, '--append', '--delete', '/keep.txt']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /1 deleted/);
    const m = runCli(['media', '--drive', spec]);
    assert.match(m.stdout, /sessions: 2\n  session 1: blocks 0–\d+ .*\n  session 2: blocks \d+–\d+/);
    const start = Number(/session 2: blocks (\d+)/.exec(m.stdout)![1]);
    const x = run('xorriso', ['-load', 'sbsector', String(start), '-indev', file, '-ls', '/']);
    assert.equal(x.status, 0);
    assert.doesNotMatch(x.stdout, /keep\.txt/);
    assert.match(x.stdout, /second\.txt/);
  });
});
