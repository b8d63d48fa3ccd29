// The MBR of hybrid images (server/src/engine/boot/mbr.ts): DiscForge's own boot code is what nasm makes of
// mbr.asm, the partition table and CHS fields read back right with `file` and xorriso, and syslinux/GRUB templates
// are patched exactly as xorriso patches them (byte for byte). Booting the result: test/guest/firmware-boot.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  MBR_CODE, MBR_COUNT_OFFSET, MBR_LBA_OFFSET, MBR_SEGMENT_OFFSET, chsBytes, makeMbr, templateKind,
} from '../../server/src/engine/boot/mbr';
import { noEmulationImage, xorrisoElTorito, xorrisoMkisofs } from '../util/bootcode';
import { repoRoot } from '../util/fixtures';

const ISOHDPFX = '/usr/lib/ISOLINUX/isohdpfx.bin';
const ISOLINUX_BIN = '/usr/lib/ISOLINUX/isolinux.bin';
const GRUB_HYBRID = '/usr/lib/grub/i386-pc/boot_hybrid.img';

/** `file`'s description of a disk image (its MBR). */
function fileOf(p: string): string {
  return execFileSync('file', ['-b', p], { encoding: 'utf8' }).trim();
}

/** xorriso's view of an image's MBR partition table: [n, status, type, start, blocks] per partition. */
function xorrisoMbrTable(iso: string): number[][] {
  const text = execFileSync('xorriso', ['-indev', iso, '-report_system_area', 'plain'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return [...text.matchAll(/^MBR partition\s+:\s+(\d+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\d+)\s+(\d+)/gm)].map((m) => [
    Number(m[1]), parseInt(m[2], 16), parseInt(m[3], 16), Number(m[4]), Number(m[5]),
  ]);
}

describe('MBR boot code and makeMbr', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'df-mbr-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('mbr-code.ts is what nasm makes of mbr.asm (gen-mbr.mjs --check)', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'gen-mbr.mjs'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.equal(MBR_CODE.length, 0x1b0);
    assert.equal(MBR_LBA_OFFSET, 0x1b0);
    assert.equal(MBR_COUNT_OFFSET, 0x1ac);
    assert.equal(MBR_SEGMENT_OFFSET, 0x1ae);
    assert.equal(MBR_CODE.readUInt16LE(MBR_SEGMENT_OFFSET), 0x07c0, 'default load segment');
    // The assembled code ends before the patch fields (nasm pads with zeros up to 0x1AC).
    assert.ok(MBR_CODE.subarray(0x1a0, 0x1ac).every((b) => b === 0), 'code grew into the padding before 0x1AC');
  });

  test('our code: fields patched, signature, 55 AA, a partition table that file and xorriso read back', () => {
    const mbr = makeMbr({
      code: 'discforge', bootImageLba: 0x1_2345_6789, bootImageSectors: 4, diskSignature: 0xdeadbeef,
      partitions: [{ bootable: true, type: 0x17, startLba: 0, sectors: 2048 }],
    });
    assert.equal(mbr.length, 512);
    assert.deepEqual(mbr.subarray(0, 0x1ac), MBR_CODE.subarray(0, 0x1ac));
    assert.equal(mbr.readUInt16LE(0x1ac), 4);
    assert.equal(mbr.readUInt16LE(0x1ae), 0x07c0);
    assert.equal(mbr.readBigUInt64LE(0x1b0), 0x1_2345_6789n);
    assert.equal(mbr.readUInt32LE(0x1b8), 0xdeadbeef);
    assert.equal(mbr.readUInt16LE(0x1bc), 0);
    assert.equal(mbr.readUInt16LE(0x1fe), 0xaa55);
    assert.ok(mbr.subarray(0x1ce, 0x1fe).every((b) => b === 0), 'entries 2-4 empty');
    const img = path.join(tmp, 'disk.img');
    fs.writeFileSync(img, Buffer.concat([mbr, Buffer.alloc(2047 * 512)]));
    // LBA 2047 = 32 * 63 + 31 with 255 heads x 63 sectors: cylinder 0, head 32, sector 32.
    assert.match(fileOf(img), /partition 1 : ID=0x17, active, start-CHS \(0x0,0,1\), end-CHS \(0x0,32,32\), startsector 0, 2048 sectors/);
    assert.equal(makeMbr({ code: 'discforge', bootImageLba: 0, bootImageSectors: 1, loadSegment: 0x2000, diskSignature: 0, partitions: [] }).readUInt16LE(0x1ae), 0x2000);
    assert.equal(makeMbr({ code: 'discforge', bootImageLba: 0, bootImageSectors: 1, loadSegment: 0, diskSignature: 0, partitions: [] }).readUInt16LE(0x1ae), 0x07c0, 'El Torito: 0 = 07C0');
  });

  test('CHS fields with 255 x 63 geometry, and FE FF FF beyond cylinder 1023; four entries', () => {
    assert.deepEqual(chsBytes(0), [0, 1, 0]);
    assert.deepEqual(chsBytes(62), [0, 63, 0]);
    assert.deepEqual(chsBytes(63), [1, 1, 0]);
    assert.deepEqual(chsBytes(16065), [0, 1, 1]); // one cylinder = 255 * 63
    assert.deepEqual(chsBytes(16065 * 300 + 63 * 7 + 4), [7, 5 | 0x40, 300 & 0xff]); // cylinder 300: bits 8-9 in the sector byte
    assert.deepEqual(chsBytes(16065 * 1024 - 1), [254, 63 | 0xc0, 0xff]); // the last addressable sector
    assert.deepEqual(chsBytes(16065 * 1024), [0xfe, 0xff, 0xff]);
    const mbr = makeMbr({
      code: 'discforge', bootImageLba: 64, bootImageSectors: 4, diskSignature: 1,
      partitions: [
        { bootable: true, type: 0x17, startLba: 0, sectors: 4096 },
        { bootable: false, type: 0xef, startLba: 4096, sectors: 2880 },
        { bootable: false, type: 0x0c, startLba: 16065 * 1000, sectors: 16065 * 100 },
        { bootable: false, type: 0x83, startLba: 16065 * 2000, sectors: 100 },
      ],
    });
    const img = path.join(tmp, 'four.img');
    fs.writeFileSync(img, mbr);
    fs.truncateSync(img, 1 << 20); // `file` shows the partitions only of files longer than the MBR
    const f = fileOf(img);
    assert.match(f, /partition 2 : ID=0xef, start-CHS \(0x0,65,2\), end-CHS \(0x0,110,46\), startsector 4096, 2880 sectors/, f);
    assert.match(f, /partition 3 : ID=0xc, start-CHS \(0x3e8,0,1\), end-CHS \(0x3ff,254,63\), startsector 16065000, 1606500 sectors/, f);
    assert.match(f, /partition 4 : ID=0x83, start-CHS \(0x3ff,254,63\), end-CHS \(0x3ff,254,63\), startsector 32130000, 100 sectors/, f);
    assert.equal(mbr[0x1be], 0x80);
    assert.equal(mbr[0x1ce], 0x00);
    assert.throws(() => makeMbr({ code: 'discforge', bootImageLba: 0, bootImageSectors: 1, diskSignature: 0, partitions: Array(5).fill({ bootable: false, type: 1, startLba: 1, sectors: 1 }) }), RangeError);
  });

  test('bad values are refused', () => {
    const base = { code: 'discforge' as const, bootImageLba: 64, bootImageSectors: 4, diskSignature: 0, partitions: [] };
    assert.throws(() => makeMbr({ ...base, bootImageSectors: 0 }), RangeError);
    assert.throws(() => makeMbr({ ...base, bootImageSectors: 0x10000 }), RangeError);
    assert.throws(() => makeMbr({ ...base, bootImageLba: undefined }), RangeError);
    assert.throws(() => makeMbr({ ...base, loadSegment: 0x0060 }), RangeError, 'would overwrite the relocated code');
    assert.throws(() => makeMbr({ ...base, loadSegment: 0x9000, bootImageSectors: 200 }), RangeError, 'beyond 640 KiB');
    assert.throws(() => makeMbr({ ...base, diskSignature: -1 }), RangeError);
    assert.throws(() => makeMbr({ ...base, partitions: [{ bootable: false, type: 0x100, startLba: 0, sectors: 1 }] }), RangeError);
    assert.throws(() => makeMbr({ ...base, partitions: [{ bootable: false, type: 0x17, startLba: 0xffffffff, sectors: 2 }] }), RangeError);
    assert.throws(() => makeMbr({ ...base, code: Buffer.alloc(100) }), RangeError);
  });

  test('templateKind tells syslinux isohdpfx.bin, GRUB boot_hybrid.img and others apart', () => {
    assert.equal(templateKind(fs.readFileSync(ISOHDPFX)), 'isolinux');
    assert.equal(templateKind(fs.readFileSync(GRUB_HYBRID)), 'grub2');
    assert.equal(templateKind(MBR_CODE), 'unknown');
    assert.equal(templateKind(Buffer.alloc(512)), 'unknown');
  });

  // xorriso is the oracle: the same boot image, patched by xorriso and by makeMbr, must agree in bytes 0..0x1B7
  // (code and LBA field; xorriso's disk signature and partition table follow its own choices).
  for (const t of [
    { name: 'syslinux isohdpfx.bin (-isohybrid-mbr): LBA of the boot image', file: ISOHDPFX, opt: '-isohybrid-mbr', add: 0 },
    { name: 'GRUB boot_hybrid.img (--grub2-mbr): LBA of the boot image + 4', file: GRUB_HYBRID, opt: '--grub2-mbr', add: 4 },
  ]) {
    test(`template ${t.name}, byte for byte as xorriso writes it`, () => {
      const root = path.join(tmp, `root-${t.opt}`);
      fs.mkdirSync(path.join(root, 'boot'), { recursive: true });
      fs.mkdirSync(path.join(root, 'pad'));
      // Some padding before the boot image so that its LBA is not a small default.
      fs.writeFileSync(path.join(root, 'pad', 'a.bin'), Buffer.alloc(300 * 2048, 1));
      // -isohybrid-mbr wants an isohybrid-capable isolinux.bin; GRUB's MBR takes any image.
      if (t.opt === '-isohybrid-mbr') fs.copyFileSync(ISOLINUX_BIN, path.join(root, 'boot', 'boot.bin'));
      else fs.writeFileSync(path.join(root, 'boot', 'boot.bin'), noEmulationImage('X', 4));
      const iso = path.join(tmp, `t${t.add}.iso`);
      xorrisoMkisofs(iso, [
        '-b', 'boot/boot.bin', '-c', 'boot/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table',
        t.opt, t.file, root,
      ]);
      const [img] = xorrisoElTorito(iso);
      assert.equal(img.path, '/boot/boot.bin');
      assert.ok(img.lba > 16, `boot image at LBA ${img.lba}`);
      const xorrisoMbr = Buffer.alloc(512);
      const fd = fs.openSync(iso, 'r');
      fs.readSync(fd, xorrisoMbr, 0, 512, 0);
      fs.closeSync(fd);
      assert.equal(xorrisoMbr.readBigUInt64LE(0x1b0), BigInt(img.lba * 4 + t.add), 'the documented rule');
      const ours = makeMbr({
        code: fs.readFileSync(t.file), bootImageLba: img.lba * 4, diskSignature: 0x12345678,
        partitions: [{ bootable: true, type: 0x17, startLba: 0, sectors: fs.statSync(iso).size / 512 }],
      });
      assert.deepEqual(ours.subarray(0, 0x1b8), xorrisoMbr.subarray(0, 0x1b8));
      // Which template bytes survive: 0..431 of the file, nothing else of it (bytes 0x1B8.. are ours).
      assert.deepEqual(ours.subarray(0, 432), fs.readFileSync(t.file).subarray(0, 432));
      assert.equal(ours.readUInt32LE(0x1b8), 0x12345678);
      // And xorriso reads our partition table back.
      const ourIso = path.join(tmp, `ours${t.add}.iso`);
      const data = fs.readFileSync(iso);
      ours.copy(data, 0);
      fs.writeFileSync(ourIso, data);
      assert.deepEqual(xorrisoMbrTable(ourIso), [[1, 0x80, 0x17, 0, data.length / 512]]);
    });
  }
});
