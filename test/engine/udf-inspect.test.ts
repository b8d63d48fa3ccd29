// `discforge inspect` on UDF: what it reports for good images (revision, partitions, maps, tree with extents),
// and how it survives hostile ones — wrong checksums and CRCs, loops between directories and in allocation extent
// descriptor chains, absurd lengths, missing anchors and descriptor sequences (the reserve sequence, the closing
// anchor and the metadata mirror take over), truncation, limits, and random damage — always a report, never a
// crash or a hang, with the problem named.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectImage, type InspectReport } from '../../server/src/engine/inspect';
import type { UdfEntry } from '../../server/src/engine/inspect/udf';
import { crcItu, tagChecksum } from '../../server/src/engine/udf/encode';
import { InputError } from '../../server/src/engine/util/errors';
import { buildOk, makeTmp, runCli, writeManifest, writeTree } from '../util/fixtures';
import { buildWithSmallExtents } from '../util/udf-build';

const CREATED = '2026-01-01T00:00:00Z';

function read(file: string, off: number, len: number): Buffer {
  const fd = fs.openSync(file, 'r');
  const b = Buffer.alloc(len);
  fs.readSync(fd, b, 0, len, off);
  fs.closeSync(fd);
  return b;
}
function write(file: string, off: number, data: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, data, 0, data.length, off);
  fs.closeSync(fd);
}
/** Edits a descriptor in place and gives it a valid tag again (CRC over its CRC length, then the checksum). */
function editDescriptor(file: string, off: number, edit: (b: Buffer) => void): void {
  const b = read(file, off, 2048);
  edit(b);
  const crcLen = b.readUInt16LE(10);
  b.writeUInt16LE(crcItu(b, 16, 16 + crcLen), 8);
  b[4] = tagChecksum(b, 0);
  write(file, off, b);
}

async function inspectTimed(image: string, opts: { maxEntries?: number; maxDepth?: number } = {}): Promise<InspectReport> {
  const t0 = Date.now();
  const report = await inspectImage(image, opts);
  assert.ok(Date.now() - t0 < 20_000, `inspect took ${Date.now() - t0} ms`);
  return report;
}
const udfOf = (r: InspectReport) => r.fileSystems.find((f) => f.type === 'udf')!;
const entry = (r: InspectReport, p: string) => (udfOf(r).entries as UdfEntry[]).find((e) => e.path === p);
const has = (r: InspectReport, re: RegExp) => assert.ok(r.problems.some((p) => re.test(p)), `no problem matching ${re}:\n${r.problems.join('\n')}`);

describe('discforge inspect: UDF', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  const clean: Record<string, string> = {};
  let n = 0;
  /** A fresh copy of a clean image to damage. */
  const copy = (which: string) => {
    const p = path.join(proj, `damaged${++n}.iso`);
    fs.copyFileSync(clean[which]!, p);
    return p;
  };

  before(async () => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    writeTree(proj, {
      src: {
        'a.txt': 'a\n', 'b.bin': Buffer.alloc(5000, 7), sub: { 'c.txt': 'c\n', deeper: { 'd.txt': 'd\n' } }, 'z.txt': 'z\n',
        link: { symlink: 'a.txt' },
      },
    });
    for (const [name, fsys, udf] of [
      ['u201', '["udf"]', '{ "revision": "2.01" }'],
      ['u250r', '["udf"]', '{ "revision": "2.50", "redundantMetadata": true }'],
      ['b102', '["iso9660", "joliet", "rockridge", "udf"]', '{ "revision": "1.02" }'],
    ] as const) {
      const m = writeManifest(proj, `{ "kind": "data", "volume": { "label": "INSP", "created": "${CREATED}" }, "fileSystems": ${fsys}, "udf": ${udf},
  "files": [ { "source": "src", "target": "/" } ], "output": "${name}.iso" }\n`, `${name}.disc.json`);
      buildOk(m, path.join(proj, `${name}.iso`));
      clean[name] = path.join(proj, `${name}.iso`);
    }
    fs.writeFileSync(path.join(proj, 'aed.bin'), Buffer.alloc(300 * 2048, 3));
    clean['aed'] = path.join(proj, 'aed.iso');
    await buildWithSmallExtents(clean['aed'], '2.01', [{ name: 'aed.bin', source: path.join(proj, 'aed.bin') }], 2048);
  });
  after(() => tmp.cleanup());

  test('a clean image: revision, anchors, partitions and maps, integrity, the tree with extents; text output too', async () => {
    const r = await inspectTimed(clean['u250r']!);
    assert.deepEqual(r.problems, []);
    const fs0 = udfOf(r);
    assert.equal(fs0.label, 'UDF 2.50 "INSP"');
    assert.equal(fs0.udf!.revision, '2.50');
    assert.equal(fs0.udf!.partitionMaps.length, 2);
    assert.equal(fs0.udf!.integrity!.files, 6); // files and symbolic links (UDF 2.2.6.4)
    assert.equal(fs0.udf!.integrity!.directories, 3);
    assert.deepEqual(fs0.entries.map((e) => e.path), ['/', '/a.txt', '/b.bin', '/link', '/sub', '/sub/c.txt', '/sub/deeper', '/sub/deeper/d.txt', '/z.txt']);
    assert.equal(entry(r, '/link')!.target, 'a.txt');
    assert.equal(entry(r, '/b.bin')!.extents[0]!.length, 5000);
    assert.equal(entry(r, '/a.txt')!.embedded, true);
    const text = runCli(['inspect', clean['b102']!]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^UDF 1\.02 "INSP" — 3 directories, 5 files, 1 symlink, 5008 bytes$/m);
    assert.match(text.stdout, /^ {2}\/link -> a\.txt +lrwxrwxrwx/m);
    assert.match(text.stdout, /^Rock Ridge/m);
    assert.match(text.stdout, /No problems found\./);
    const only = runCli(['inspect', clean['u201']!]);
    assert.equal(only.status, 0, only.stderr);
    assert.match(only.stdout, /^Volume descriptors\n {2}none \(no ISO 9660 volume descriptor set: a UDF-only image\)$/m);
    assert.match(only.stdout, /^ {2}recognition +BEA01@16 NSR03@17 TEA01@18$/m);
    assert.match(only.stdout, /^ {2}\/sub\/deeper\/d\.txt +-rw-r--r-- .* in ICB @LBA \d+$/m);
  });

  test('a file entry with a wrong tag checksum: that entry is reported and left out, the rest is listed', async () => {
    const img = copy('u201');
    const icb = entry(await inspectTimed(img), '/b.bin')!.icb;
    const b = read(img, icb * 2048, 16);
    b[4] ^= 0x55;
    write(img, icb * 2048 + 4, b.subarray(4, 5));
    const r = await inspectTimed(img);
    has(r, /\/b\.bin: file entry .*checksum .* is wrong/);
    assert.equal(entry(r, '/b.bin'), undefined);
    assert.ok(entry(r, '/sub/deeper/d.txt'));
    assert.equal(udfOf(r).complete, false);
  });

  test('a directory whose identifiers fail their CRC: reported, the directory is listed up to there', async () => {
    const img = copy('u201');
    const sub = entry(await inspectTimed(img), '/sub')!;
    const at = sub.extents[0]!.lba * 2048 + 40 + 38; // the first child FID's name
    const b = read(img, at, 1);
    b[0] ^= 1;
    write(img, at, b);
    const r = await inspectTimed(img);
    has(r, /\/sub: file identifier descriptor at offset 40: descriptor CRC .* is wrong/);
    assert.equal(entry(r, '/sub/c.txt'), undefined);
  });

  test('a loop: a directory whose child is its own ancestor is listed once, the loop is named', async () => {
    const img = copy('u201');
    const r0 = await inspectTimed(img);
    const root = entry(r0, '/')!;
    const sub = entry(r0, '/sub')!;
    // Point /sub's "deeper" FID at the root directory's ICB (a valid descriptor: CRC and checksum redone).
    const rootIcbBlock = root.icb - udfOf(r0).udf!.partitions[0]!.start;
    const fids = read(img, sub.extents[0]!.lba * 2048, sub.size);
    let off = 0;
    let found = -1;
    while (off < fids.length) {
      const len = (38 + fids[off + 19]! + fids.readUInt16LE(off + 36) + 3) & ~3;
      if (fids.subarray(off + 38, off + 38 + fids[off + 19]!).toString('latin1').includes('deeper')) found = off;
      off += len;
    }
    assert.ok(found >= 0);
    editDescriptor(img, sub.extents[0]!.lba * 2048 + found, (b) => b.writeUInt32LE(rootIcbBlock, 24));
    const r = await inspectTimed(img);
    has(r, /\/sub\/deeper: directory already listed \(a loop/);
    assert.ok(udfOf(r).entries.length < 30);
  });

  test('absurd lengths: a directory of 2^40 bytes, descriptors longer than the entry', async () => {
    const img = copy('u201');
    const r0 = await inspectTimed(img);
    const sub = entry(r0, '/sub')!;
    editDescriptor(img, sub.icb * 2048, (b) => b.writeUInt32LE(256, 60)); // information length 2^40
    const zIcb = entry(r0, '/z.txt')!.icb;
    editDescriptor(img, zIcb * 2048, (b) => b.writeUInt32LE(0xfffffff0, 212)); // L_AD
    const r = await inspectTimed(img);
    has(r, /\/sub: file entry: 10995116\d{5} bytes of directory data, more than the \d+ read here/);
    has(r, /\/z\.txt: file entry: .*allocation descriptors \(4294967280\) do not fit the entry/);
    assert.ok(entry(r, '/a.txt'));
  });

  test('an allocation extent descriptor chain that loops back is cut', async () => {
    const img = copy('aed');
    const r0 = await inspectTimed(img);
    assert.deepEqual(r0.problems, []);
    const e = entry(r0, '/aed.bin')!;
    assert.equal(e.extents.length, 300);
    // The file entry continues in the AED at icb + 1; make that AED's own continuation (its last descriptor, or a
    // new one) point to itself.
    const aed = (e.icb + 1) * 2048;
    editDescriptor(img, aed, (b) => {
      const len = b.readUInt32LE(20);
      const last = 24 + len - 8;
      const self = b.readUInt32LE(12);
      b.writeUInt32LE(((3 << 30) | 2048) >>> 0, last);
      b.writeUInt32LE(self, last + 4);
    });
    const r = await inspectTimed(img);
    has(r, /aed\.bin: file entry: the allocation extent descriptors loop back/);
    assert.equal(entry(r, '/aed.bin'), undefined);
  });

  test('no anchor at 256: the closing anchor is used; no anchor at all: a report saying so', async () => {
    const img = copy('u201');
    write(img, 256 * 2048, Buffer.alloc(2048));
    let r = await inspectTimed(img);
    has(r, /only one anchor/);
    assert.ok(entry(r, '/sub/deeper/d.txt'));
    const size = fs.statSync(img).size;
    write(img, size - 2048, Buffer.alloc(2048));
    r = await inspectTimed(img);
    has(r, /no anchor volume descriptor pointer/);
    assert.equal(udfOf(r).entries.length, 0);
  });

  test('a destroyed main descriptor sequence: the reserve sequence is read', async () => {
    const img = copy('u201');
    write(img, 32 * 2048, Buffer.alloc(6 * 2048, 0xee));
    const r = await inspectTimed(img);
    has(r, /main volume descriptor sequence lacks/);
    assert.equal(udfOf(r).udf!.vdsUsed, 'reserve');
    assert.ok(entry(r, '/sub/deeper/d.txt'));
  });

  test('a damaged metadata file (UDF 2.50): the metadata mirror file is read instead', async () => {
    const img = copy('u250r');
    const r0 = await inspectTimed(img);
    const map = udfOf(r0).udf!.partitionMaps[1] as { metadataFile: number };
    const part = udfOf(r0).udf!.partitions[0]!;
    const at = (part.start + map.metadataFile) * 2048;
    const b = read(img, at, 1);
    write(img, at, Buffer.from([b[0]! ^ 0xff]));
    // ... and the metadata itself (the main copy), so that only the mirror's copy can give the tree.
    write(img, part.start * 2048, Buffer.alloc(2048 * 4, 0xaa));
    const r = await inspectTimed(img);
    has(r, /metadata file entry .* checksum/);
    assert.equal((udfOf(r).udf!.partitionMaps[1] as { readFrom: string }).readFrom, 'mirror file');
    assert.ok(entry(r, '/sub/deeper/d.txt'));
  });

  test('a truncated image: problems, no crash', async () => {
    const img = copy('b102');
    fs.truncateSync(img, Math.floor(fs.statSync(img).size / 2048 / 2) * 2048 + 100);
    const r = await inspectTimed(img);
    assert.ok(r.problems.length > 0);
  });

  test('maxEntries and maxDepth bound the listing', async () => {
    let r = await inspectTimed(clean['u201']!, { maxEntries: 3 });
    has(r, /listing stopped after 3 entries/);
    assert.equal(udfOf(r).entries.length, 3);
    r = await inspectTimed(clean['u201']!, { maxDepth: 1 });
    has(r, /\/sub: contents not listed, deeper than 1 levels/);
    assert.equal(entry(r, '/sub/deeper/d.txt'), undefined);
  });

  test('random damage to the volume structures and the metadata: always a report, quickly', async () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (const which of ['u201', 'u250r', 'b102']) {
      const size = fs.statSync(clean[which]!).size;
      const sectors = [16, 17, 18, 19, 20, 21, 32, 33, 34, 35, 36, 37, 48, 64, 256, size / 2048 - 1];
      const r0 = await inspectTimed(clean[which]!);
      for (const e of udfOf(r0).entries as UdfEntry[]) sectors.push(e.icb, ...e.extents.map((x) => x.lba));
      for (let i = 0; i < 60; i++) {
        const img = copy(which);
        for (let k = 0; k < 6; k++) {
          const s = sectors[Math.floor(rnd() * sectors.length)]!;
          const off = s * 2048 + Math.floor(rnd() * 512);
          const v = Math.floor(rnd() * 256);
          write(img, off, Buffer.from([v, v ^ 0xff, 0xff, 0x7f]));
          // Half the time make the damaged descriptor's tag valid again, so that deeper checks are reached.
          if (rnd() < 0.5) editDescriptor(img, s * 2048, () => undefined);
        }
        // A report, or (when the damage hit the ISO 9660 descriptors a bridge starts with) the image refused as
        // input; nothing else.
        try {
          const r = await inspectTimed(img);
          assert.ok(Array.isArray(r.fileSystems));
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
        }
        fs.rmSync(img);
      }
    }
  });
});
