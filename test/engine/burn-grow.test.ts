// Multisession on overwritable media (DVD+RW, BD-RE, DVD-RAM, DVD-RW in restricted overwrite): --append grows
// the ISO 9660 volume in place as growisofs -M does. The new tree goes after the existing volume (on a write-unit
// boundary), the old files stay where they are, and the new session's volume descriptors are copied over block
// 16, so readers that know nothing of sessions — xorriso -indev on the disc file, isoinfo, our inspector — see
// the latest tree. A bridge grown by an ISO-only manifest loses its UDF (cleared, with a note); bridges grown as
// bridges keep it (burn-grow-udf.test.ts). Full verification covers the copied descriptors.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { burn, formatMedia, type BurnResult } from '../../server/src/engine/burn/engine';
import { readMediaState } from '../../server/src/engine/burn/media';
import { importSession, planAppend } from '../../server/src/engine/burn/multisession';
import { recorders } from '../../server/src/engine/burn/registry';
import { inspectImage } from '../../server/src/engine/inspect';
import { BASE_OPTS, head, run, sha256, sourceOf, xorrisoRead } from '../util/burn-fixtures';
import { runCli } from '../util/fixtures';
import { tmpdir, writeTree } from '../util/tmpdir';

const root = tmpdir('df-grow-');

function manifest(name: string, files: Record<string, string>, fileSystems?: string[]): string {
  const dir = path.join(root, name);
  writeTree(dir, files);
  const m = path.join(root, `${name}.disc.json`);
  fs.writeFileSync(m, JSON.stringify({ kind: 'data', volume: { label: name.toUpperCase() }, ...(fileSystems ? { fileSystems } : {}), files: [{ source: name, target: '/' }] }));
  return m;
}

const big = 'G'.repeat(1_200_000);
const ISO = ['iso9660', 'joliet', 'rockridge'];
// Session 1 as a UDF bridge (the default file systems) and as plain ISO 9660 + Joliet + Rock Ridge.
const m1bridge = manifest('first', { 'keep.txt': 'kept since session 1\n', 'old.txt': 'old version\n', 'dir/a.txt': 'a in dir\n', 'big.bin': big });
const m1iso = manifest('firstiso', { 'keep.txt': 'kept since session 1\n', 'old.txt': 'old version\n', 'dir/a.txt': 'a in dir\n', 'big.bin': big }, ISO);
const m2 = manifest('second', { 'old.txt': 'new version from session 2\n', 'dir/b.txt': 'b added in session 2\n', 'second.txt': 'second\n' }, ISO);
const m3 = manifest('third', { 'third.txt': 'third\n' }, ISO);

const expect1 = new Map([['keep.txt', 'kept since session 1\n'], ['old.txt', 'old version\n'], ['dir/a.txt', 'a in dir\n'], ['big.bin', big]]);
const expect2 = new Map([...expect1, ['old.txt', 'new version from session 2\n'], ['dir/b.txt', 'b added in session 2\n'], ['second.txt', 'second\n']]);
const expect3 = new Map([...expect2, ['third.txt', 'third\n']]);
expect3.delete('dir/a.txt');
expect3.delete('second.txt');
const shas = (m: Map<string, string>) => new Map([...m].map(([k, v]) => [k, sha256(Buffer.from(v))] as [string, string]).sort());

async function append(spec: string, m: string, deletes: string[] = []): Promise<BurnResult> {
  const lease = await recorders.lock(spec, 'test grow');
  try {
    return await burn(lease.dev, { ...BASE_OPTS, append: true }, (t) => (t.startLba ? planAppend(m, t.dev, t.media, t.startLba, deletes, t.notes) : sourceOf(m)()));
  } finally {
    await lease.release();
  }
}

/** isoinfo (genisoimage) lists the Rock Ridge tree it finds from block 16. */
function isoinfoFiles(file: string): string[] {
  const r = run('isoinfo', ['-R', '-f', '-i', file]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('growing the file system in place on overwritable media (--append)', () => {
  const cases = [
    { profile: 'dvd+rw', first: m1bridge, unit: 16, udf: true },
    { profile: 'bd-re', first: m1bridge, unit: 32, udf: true },
    { profile: 'dvd-ram', first: m1iso, unit: 16, udf: false },
    { profile: 'dvd-rw', first: m1iso, unit: 16, udf: false, format: true },
  ];
  for (const c of cases) {
    test(`${c.profile}: two and three appends; xorriso, isoinfo and inspect read the latest tree from block 16; old files kept in place`, async () => {
      const file = path.join(root, `${c.profile}.img`);
      const spec = `virtual:${c.profile}:${file}`;
      if (c.format) {
        // DVD-RW in restricted overwrite: FORMAT UNIT turns the sequential disc into an overwritable one.
        const lease = await recorders.lock(spec, 'test format');
        try {
          await formatMedia(lease.dev, { full: false });
          assert.equal((await readMediaState(lease.dev)).profileName, 'DVD-RW (restricted overwrite)');
        } finally {
          await lease.release();
        }
      }
      const r1 = await append(spec, c.first);
      assert.equal(r1.startLba, 0);
      assert.match(r1.notes.join('\n'), /holds no ISO 9660 file system: --append writes the first one/);
      const r2 = await append(spec, m2);
      assert.equal(r2.writeMode, 'grown in place');
      assert.equal(r2.startLba % c.unit, 0);
      assert.ok(r2.startLba >= r1.blocks && r2.startLba < r1.blocks + c.unit, `session 2 at ${r2.startLba} after ${r1.blocks} blocks`);
      assert.match(r2.notes.join('\n'), /the volume on the disc \(blocks 0–\d+, FIRST(ISO)?, 4 files\): 3 kept, 2 added, 1 replaced, 0 deleted/);
      assert.match(r2.notes.join('\n'), /the volume grew in place: the new tree is at blocks \d+–\d+, its volume descriptors were copied to block 16/);
      assert.equal(/the new session has no UDF \(not among the manifest's file systems\): the old UDF volume recognition sequence and anchor at block 256 were cleared/.test(r2.notes.join('\n')), c.udf);
      assert.ok(r2.blocks * 2048 < 1_000_000, 'big.bin is not written again');
      // After the second session: readers that start at block 16 see the merged tree.
      assert.deepEqual(new Map([...xorrisoRead(file).files].sort()), shas(expect2));
      const r3 = await append(spec, m3, ['/dir/a.txt', '/second.txt']);
      assert.ok(r3.startLba >= r2.startLba + r2.blocks && r3.startLba % c.unit === 0);
      assert.match(r3.notes.join('\n'), /the volume on the disc \(blocks 0–\d+, SECOND, 6 files\): 4 kept, 1 added, 0 replaced, 2 deleted/);
      assert.equal(r3.verified, 'full');

      const x = xorrisoRead(file);
      assert.equal(x.volumeId, 'THIRD');
      assert.deepEqual(new Map([...x.files].sort()), shas(expect3));
      assert.deepEqual(isoinfoFiles(file), ['/big.bin', '/dir', '/dir/b.txt', '/keep.txt', '/old.txt', '/third.txt']);
      const report = await inspectImage(file);
      assert.deepEqual(report.problems, []);
      assert.deepEqual(report.fileSystems.map((f) => f.type).sort(), ['iso9660', 'joliet', 'rockridge']);
      const rr = report.fileSystems.find((f) => f.type === 'rockridge')!;
      assert.deepEqual(rr.entries.filter((e) => e.kind === 'file').map((e) => e.path).sort(), ['/big.bin', '/dir/b.txt', '/keep.txt', '/old.txt', '/third.txt']);
      // Block 16 holds a copy of the third session's descriptors; the old UDF (bridge) is gone.
      const disc = head(file, 300 * 2048);
      assert.ok(disc.subarray(16 * 2048, 17 * 2048).equals(head(file, (r3.startLba + 17) * 2048).subarray((r3.startLba + 16) * 2048)));
      const vrsArea = disc.subarray(16 * 2048, 32 * 2048);
      assert.equal(vrsArea.includes(Buffer.from('NSR0')) || vrsArea.includes(Buffer.from('BEA01')), false, 'no UDF volume recognition sequence is left');
      assert.ok(disc.subarray(256 * 2048, 257 * 2048).every((b) => b === 0) || !c.udf);

      const lease = await recorders.query(spec);
      try {
        const m = await readMediaState(lease.dev);
        assert.equal(m.status, 'overwrite-only');
        assert.equal(m.hasFileSystem, true);
        assert.deepEqual(m.volume, { label: 'THIRD', blocks: r3.startLba + r3.blocks, grownAt: r3.startLba });
        const imported = await importSession(lease.dev, 0);
        assert.equal(imported.volumeId, 'THIRD');
        const bigNode = imported.root.children.get('big.bin');
        assert.ok(bigNode?.kind === 'file' && bigNode.recorded && bigNode.recorded[0].lba < r1.blocks, 'big.bin still lies in the first session');
      } finally {
        await lease.release();
      }
      const media = runCli(['media', '--drive', spec]);
      assert.equal(media.status, 0, media.stderr);
      assert.match(media.stdout, new RegExp(`file system: ISO 9660 volume "THIRD", blocks 0–${r3.startLba + r3.blocks - 1}`));
      assert.match(media.stdout, new RegExp(`grown in place: the latest tree was written from block ${r3.startLba}`));
    });
  }

  test('a growth that fails midway leaves the previous file system intact (the descriptors at block 16 untouched)', async () => {
    const file = path.join(root, 'fail.img');
    await append(`virtual:dvd+rw:${file}`, m1iso);
    const before = head(file, 64 * 2048);
    const start = Math.ceil(xorrisoBlocks(file) / 16) * 16;
    await assert.rejects(append(`virtual:dvd+rw:${file}?fault=write-error@${start + 20}`, m2),
      /the volume descriptors at block 16 were not changed, so the disc still holds its previous file system, intact/);
    assert.ok(head(file, 64 * 2048).equals(before));
    assert.deepEqual(new Map([...xorrisoRead(file).files].sort()), shas(expect1));
  });

  test('a disc holding UDF alone (no ISO 9660 volume) grows only as UDF; other data is not overwritten by --append', async () => {
    const spec = `virtual:dvd+rw:${path.join(root, 'udf-only.img')}`;
    const udf = manifest('udfonly', { 'u.txt': 'udf only\n' }, ['udf']);
    await append(spec, udf);
    await assert.rejects(append(spec, m2), /the disc holds a UDF volume without ISO 9660: growing it in place needs a manifest with "fileSystems": \["udf"\]/);
    const other = path.join(root, 'other.img');
    fs.writeFileSync(other, Buffer.alloc(64 * 2048, 0x5a));
    fs.writeFileSync(`${other}.state.json`, fs.readFileSync(path.join(root, 'udf-only.img.state.json')));
    await assert.rejects(append(`virtual:dvd+rw:${other}`, m2), /holds data that is neither an ISO 9660 nor a UDF volume \(another file system\): --append can only grow those; --force overwrites the disc/);
  });

  test('an image file cannot grow a volume; --force still overwrites; CLI --append grows', async () => {
    const file = path.join(root, 'cli.img');
    const spec = `virtual:bd-re:${file}`;
    assert.equal(runCli(['burn', m1iso, '--drive', spec, '-q']).status, 0);
    const image = path.join(root, 'third.iso');
    assert.equal(runCli(['build', m3, '--output', image]).status, 0);
    const img = runCli(['burn', image, '--drive', spec, '--append']);
    assert.equal(img.status, 2);
    assert.match(img.stderr, /cannot become a later session/);
    const r = runCli(['burn', m2, '--drive', spec, '--append', '--delete', '/keep.txt']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /grown in place/);
    assert.match(r.stdout, /1 deleted/);
    assert.deepEqual(isoinfoFiles(file), ['/big.bin', '/dir', '/dir/a.txt', '/dir/b.txt', '/old.txt', '/second.txt']);
    const f = runCli(['burn', m3, '--drive', spec, '--force', '-q']);
    assert.equal(f.status, 0, f.stderr);
    assert.deepEqual(isoinfoFiles(file), ['/third.txt']);
  });
});

/** The volume space size (ECMA-119 8.4.8) of the volume whose descriptors are at block 16 of an image file. */
function xorrisoBlocks(file: string): number {
  return head(file, 17 * 2048).readUInt32LE(16 * 2048 + 80);
}
