// Growing a UDF bridge in place on overwritable media (--append on DVD+RW, BD-RE, DVD-RAM): the new session is a
// whole bridge (ISO 9660 + Joliet + Rock Ridge + UDF) after the volume; its ISO descriptor set and the UDF volume
// recognition sequence after it are copied to block 16 and its UDF anchor to block 256, so UDF readers find the
// new tree as ISO readers do. Judged by readers we did not write — udfinfo (anchors at 256 and at the grown
// volume's last block, the partition reaching down to the first session's data), 7-Zip's UDF handler (every file's
// content), xorriso (the Rock Ridge tree) and the Linux kernel's udf and isofs drivers under QEMU — and by our
// inspector. Bootable discs keep booting (the copied set holds the new boot record) or say they no longer do.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { readMediaState } from '../../server/src/engine/burn/media';
import { recorders } from '../../server/src/engine/burn/registry';
import { inspectImage, readBoot } from '../../server/src/engine/inspect';
import type { UdfEntry } from '../../server/src/engine/inspect/udf';
import { appendTo, head, xorrisoRead } from '../util/burn-fixtures';
import { compareTrees, sevenZipExtractAs, sourceTree, udfinfo } from '../util/udf-oracles';
import { seededBytes } from '../util/fixtures';
import { tmpdir, writeTree } from '../util/tmpdir';
import { ensureGuest, LISTING_SH, parseListing, parseSections, runGuest } from '../guest/guest';

const root = tmpdir('df-grow-udf-');
const CREATED = '2026-01-01T00:00:00Z';
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const pseudo = seededBytes;

function manifest(name: string, files: Record<string, string | Buffer>, extra: Record<string, unknown> = {}): string {
  writeTree(path.join(root, name), files);
  const m = path.join(root, `${name}.disc.json`);
  fs.writeFileSync(m, JSON.stringify({ kind: 'data', volume: { label: name.toUpperCase(), created: CREATED }, files: [{ source: name, target: '/' }], ...extra }));
  return m;
}

const big = pseudo('big', 1_200_000 + 5);
const s1: Record<string, string | Buffer> = { 'keep.txt': 'kept since session 1\n', 'old.txt': 'old version\n', 'dir/a.txt': 'a in dir\n', 'big.bin': big };
const s2: Record<string, string | Buffer> = { 'old.txt': 'new version from session 2\n', 'dir/b.txt': 'b added in session 2\n', 'second.txt': 'second\n' };
const s3: Record<string, string | Buffer> = { 'third.txt': 'third\n' };
const after2 = { ...s1, ...s2 };
const after3: Record<string, string | Buffer> = { ...after2, ...s3 };
delete after3['dir/a.txt'];
delete after3['second.txt'];

/** The tree a reader must show, as sourceTree reads it (written out once per state). */
function expectedTree(name: string, files: Record<string, string | Buffer>) {
  const dir = path.join(root, `expect-${name}`);
  if (!fs.existsSync(dir)) writeTree(dir, files);
  return sourceTree(dir);
}

/** Every reader's view of a grown disc image `file` (N blocks): udfinfo, 7-Zip (UDF), xorriso (Rock Ridge), inspect. */
async function checkReaders(tag: string, file: string, files: Record<string, string | Buffer>, o: { rev: string; firstDataLba: number }) {
  const n = fs.statSync(file).size / 2048;
  // udfinfo: the volume found from the anchor at 256; the second anchor is the volume's last block.
  const u = udfinfo(file);
  assert.equal(u.fields.udfwriterev, o.rev, `${tag}: ${JSON.stringify(u.fields)}`);
  assert.equal(u.fields.numfiles, String(Object.keys(files).length), tag);
  const anchors = u.layout.filter((l) => l.type === 'ANCHOR').map((l) => l.start);
  assert.deepEqual(anchors, [256, n - 1], `${tag}: anchors ${anchors}, volume of ${n} blocks`);
  const pspace = u.layout.find((l) => l.type === 'PSPACE');
  assert.ok(pspace, `${tag}: no partition space in ${JSON.stringify(u.layout)}`);
  assert.ok(pspace.start <= o.firstDataLba, `${tag}: the partition starts at ${pspace.start}, above the first session's data at ${o.firstDataLba}`);
  assert.equal(pspace.start + pspace.blocks, n - 1, `${tag}: the partition ends before the closing anchor`);
  // The partition spans earlier sessions' structures (as a later session's on a write-once disc does): udfinfo
  // says so; nothing else.
  assert.deepEqual(u.stderr.trim().split('\n').filter((l) => l && !/Partition Space overlaps with other blocks/.test(l)), [], `${tag}: udfinfo: ${u.stderr}`);
  // 7-Zip through its UDF handler: every file with its content.
  const want = expectedTree(tag.replace(/\W+/g, '_'), files);
  const got = sevenZipExtractAs(file, 'udf', path.join(root, `7z-${tag.replace(/\W+/g, '_')}`));
  assert.deepEqual(compareTrees(`${tag} 7z udf`, got, want), []);
  // xorriso: the Rock Ridge tree from block 16.
  assert.deepEqual(new Map([...xorrisoRead(file).files].sort()), new Map(Object.entries(files).map(([k, v]) => [k, sha(v)] as [string, string]).sort()));
  // Our inspector: UDF and the ISO views, no problems.
  const report = await inspectImage(file);
  assert.deepEqual(report.problems, [], tag);
  assert.deepEqual(report.fileSystems.map((f) => f.type).sort(), ['iso9660', 'joliet', 'rockridge', 'udf']);
  const udf = report.fileSystems.find((f) => f.type === 'udf')!;
  assert.deepEqual(udf.problems, [], tag);
  assert.deepEqual(udf.entries.filter((e) => e.kind === 'file').map((e) => e.path.slice(1)).sort(), Object.keys(files).sort());
  assert.deepEqual(udf.udf?.anchors, [256, n - 1]);
}

describe('growing a UDF bridge in place keeps UDF', () => {
  const cases = [
    { profile: 'dvd+rw', rev: '2.01', unit: 16 },
    { profile: 'bd-re', rev: '2.50', unit: 32 },
    { profile: 'dvd-ram', rev: '2.60', unit: 16, redundant: true },
  ];
  const grown: { name: string; file: string; files: Record<string, string | Buffer>; fsTypes: string[] }[] = [];
  for (const c of cases) {
    test(`${c.profile}, UDF ${c.rev}: udfinfo, 7-Zip, xorriso and inspect read the grown tree after two growths`, async () => {
      const udfOpt = { udf: { revision: c.rev, ...(c.redundant ? { redundantMetadata: true } : {}) } };
      const m1 = manifest(`one-${c.profile}`, s1, udfOpt);
      const m2 = manifest(`two-${c.profile}`, s2, udfOpt);
      const m3 = manifest(`three-${c.profile}`, s3, udfOpt);
      const file = path.join(root, `${c.profile}.img`);
      const spec = `virtual:${c.profile}:${file}`;
      const r1 = await appendTo(spec, m1);
      assert.equal(r1.startLba, 0);
      // Where session 1 put big.bin (the partition of every later UDF volume must reach down to it).
      const first = (await inspectImage(file)).fileSystems.find((f) => f.type === 'udf')!.entries.find((e) => e.path === '/big.bin')!;
      const firstDataLba = first.extents[0].lba;

      const r2 = await appendTo(spec, m2);
      assert.equal(r2.writeMode, 'grown in place');
      assert.equal(r2.startLba % c.unit, 0);
      assert.ok(r2.startLba >= r1.blocks && r2.startLba < r1.blocks + c.unit);
      const notes2 = r2.notes.join('\n');
      assert.match(notes2, /3 kept, 2 added, 1 replaced, 0 deleted/);
      assert.match(notes2, /its volume descriptors were copied to block 16 \(\d+ ISO 9660 volume descriptors and the 3-block UDF volume recognition sequence/);
      assert.match(notes2, new RegExp(`UDF grew too: the anchor at block 256 is a copy of the new session's \\(block ${r2.startLba + 256}\\)`));
      assert.match(notes2, new RegExp(`the closing anchor is the volume's last block, ${r2.startLba + r2.blocks - 1}`));
      assert.doesNotMatch(notes2, /cleared|not grown/);
      assert.equal(fs.statSync(file).size, (r2.startLba + r2.blocks) * 2048);
      assert.ok(r2.blocks * 2048 < big.length, 'big.bin is not written again');
      await checkReaders(`${c.profile} after 2`, file, after2, { rev: c.rev, firstDataLba });

      const r3 = await appendTo(spec, m3, ['/dir/a.txt', '/second.txt']);
      assert.equal(r3.verified, 'full');
      assert.ok(r3.startLba >= r2.startLba + r2.blocks && r3.startLba % c.unit === 0);
      assert.match(r3.notes.join('\n'), /4 kept, 1 added, 0 replaced, 2 deleted/);
      await checkReaders(`${c.profile} after 3`, file, after3, { rev: c.rev, firstDataLba });

      // Block 256 is the third session's anchor, relocated: same pointers, tag location 256.
      const disc = head(file, (r3.startLba + 257) * 2048);
      const copy = disc.subarray(256 * 2048, 257 * 2048);
      const own = disc.subarray((r3.startLba + 256) * 2048, (r3.startLba + 257) * 2048);
      assert.equal(copy.readUInt32LE(12), 256);
      assert.equal(own.readUInt32LE(12), r3.startLba + 256);
      assert.ok(copy.subarray(16).equals(own.subarray(16)));
      assert.equal(copy.readUInt32LE(20), r3.startLba + 32, 'the main volume descriptor sequence is the third session\'s');
      // The media state finds where the latest tree was written.
      const lease = await recorders.query(spec);
      try {
        const m = await readMediaState(lease.dev);
        assert.deepEqual(m.volume, { label: `THREE_${c.profile.toUpperCase().replace(/\W/g, '_')}`, blocks: r3.startLba + r3.blocks, grownAt: r3.startLba });
      } finally {
        await lease.release();
      }
      grown.push({ name: c.profile.replace(/\W/g, ''), file, files: after3, fsTypes: ['udf', 'iso9660'] });
    });
  }

  test('a UDF-only disc (no ISO 9660) grows as UDF: small files kept inside their entries are carried over', async () => {
    const only = { fileSystems: ['udf'], udf: { revision: '2.01' } };
    // tiny.txt fits in its file entry (allocation type 3): it has no extent to point at and is written again.
    const one = { 'tiny.txt': 'inside the file entry\n', 'keep/big.bin': big, 'old.txt': 'old\n' };
    const two = { 'old.txt': 'replaced in session 2\n', 'added/new.bin': pseudo('new', 70_000) };
    const file = path.join(root, 'udf-only.img');
    const spec = `virtual:bd-re:${file}`;
    const r1 = await appendTo(spec, manifest('uone', one, only));
    const first = (await inspectImage(file)).fileSystems.find((f) => f.type === 'udf')!;
    assert.equal((first.entries.find((e) => e.path === '/tiny.txt') as UdfEntry | undefined)?.embedded, true);
    const firstDataLba = first.entries.find((e) => e.path === '/keep/big.bin')!.extents[0].lba;
    const lease = await recorders.query(spec);
    try {
      const m = await readMediaState(lease.dev);
      assert.deepEqual(m.volume, { label: 'UONE', blocks: r1.blocks, grownAt: undefined, udfOnly: true });
    } finally {
      await lease.release();
    }
    const r2 = await appendTo(spec, manifest('utwo', two, only));
    assert.equal(r2.writeMode, 'grown in place');
    assert.ok(r2.startLba >= r1.blocks && r2.startLba % 32 === 0);
    const notes = r2.notes.join('\n');
    assert.match(notes, /the UDF volume on the disc \(blocks 0–\d+, UONE, 3 files\): 2 kept, 1 added, 1 replaced, 0 deleted/);
    assert.match(notes, /copied to block 16 \(the 3-block UDF volume recognition sequence\)/);
    assert.match(notes, /UDF grew too/);
    const files = { ...one, ...two };
    const n = fs.statSync(file).size / 2048;
    assert.equal(n, r2.startLba + r2.blocks);
    const u = udfinfo(file);
    assert.equal(u.fields.numfiles, '4');
    assert.deepEqual(u.layout.filter((l) => l.type === 'ANCHOR').map((l) => l.start), [256, n - 1]);
    const pspace = u.layout.find((l) => l.type === 'PSPACE')!;
    assert.ok(pspace.start <= firstDataLba && pspace.start + pspace.blocks === n - 1, JSON.stringify(pspace));
    assert.deepEqual(u.stderr.trim().split('\n').filter((l) => l && !/Partition Space overlaps with other blocks/.test(l)), [], u.stderr);
    assert.deepEqual(compareTrees('udf-only 7z', sevenZipExtractAs(file, 'udf', path.join(root, '7z-udf-only')), expectedTree('udf-only', files)), []);
    const report = await inspectImage(file);
    assert.deepEqual(report.problems, []);
    const udf = report.fileSystems.find((f) => f.type === 'udf')!;
    assert.deepEqual(udf.problems, []);
    assert.ok(udf.entries.find((e) => e.path === '/keep/big.bin')!.extents[0].lba === firstDataLba, 'big.bin stays in the first session');
    assert.equal((udf.entries.find((e) => e.path === '/tiny.txt') as UdfEntry | undefined)?.embedded, true);
    const lease2 = await recorders.query(spec);
    try {
      const m = await readMediaState(lease2.dev);
      assert.deepEqual(m.volume, { label: 'UTWO', blocks: n, grownAt: r2.startLba, udfOnly: true });
    } finally {
      await lease2.release();
    }
    grown.push({ name: 'udfonly', file, files, fsTypes: ['udf'] });
  });

  test('the Linux kernel mounts each grown disc as udf (and the bridges as iso9660) and reads every file', async (t) => {
    assert.equal(grown.length, cases.length + 1, 'the growth tests ran first');
    await ensureGuest();
    let script = `${LISTING_SH}\nrc=0\n`;
    grown.forEach((g, i) => {
      for (const fsType of g.fsTypes) script += `mount_list ${g.name}_${fsType} /dev/vd${String.fromCharCode(97 + i)} ${fsType} '' || rc=1\n`;
    });
    script += 'dmesg | grep -i -E "udf|isofs" | sed "s/^/DMESG /"\nexit $rc\n';
    const r = await runGuest(script, { roDisks: grown.map((g) => g.file), timeoutSec: 300 });
    t.diagnostic(`guest: ${grown.length} discs, ${grown.reduce((k, g) => k + g.fsTypes.length, 0)} mounts in ${r.seconds.toFixed(1)} s`);
    assert.equal(r.status, 0, r.output);
    const sections = parseSections(r.output);
    for (const g of grown) {
      for (const fsType of g.fsTypes) {
        const s = sections.get(`${g.name}_${fsType}`);
        assert.ok(s && !s.mountFailed && s.status === 0, `${g.name} ${fsType}: ${s?.mountFailed ?? 'no listing'}\n${r.output}`);
        const files = new Map([...parseListing(s)].filter(([, e]) => e.type === 'file').map(([p, e]) => [p, e.sha256] as [string, string | undefined]).sort());
        assert.deepEqual(files, new Map(Object.entries(g.files).map(([k, v]) => [k, sha(v)] as [string, string]).sort()), `${g.name} through ${fsType}`);
      }
    }
    assert.doesNotMatch(r.output, /UDF-fs: (error|warning)|I\/O error|bad (tag|checksum)|location mismatch/i, r.output);
  });
});

describe('a bootable bridge grown in place', () => {
  const bootFiles = (version: string) => ({ 'boot/loader.bin': Buffer.concat([pseudo(`loader ${version}`, 64), Buffer.from(`LOADER ${version}`), pseudo(`tail ${version}`, 6000)]) });
  const bootEntry = { boot: [{ platform: 'bios', image: '/boot/loader.bin', loadSectors: 4, bootInfoTable: true, catalogPath: '/boot/boot.cat' }] };

  test('the new boot record at block 17 points at the new catalog, whose entry is the new image; without "boot" the disc is no longer bootable', async () => {
    const file = path.join(root, 'boot.img');
    const spec = `virtual:dvd+rw:${file}`;
    await appendTo(spec, manifest('boot1', { ...s1, ...bootFiles('one') }, bootEntry));
    const b1 = await readBoot(file);
    assert.ok(b1.boot, 'session 1 is bootable');

    const r2 = await appendTo(spec, manifest('boot2', { ...s2, ...bootFiles('two') }, bootEntry));
    assert.match(r2.notes.join('\n'), /still bootable: the El Torito boot record at block 17 points at the new session's boot catalog/);
    const b2 = await readBoot(file);
    assert.deepEqual(b2.problems, []);
    assert.ok(b2.boot && b2.boot.validation?.checksumOk);
    const end2 = r2.startLba + r2.blocks;
    assert.ok(b2.boot.catalogLba >= r2.startLba && b2.boot.catalogLba < end2, `catalog at ${b2.boot.catalogLba}, session 2 is ${r2.startLba}–${end2 - 1}`);
    assert.notEqual(b2.boot.catalogLba, b1.boot.catalogLba);
    assert.equal(b2.boot.entries.length, 1);
    const e = b2.boot.entries[0];
    assert.equal(e.bootable, true);
    assert.ok(e.lba >= r2.startLba && e.lba < end2, `boot image at ${e.lba}`);
    assert.equal(e.bootInfoTable, true, 'the boot info table names the primary volume descriptor at 16 and the image itself');
    // The image at the entry's address is the new loader (boot info table bytes 8–63 aside).
    const want = bootFiles('two')['boot/loader.bin'];
    const got = head(file, e.lba * 2048 + want.length).subarray(e.lba * 2048);
    assert.ok(got.subarray(64).equals(want.subarray(64)) && got.subarray(0, 8).equals(want.subarray(0, 8)));
    assert.equal(got.readUInt32LE(8), 16);
    assert.equal(got.readUInt32LE(12), e.lba);
    // xorriso agrees on the catalog, and UDF grew too.
    const x = fs.readFileSync(path.join(root, 'boot.img')).subarray(17 * 2048, 18 * 2048);
    assert.equal(x.toString('latin1', 7, 30), 'EL TORITO SPECIFICATION');
    assert.equal(x.readUInt32LE(0x47), b2.boot.catalogLba);
    assert.deepEqual(udfinfo(file).layout.filter((l) => l.type === 'ANCHOR').map((l) => l.start), [256, end2 - 1]);

    const r3 = await appendTo(spec, manifest('boot3', s3));
    assert.match(r3.notes.join('\n'), /the disc is no longer bootable: the manifest has no "boot" entries/);
    const b3 = await readBoot(file);
    assert.equal(b3.boot, undefined);
    const rr = xorrisoRead(file).files;
    assert.ok(rr.has('boot/loader.bin') && rr.has('third.txt'), 'the old loader stays a file of the disc');
  });
});
