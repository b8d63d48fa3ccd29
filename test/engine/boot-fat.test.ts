// FAT12/16/32 images made by the engine (EFI system partitions), checked with tools we did not write:
// dosfstools' fsck.fat (structure, FAT type), mtools (mdir/minfo/mcopy/mtype: names, contents, times) and file(1).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DirNode, FileNode, TreeNode } from '../../server/src/engine/model';
import { ImageSink } from '../../server/src/engine/image/sink';
import { planFat, type FatOptions, type FatPlan } from '../../server/src/engine/boot/fat';
import { assignShortNames, basisName, lfnEntries, shortNameChecksum } from '../../server/src/engine/boot/fat-names';
import { makeTmp, MiB, writeTree, type TreeSpec } from '../util/fixtures';

const TIME = Date.UTC(2024, 4, 6, 12, 34, 56, 780); // 2024-05-06 12:34:56.78 UTC
const ENV = { ...process.env, LC_ALL: 'C.UTF-8', TZ: 'UTC' };

// ------------------------------------------------------------------------------------------------
// Helpers

/** A DirNode tree from a folder on disk (what the resolver would make of it). */
function treeOf(dir: string, name = '', parent?: DirNode): DirNode {
  const st = fs.statSync(dir);
  const node: DirNode = { kind: 'dir', name, parent, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, origin: [], children: new Map() };
  for (const n of fs.readdirSync(dir)) {
    const p = path.join(dir, n);
    const s = fs.lstatSync(p);
    let child: TreeNode;
    if (s.isSymbolicLink()) child = { kind: 'symlink', name: n, parent: node, mode: 0o777, mtimeMs: s.mtimeMs, origin: [], target: fs.readlinkSync(p) };
    else if (s.isDirectory()) child = treeOf(p, n, node);
    else child = { kind: 'file', name: n, parent: node, mode: s.mode & 0o7777, mtimeMs: s.mtimeMs, origin: [], source: p, size: s.size };
    node.children.set(n, child);
  }
  return node;
}

function memDir(name: string, parent?: DirNode): DirNode {
  const d: DirNode = { kind: 'dir', name, parent, mode: 0o755, mtimeMs: 0, origin: [], children: new Map() };
  parent?.children.set(name, d);
  return d;
}
function memFile(name: string, parent: DirNode, size = 1): FileNode {
  const f: FileNode = { kind: 'file', name, parent, mode: 0o644, mtimeMs: 0, origin: [], source: '/nonexistent', size };
  parent.children.set(name, f);
  return f;
}

/** Plans and writes an image into `file` (after `prefix` zero bytes); returns the plan. */
async function build(root: DirNode, opts: FatOptions, file: string, prefix = 0): Promise<FatPlan> {
  const plan = planFat(root, opts);
  assert.deepEqual(plan.problems, [], 'no problems');
  const fd = fs.openSync(file, 'w');
  try {
    const sink = new ImageSink(fd, { sparse: true });
    sink.zeros(prefix);
    await plan.write(sink);
    assert.equal(sink.pos, prefix + plan.bytes, 'written bytes == planned bytes');
    sink.finish(true);
  } finally {
    fs.closeSync(fd);
  }
  assert.equal(fs.statSync(file).size, prefix + plan.bytes);
  assert.equal(plan.bytes % 2048, 0, 'a whole number of 2048-byte blocks');
  return plan;
}

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { env: ENV, encoding: 'utf8', maxBuffer: 64 * MiB });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** fsck.fat -n -v: exit 0, no complaint, and the FAT type we meant. */
function fsck(img: string, bits: 12 | 16 | 32): string {
  const r = run('fsck.fat', ['-n', '-v', img]);
  assert.equal(r.status, 0, `fsck.fat failed:\n${r.out}`);
  assert.match(r.out, new RegExp(`2 FATs, ${bits} bit entries`), r.out);
  assert.doesNotMatch(r.out, /differ|wrong|invalid|bad |dirty|warning|error|leaving|unchanged|fix|reclaim|orphan|lost/i, r.out);
  return r.out;
}

/** The file(1) verdict mentions the FAT type. */
function fileType(img: string, bits: 12 | 16 | 32): void {
  const r = run('file', ['-b', img]);
  assert.match(r.out, new RegExp(`FAT \\(${bits} bit\\)`), r.out);
}

type Listing = Map<string, { kind: 'dir' } | { kind: 'file'; sha: string }>;

function sha(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * mtools 4.0 turns each UTF-16 unit of a long name into a wide character on its own, so a character outside
 * the BMP (a surrogate pair, correctly stored in the image: checked on the raw bytes) comes out as `__`.
 */
const asMtools = (name: string) => name.replace(/[\u{10000}-\u{10FFFF}]/gu, '__');

/** Relative path → kind/sha256 for a folder on disk (`rename`: the names as the reader will show them). */
function listing(dir: string, rename: (n: string) => string = (n) => n, rel = '', out: Listing = new Map()): Listing {
  for (const n of fs.readdirSync(dir).sort((a, b) => (rename(a) < rename(b) ? -1 : 1))) {
    const p = path.join(dir, n);
    const r = rel ? `${rel}/${rename(n)}` : rename(n);
    if (fs.statSync(p).isDirectory()) {
      out.set(r, { kind: 'dir' });
      listing(p, rename, r, out);
    } else out.set(r, { kind: 'file', sha: sha(p) });
  }
  return out;
}

/** Extracts the whole volume with mcopy and compares names and contents with the source folder. */
function assertExtracts(img: string, src: string, work: string): void {
  const dest = fs.mkdtempSync(path.join(work, 'x-'));
  const r = run('mcopy', ['-s', '-n', '-m', '-i', img, '::*', dest]);
  assert.equal(r.status, 0, r.out);
  assert.deepEqual(listing(dest), listing(src, asMtools));
  fs.rmSync(dest, { recursive: true, force: true });
}

/** `mdir -/` lines of the entries (name, size/DIR, date, time, long name). */
function mdirAll(img: string): string {
  const r = run('mdir', ['-/', '-a', '-i', img, '::']);
  assert.equal(r.status, 0, r.out);
  return r.out;
}

const rnd = (n: number) => crypto.randomBytes(n);

/** The tree with every naming case, tiny to medium files and the EFI layout. */
function namesTree(): TreeSpec {
  return {
    EFI: { BOOT: { 'BOOTX64.EFI': rnd(100_000), 'grub.cfg': 'set timeout=0\n' } },
    'README.TXT': 'exact 8.3\n',
    'readme.md': 'lower case 8.3\n',
    'Mixed Case Name.txt': 'mixed\n',
    'with  spaces .and.dots.txt': 'spaces\n',
    'café.txt': 'unicode\n',
    '日本語のファイル名.txt': 'cjk\n',
    '😀 emoji.txt': 'surrogates\n',
    ['n'.repeat(96) + '.txt']: 'hundred\n',
    ['L'.repeat(255)]: 'max length\n',
    'longfilename1.txt': 'one\n',
    'longfilename2.txt': 'two\n',
    'LONGFI~1.TXT': 'an existing 8.3 name that looks like a tail\n',
    '.hidden': 'dot\n',
    'a+b,c;d=e[f]g.txt': 'lfn-only characters\n',
    'empty.bin': '',
    'one-cluster.bin': rnd(512),
    'cluster+1.bin': rnd(513),
    'medium.bin': rnd(1024 * 1024 + 7),
    emptydir: {},
    deep: { d1: { d2: { d3: { d4: { d5: { d6: { d7: { d8: { d9: { 'Deep File.txt': 'deep\n' } } } } } } } } } },
  };
}

// ------------------------------------------------------------------------------------------------

describe('FAT images (fsck.fat, mtools)', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let names: string;
  before(() => {
    tmp = makeTmp();
    names = path.join(tmp.dir, 'names');
    writeTree(names, namesTree());
  });
  after(() => tmp.cleanup());

  test('FAT12 (automatic): every kind of name, exact contents, EFI layout, times, determinism', async () => {
    const img = path.join(tmp.dir, 'names.img');
    const plan = await build(treeOf(names), { timeMs: TIME }, img);
    assert.equal(plan.fatType, 12);
    assert.equal(plan.clusterBytes, 512);
    fsck(img, 12);
    fileType(img, 12);
    assertExtracts(img, names, tmp.dir);

    const all = mdirAll(img);
    // Exact long names (mdir shows the long name after the short one).
    for (const n of ['Mixed Case Name.txt', 'with  spaces .and.dots.txt', 'café.txt', '日本語のファイル名.txt', asMtools('😀 emoji.txt'), 'n'.repeat(96) + '.txt', 'L'.repeat(255), 'longfilename1.txt', 'longfilename2.txt', 'readme.md', 'grub.cfg', '.hidden', 'Deep File.txt']) {
      assert.ok(all.includes(` ${n}\n`), `${n} listed:\n${all}`);
    }
    // Upper-case 8.3 names have no long name; generated short names never take an existing 8.3 name.
    assert.match(all, /^README {3}TXT +\d+ /m);
    assert.match(all, /^BOOTX64 +EFI +100000 /m);
    assert.match(all, /^LONGFI~1 TXT +\d+ 2024-05-06 +12:34 *$/m);
    assert.match(all, /^LONGFI~2 TXT +\d+ 2024-05-06 +12:34 +longfilename1\.txt$/m);
    assert.match(all, /^LONGFI~3 TXT +\d+ 2024-05-06 +12:34 +longfilename2\.txt$/m);
    assert.match(all, /^README {3}MD +\d+ 2024-05-06 +12:34 +readme\.md$/m);
    // Every entry (files, directories, . and ..) carries timeMs.
    const dated = all.split('\n').filter((l) => /^\S.{11} +(<DIR>|\d+) /.test(l));
    assert.ok(dated.length > 30, all);
    for (const l of dated) assert.match(l, /2024-05-06 +12:34/, l);
    assert.match(all, /Volume in drive : is EFISYS/);

    // The EFI layout, found case-insensitively.
    for (const p of ['::/efi/boot/bootx64.efi', '::/EFI/BOOT/BOOTX64.EFI', '::/Efi/Boot/GRUB.CFG']) {
      const r = run('mdir', ['-i', img, p]);
      assert.equal(r.status, 0, `${p}: ${r.out}`);
    }
    assert.equal(run('mtype', ['-i', img, '::/efi/boot/GRUB.CFG']).out, 'set timeout=0\n');

    // mcopy -m keeps the stored modification time: timeMs, to FAT's 2 s.
    const t = path.join(tmp.dir, 't.txt');
    assert.equal(run('mcopy', ['-n', '-m', '-i', img, '::/deep/d1/d2/d3/d4/d5/d6/d7/d8/d9/Deep File.txt', t]).status, 0);
    assert.equal(fs.statSync(t).mtimeMs, Math.floor(TIME / 2000) * 2000);

    // minfo agrees with the plan.
    const info = run('minfo', ['-i', img, '::']).out;
    assert.match(info, /sector size: 512 bytes/);
    assert.match(info, /cluster size: 1 sectors/);
    assert.match(info, new RegExp(`small size: ${plan.bytes / 512} sectors`));
    assert.match(info, /disk type="FAT12   "/);

    // The boot sector: jump, 0x55AA, our message, the serial derived from timeMs (not random).
    const head = Buffer.alloc(512);
    const fd = fs.openSync(img, 'r');
    fs.readSync(fd, head, 0, 512, 0);
    fs.closeSync(fd);
    assert.deepEqual([...head.subarray(0, 3)], [0xeb, 0x3c, 0x90]);
    assert.equal(head.readUInt16BE(510), 0x55aa);
    assert.ok(head.includes('Not a bootable disk'));
    // The surrogate pair is stored as such (first long-name slot of the entry: '😀 em').
    assert.ok(fs.readFileSync(img).includes(Buffer.from('😀 em', 'utf16le')));

    // Same input, same bytes.
    const img2 = path.join(tmp.dir, 'names2.img');
    const plan2 = await build(treeOf(names), { timeMs: TIME }, img2);
    assert.equal(plan2.bytes, plan.bytes);
    assert.equal(sha(img2), sha(img));
    // Another time: another serial and times, same size.
    const img3 = path.join(tmp.dir, 'names3.img');
    await build(treeOf(names), { timeMs: TIME + 86_400_000 }, img3);
    assert.notEqual(sha(img3), sha(img));
    assert.match(mdirAll(img3), /^README {3}TXT +\d+ 2024-05-07 +12:34/m);
    for (const f of [img, img2, img3]) fs.rmSync(f);
  });

  test('FAT16 (automatic): a few MiB, a root directory of more than 512 entries, a directory of many clusters', async () => {
    const src = path.join(tmp.dir, 'fat16');
    const many: TreeSpec = {};
    for (let i = 0; i < 700; i++) many[`Root entry number ${i}.txt`] = `r${i}\n`;
    const sub: TreeSpec = {};
    for (let i = 0; i < 400; i++) sub[`a rather long file name in a sub directory ${i}.dat`] = `s${i}\n`;
    writeTree(src, { ...many, 'big file.bin': rnd(3 * MiB + 123), sub, 'EFI': { BOOT: { 'BOOTX64.EFI': rnd(4096) } } });
    const img = path.join(tmp.dir, 'fat16.img');
    const plan = await build(treeOf(src), { timeMs: TIME, label: 'My Esp' }, img);
    assert.equal(plan.fatType, 16);
    fsck(img, 16);
    fileType(img, 16);
    assertExtracts(img, src, tmp.dir);
    const all = mdirAll(img);
    assert.ok(all.includes(' Root entry number 699.txt\n'));
    assert.ok(all.includes(' a rather long file name in a sub directory 399.dat\n'));
    assert.match(all, /Volume in drive : is MY ESP/);
    assert.match(run('minfo', ['-i', img, '::']).out, /max available root directory slots: (\d+)/);
    const slots = Number(/max available root directory slots: (\d+)/.exec(run('minfo', ['-i', img, '::']).out)![1]);
    assert.ok(slots > 512 && slots % 16 === 0, `root directory slots ${slots}`);
    fs.rmSync(img);
  });

  test('FAT16 and FAT32 forced on a small tree: the volume is made big enough for the type', async () => {
    for (const bits of [16, 32] as const) {
      const img = path.join(tmp.dir, `forced${bits}.img`);
      const plan = await build(treeOf(names), { timeMs: TIME, fatType: bits }, img);
      assert.equal(plan.fatType, bits);
      const clusters = (plan.bytes / plan.clusterBytes) | 0;
      assert.ok(clusters > (bits === 16 ? 4085 : 65525), `${clusters} clusters`);
      const out = fsck(img, bits);
      fileType(img, bits);
      assertExtracts(img, names, tmp.dir);
      assert.ok(mdirAll(img).includes(` ${'L'.repeat(255)}\n`));
      if (bits === 32) {
        assert.match(out, /32 reserved sectors/);
        const b = fs.readFileSync(img).subarray(0, 8 * 512);
        assert.deepEqual([...b.subarray(0, 3)], [0xeb, 0x58, 0x90]);
        assert.ok(b.subarray(0, 512).equals(b.subarray(6 * 512, 7 * 512)), 'backup boot sector');
        assert.equal(b.readUInt32LE(512), 0x41615252, 'FSInfo');
        // FSInfo's free count is what mtools counts as free.
        const free = b.readUInt32LE(512 + 488);
        const bytesFree = Number(/([\d ]+) bytes free/.exec(run('mdir', ['-i', img, '::']).out)![1]!.replace(/ /g, ''));
        assert.equal(free * plan.clusterBytes, bytesFree);
      }
      fs.rmSync(img);
    }
  });

  test('FAT32 (automatic) from 512 MiB on, with minBytes; minBytes grows FAT12/16 volumes too', async () => {
    const img = path.join(tmp.dir, 'auto32.img');
    const plan = await build(treeOf(names), { timeMs: TIME, minBytes: 600 * MiB }, img);
    assert.equal(plan.fatType, 32);
    assert.ok(plan.bytes >= 600 * MiB && plan.bytes < 601 * MiB, `${plan.bytes}`);
    assert.equal(plan.clusterBytes, 4096); // fatgen103's FAT32 table for 260 MB – 8 GB
    fsck(img, 32);
    assertExtracts(img, names, tmp.dir);
    fs.rmSync(img);

    const img2 = path.join(tmp.dir, 'min16.img');
    const plan2 = await build(treeOf(names), { timeMs: TIME, minBytes: 20 * MiB }, img2);
    assert.equal(plan2.fatType, 16);
    assert.ok(plan2.bytes >= 20 * MiB && plan2.bytes < 20 * MiB + 64 * 1024);
    fsck(img2, 16);
    const free = Number(/([\d ]+) bytes free/.exec(run('mdir', ['-i', img2, '::']).out)![1]!.replace(/ /g, ''));
    assert.ok(free > 17 * MiB, `${free} bytes free`);
    fs.rmSync(img2);
  });

  test('written at a non-zero sink position (inside an ISO image)', async () => {
    const img = path.join(tmp.dir, 'offset.img');
    const plan = await build(treeOf(names), { timeMs: TIME }, img, 2048 * 5);
    const whole = fs.readFileSync(img);
    assert.ok(whole.subarray(0, 10240).equals(Buffer.alloc(10240)));
    const alone = path.join(tmp.dir, 'alone.img');
    fs.writeFileSync(alone, whole.subarray(10240));
    fsck(alone, 12);
    const at = `${img}@@10240`;
    const r = run('mdir', ['-/', '-i', at, '::']);
    assert.equal(r.status, 0, r.out);
    assert.ok(r.out.includes(' longfilename2.txt\n'));
    assertExtracts(at, names, tmp.dir);
    // Same bytes as an image written at position 0.
    const zero = path.join(tmp.dir, 'zero.img');
    await build(treeOf(names), { timeMs: TIME }, zero);
    assert.equal(sha(zero), sha(alone));
    assert.equal(plan.bytes, fs.statSync(zero).size);
    for (const f of [img, alone, zero]) fs.rmSync(f);
  });

  test('names FAT cannot hold, symbolic links, case collisions and huge files are errors naming the path; write refuses', async () => {
    const root = memDir('');
    const efi = memDir('EFI', root);
    memFile('ok.txt', efi);
    memFile('a:b.txt', efi);
    memFile('what?', efi);
    memFile('tab\there', efi);
    memFile('x'.repeat(256), efi);
    memFile('trailing.', efi);
    memFile('Read.Me', efi);
    memFile('READ.ME', efi);
    memFile('huge.bin', efi, 5 * 1024 ** 3);
    efi.children.set('link', { kind: 'symlink', name: 'link', parent: efi, mode: 0o777, mtimeMs: 0, origin: [], target: 'ok.txt' });
    const plan = planFat(root, { timeMs: TIME, label: 'lower:bad' });
    const msgs = plan.problems.map((p) => `${p.severity} ${p.message}`);
    const expect = [
      /^error \/EFI\/a:b\.txt: FAT cannot hold this name: the character ":"/,
      /^error \/EFI\/what\?: FAT cannot hold this name: the character "\?"/,
      /^error \/EFI\/tab\there: FAT cannot hold this name: the control character U\+0009/,
      new RegExp(`^error /EFI/${'x'.repeat(256)}: FAT cannot hold this name: a name of 256 UTF-16 units`),
      /^error \/EFI\/trailing\.: FAT cannot hold this name: a name ending in a dot/,
      /^error \/EFI\/Read\.Me: FAT names are case-insensitive and this name is the same as "READ\.ME"/,
      /^error \/EFI\/huge\.bin: 5368709120 bytes is too big for FAT/,
      /^error \/EFI\/link: a symbolic link cannot be stored/,
      /^error volume label "lower:bad" cannot be a FAT label/,
    ];
    for (const re of expect) assert.ok(msgs.some((m) => re.test(m)), `${re} in\n${msgs.join('\n')}`);
    assert.equal(msgs.length, expect.length, msgs.join('\n'));
    assert.equal(plan.problems.find((p) => p.message.includes('link'))!.node.name, 'link');
    const sink = new ImageSink(-1, {});
    await assert.rejects(plan.write(sink), /cannot make the FAT image: .*a:b\.txt/);
    assert.equal(sink.pos, 0, 'nothing written');
  });

  test('an empty tree with no label; a tree too big for a forced FAT12', async () => {
    const src = path.join(tmp.dir, 'empty');
    fs.mkdirSync(src);
    const img = path.join(tmp.dir, 'empty.img');
    const plan = await build(treeOf(src), { timeMs: TIME, label: 'no name', volumeId: 0x12345678 }, img);
    assert.equal(plan.fatType, 12);
    assert.ok(plan.bytes <= 128 * 1024, `${plan.bytes} bytes`);
    fsck(img, 12);
    const r = run('mdir', ['-a', '-i', img, '::']);
    assert.match(r.out, /Volume in drive : has no label/);
    assert.match(r.out, /Volume Serial Number is 1234-5678/);
    assert.match(r.out, /No files/);
    fs.rmSync(img);

    const root = memDir('');
    memFile('big.bin', root, 200 * MiB);
    const big = planFat(root, { timeMs: TIME, fatType: 12 });
    assert.equal(big.problems.length, 1);
    assert.match(big.problems[0]!.message, /does not fit in a FAT12 file system/);
    await assert.rejects(big.write(new ImageSink(-1, {})), /does not fit/);
  });

  test('a file that changed between plan and write makes write throw', async () => {
    const src = path.join(tmp.dir, 'changing');
    writeTree(src, { 'f.txt': 'before\n' });
    const plan = planFat(treeOf(src), { timeMs: TIME });
    fs.appendFileSync(path.join(src, 'f.txt'), 'more\n');
    const img = path.join(tmp.dir, 'changing.img');
    const fd = fs.openSync(img, 'w');
    try {
      await assert.rejects(plan.write(new ImageSink(fd, {})), /changed during the build/);
    } finally {
      fs.closeSync(fd);
    }
  });
});

/** Keeps the boot sector, counts the rest (file data is not read). */
class BootSectorSink {
  pos = 0;
  readonly boot = Buffer.alloc(512);
  write(data: Buffer): void {
    if (this.pos < 512) data.copy(this.boot, this.pos, 0, Math.min(data.length, 512 - this.pos));
    this.pos += data.length;
  }
  zeros(count: number): void {
    this.pos += count;
  }
  pad(block: number): void {
    this.pos += (block - (this.pos % block)) % block;
  }
  async copyFile(file: FileNode): Promise<void> {
    this.pos += file.size;
  }
  async checkpoint(): Promise<void> {}
}

/** The cluster count and FAT type of a boot sector, by fatgen103's formulas (independent of the engine). */
function bpb(b: Buffer): { count: number; type: 12 | 16 | 32; fatEntries: number; totalSectors: number; spc: number } {
  const bps = b.readUInt16LE(11);
  const spc = b[13]!;
  const rsvd = b.readUInt16LE(14);
  const nfats = b[16]!;
  const rootEnt = b.readUInt16LE(17);
  const fatSz = b.readUInt16LE(22) || b.readUInt32LE(36);
  const totalSectors = b.readUInt16LE(19) || b.readUInt32LE(32);
  const rootSecs = Math.ceil((rootEnt * 32) / bps);
  const count = Math.floor((totalSectors - (rsvd + nfats * fatSz + rootSecs)) / spc);
  const type = count < 4085 ? 12 : count < 65525 ? 16 : 32;
  return { count, type, fatEntries: Math.floor((fatSz * bps * 8) / type), totalSectors, spc };
}

describe('FAT sizes near the type limits (fatgen103 cluster counts)', () => {
  test('the type the boot sector implies is the planned one, never within 16 clusters of 4085 / 65525', async () => {
    const cases: { size: number; opts: Partial<FatOptions> }[] = [];
    for (let c = 3950; c <= 4250; c += 3) cases.push({ size: c * 512 + 100, opts: {} });
    for (let c = 65300; c <= 65700; c += 7) cases.push({ size: c * 512, opts: {} });
    for (let c = 65300; c <= 65700; c += 7) cases.push({ size: c * 1024, opts: {} });
    for (const t of [12, 16, 32] as const) for (let k = 0; k < 40; k++) cases.push({ size: k * 97_001, opts: { fatType: t } });
    for (let c = 3990; c <= 4200; c += 5) cases.push({ size: 10, opts: { minBytes: c * 512 } });
    for (let c = 65400; c <= 65700; c += 11) cases.push({ size: 10, opts: { minBytes: c * 512 } });
    cases.push({ size: 10, opts: { fatType: 12, minBytes: 100 * MiB } });
    cases.push({ size: 10, opts: { minBytes: 1.5 * 1024 * MiB } });
    cases.push({ size: 10, opts: { fatType: 16, minBytes: 1.5 * 1024 * MiB } });
    const seen = new Set<string>();
    for (const { size, opts } of cases) {
      const root = memDir('');
      memFile('data.bin', memDir('EFI', root), size);
      const plan = planFat(root, { timeMs: TIME, ...opts });
      assert.deepEqual(plan.problems, []);
      const sink = new BootSectorSink();
      await plan.write(sink as never);
      const what = `size ${size} ${JSON.stringify(opts)}`;
      assert.equal(sink.pos, plan.bytes, what);
      const p = bpb(sink.boot);
      assert.equal(p.type, plan.fatType, what);
      if (opts.fatType) assert.equal(plan.fatType, opts.fatType, what);
      assert.equal(p.totalSectors * 512, plan.bytes, what);
      assert.equal(p.spc * 512, plan.clusterBytes, what);
      for (const limit of [4085, 65525]) assert.ok(Math.abs(p.count - limit) >= 16, `${what}: ${p.count} clusters`);
      assert.ok(p.fatEntries >= p.count + 2, `${what}: FAT too small`);
      assert.ok((p.count - 2) * plan.clusterBytes >= size, `${what}: data fits`);
      assert.ok(plan.bytes >= (opts.minBytes ?? 0), what);
      assert.ok(plan.clusterBytes <= 32768, what);
      seen.add(`${plan.fatType}/${plan.clusterBytes}`);
    }
    for (const k of ['12/512', '16/512', '16/1024', '16/2048', '32/512', '32/4096', '12/32768', '16/32768']) assert.ok(seen.has(k), `${k} in ${[...seen]}`);
  });

  test('fsck.fat and mtools agree on the largest automatic FAT12 and the smallest automatic FAT16', async () => {
    const tmp = makeTmp();
    try {
      const sizes: number[] = [];
      let prev: 12 | 16 | 32 | undefined;
      for (let c = 3700; c <= 4250 && sizes.length < 2; c++) {
        const root = memDir('');
        memFile('d', root, c * 512);
        const t = planFat(root, { timeMs: TIME }).fatType;
        if (prev === 12 && t === 16) sizes.push((c - 1) * 512, c * 512);
        prev = t;
      }
      assert.equal(sizes.length, 2);
      for (const [i, size] of sizes.entries()) {
        const src = path.join(tmp.dir, `s${i}`);
        fs.mkdirSync(src);
        fs.writeFileSync(path.join(src, 'a.txt'), 'a\n');
        fs.truncateSync(path.join(src, 'a.txt'), size);
        const img = path.join(tmp.dir, `b${i}.img`);
        const plan = await build(treeOf(src), { timeMs: TIME }, img);
        const bits = i === 0 ? 12 : 16;
        assert.equal(plan.fatType, bits);
        const out = fsck(img, bits);
        const count = Number(/(\d+) data clusters/.exec(out)![1]);
        assert.ok(bits === 12 ? count <= 4068 : count >= 4101, `${count} clusters`);
        assert.match(run('minfo', ['-i', img, '::']).out, new RegExp(`disk type="FAT${bits}   "`));
        assertExtracts(img, src, tmp.dir);
      }
    } finally {
      tmp.cleanup();
    }
  });
});

describe('FAT names (fatgen103 basis names, numeric tails, long-name entries)', () => {
  test('basis names', () => {
    const b = (n: string) => {
      const x = basisName(n);
      return `${x.primary}.${x.ext}${x.needsTail ? '~' : ''}${x.exact ? '=' : ''}`;
    };
    assert.equal(b('BOOTX64.EFI'), 'BOOTX64.EFI=');
    assert.equal(b('EFI'), 'EFI.=');
    assert.equal(b('grub.cfg'), 'GRUB.CFG'); // fits 8.3 when upper-cased: no tail, but a long name
    assert.equal(b('longfilename1.txt'), 'LONGFILE.TXT~');
    assert.equal(b('a b.txt'), 'AB.TXT~');
    assert.equal(b('.hidden'), 'HIDDEN.~');
    assert.equal(b('café.txt'), 'CAF_.TXT~');
    assert.equal(b('archive.tar.gz'), 'ARCHIVE.GZ~');
    assert.equal(b('page.html'), 'PAGE.HTM~');
  });

  test('numeric tails are deterministic and avoid existing 8.3 names', () => {
    const s = (ns: string[]) => assignShortNames(ns).map((x) => `${x.short.toString('latin1')}${x.lfn ? '+' : ''}`);
    assert.deepEqual(s(['LONGFI~1.TXT', 'longfilename1.txt', 'longfilename2.txt', 'README.TXT', 'readme.md']), [
      'LONGFI~1TXT',
      'LONGFI~2TXT+',
      'LONGFI~3TXT+',
      'README  TXT',
      'README  MD +',
    ]);
    const ten = s(Array.from({ length: 12 }, (_, i) => `verylongname${i}`));
    assert.equal(new Set(ten).size, 12);
    assert.equal(ten[9], 'VERYL~10   +');
  });

  test('long-name entries: order, flags, checksum, NUL and 0xFFFF padding', () => {
    const short = Buffer.from('LONGFI~1TXT', 'latin1');
    const e = lfnEntries('longfilename1.txt', short); // 17 units: two entries
    assert.equal(e.length, 64);
    assert.equal(e[0], 0x42); // last part first, ordinal 2 | 0x40
    assert.equal(e[32], 0x01);
    for (const off of [0, 32]) {
      assert.equal(e[off + 11], 0x0f);
      assert.equal(e[off + 13], shortNameChecksum(short));
      assert.equal(e.readUInt16LE(off + 26), 0);
    }
    assert.equal(e.readUInt16LE(1), '.'.charCodeAt(0)); // unit 13
    assert.equal(e.readUInt16LE(9), 0); // unit 17: NUL
    assert.equal(e.readUInt16LE(14), 0xffff);
    assert.equal(e.readUInt16LE(30), 0xffff);
  });
});
