// Validates the oracle wrappers (test/util/oracles.ts) on images made by tools we trust, xorriso and
// genisoimage, before they are used to judge DiscForge's images: they must agree with the source tree,
// and they must NOT agree when the image is damaged or the expectation is wrong (no vacuous oracle).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  bsdtarList, checkIsoNames, compareListing, isoNameProblem, isoinfoList, isoinfoVolume, latin1Lossy, parseBsdtarTv,
  parseIsoinfoList, parseXorrisoLsdl, run, verifyImage, xorrisoList, xorrisoPvdInfo,
} from '../util/oracles';
import { Expected, makeTmp, uniqueContent, writeTree } from '../util/fixtures';

const CREATED = new Date('2026-01-01T00:00:00Z');

function sourceTree(root: string): void {
  writeTree(root, {
    'a.txt': uniqueContent('a'),
    'empty-file': '',
    'Grüße 日本': { 'Grüße 日本 ✓.txt': uniqueContent('gruss') },
    'with space.txt': uniqueContent('space'),
    "it's.txt": uniqueContent('quote'),
    'dir1': { dirMode: 0o751, entries: { sub: { 's.sh': { content: uniqueContent('s'), mode: 0o700 }, 'ro.txt': { content: uniqueContent('ro'), mode: 0o444 } } } },
    'empty': {},
    'a-b.txt': uniqueContent('a-b'),
    'a_b.txt': uniqueContent('a_b'),
    'link': { symlink: 'a.txt' },
    'dirlink': { symlink: 'dir1/sub' },
    [`${'n'.repeat(56)}.txt`]: uniqueContent('long56'),
    'same1.bin': 'same content\n',
    'same2.bin': 'same content\n',
  });
}

describe('oracle self-check on images made by xorriso and genisoimage', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let src: string;
  let expected: Expected;
  before(() => {
    tmp = makeTmp();
    src = path.join(tmp.dir, 'src');
    sourceTree(src);
    expected = new Expected().folder('/', src);
  });
  after(() => tmp.cleanup());

  test('xorriso -as mkisofs -R -J: all readers agree with the source tree', () => {
    const iso = path.join(tmp.dir, 'x.iso');
    run('xorriso', ['-as', 'mkisofs', '-R', '-J', '-V', 'SELFCHECK', '-o', iso, src]);
    const work = path.join(tmp.dir, 'w-x');
    fs.mkdirSync(work);
    const r = verifyImage(iso, expected.tree, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 1, work });
    assert.deepEqual(r.problems, []);
    assert.ok(r.listed.length >= 10, r.listed.join(', '));
    assert.ok(r.extracted.length >= 8, r.extracted.join(', '));
  });

  test('xorriso without Joliet: 7z reads Rock Ridge (modes, symlinks)', () => {
    const iso = path.join(tmp.dir, 'x-rr.iso');
    run('xorriso', ['-as', 'mkisofs', '-R', '-iso-level', '3', '-o', iso, src]);
    const work = path.join(tmp.dir, 'w-xrr');
    fs.mkdirSync(work);
    const r = verifyImage(iso, expected.tree, { fileSystems: ['iso9660', 'rockridge'], level: 3, work });
    assert.deepEqual(r.problems, []);
    assert.ok(r.listed.includes('7z/rockridge'));
  });

  test('plain ISO 9660 only (xorriso --norock): every reader sees all files, by content', () => {
    const iso = path.join(tmp.dir, 'x-plain.iso');
    // Symlinks have no place in a plain image: make one without them.
    const plainSrc = path.join(tmp.dir, 'plain-src');
    sourceTree(plainSrc);
    fs.rmSync(path.join(plainSrc, 'link'));
    fs.rmSync(path.join(plainSrc, 'dirlink'));
    run('xorriso', ['-as', 'mkisofs', '--norock', '-iso-level', '2', '-o', iso, plainSrc]);
    const work = path.join(tmp.dir, 'w-plain');
    fs.mkdirSync(work);
    const exp = new Expected().folder('/', plainSrc);
    const r = verifyImage(iso, exp.tree, { fileSystems: ['iso9660'], level: 2, work });
    assert.deepEqual(r.problems, []);
    assert.ok(r.listed.includes('7z/iso9660'));
  });

  test('genisoimage -R -J: all readers agree with the source tree', () => {
    const iso = path.join(tmp.dir, 'g.iso');
    run('genisoimage', ['-quiet', '-R', '-J', '-V', 'SELFCHECK', '-o', iso, src]);
    const work = path.join(tmp.dir, 'w-g');
    fs.mkdirSync(work);
    // genisoimage -R without -r keeps real modes; its level-1 names are what we check against.
    const r = verifyImage(iso, expected.tree, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 1, work });
    // genisoimage puts symlinks into the Joliet tree as empty files (DiscForge promises not to): everything
    // else agrees, and exactly that difference is seen by every Joliet reader.
    const expectedProblems: string[] = [];
    for (const reader of ['xorriso', 'isoinfo', 'bsdtar', 'iso-info', '7z']) {
      expectedProblems.push(`[${reader}/joliet listing] /dirlink: unexpected file of 0 bytes`, `[${reader}/joliet listing] /link: unexpected file of 0 bytes`);
    }
    for (const reader of ['xorriso', 'bsdtar', '7z']) {
      expectedProblems.push(`[${reader}/joliet extract] /dirlink: unexpected file`, `[${reader}/joliet extract] /link: unexpected file`);
    }
    assert.deepEqual([...r.problems].sort(), expectedProblems.sort());
  });

  test('timestamps: an image whose every time is one instant passes, the current time does not', () => {
    const timedSrc = path.join(tmp.dir, 'timed-src');
    sourceTree(timedSrc);
    const t = CREATED.getTime() / 1000;
    const walk = (d: string) => {
      for (const n of fs.readdirSync(d)) {
        const p = path.join(d, n);
        if (fs.lstatSync(p).isDirectory()) walk(p);
        fs.lutimesSync(p, t, t);
      }
    };
    walk(timedSrc);
    fs.utimesSync(timedSrc, t, t);
    const iso = path.join(tmp.dir, 'timed.iso');
    const env = { ...process.env, SOURCE_DATE_EPOCH: String(t), TZ: 'UTC' };
    const r0 = spawnSync('xorriso', ['-as', 'mkisofs', '-R', '-J', '-o', iso, timedSrc], { env });
    assert.equal(r0.status, 0, r0.stderr?.toString());
    const work = path.join(tmp.dir, 'w-t');
    fs.mkdirSync(work);
    const exp = new Expected().folder('/', timedSrc);
    const ok = verifyImage(iso, exp.tree, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 1, work, created: CREATED, perFile: false });
    assert.deepEqual(ok.problems, []);
    const work2 = path.join(tmp.dir, 'w-t2');
    fs.mkdirSync(work2);
    const bad = verifyImage(iso, exp.tree, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 1, work: work2, created: new Date('2025-06-01T12:00:00Z'), perFile: false });
    assert.ok(bad.problems.some((p) => p.startsWith('[7z/joliet time]')), bad.problems.join('\n'));
    assert.ok(bad.problems.some((p) => p.startsWith('[iso-info/rockridge time]')), bad.problems.join('\n'));
    assert.ok(bad.problems.some((p) => p.startsWith('[xorriso -pvd_info]')), bad.problems.join('\n'));
    assert.ok(bad.problems.some((p) => p.startsWith('[isoinfo -d]')), bad.problems.join('\n'));
    assert.equal(xorrisoPvdInfo(iso)['Creation Time'], '2026010100000000');
  });

  test('the oracles catch damaged content, a missing file, a wrong mode and a wrong symlink', () => {
    const iso = path.join(tmp.dir, 'bad.iso');
    run('xorriso', ['-as', 'mkisofs', '-R', '-J', '-o', iso, src]);
    // Damage a.txt's data in the image: find its extent by its unique first line.
    const img = fs.readFileSync(iso);
    const needle = Buffer.from('a\n');
    const aContent = fs.readFileSync(path.join(src, 'a.txt'));
    const at = img.indexOf(aContent);
    assert.ok(at > 0 && at % 2048 === 0, 'a.txt data not found at a block start');
    img[at + needle.length + 3] ^= 0xff;
    fs.writeFileSync(iso, img);

    const exp = new Expected().folder('/', src);
    exp.tree.set('/ghost.txt', { kind: 'file', size: 3, sha256: 'x'.repeat(64) });
    const sub = exp.tree.get('/dir1/sub/s.sh')!;
    sub.mode = 0o755;
    exp.tree.set('/link', { kind: 'symlink', target: 'elsewhere' });
    const work = path.join(tmp.dir, 'w-bad');
    fs.mkdirSync(work);
    const r = verifyImage(iso, exp.tree, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 1, work });
    const has = (prefix: string, what: string) => assert.ok(r.problems.some((p) => p.startsWith(prefix) && p.includes(what)), `no "${prefix} … ${what}" in:\n${r.problems.join('\n')}`);
    for (const reader of ['xorriso/rockridge extract', 'bsdtar/rockridge extract', 'xorriso/joliet extract', 'bsdtar/joliet extract', '7z/joliet extract']) {
      has(`[${reader}]`, '/a.txt: content differs');
      has(`[${reader}]`, '/ghost.txt: missing');
    }
    has('[isoinfo/rockridge -x]', '/a.txt: content differs');
    has('[iso-read/rockridge]', '/a.txt: content differs');
    for (const reader of ['xorriso', 'isoinfo', 'bsdtar', 'iso-info']) {
      has(`[${reader}/rockridge listing]`, '/dir1/sub/s.sh: mode 0700, expected 0755');
      has(`[${reader}/rockridge listing]`, '/link: symlink target "a.txt", expected "elsewhere"');
      has(`[${reader}/rockridge listing]`, '/ghost.txt: missing');
    }
    has('[xorriso/iso9660 extract]', 'expected (/a.txt)');
    has('[bsdtar/iso9660 extract]', 'expected (/a.txt)');
    // A file put into the wrong folder is caught in the plain view too.
    const exp2 = new Expected().folder('/', src);
    const moved = exp2.tree.get('/a.txt')!;
    exp2.tree.delete('/a.txt');
    exp2.tree.set('/empty/a.txt', moved);
    const ok = fs.readFileSync(path.join(src, 'a.txt'));
    void ok;
    const iso2 = path.join(tmp.dir, 'good.iso');
    run('xorriso', ['-as', 'mkisofs', '-R', '-J', '-o', iso2, src]);
    const work2 = path.join(tmp.dir, 'w-bad2');
    fs.mkdirSync(work2);
    const r2 = verifyImage(iso2, exp2.tree, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 1, work: work2, perFile: false });
    assert.ok(r2.problems.some((p) => p.startsWith('[xorriso/iso9660 extract]') && /holds files of both|split between|another depth/.test(p)), r2.problems.join('\n'));
  });

  test('genisoimage relocation of a deep tree: followed by xorriso and bsdtar, placeholders accepted in the plain view', () => {
    const deepSrc = path.join(tmp.dir, 'deep-src');
    let p = path.join(deepSrc, 'deep');
    for (let i = 1; i <= 11; i++) {
      p = path.join(p, `d${i}`);
      fs.mkdirSync(p, { recursive: true });
      fs.writeFileSync(path.join(p, `f${i}.txt`), uniqueContent(`deep${i}`));
    }
    const iso = path.join(tmp.dir, 'deep-g.iso');
    run('genisoimage', ['-quiet', '-R', '-J', '-o', iso, deepSrc]);
    const exp = new Expected().folder('/', deepSrc);
    // genisoimage leaves its relocation folder visible in Rock Ridge ("rr_moved"), DiscForge must not:
    // expect it here to validate the readers.
    exp.dir('/rr_moved');
    const work = path.join(tmp.dir, 'w-deep');
    fs.mkdirSync(work);
    const r = verifyImage(iso, exp.tree, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 1, work, relocation: true, jolietName: (q) => q });
    // In Joliet there is no rr_moved: exactly that difference is reported, nothing else.
    // libarchive also gives up on genisoimage's over-deep Joliet tree ("out-of-order directory").
    assert.deepEqual(
      r.problems.filter((x) => !x.includes('/rr_moved: missing') && !(x.startsWith('[bsdtar/joliet') && x.includes('out-of-order directory'))),
      [],
    );
    assert.ok(r.listed.includes('bsdtar/rockridge') && r.listed.includes('xorriso/rockridge'));
  });

  test('long Rock Ridge names split into a continuation area (xorriso -iso-level 3): libcdio sees a prefix, handled', () => {
    const longSrc = path.join(tmp.dir, 'long-src');
    const long = `${'Long name with spaces and ümlauts '.repeat(4).slice(0, 116)}.txt`;
    writeTree(longSrc, { d: { [long]: uniqueContent('long'), [`${'z'.repeat(200)}.bin`]: uniqueContent('z200'), 'short.txt': uniqueContent('short') } });
    const iso = path.join(tmp.dir, 'long-x.iso');
    run('xorriso', ['-as', 'mkisofs', '-R', '-iso-level', '3', '-o', iso, longSrc]);
    const work = path.join(tmp.dir, 'w-long');
    fs.mkdirSync(work);
    const r = verifyImage(iso, new Expected().folder('/', longSrc).tree, { fileSystems: ['iso9660', 'rockridge'], level: 3, work });
    assert.deepEqual(r.problems, []);
  });

  test('the oracles notice missing file systems', () => {
    const iso = path.join(tmp.dir, 'nojoliet.iso');
    run('xorriso', ['-as', 'mkisofs', '-R', '-o', iso, src]);
    const work = path.join(tmp.dir, 'w-nj');
    fs.mkdirSync(work);
    const r = verifyImage(iso, expected.tree, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 1, work, perFile: false });
    assert.ok(r.problems.some((p) => p.startsWith('[isoinfo -d] Joliet absent')), r.problems.join('\n'));
    assert.ok(r.problems.some((p) => p.startsWith('[iso-info] Joliet absent')), r.problems.join('\n'));
    assert.equal(isoinfoVolume(iso).hasRockRidge, true);
  });

  test('ISO 9660 name rules per level', () => {
    assert.equal(isoNameProblem('README.TXT;1', 'file', 1), null);
    assert.equal(isoNameProblem('NOEXT.;1', 'file', 1), null);
    assert.match(isoNameProblem('NOEXT;1', 'file', 1) ?? '', /required/);
    assert.match(isoNameProblem('VERYLONGN.TXT;1', 'file', 1) ?? '', /max 8/);
    assert.match(isoNameProblem('A.TEXT;1', 'file', 1) ?? '', /max 3/);
    assert.match(isoNameProblem('lower.txt;1', 'file', 2) ?? '', /d-characters/);
    assert.equal(isoNameProblem('A'.repeat(26) + '.TXT;1', 'file', 2), null);
    assert.match(isoNameProblem('A'.repeat(28) + '.TXT;1', 'file', 3) ?? '', /max 30/);
    assert.equal(isoNameProblem('D'.repeat(31), 'dir', 3), null);
    assert.match(isoNameProblem('D'.repeat(32), 'dir', 2) ?? '', /max 31/);
    assert.match(isoNameProblem('D'.repeat(9), 'dir', 1) ?? '', /max 8/);
    assert.equal(isoNameProblem('A'.repeat(150) + '.TXT', 'file', 4), null);
    assert.match(isoNameProblem('A.TXT;1', 'file', 4) ?? '', /version/);
    assert.match(isoNameProblem('A'.repeat(208), 'file', 4) ?? '', /207/);
    // xorriso -iso-level 1 names pass the level-1 rules, the same names fail level 1 checks when long.
    const tmp2 = makeTmp();
    try {
      const iso = path.join(tmp2.dir, 'l2.iso');
      run('xorriso', ['-as', 'mkisofs', '-R', '-iso-level', '2', '-o', iso, src]);
      const l = xorrisoList(iso, 'iso9660');
      assert.deepEqual(checkIsoNames(l, 2), []);
      assert.ok(checkIsoNames(l, 1).length > 0, 'level-2 names should break level-1 rules');
      assert.deepEqual(checkIsoNames(isoinfoList(iso, 'iso9660'), 2), []);
    } finally {
      tmp2.cleanup();
    }
  });

  test('parsers: quoting, escapes, lossy names, multi-extent records', () => {
    const x = parseXorrisoLsdl(
      "drwxr-xr-x    1 0        0               0 Jan  1  2026 '/'\n" +
        "-rw-r--r--    1 0        0              12 Jan  1  2026 '/it'\"'\"'s'\n" +
        "lrwxrwxrwx    1 0        0               0 Jan  1  2026 '/l'\"'\"'' -> 'it'\"'\"'s'\n" +
        "-rw-r--r--    1 0        0               0 Jan  1  2026 '/new\nline'\n",
    );
    assert.deepEqual([...x.keys()], ["/it's", "/l'", '/new\nline']);
    assert.equal(x.get("/l'")!.target, "it's");
    const b = parseBsdtarTv('-rw-r--r--  1 0      0           0 Nov 23 22:12 tab\\there\n-rw-r--r--  1 0      0           0 Nov 23  2026 back\\\\slash\n', 'rockridge');
    assert.deepEqual([...b.keys()], ['/tab\there', '/back\\slash']);
    assert.equal(latin1Lossy('Grüße 日本 ✓'), 'Grüße __ _');
    const i = parseIsoinfoList(
      'Directory listing of /\n' +
        '----------   0    0    0      4294965248 Nov 23 2026 [     33 FFFF HUGE.BIN;1 \n' +
        '----------   0    0    0       536872960 Nov 23 2026 [2097184 00]  HUGE.BIN;1 \n' +
        '----------   0    0    0               6 Nov 23 2026 [2359329 00]  SMALL.TXT;1 \n',
      'iso9660',
    );
    assert.equal(i.get('/HUGE.BIN;1')!.size, 4294965248 + 536872960);
    assert.equal(i.get('/HUGE.BIN;1')!.extents, 2);
    assert.throws(() => parseIsoinfoList('Directory listing of /\n----------   0    0    0   6 Nov 23 2026 [    33 00]  A.TXT;1 \n----------   0    0    0   6 Nov 23 2026 [    34 00]  A.TXT;1 \n', 'iso9660'), /twice/);
    void bsdtarList;
    void compareListing;
  });
});
