// Bootable images (issue 4): the El Torito boot record, catalog and entries, the boot info table, the generated EFI
// system partition and the hybrid MBR/GPT, judged by tools we did not write: xorriso's El Torito and system-area
// reports, sgdisk's GPT verification, fsck.fat and mtools on the ESP, isoinfo, 7-Zip and udfinfo for the file
// systems around them. (test/guest/boot-images.test.ts boots the same kind of images under SeaBIOS and OVMF.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertInputError, buildOk, diagnostics, makeTmp, positionOf, runCli, seededBytes, writeManifest, writeTree, type Pos } from '../util/fixtures';
import { run as runTool, sha256, SEVEN_ZIP } from '../util/oracles';
import { inspectImage, readBoot } from '../../server/src/engine/inspect';
import { readAt } from '../util/inspect-tools';

/** A tool's output as text. */
function run(cmd: string, args: string[], opts: { allowFail?: boolean } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = runTool(cmd, args, opts);
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
}

const CREATED = '2026-01-01T00:00:00Z';
const rand = (n: number, seed: string) => seededBytes(seed, n);

interface XorrisoBootEntry { n: number; platform: string; bootable: boolean; emul: string; loadSegment: number; hdpt: number; loadSize: number; lba: number }

/** `xorriso -report_el_torito plain`: the catalog as xorriso (libisofs) reads it. */
function xorrisoElTorito(image: string): { catalogLba: number; catalogPath?: string; entries: XorrisoBootEntry[]; paths: Map<number, string>; opts: Map<number, string> } {
  const out = run('xorriso', ['-indev', image, '-report_el_torito', 'plain']).stdout;
  const entries: XorrisoBootEntry[] = [];
  const paths = new Map<number, string>();
  const opts = new Map<number, string>();
  let catalogLba = -1;
  let catalogPath: string | undefined;
  for (const line of out.split('\n')) {
    let m = /^El Torito catalog\s*:\s*(\d+)/.exec(line);
    if (m) catalogLba = Number(m[1]);
    m = /^El Torito cat path\s*:\s*(\S.*)$/.exec(line);
    if (m) catalogPath = m[1].trim();
    m = /^El Torito boot img\s*:\s*(\d+)\s+(\S+)\s+([yn])\s+(\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\d+)\s+(\d+)/.exec(line);
    if (m) entries.push({ n: Number(m[1]), platform: m[2], bootable: m[3] === 'y', emul: m[4], loadSegment: parseInt(m[5], 16), hdpt: parseInt(m[6], 16), loadSize: Number(m[7]), lba: Number(m[8]) });
    m = /^El Torito img path\s*:\s*(\d+)\s+(\S.*)$/.exec(line);
    if (m) paths.set(Number(m[1]), m[2].trim());
    m = /^El Torito img opts\s*:\s*(\d+)\s+(\S.*)$/.exec(line);
    if (m) opts.set(Number(m[1]), m[2].trim());
  }
  return { catalogLba, catalogPath, entries, paths, opts };
}


/** A file's address as isoinfo reads its Rock Ridge directory record ("[ LBA flags] name"). */
function lbaOfFile(image: string, isoPath: string): number {
  const out = run('isoinfo', ['-R', '-l', '-i', image]).stdout;
  const dir = path.posix.dirname(isoPath);
  const name = path.posix.basename(isoPath);
  let inDir = false;
  for (const line of out.split('\n')) {
    const d = /^Directory listing of (.*)$/.exec(line);
    if (d) {
      inDir = d[1].replace(/\/$/, '') === (dir === '/' ? '' : dir);
      continue;
    }
    const m = /\[\s*(\d+)\s+\d+\]\s+(.+?)\s*$/.exec(line);
    if (inDir && m && m[2] === name) return Number(m[1]);
  }
  assert.fail(`isoinfo does not list ${isoPath}:\n${out}`);
}

function sizeOnDisc(image: string, isoPath: string): number {
  const out = run('xorriso', ['-indev', image, '-find', isoPath, '-exec', 'lsdl', '--']).stdout;
  const line = out.split('\n').find((l) => l.includes(`'${isoPath}'`));
  assert.ok(line, `xorriso does not list ${isoPath}:\n${out}`);
  return Number(line.trim().split(/\s+/)[4]);
}

const ESP_TREE = {
  EFI: { BOOT: { 'BOOTX64.EFI': rand(70_000, 'bootx64'), 'grub.cfg': 'set timeout=0\n' } },
};

describe('El Torito: BIOS + UEFI entries, boot info table, generated ESP, hybrid MBR + GPT', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  let image: string;
  let buildOut: string;
  const loader = rand(6000, 'loader');
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    writeTree(proj, {
      disc: { boot: { 'loader.bin': loader }, 'readme.txt': 'bootable\n', docs: { 'a.txt': 'a\n' } },
      'efi-root': ESP_TREE,
    });
    writeManifest(proj, `{
  "kind": "data",
  "volume": { "label": "BOOTME", "created": "${CREATED}" },
  "files": [ { "source": "disc/", "target": "/" } ],
  "boot": [
    { "platform": "bios", "image": "/boot/loader.bin", "loadSectors": 4, "bootInfoTable": true, "catalogPath": "/boot/boot.cat" },
    { "platform": "efi", "efiDirectory": "efi-root", "image": "/boot/efi.img" }
  ],
  "hybrid": { "mbr": true, "gpt": true },
  "output": "boot.iso"
}
`, 'boot.disc.json');
    image = path.join(proj, 'boot.iso');
    buildOut = buildOk(path.join(proj, 'boot.disc.json'), image, [], { cwd: proj }).stdout;
  });
  after(() => tmp.cleanup());

  test('xorriso reads the catalog: BIOS then UEFI, no emulation, load sizes, addresses of the shown files', () => {
    const et = xorrisoElTorito(image);
    assert.equal(et.catalogPath, '/boot/boot.cat');
    assert.equal(et.catalogLba, lbaOfFile(image, '/boot/boot.cat'));
    assert.equal(et.entries.length, 2, JSON.stringify(et));
    const [bios, efi] = et.entries;
    assert.deepEqual({ ...bios, lba: 0 }, { n: 1, platform: 'BIOS', bootable: true, emul: 'none', loadSegment: 0, hdpt: 0, loadSize: 4, lba: 0 });
    assert.equal(bios.lba, lbaOfFile(image, '/boot/loader.bin'));
    assert.equal(efi.platform, 'UEFI');
    assert.equal(efi.emul, 'none');
    assert.equal(efi.lba, lbaOfFile(image, '/boot/efi.img'));
    const espBytes = sizeOnDisc(image, '/boot/efi.img');
    assert.equal(efi.loadSize, Math.min(Math.ceil(espBytes / 512), 0xffff));
    assert.equal(et.paths.get(1), '/boot/loader.bin');
    assert.equal(et.paths.get(2), '/boot/efi.img');
    // libisofs recognises a boot info table by its content (PVD address, own address, length, checksum).
    assert.equal(et.opts.get(1), 'boot-info-table');
  });

  test('build and check say what boots: entries, ESP, hybrid parts (text and JSON)', () => {
    assert.match(buildOut, /^bootable: BIOS \(\/boot\/loader\.bin; loads 4 × 512 bytes, boot info table\); UEFI \(EFI system partition, FAT12, \d+ bytes, \/boot\/efi\.img; loads \d+ × 512 bytes\); hybrid: MBR with DiscForge's boot code \+ GPT with the EFI system partition$/m);
    const r = runCli(['check', '--json', path.join(proj, 'boot.disc.json')], { cwd: proj });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { boot: { entries: { platform: string; path: string | null; esp?: { fatType: number } }[]; hybrid: { mbr: string; gpt: boolean } } };
    assert.deepEqual(j.boot.entries.map((e) => [e.platform, e.path, e.esp?.fatType ?? null]), [['bios', '/boot/loader.bin', null], ['efi', '/boot/efi.img', 12]]);
    assert.deepEqual(j.boot.hybrid, { mbr: 'discforge', gpt: true });
  });

  test('the boot info table holds the PVD address, the image address, its length and checksum; the source is untouched', () => {
    const lba = lbaOfFile(image, '/boot/loader.bin');
    const onDisc = readAt(image, lba * 2048, loader.length);
    assert.equal(onDisc.readUInt32LE(8), 16);
    assert.equal(onDisc.readUInt32LE(12), lba);
    assert.equal(onDisc.readUInt32LE(16), loader.length);
    let sum = 0;
    for (let k = 64; k + 4 <= loader.length; k += 4) sum = (sum + loader.readUInt32LE(k)) >>> 0;
    const tail = (loader.length - 64) % 4;
    if (tail) {
      const last = Buffer.alloc(4);
      loader.copy(last, 0, loader.length - tail);
      sum = (sum + last.readUInt32LE(0)) >>> 0;
    }
    assert.equal(onDisc.readUInt32LE(20), sum);
    assert.ok(onDisc.subarray(24, 64).equals(Buffer.alloc(40)));
    assert.ok(onDisc.subarray(0, 8).equals(loader.subarray(0, 8)) && onDisc.subarray(64).equals(loader.subarray(64)));
    assert.ok(fs.readFileSync(path.join(proj, 'disc/boot/loader.bin')).equals(loader), 'the source file was changed');
  });

  test('the generated ESP is a clean FAT file system with the folder\'s files (fsck.fat, mtools)', () => {
    const lba = lbaOfFile(image, '/boot/efi.img');
    const size = sizeOnDisc(image, '/boot/efi.img');
    const esp = path.join(tmp.dir, 'esp.img');
    fs.writeFileSync(esp, readAt(image, lba * 2048, size));
    const fsck = run('fsck.fat', ['-n', '-v', esp], { allowFail: true });
    assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
    const dir = run('mdir', ['-i', esp, '-/', '-b', '::']).stdout;
    assert.match(dir, /::\/EFI\/BOOT\/BOOTX64\.EFI/i);
    const out = path.join(tmp.dir, 'esp-out');
    fs.mkdirSync(out);
    run('mcopy', ['-s', '-n', '-i', esp, '::EFI', out]);
    assert.equal(sha256(fs.readFileSync(path.join(out, 'EFI/BOOT/BOOTX64.EFI'))), sha256(ESP_TREE.EFI.BOOT['BOOTX64.EFI']));
    assert.equal(fs.readFileSync(path.join(out, 'EFI/BOOT/grub.cfg'), 'utf8'), 'set timeout=0\n');
  });

  test('hybrid: a protective MBR with DiscForge\'s boot code and a GPT whose partition is the ESP (sgdisk, xorriso)', () => {
    const mbr = readAt(image, 0, 512);
    assert.equal(mbr.readUInt16LE(510), 0xaa55);
    assert.equal(mbr[0x1be + 4], 0xee, 'partition 1 is the GPT protective partition');
    assert.notDeepEqual(mbr.subarray(0, 16), Buffer.alloc(16), 'no boot code');
    // Our MBR code loads the BIOS boot image: its 512-byte address is at 0x1B0.
    assert.equal(Number(mbr.readBigUInt64LE(0x1b0)), lbaOfFile(image, '/boot/loader.bin') * 4);
    const v = run('sgdisk', ['-v', image], { allowFail: true });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /No problems found/);
    const p = run('sgdisk', ['-i', '1', image]).stdout;
    assert.match(p, /C12A7328-F81F-11D2-BA4B-00A0C93EC93B \(EFI system partition\)/i);
    const first = Number(/First sector: (\d+)/.exec(p)![1]);
    const last = Number(/Last sector: (\d+)/.exec(p)![1]);
    assert.equal(first, lbaOfFile(image, '/boot/efi.img') * 4);
    const size = sizeOnDisc(image, '/boot/efi.img');
    assert.equal(last - first + 1, Math.ceil(size / 512));
    const sys = run('xorriso', ['-indev', image, '-report_system_area', 'plain']).stdout;
    assert.match(sys, /GPT partition name\s*:\s*1\s/, sys);
    assert.match(sys, /MBR partition\s*:\s*1\s+0x00\s+0xee\s+1\s/, sys);
  });

  test('our inspector reads back what was planned, with no problems in any file system', async () => {
    const b = await readBoot(image);
    assert.deepEqual(b.problems, []);
    assert.equal(b.boot?.catalogLba, lbaOfFile(image, '/boot/boot.cat'));
    assert.deepEqual(b.boot?.entries.map((e) => [e.platform, e.emulation, e.sectorCount, e.lba, e.bootInfoTable]), [
      ['bios', 'none', 4, lbaOfFile(image, '/boot/loader.bin'), true],
      ['efi', 'none', Math.ceil(sizeOnDisc(image, '/boot/efi.img') / 512), lbaOfFile(image, '/boot/efi.img'), false],
    ]);
    const gpt = b.systemArea?.gpt;
    assert.ok(gpt && gpt.headerCrcOk && gpt.entriesCrcOk && gpt.backup.ok, JSON.stringify(gpt));
    assert.equal(gpt.alternateLba, fs.statSync(image).size / 512 - 1);
    assert.equal(gpt.partitions.length, 1);
    const report = await inspectImage(image);
    assert.deepEqual(report.problems, []);
  });

  test('the file systems around the boot parts stay intact (isoinfo, 7-Zip, udfinfo) and the build is deterministic', () => {
    const d = run('isoinfo', ['-d', '-i', image]).stdout;
    assert.match(d, /El Torito VD version 1 found, boot catalog is in sector (\d+)/);
    const list = run(SEVEN_ZIP, ['l', '-tiso', image]).stdout;
    for (const f of ['readme.txt', 'boot/loader.bin', 'boot/boot.cat', 'boot/efi.img', 'docs/a.txt']) assert.ok(list.includes(f), `7-Zip misses ${f}:\n${list}`);
    const udf = run('udfinfo', [image], { allowFail: true });
    assert.equal(udf.status, 0, udf.stderr);
    const again = path.join(proj, 'again.iso');
    buildOk(path.join(proj, 'boot.disc.json'), again, ['--output', again], { cwd: proj });
    assert.equal(sha256(fs.readFileSync(again)), sha256(fs.readFileSync(image)));
  });
});

describe('El Torito: emulation modes, hidden images, several entries per platform', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    const floppy = Buffer.alloc(1_474_560);
    rand(512, 'floppy').copy(floppy);
    floppy.writeUInt16LE(0xaa55, 510);
    const disk = Buffer.alloc(64 * 512);
    rand(446, 'hd').copy(disk);
    // One partition: type 0x0C (FAT32 LBA), start 1, 63 sectors.
    disk[446] = 0x80;
    disk[446 + 4] = 0x0c;
    disk.writeUInt32LE(1, 446 + 8);
    disk.writeUInt32LE(63, 446 + 12);
    disk.writeUInt16LE(0xaa55, 510);
    writeTree(proj, { disc: { 'fd.img': floppy, 'hd.img': disk, 'a.bin': rand(3000, 'a'), 'b.bin': rand(9000, 'b'), 'x.txt': 'x\n' } });
  });
  after(() => tmp.cleanup());

  test('floppy and hard-disk emulation, a hidden no-emulation image, two BIOS entries in one section', () => {
    writeManifest(proj, `{
  "kind": "data",
  "volume": { "created": "${CREATED}" },
  "files": [ { "source": "disc/", "target": "/" } ],
  "boot": [
    { "platform": "bios", "image": "/fd.img", "emulation": "floppy-1.44" },
    { "platform": "bios", "image": "/hd.img", "emulation": "hard-disk", "id": "hard disk" },
    { "platform": "bios", "image": "/a.bin", "hidden": true, "loadSegment": 4096, "id": "hard disk" },
    { "platform": "efi", "image": "/b.bin", "loadSectors": 2, "id": "uefi" }
  ],
  "output": "emul.iso"
}
`, 'emul.disc.json');
    const image = path.join(proj, 'emul.iso');
    const r = buildOk(path.join(proj, 'emul.disc.json'), image, [], { cwd: proj });
    // b.bin is no FAT image: a warning, not an error
    assert.match(r.stderr, /b\.bin does not look like a FAT file system/);
    const et = xorrisoElTorito(image);
    assert.equal(et.entries.length, 4, JSON.stringify(et.entries));
    const [fd, hd, hidden, efi] = et.entries;
    assert.equal(fd.emul, 'fd1.4');
    assert.equal(fd.lba, lbaOfFile(image, '/fd.img'));
    assert.equal(hd.emul, 'hd');
    assert.equal(hd.hdpt, 0x0c);
    assert.equal(hd.lba, lbaOfFile(image, '/hd.img'));
    assert.equal(hidden.emul, 'none');
    assert.equal(hidden.loadSegment, 4096);
    assert.equal(efi.platform, 'UEFI');
    assert.equal(efi.loadSize, 2);
    // The hidden image is on the disc (its bytes at the catalog's address) but in no directory.
    const list = run(SEVEN_ZIP, ['l', '-tiso', image]).stdout;
    assert.ok(!list.includes('a.bin'), list);
    assert.ok(readAt(image, hidden.lba * 2048, 3000).equals(rand(3000, 'a')));
    // Sections: the default entry, then one section for the two further BIOS entries (same id), one for UEFI.
    const cat = readAt(image, et.catalogLba * 2048, 2048);
    assert.equal(cat[0], 1);
    assert.equal(cat[30], 0x55);
    assert.equal(cat[31], 0xaa);
    let sum = 0;
    for (let k = 0; k < 32; k += 2) sum = (sum + cat.readUInt16LE(k)) & 0xffff;
    assert.equal(sum, 0, 'validation entry checksum');
    assert.equal(cat[64], 0x90);
    assert.equal(cat[65], 0x00);
    assert.equal(cat.readUInt16LE(66), 2);
    assert.equal(cat.toString('latin1', 68, 77), 'hard disk');
    assert.equal(cat[64 + 32 * 3], 0x91);
    assert.equal(cat[64 + 32 * 3 + 1], 0xef);
  });
});

describe('El Torito: PowerPC and Mac entries, one image shared by two entries', () => {
  let tmp: ReturnType<typeof makeTmp>;
  before(() => {
    tmp = makeTmp();
    writeTree(path.join(tmp.dir, 'disc'), { 'bios.bin': rand(2048, 'bios'), 'ppc.bin': rand(4096, 'ppc') });
  });
  after(() => tmp.cleanup());

  test('platform ids 0x01 and 0x02 in their own sections; non-BIOS entries load the whole image by default', async () => {
    const m = writeManifest(tmp.dir, `{
  "kind": "data",
  "volume": { "created": "${CREATED}" },
  "files": [ { "source": "disc", "target": "/" } ],
  "boot": [
    { "platform": "bios", "image": "/bios.bin" },
    { "platform": "ppc", "image": "/ppc.bin", "id": "openfirmware" },
    { "platform": "mac", "image": "/ppc.bin", "loadSectors": 2 }
  ],
  "output": "pm.iso"
}
`, 'pm.disc.json');
    const iso = path.join(tmp.dir, 'pm.iso');
    buildOk(m, iso, [], { cwd: tmp.dir });
    const et = xorrisoElTorito(iso);
    const ppcLba = lbaOfFile(iso, '/ppc.bin');
    assert.deepEqual(et.entries.map((e) => [e.platform, e.emul, e.loadSize, e.lba]), [
      ['BIOS', 'none', 4, lbaOfFile(iso, '/bios.bin')],
      ['PPC', 'none', 8, ppcLba],
      ['Mac', 'none', 2, ppcLba],
    ]);
    const b = await readBoot(iso);
    assert.deepEqual(b.problems, []);
    assert.deepEqual(b.boot?.entries.map((e) => [e.section, e.platform, e.id ?? '']), [[0, 'bios', ''], [1, 'ppc', 'openfirmware'], [2, 'mac', '']]);
  });
});

describe('El Torito: hybrid MBR templates patched as their loaders expect', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    writeTree(proj, { disc: { 'eltorito.img': Buffer.concat([fs.readFileSync('/usr/lib/grub/i386-pc/cdboot.img'), rand(8000, 'core')]), 'isolinux.bin': fs.readFileSync('/usr/lib/ISOLINUX/isolinux.bin') } });
  });
  after(() => tmp.cleanup());

  for (const [name, template, image, mbrAdd] of [
    ['GRUB 2 (boot_hybrid.img)', '/usr/lib/grub/i386-pc/boot_hybrid.img', '/eltorito.img', 4],
    ['ISOLINUX (isohdpfx.bin)', '/usr/lib/ISOLINUX/isohdpfx.bin', '/isolinux.bin', 0],
  ] as const) {
    test(name, () => {
      const m = writeManifest(proj, `{
  "kind": "data",
  "volume": { "created": "${CREATED}" },
  "files": [ { "source": "disc", "target": "/" } ],
  "boot": [ { "platform": "bios", "image": "${image}", "bootInfoTable": true } ],
  "hybrid": { "mbr": "${template}" },
  "output": "t.iso"
}
`, 't.disc.json');
      const iso = path.join(proj, 't.iso');
      buildOk(m, iso, [], { cwd: proj });
      const lba = lbaOfFile(iso, image);
      const mbr = readAt(iso, 0, 512);
      // The template's boot code is kept (bytes 0..431); 0x1B0 holds the boot image's 512-byte address (+4 for GRUB).
      assert.ok(mbr.subarray(0, 432).equals(fs.readFileSync(template).subarray(0, 432)));
      assert.equal(Number(mbr.readBigUInt64LE(0x1b0)), lba * 4 + mbrAdd);
      assert.equal(mbr.readUInt16LE(510), 0xaa55);
      const opts = xorrisoElTorito(iso).opts.get(1) ?? '';
      assert.match(opts, /boot-info-table/);
      if (mbrAdd === 4) {
        // GRUB's core.img learns where it continues from byte 2548 (xorriso --grub2-boot-info): LBA × 4 + 5.
        assert.equal(Number(readAt(iso, lba * 2048 + 2548, 8).readBigUInt64LE(0)), lba * 4 + 5);
        assert.match(opts, /grub2-boot-info/);
      } else {
        assert.doesNotMatch(opts, /grub2-boot-info/);
      }
      const sys = run('xorriso', ['-indev', iso, '-report_system_area', 'plain']).stdout;
      assert.match(sys, /MBR partition\s*:\s*1\s+0x80\s+0x17\s+0\s/, sys);
    });
  }
});

describe('El Torito: bad input names the entry (exit 2, FILE:LINE:COL)', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  let n = 0;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    writeTree(proj, {
      disc: { 'boot.bin': rand(4096, 'boot'), 'small.img': rand(1000, 'small'), dir: { 'x.txt': 'x' }, 'isolinux.bin': fs.readFileSync('/usr/lib/ISOLINUX/isolinux.bin') },
      'efi-root': ESP_TREE,
    });
  });
  after(() => tmp.cleanup());

  function expectError(body: string, at: (string | [string, number] | Pos)[], message: RegExp): string {
    const name = `e${++n}`;
    const text = `{
  "kind": "data",
  "files": [ { "source": "disc/", "target": "/" } ],
${body},
  "output": "${name}.iso"
}
`;
    const manifest = writeManifest(proj, text, `${name}.disc.json`);
    const accept = at.map((a) => (typeof a === 'string' ? positionOf(text, a) : Array.isArray(a) ? positionOf(text, a[0], a[1]) : a));
    const r = runCli(['build', manifest], { cwd: proj });
    return assertInputError(r, manifest, accept, { image: path.join(proj, `${name}.iso`), cwd: proj, message });
  }

  test('a boot image that is not on the disc', () => {
    expectError(`  "boot": [ { "platform": "bios", "image": "/nope.bin" } ]`, ['"/nope.bin"'], /there is no file "\/nope\.bin" on the disc/);
  });
  test('a folder as boot image', () => {
    expectError(`  "boot": [ { "platform": "bios", "image": "/dir" } ]`, ['"/dir"'], /a folder/);
  });
  test('a floppy image of the wrong size', () => {
    expectError(`  "boot": [ { "platform": "bios", "image": "/small.img", "emulation": "floppy-2.88" } ]`, ['"/small.img"'], /exactly 2949120 bytes; \/small\.img is 1000 bytes/);
  });
  test('hard-disk emulation of an image without a partition table', () => {
    expectError(`  "boot": [ { "platform": "bios", "image": "/boot.bin", "emulation": "hard-disk" } ]`, ['"/boot.bin"'], /master boot record and one partition/);
  });
  test('an unknown platform and emulation (schema)', () => {
    expectError(`  "boot": [ { "platform": "arm", "image": "/boot.bin" } ]`, ['"arm"'], /platform/);
    expectError(`  "boot": [ { "platform": "bios", "image": "/boot.bin", "emulation": "floppy" } ]`, ['"floppy"'], /emulation/);
  });
  test('efiDirectory on a BIOS entry, and a missing efiDirectory', () => {
    expectError(`  "boot": [ { "platform": "bios", "efiDirectory": "efi-root" } ]`, ['"efi-root"'], /belongs to an entry with "platform": "efi"/);
    expectError(`  "boot": [ { "platform": "efi", "efiDirectory": "no-such-dir" } ]`, ['"no-such-dir"'], /there is no folder/);
  });
  test('two default entries', () => {
    expectError(`  "boot": [ { "platform": "bios", "image": "/boot.bin", "default": true }, { "platform": "efi", "image": "/small.img", "default": true } ]`,
      [['true }', 2]], /already the default entry/);
  });
  test('an entry with neither image nor efiDirectory', () => {
    expectError(`  "boot": [ { "platform": "bios" } ]`, ['{ "platform": "bios" }'], /needs "image"/);
  });
  test('a catalog path that collides with a file', () => {
    expectError(`  "boot": [ { "platform": "bios", "image": "/boot.bin", "catalogPath": "/small.img" } ]`, ['"/small.img"'], /already on the disc/);
  });
  test('hybrid without boot entries; an MBR without a BIOS entry; a GPT without an EFI entry', () => {
    expectError(`  "hybrid": { "mbr": true }`, ['{ "mbr": true }'], /needs "boot" entries/);
    expectError(`  "boot": [ { "platform": "efi", "efiDirectory": "efi-root" } ],\n  "hybrid": { "mbr": true }`, ['true }'], /add a "platform": "bios" entry/);
    expectError(`  "boot": [ { "platform": "bios", "image": "/boot.bin" } ],\n  "hybrid": { "gpt": true }`, ['true }'], /add a "platform": "efi" entry/);
  });
  test('an MBR template that does not exist or is unknown', () => {
    expectError(`  "boot": [ { "platform": "bios", "image": "/boot.bin" } ],\n  "hybrid": { "mbr": "nope.bin" }`, ['"nope.bin"'], /cannot read the MBR template nope\.bin: no such file/);
    expectError(`  "boot": [ { "platform": "bios", "image": "/boot.bin" } ],\n  "hybrid": { "mbr": "disc/boot.bin" }`, ['"disc/boot.bin"'], /neither syslinux's isohdpfx\.bin nor GRUB's boot_hybrid\.img/);
  });
  test('boot entries on a UDF-only disc', () => {
    expectError(`  "fileSystems": ["udf"],\n  "boot": [ { "platform": "bios", "image": "/boot.bin" } ]`, ['[ { "platform"'], /add "iso9660" to fileSystems/);
  });
  test('warnings: ISOLINUX without a boot info table, and behind DiscForge\'s MBR', () => {
    const manifest = writeManifest(proj, `{
  "kind": "data",
  "files": [ { "source": "disc/", "target": "/" } ],
  "boot": [ { "platform": "bios", "image": "/isolinux.bin" } ],
  "hybrid": { "mbr": true },
  "output": "warn.iso"
}
`, 'warn.disc.json');
    const r = runCli(['check', manifest], { cwd: proj });
    assert.equal(r.status, 0, r.stderr);
    const warnings = diagnostics(r.stderr).filter((d) => d.severity === 'warning').map((d) => d.message);
    assert.ok(warnings.some((m) => /looks like ISOLINUX.*add "bootInfoTable": true/.test(m)), warnings.join('\n'));
    assert.ok(warnings.some((m) => /isohdpfx\.bin/.test(m)), warnings.join('\n'));
  });
});
