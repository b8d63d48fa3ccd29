/**
 * `discforge inspect` (server/src/engine/inspect): images built by tools we did not write (xorriso, genisoimage),
 * the ISOs Debian ships, and hostile images corrupted here — compared against isoinfo, xorriso and 7-Zip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatInspectText, inspectImage, type FileSystemReport, type InspectEntry, type InspectReport } from '../../server/src/engine/inspect/index';
import { InputError } from '../../server/src/engine/util/errors';
import {
  both32,
  findRecord,
  hasTool,
  type ListedEntry,
  parse7z,
  parseIsoinfo,
  parseXorrisoLsdl,
  prng,
  readAt,
  run,
  suspFields,
  tempDir,
  writeAt,
  xorrisoSparse,
} from '../util/inspect-tools';

const TOOLS = ['xorriso', 'genisoimage', 'isoinfo', '7zz'].filter((t) => !hasTool(t));
const skipTools = TOOLS.length > 0 ? `missing tools: ${TOOLS.join(', ')}` : false;
const GRUB_ISO = '/usr/lib/grub-rescue/grub-rescue-cdrom.iso';
const IPXE_ISO = '/usr/lib/ipxe/ipxe.iso';
/** Every hostile image must be answered within this time. */
const TIME_LIMIT_MS = 5000;

const LONG_NAME = `long-${'x'.repeat(170)}.txt`;

/** A source tree with what the formats have trouble with: deep dirs, symlinks, long and non-ASCII names. */
function makeSourceTree(root: string): void {
  const mk = (p: string): void => {
    fs.mkdirSync(path.join(root, p), { recursive: true });
  };
  const put = (p: string, data: string | Buffer): void => fs.writeFileSync(path.join(root, p), data);
  mk('Photos/sub');
  mk('a/b/c/d/e/f/g/h/i/j'); // 11 levels below the root: RR relocation territory (ECMA-119 6.8.2.1: at most 8)
  mk('emptydir');
  mk('many');
  put('README.txt', 'hello, disc\n');
  put('empty.txt', '');
  put('a/b/c/d/e/f/g/h/i/j/deep.txt', 'deep\n');
  put('Photos/Ünïcödé long name with spaces.jpeg', 'jpeg?');
  put('Photos/日本語のファイル.txt', 'nihongo');
  put(LONG_NAME, 'long');
  const rnd = prng(42);
  put('Photos/sub/big.bin', Buffer.from(Array.from({ length: 100 * 1024 + 7 }, () => Math.floor(rnd() * 256))));
  for (let i = 1; i <= 120; i++) put(`many/file-${String(i).padStart(3, '0')}.dat`, 'x'.repeat(i));
  fs.symlinkSync('../README.txt', path.join(root, 'Photos/link'));
  fs.symlinkSync('/etc/hostname', path.join(root, 'abs-link'));
  fs.symlinkSync('Photos/sub', path.join(root, 'dir-link'));
}

function fsOf(report: InspectReport, type: FileSystemReport['type']): FileSystemReport {
  const f = report.fileSystems.find((x) => x.type === type);
  assert.ok(f, `no ${type} file system in the report (have: ${report.fileSystems.map((x) => x.type).join(', ')})`);
  return f;
}

function byPath(f: FileSystemReport): Map<string, InspectEntry> {
  return new Map(f.entries.filter((e) => e.depth > 0).map((e) => [e.path, e]));
}

/** Same set of paths; for files the same size; optionally the same LBA, mode, owner and link target. */
function assertSameTree(
  ours: FileSystemReport,
  theirs: Map<string, ListedEntry>,
  what: string,
  check: { lba?: boolean; mode?: boolean; target?: boolean } = {},
): void {
  const mine = byPath(ours);
  assert.deepEqual([...mine.keys()].sort(), [...theirs.keys()].sort(), `${what}: paths differ`);
  for (const [p, t] of theirs) {
    const e = mine.get(p)!;
    assert.equal(e.kind === 'dir', t.dir, `${what}: ${p} directory-ness`);
    if (!t.dir && e.kind !== 'symlink') assert.equal(e.size, t.size, `${what}: ${p} size`);
    if (check.lba && t.lba !== undefined && e.extents.length > 0) assert.equal(e.extents[0].lba, t.lba, `${what}: ${p} LBA`);
    if (check.mode && t.mode !== undefined) {
      assert.equal(e.modeString, t.mode, `${what}: ${p} mode`);
      assert.equal(e.uid, t.uid, `${what}: ${p} uid`);
      assert.equal(e.gid, t.gid, `${what}: ${p} gid`);
    }
    if (check.target && t.target !== undefined) assert.equal(e.target, t.target, `${what}: ${p} symlink target`);
  }
}

const isoinfo = (image: string, ...opts: string[]): Map<string, ListedEntry> =>
  parseIsoinfo(run('isoinfo', ['-l', ...opts, '-i', image]).toString(opts.includes('-J') ? 'latin1' : 'utf8'));
const xorrisoLsdl = (image: string): Map<string, ListedEntry> => {
  const m = parseXorrisoLsdl(run('xorriso', ['-indev', image, '-find', '/', '-exec', 'lsdl']).toString('utf8'));
  m.delete('/');
  return m;
};
const sevenZip = (image: string): Map<string, ListedEntry> => parse7z(run('7zz', ['l', '-slt', image]).toString('utf8'));

// -------------------------------------------------------------------------------------------------------------
// Images from other tools

test('inspect: xorriso -R -J image agrees with isoinfo (ISO 9660), xorriso (Rock Ridge) and 7-Zip (Joliet)', { skip: skipTools }, async (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  makeSourceTree(path.join(dir, 'src'));
  const image = path.join(dir, 'x.iso');
  run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-o', image, path.join(dir, 'src')]);

  const report = await inspectImage(image);
  assert.equal(report.size, fs.statSync(image).size);
  assert.equal(report.sectors, report.size / 2048);
  assert.deepEqual(
    report.volumeDescriptors.map((d) => [d.lba, d.kind]),
    [
      [16, 'primary'],
      [17, 'supplementary'],
      [18, 'terminator'],
    ],
  );
  const pvd = report.volumeDescriptors[0];
  assert.ok(pvd.kind === 'primary');
  assert.equal(pvd.logicalBlockSize, 2048);
  assert.equal(pvd.volumeSpaceSize * 2048, report.size);
  assert.match(pvd.creationDate ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d(Z|[+-]\d\d:\d\d)$/);
  const svd = report.volumeDescriptors[1];
  assert.ok(svd.kind === 'supplementary');
  assert.deepEqual(svd.joliet, { level: 3, escape: '%/E' });

  const iso = fsOf(report, 'iso9660');
  assertSameTree(iso, isoinfo(image), 'ISO 9660 vs isoinfo -l', { lba: true });
  assert.deepEqual(iso.problems, []);

  const rr = fsOf(report, 'rockridge');
  assert.equal(rr.rockRidge?.version, 'RRIP_1991A');
  assertSameTree(rr, xorrisoLsdl(image), 'Rock Ridge vs xorriso lsdl', { mode: true, target: true });
  assertSameTree(rr, isoinfo(image, '-R'), 'Rock Ridge vs isoinfo -R', { lba: true, target: true });
  const rrEntries = byPath(rr);
  assert.equal(rrEntries.get('/Photos/link')?.kind, 'symlink');
  assert.equal(rrEntries.get('/Photos/link')?.target, '../README.txt');
  assert.equal(rrEntries.get('/abs-link')?.target, '/etc/hostname');
  assert.equal(rrEntries.get('/a/b/c/d/e/f/g/h/i/j/deep.txt')?.size, 5);
  assert.equal(rrEntries.get(`/${LONG_NAME}`)?.size, 4);
  assert.equal(rrEntries.get('/Photos/日本語のファイル.txt')?.size, 7);
  assert.equal(rrEntries.get('/many/file-120.dat')?.size, 120);
  assert.equal(rr.symlinks, 3);
  assert.deepEqual(rr.problems, []);

  const joliet = fsOf(report, 'joliet');
  assert.equal(joliet.jolietLevel, 3);
  assertSameTree(joliet, sevenZip(image), 'Joliet vs 7-Zip');
  assert.ok(byPath(joliet).has('/Photos/日本語のファイル.txt'));
  // libisofs 1.5.4 points every Joliet ".." at the directory itself; that (and only that) may be reported.
  for (const p of joliet.problems) assert.match(p, /"\.\." points to LBA/);

  assert.deepEqual(JSON.parse(JSON.stringify(report)), report, 'the report is plain JSON data');
});

for (const level of [1, 2, 3, 4]) {
  test(`inspect: genisoimage -R -J -iso-level ${level} agrees with isoinfo and xorriso`, { skip: skipTools }, async (t) => {
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    makeSourceTree(path.join(dir, 'src'));
    const image = path.join(dir, `g${level}.iso`);
    const joliet = level < 4 ? ['-J'] : [];
    run('genisoimage', ['-quiet', '-R', ...joliet, '-iso-level', String(level), '-o', image, path.join(dir, 'src')]);

    const report = await inspectImage(image);
    assert.deepEqual(report.problems, [], `clean genisoimage image: ${report.problems.join('\n')}`);
    const iso = fsOf(report, 'iso9660');
    assertSameTree(iso, isoinfo(image), 'ISO 9660 vs isoinfo -l', { lba: true });
    if (level === 1) assert.equal(iso.interchangeLevel, 1);
    if (level === 2 || level === 3) assert.equal(iso.interchangeLevel, 2);

    const rr = fsOf(report, 'rockridge');
    assertSameTree(rr, xorrisoLsdl(image), 'Rock Ridge vs xorriso lsdl', { mode: true, target: true });
    assert.equal(byPath(rr).get('/a/b/c/d/e/f/g/h/i/j/deep.txt')?.size, 5);

    if (level < 4) {
      assertSameTree(fsOf(report, 'joliet'), sevenZip(image), 'Joliet vs 7-Zip');
    } else {
      // -iso-level 4 is ISO 9660:1999: an enhanced volume descriptor (SVD version 2) with its own root.
      const evd = report.volumeDescriptors.find((d) => d.kind === 'enhanced');
      assert.ok(evd && evd.kind === 'enhanced' && evd.version === 2);
      const v1999 = fsOf(report, 'iso9660:1999');
      assertSameTree(v1999, isoinfo(image), 'ISO 9660:1999 vs isoinfo -l', { lba: true });
      assert.ok(byPath(v1999).has('/Photos/Ünïcödé long name with spaces.jpeg'));
    }
  });
}

test('inspect: Rock Ridge relocation (CL/PL/RE, rr_moved) puts deep directories back where they belong', { skip: skipTools }, async (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  makeSourceTree(path.join(dir, 'src'));
  const image = path.join(dir, 'deep.iso');
  run('genisoimage', ['-quiet', '-R', '-o', image, path.join(dir, 'src')]);
  const report = await inspectImage(image);

  // Physically (plain ISO 9660), the 9th level lives under RR_MOVED and the original place has a file placeholder.
  const iso = byPath(fsOf(report, 'iso9660'));
  const moved = [...iso.keys()].filter((p) => p.startsWith('/RR_MOVED/'));
  assert.ok(moved.length > 0, 'genisoimage relocated something');
  const placeholder = [...iso.values()].find((e) => e.depth === 8 && e.kind === 'file' && e.size === 0);
  assert.ok(placeholder, 'CL placeholder is a zero-length file in the ISO 9660 view');

  const rr = fsOf(report, 'rockridge');
  const rrp = byPath(rr);
  const h = rrp.get('/a/b/c/d/e/f/g/h');
  assert.equal(h?.kind, 'dir');
  assert.equal(h?.relocated, true);
  assert.equal(h?.modeString?.[0], 'd');
  assert.equal(rrp.get('/a/b/c/d/e/f/g/h/i/j/deep.txt')?.size, 5);
  assert.deepEqual(
    [...rrp.keys()].filter((p) => p.startsWith('/rr_moved/')),
    [],
    'relocated directories (RE) are not listed again under rr_moved',
  );
  // Same place, same extent: the relocated directory's LBA is the one under RR_MOVED.
  assert.equal(h?.extents[0].lba, iso.get('/RR_MOVED/H')?.extents[0].lba);
  assertSameTree(rr, xorrisoLsdl(image), 'Rock Ridge vs xorriso lsdl', { mode: true, target: true });
});

test('inspect: a > 4 GiB file (xorriso -iso-level 3) is one entry with its extents merged', { skip: skipTools }, async (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  const hugeSize = 2 ** 32 + 2 ** 20 + 123; // needs two extents: each is < 4 GiB (ECMA-119 9.1.4 is 32 bits)
  const huge = path.join(src, 'huge.bin');
  fs.writeFileSync(huge, '');
  fs.truncateSync(huge, hugeSize);
  const fd = fs.openSync(huge, 'r+');
  fs.writeSync(fd, Buffer.from('START'), 0, 5, 0);
  fs.writeSync(fd, Buffer.from('END'), 0, 3, hugeSize - 3);
  fs.closeSync(fd);
  fs.writeFileSync(path.join(src, 'small.txt'), 'small\n');
  const image = path.join(dir, 'big.iso');
  await xorrisoSparse(['-quiet', '-iso-level', '3', '-R', src], image);
  fs.rmSync(huge); // only the image is needed from here on
  assert.ok(fs.statSync(image).size > hugeSize);

  const started = Date.now();
  const report = await inspectImage(image);
  assert.ok(Date.now() - started < TIME_LIMIT_MS, 'positional reads only: a 4 GiB image is inspected quickly');
  assert.deepEqual(report.problems, []);
  const iso = fsOf(report, 'iso9660');
  assert.equal(iso.interchangeLevel, 3);
  const e = byPath(iso).get('/HUGE.BIN;1');
  assert.ok(e, 'one entry for the multi-extent file');
  assert.equal(iso.entries.filter((x) => x.name === 'HUGE.BIN;1').length, 1);
  assert.equal(e.size, hugeSize);
  assert.ok(e.extents.length >= 2);
  assert.equal(e.extents.reduce((n, x) => n + x.length, 0), hugeSize);
  // The extents are where the data is: first bytes in the first extent, last bytes at the end of the last.
  assert.equal(readAt(image, e.extents[0].lba * 2048, 5).toString(), 'START');
  const last = e.extents[e.extents.length - 1];
  assert.equal(readAt(image, last.lba * 2048 + last.length - 3, 3).toString(), 'END');

  const rr = byPath(fsOf(report, 'rockridge'));
  assert.equal(rr.get('/huge.bin')?.size, hugeSize);
  assert.equal(rr.get('/huge.bin')?.extents.length, e.extents.length);
  assertSameTree(fsOf(report, 'rockridge'), xorrisoLsdl(image), 'Rock Ridge vs xorriso lsdl', { mode: true });
  assert.equal(sevenZip(image).get('/huge.bin')?.size, hugeSize);
  assert.match(formatInspectText(report), new RegExp(`/HUGE\\.BIN;1 +${hugeSize} .*@LBA ${e.extents[0].lba} \\(\\+1 more extent\\)`));
});

// -------------------------------------------------------------------------------------------------------------
// Real ISOs shipped by Debian

for (const image of [GRUB_ISO, IPXE_ISO]) {
  test(`inspect: ${path.basename(image)} (Debian) agrees with isoinfo`, { skip: skipTools || (!fs.existsSync(image) && `${image} not installed`) }, async () => {
    const report = await inspectImage(image);
    assert.deepEqual(report.problems, []);
    assertSameTree(fsOf(report, 'iso9660'), isoinfo(image), 'ISO 9660 vs isoinfo -l', { lba: true });
    assertSameTree(fsOf(report, 'rockridge'), isoinfo(image, '-R'), 'Rock Ridge vs isoinfo -R', { lba: true, mode: true });
    if (report.fileSystems.some((f) => f.type === 'joliet')) {
      assertSameTree(fsOf(report, 'joliet'), isoinfo(image, '-J'), 'Joliet vs isoinfo -J', { lba: true });
    }
    // Both are El Torito bootable: the boot record's catalog is the boot catalog file.
    const boot = report.volumeDescriptors.find((d) => d.kind === 'boot');
    assert.ok(boot && boot.kind === 'boot' && boot.elTorito);
    const catalog = fsOf(report, 'rockridge').entries.find((e) => /^boot\.cat/.test(e.name));
    assert.equal(catalog?.extents[0].lba, boot.elTorito.catalogLba);
  });
}

// -------------------------------------------------------------------------------------------------------------
// Text output

test('inspect: text output lists descriptors and aligned trees with sizes in bytes', { skip: skipTools }, async (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  makeSourceTree(path.join(dir, 'src'));
  const image = path.join(dir, 'x.iso');
  run('genisoimage', ['-quiet', '-R', '-J', '-o', image, path.join(dir, 'src')]);
  const report = await inspectImage(image);
  const text = formatInspectText(report);
  const lines = text.split('\n');
  assert.ok(lines[0].startsWith(`Image  ${image}`));
  assert.match(text, new RegExp(`Size   ${report.size} bytes \\(${report.sectors} sectors of 2048 bytes\\)`));
  assert.match(text, /LBA 16 +primary \(version 1\)/);
  assert.match(text, /LBA 17 +supplementary: Joliet, UCS-2 level 3 \(%\/E\)/);
  assert.match(text, /LBA 18 +terminator/);
  assert.match(text, /^ISO 9660 \(primary, level 1 names\) — \d+ directories, \d+ files, \d+ bytes$/m);
  assert.match(text, /^Rock Ridge \(RRIP_1991A\) — /m);
  assert.match(text, /^Joliet \(supplementary at sector 17, UCS-2 level 3\) — /m);
  assert.match(text, /^ {2}\/Photos\/link -> \.\.\/README\.txt +lrwxrwxrwx/m);
  assert.match(text, /^ {2}\/Photos\/sub\/big\.bin +-rw-r--r-- +1 +\d+ +\d+ +102407 /m);
  assert.match(text, /^ {2}\/README\.TXT;1 +12 /m);
  assert.match(text, /No problems found\.\n$/);
  // Within one file system, the size column ends at the same position on every line that has one.
  const isoLines = lines.slice(lines.findIndex((l) => l.startsWith('ISO 9660')) + 1, lines.findIndex((l) => l.startsWith('Rock Ridge')) - 1);
  const sizeEnds = new Set(isoLines.filter((l) => !/\/ /.test(l.slice(0, 40)) && /\d  \d{4}-/.test(l)).map((l) => l.search(/\d  \d{4}-/)));
  assert.equal(sizeEnds.size, 1, `sizes aligned:\n${isoLines.join('\n')}`);
});

// -------------------------------------------------------------------------------------------------------------
// Hostile images

let baseImage: Promise<{ dir: string; image: string }> | null = null;
/** One small genisoimage -R -J image, built once; each hostile test corrupts its own copy. */
function base(): Promise<{ dir: string; image: string }> {
  baseImage ??= (async () => {
    const dir = tempDir('discforge-inspect-base-');
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const src = path.join(dir, 'src');
    fs.mkdirSync(path.join(src, 'Photos/sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'README.txt'), 'hi\n');
    for (let i = 1; i <= 30; i++) fs.writeFileSync(path.join(src, `Photos/file${String(i).padStart(2, '0')}.txt`), `file ${i}\n`);
    fs.writeFileSync(path.join(src, 'Photos/sub/x.txt'), 'x\n');
    fs.symlinkSync('../README.txt', path.join(src, 'Photos/link'));
    fs.writeFileSync(path.join(src, `${'L'.repeat(150)}.txt`), 'l\n');
    const image = path.join(dir, 'base.iso');
    run('genisoimage', ['-quiet', '-R', '-J', '-o', image, src]);
    return { dir, image };
  })();
  return baseImage;
}

interface Hostile {
  image: string;
  /** LBA of a directory by its ISO 9660 path ("/" for the root), from isoinfo. */
  dirLba(p: string): number;
}

async function hostileCopy(t: { after(fn: () => void): void }): Promise<Hostile> {
  const b = await base();
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const image = path.join(dir, 'hostile.iso');
  fs.copyFileSync(b.image, image);
  const listing = isoinfo(b.image);
  const rootLba = readAt(b.image, 16 * 2048 + 158, 4).readUInt32LE(0);
  return {
    image,
    dirLba: (p) => (p === '/' ? rootLba : listing.get(p)!.lba!),
  };
}

/** Runs inspect; it must answer in time with a report or an InputError, nothing else. */
async function inspectBounded(image: string, opts = {}): Promise<{ report?: InspectReport; error?: InputError }> {
  const started = Date.now();
  try {
    const report = await inspectImage(image, opts);
    JSON.stringify(report);
    formatInspectText(report);
    return { report };
  } catch (e) {
    assert.ok(e instanceof InputError, `only InputError may escape, got ${(e as Error).stack}`);
    return { error: e };
  } finally {
    assert.ok(Date.now() - started < TIME_LIMIT_MS, `inspect took ${Date.now() - started} ms`);
  }
}

async function expectProblem(image: string, re: RegExp, opts = {}): Promise<InspectReport> {
  const { report, error } = await inspectBounded(image, opts);
  assert.ok(report, `expected a report with problems, got ${error?.message}`);
  assert.ok(report.problems.some((p) => re.test(p)), `no problem matching ${re} in:\n${report.problems.join('\n')}`);
  return report;
}

async function expectInputError(image: string, re: RegExp): Promise<void> {
  const { error } = await inspectBounded(image);
  assert.ok(error, 'expected an InputError');
  assert.ok(error.message.startsWith(`${image}: `), `message names the image: ${error.message}`);
  assert.match(error.message, re);
}

test('inspect hostile: the untouched base image is clean', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const { report } = await inspectBounded(h.image);
  assert.deepEqual(report?.problems, []);
  assert.equal(byPath(fsOf(report!, 'iso9660')).size, 36);
});

test('inspect hostile: directory record length 0 in the middle of a sector', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const rec = findRecord(h.image, h.dirLba('/PHOTOS'), 'FILE05.TXT;1');
  writeAt(h.image, rec.offset, Buffer.from([0]));
  const report = await expectProblem(h.image, /\/PHOTOS\/: non-zero bytes after the last record .*ECMA-119 6\.8\.1\.1/);
  const iso = byPath(fsOf(report, 'iso9660'));
  assert.ok(iso.has('/PHOTOS/FILE04.TXT;1'));
  assert.ok(!iso.has('/PHOTOS/FILE06.TXT;1'), 'a zero length ends the records of that sector');
});

test('inspect hostile: directory record length 1 is reported with its LBA and offset', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const rec = findRecord(h.image, h.dirLba('/PHOTOS'), 'FILE05.TXT;1');
  writeAt(h.image, rec.offset, Buffer.from([1]));
  const lba = Math.floor(rec.offset / 2048);
  const off = rec.offset % 2048;
  await expectProblem(h.image, new RegExp(`directory record at LBA ${lba} offset ${off} has length 1 \\(< 34\\)`));
});

test('inspect hostile: directory record length 255 swallowing its neighbours', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const rec = findRecord(h.image, h.dirLba('/PHOTOS'), 'FILE02.TXT;1');
  writeAt(h.image, rec.offset, Buffer.from([255]));
  const { report } = await inspectBounded(h.image);
  assert.ok(report);
  assert.ok(report.problems.length > 0, 'the damage is noticed');
  assert.ok(!byPath(fsOf(report, 'iso9660')).has('/PHOTOS/FILE03.TXT;1'));
});

test('inspect hostile: directory record crossing a sector boundary', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const lba = h.dirLba('/PHOTOS');
  // Find the last record of the directory's first sector and stretch it over the boundary.
  const sector = readAt(h.image, lba * 2048, 2048);
  let pos = 0;
  let last = 0;
  while (pos < 2048 && sector[pos] !== 0) {
    last = pos;
    pos += sector[pos];
  }
  const len = Math.min(255, 2048 - last + 10);
  assert.ok(last + len > 2048, 'test setup: the stretched record crosses the boundary');
  writeAt(h.image, lba * 2048 + last, Buffer.from([len]));
  await expectProblem(h.image, new RegExp(`directory record at LBA ${lba} offset ${last} has length ${len} and crosses a sector boundary`));
});

test('inspect hostile: file extent past the end of the image', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const rec = findRecord(h.image, h.dirLba('/'), 'README.TXT;1');
  writeAt(h.image, rec.offset + 2, both32(0x7fffff00));
  await expectProblem(h.image, /^\[iso9660\] \/README\.TXT;1: extent at LBA 2147483392 \(3 bytes\) ends past the end of the image .*truncated/);
});

test('inspect hostile: file data length 0xFFFFFFFF', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const rec = findRecord(h.image, h.dirLba('/'), 'README.TXT;1');
  writeAt(h.image, rec.offset + 10, both32(0xffffffff));
  const report = await expectProblem(h.image, /\/README\.TXT;1: extent at LBA \d+ \(4294967295 bytes\) ends past the end .*truncated/);
  assert.equal(byPath(fsOf(report, 'iso9660')).get('/README.TXT;1')?.size, 0xffffffff);
});

test('inspect hostile: directory data length 0xFFFFFFFF', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const rec = findRecord(h.image, h.dirLba('/'), 'PHOTOS');
  writeAt(h.image, rec.offset + 10, both32(0xffffffff));
  await expectProblem(h.image, /\/PHOTOS\/: directory extent at LBA \d+ \(4294967295 bytes\) ends past the end of the image \(truncated\)/);
});

test('inspect hostile: directory whose extent is its parent (cycle)', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const rec = findRecord(h.image, h.dirLba('/PHOTOS'), 'SUB');
  writeAt(h.image, rec.offset + 2, both32(h.dirLba('/PHOTOS')));
  const report = await expectProblem(h.image, /^\[iso9660\] \/PHOTOS\/SUB\/: directory extent at LBA \d+ is already listed as \/PHOTOS\/: directory cycle/);
  assert.ok(report.problems.some((p) => p.startsWith('[rockridge] /Photos/sub/: directory extent')));
  // Listed once, not entered again.
  assert.equal(fsOf(report, 'iso9660').entries.filter((e) => e.path.startsWith('/PHOTOS/SUB/')).length, 0);
});

test('inspect hostile: directory whose extent is the root (cycle through the root)', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const rec = findRecord(h.image, h.dirLba('/PHOTOS'), 'SUB');
  writeAt(h.image, rec.offset + 2, both32(h.dirLba('/')));
  await expectProblem(h.image, /\/PHOTOS\/SUB\/: directory extent at LBA \d+ is already listed as \/: directory cycle/);
});

test('inspect hostile: SUSP CE continuation area pointing to itself', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const rec = findRecord(h.image, h.dirLba('/'), 'README.TXT;1');
  const px = suspFields(h.image, rec).find((f) => f.sig === 'PX');
  assert.ok(px && px.length >= 28 + 4, 'test setup: a PX field big enough to hold a CE');
  // CE (SUSP 5.1) whose continuation area is the CE field itself, then padding (PD) for the rest of the PX.
  const ce = Buffer.concat([
    Buffer.from([0x43, 0x45, 28, 1]),
    both32(Math.floor(px.offset / 2048)),
    both32(px.offset % 2048),
    both32(28),
  ]);
  const pd = Buffer.from([0x50, 0x44, px.length - 28, 1, ...Buffer.alloc(px.length - 32)]);
  writeAt(h.image, px.offset, Buffer.concat([ce, pd]));
  const report = await expectProblem(h.image, /\[rockridge\] \/README\.txt: CE continuation area at block \d+ offset \d+ \(28 bytes\) was already read .*loop/);
  assert.equal(byPath(fsOf(report, 'rockridge')).get('/README.txt')?.size, 3, 'the rest of the record is still read');
});

test('inspect hostile: SUSP CE pointing outside the image', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const rec = findRecord(h.image, h.dirLba('/'), 'README.TXT;1');
  const px = suspFields(h.image, rec).find((f) => f.sig === 'PX')!;
  const ce = Buffer.concat([Buffer.from([0x43, 0x45, 28, 1]), both32(0x00ffffff), both32(0), both32(2048)]);
  const pd = Buffer.from([0x50, 0x44, px.length - 28, 1, ...Buffer.alloc(px.length - 32)]);
  writeAt(h.image, px.offset, Buffer.concat([ce, pd]));
  await expectProblem(h.image, /\/README\.txt: CE continuation area at block 16777215 offset 0 \(2048 bytes\) points outside the image/);
});

test('inspect hostile: Rock Ridge NM with CONTINUE and nothing after it', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const rec = findRecord(h.image, h.dirLba('/'), 'README.TXT;1');
  const nm = suspFields(h.image, rec).find((f) => f.sig === 'NM')!;
  writeAt(h.image, nm.offset + 4, Buffer.from([1])); // flags: CONTINUE (RRIP 4.1.4)
  await expectProblem(h.image, /\[rockridge\] \/README\.txt: NM name has the CONTINUE flag but no NM field follows/);
});

test('inspect hostile: Rock Ridge NM CONTINUE inside a CE loop terminates', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const rec = findRecord(h.image, h.dirLba('/'), 'README.TXT;1');
  const fields = suspFields(h.image, rec);
  const px = fields.find((f) => f.sig === 'PX')!;
  const nm = fields.find((f) => f.sig === 'NM')!;
  writeAt(h.image, nm.offset + 4, Buffer.from([1]));
  // The CE area is the whole System Use Area again: NM CONTINUE, CE back to the same area, forever.
  const ce = Buffer.concat([
    Buffer.from([0x43, 0x45, 28, 1]),
    both32(Math.floor(rec.suOffset / 2048)),
    both32(rec.suOffset % 2048),
    both32(rec.suLength),
  ]);
  const pd = Buffer.from([0x50, 0x44, px.length - 28, 1, ...Buffer.alloc(px.length - 32)]);
  writeAt(h.image, px.offset, Buffer.concat([ce, pd]));
  await expectProblem(h.image, /\/README.*(loop|CONTINUE)/);
});

test('inspect hostile: symbolic link SL with CONTINUE and nothing after it', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const rec = findRecord(h.image, h.dirLba('/PHOTOS'), 'LINK.;1');
  const sl = suspFields(h.image, rec).find((f) => f.sig === 'SL')!;
  writeAt(h.image, sl.offset + 4, Buffer.from([1]));
  await expectProblem(h.image, /\/Photos\/link: symbolic link \(SL\) has the CONTINUE flag/);
});

test('inspect hostile: image cut short', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const size = fs.statSync(h.image).size;
  const photos = h.dirLba('/PHOTOS');
  fs.truncateSync(h.image, (photos + 1) * 2048 + 100); // inside the PHOTOS directory; the file data is gone
  const report = await expectProblem(h.image, /image is truncated: the primary volume descriptor says \d+ blocks/);
  assert.ok(report.size < size);
  assert.ok(report.problems.some((p) => /README\.TXT;1: extent .* truncated/.test(p)));
  assert.ok(report.problems.some((p) => /\/PHOTOS\/: directory extent .* ends past the end of the image \(truncated\)/.test(p)));
});

test('inspect hostile: image cut inside the volume descriptors and right after them', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  fs.truncateSync(h.image, 16 * 2048 + 1000);
  await expectInputError(h.image, /too small for an ISO 9660 image/);
  const h2 = await hostileCopy(t);
  fs.truncateSync(h2.image, 20 * 2048);
  const { report } = await inspectBounded(h2.image);
  assert.ok(report?.problems.some((p) => /directory extent at LBA \d+ is past the end of the image \(truncated\)/.test(p)));
});

test('inspect hostile: absurd path table size', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  writeAt(h.image, 16 * 2048 + 132, both32(0x7fffffff));
  await expectProblem(h.image, /^\[iso9660\] path table: size 2147483647 bytes is absurd/);
});

test('inspect hostile: path table disagreeing with the directory tree', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const pvd = readAt(h.image, 16 * 2048, 2048);
  const lTable = pvd.readUInt32LE(140);
  // Record 1 is the root (8 + 1 + 1 bytes); record 2 is the first subdirectory: point it elsewhere.
  writeAt(h.image, lTable * 2048 + 10 + 2, Buffer.from([0x01, 0, 0, 0]));
  const report = await expectProblem(h.image, /\[iso9660\] path table type L record 2 "PHOTOS" \(LBA 1\) has no directory with that extent/);
  assert.ok(report.problems.some((p) => /record 2 differs between the type L and type M tables/.test(p)));
  assert.ok(report.problems.some((p) => /directory \/PHOTOS\/ \(LBA \d+\) is missing from the path table/.test(p)));
});

test('inspect hostile: volume descriptor set without terminator, and without a primary', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  // The base image has PVD (16), Joliet SVD (17), terminator (18).
  writeAt(h.image, 18 * 2048, Buffer.alloc(2048));
  await expectProblem(h.image, /volume descriptor set not terminated: sector 18 has no "CD001"/);
  const h2 = await hostileCopy(t);
  writeAt(h2.image, 16 * 2048, Buffer.from([9]));
  await expectInputError(h2.image, /no primary volume descriptor/);
});

test('inspect hostile: zero-filled image, 100-byte file, non-ISO file, missing file, directory', async (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const zeros = path.join(dir, 'zeros.iso');
  fs.writeFileSync(zeros, Buffer.alloc(1024 * 1024));
  await expectInputError(zeros, /sector 16 is all zeros: not an ISO 9660 image/);
  const tiny = path.join(dir, 'tiny.iso');
  fs.writeFileSync(tiny, Buffer.alloc(100, 0x41));
  await expectInputError(tiny, /file is 100 bytes, too small for an ISO 9660 image/);
  const text = path.join(dir, 'text.iso');
  fs.writeFileSync(text, 'not an image\n'.repeat(10000));
  await expectInputError(text, /not an ISO 9660 image: no "CD001" volume descriptor at sector 16 \(byte 32769 holds "/);
  await expectInputError(path.join(dir, 'missing.iso'), /cannot open image: no such file/);
  await expectInputError(dir, /not a regular file|cannot/);
});

test('inspect: maxEntries and maxDepth bound the listing and say so', { skip: skipTools }, async (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  makeSourceTree(path.join(dir, 'src'));
  const image = path.join(dir, 'x.iso');
  run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-o', image, path.join(dir, 'src')]);

  const few = await expectProblem(image, /listing stopped after 5 entries \(maxEntries\)/, { maxEntries: 5 });
  for (const f of few.fileSystems) {
    assert.ok(f.entries.length <= 5);
    assert.equal(f.complete, false);
  }
  assert.match(formatInspectText(few), /\(incomplete listing\)/);

  const shallow = await expectProblem(image, /\/a\/b\/c\/: deeper than maxDepth \(3\); contents not listed/, { maxDepth: 3 });
  const rr = fsOf(shallow, 'rockridge');
  assert.equal(Math.max(...rr.entries.map((e) => e.depth)), 3);
  assert.ok(byPath(rr).has('/a/b/c'));
  assert.ok(!byPath(rr).has('/a/b/c/d'));

  await assert.rejects(inspectImage(image, { maxEntries: 0 }), InputError);
});

test('inspect hostile: 300 random corruptions of descriptors and directories stay bounded', { skip: skipTools }, async (t) => {
  const h = await hostileCopy(t);
  const pristine = fs.readFileSync(h.image);
  const rootLba = h.dirLba('/');
  const photos = h.dirLba('/PHOTOS');
  const rnd = prng(1234);
  // Descriptors (16-18), path tables and directories (up to the first file data) are what the reader parses.
  const hot: [number, number][] = [
    [16 * 2048, 19 * 2048],
    [rootLba * 2048, (photos + 4) * 2048],
  ];
  let errors = 0;
  let problems = 0;
  for (let i = 0; i < 300; i++) {
    const img = Buffer.from(pristine);
    const flips = 1 + Math.floor(rnd() * 8);
    for (let k = 0; k < flips; k++) {
      const [a, b] = hot[Math.floor(rnd() * hot.length)];
      img[a + Math.floor(rnd() * (b - a))] = Math.floor(rnd() * 256);
    }
    fs.writeFileSync(h.image, img);
    const { report, error } = await inspectBounded(h.image);
    if (error) errors++;
    else if (report!.problems.length > 0) problems++;
  }
  assert.ok(errors + problems > 30, `corruption is noticed (${errors} errors, ${problems} reports with problems)`);
});
