// Real boots under QEMU (TCG) with firmware we did not write - SeaBIOS and OVMF - of images made by xorriso around
// the tests' tiny boot programs (test/fixtures/boot, test/util/bootcode.ts) and DiscForge's MBR (makeMbr). This
// proves the pieces the El Torito / hybrid writer uses: the boot programs, the MBR boot code, the harness.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MBR_COUNT_OFFSET, makeMbr } from '../../server/src/engine/boot/mbr';
import {
  FLOPPY_BYTES, efiSystemPartition, floppyImage, grubEfiApp, hardDiskImage, noEmulationImage, xorrisoBootCatalogLba,
  xorrisoElTorito, xorrisoMkisofs, type FloppyKind,
} from '../util/bootcode';
import { bootFirmware, firmwareQemuArgs, stripAnsi, type FirmwareBoot, type FirmwareResult } from './firmware';

/** Boots and asserts that `until` showed up; reports the time. */
async function boots(t: TestContext, o: FirmwareBoot): Promise<FirmwareResult> {
  const r = await bootFirmware(o);
  t.diagnostic(`${o.firmware} ${o.boot ?? (o.cdrom ? 'cdrom' : o.disk ? `disk/${o.diskIf ?? 'ide'}` : 'floppy')}: ${r.ended} after ${r.ms} ms`);
  assert.ok(r.matched, `no ${o.until} on the serial console (${r.ended} after ${r.ms} ms)\n--- serial:\n${r.serial.slice(-3000)}\n--- stderr:\n${r.stderr}`);
  return r;
}

/** The ISO with its first 512 bytes replaced by `mbr`, written next to it. */
function withMbr(iso: string, mbr: Buffer, out: string): string {
  const data = fs.readFileSync(iso);
  mbr.copy(data, 0);
  fs.writeFileSync(out, data);
  return out;
}

describe('firmware boots (SeaBIOS, OVMF) of xorriso images with the test boot programs and our MBR', () => {
  let tmp: string;
  const p = (n: string): string => path.join(tmp, n);

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'df-fwboot-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('the harness: QEMU arguments, escape sequences stripped', () => {
    const a = firmwareQemuArgs({ firmware: 'uefi', cdrom: '/x/a,b.iso', disk: '/x/d.img', diskIf: 'virtio', until: /x/ });
    assert.deepEqual(a.slice(0, 2), ['-accel', 'tcg']);
    assert.ok(a.includes('-bios') && a.includes('-nodefaults') && a.includes('-no-reboot'));
    assert.ok(a.some((s) => s.startsWith('file=/x/a,,b.iso,') && s.includes('media=cdrom')), 'commas doubled');
    assert.ok(a.some((s) => /^ide-cd,.*bootindex=0$/.test(s)));
    assert.ok(a.some((s) => /^virtio-blk-pci,drive=hd0,bootindex=1$/.test(s)));
    assert.ok(a.some((s) => s.includes('snapshot=on')), 'the disk is never written');
    const b = firmwareQemuArgs({ firmware: 'bios', cdrom: '/c.iso', floppy: '/f.img', boot: 'floppy', until: /x/ });
    assert.ok(!b.includes('-bios'));
    assert.ok(b.includes('isa-fdc.bootindexA=0') && b.some((s) => /^ide-cd,.*bootindex=1$/.test(s)));
    assert.throws(() => firmwareQemuArgs({ firmware: 'bios', until: /x/ }));
    assert.equal(stripAnsi('\x1b[2J\x1b[01;01H\x1b[=3h\x1b[0m\x1b[30m\x1b[47mWelcome\r\n\x1b(B\x1b]0;t\x07OK'), 'Welcome\nOK');
  });

  test('SeaBIOS boots a no-emulation entry from the CD drive (whole image loaded, boot info table right)', async (t) => {
    fs.mkdirSync(p('ne/boot'), { recursive: true });
    fs.writeFileSync(p('ne/boot/boot.bin'), noEmulationImage('DISCFORGE-NOEMUL-CD', 4));
    fs.writeFileSync(p('ne/readme.txt'), 'hello\n');
    xorrisoMkisofs(p('ne.iso'), ['-b', 'boot/boot.bin', '-c', 'boot/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', p('ne')]);
    await boots(t, { firmware: 'bios', cdrom: p('ne.iso'), until: /DISCFORGE-NOEMUL-CD BIT-OK/, timeoutMs: 60_000 });
  });

  test('a short load prints no marker: the marker really is in the last sector', async (t) => {
    fs.mkdirSync(p('short/boot'), { recursive: true });
    // 8 sectors (two CD blocks), of which the entry loads 4 (SeaBIOS reads whole 2 KiB blocks: the first one).
    fs.writeFileSync(p('short/boot/boot.bin'), noEmulationImage('DISCFORGE-SHORT', 8));
    xorrisoMkisofs(p('short.iso'), ['-b', 'boot/boot.bin', '-c', 'boot/boot.cat', '-no-emul-boot', '-boot-load-size', '4', p('short')]);
    // The program prints the marker (from the last sector: zeros now) and then CR LF: wait for the line end.
    const r = await boots(t, { firmware: 'bios', cdrom: p('short.iso'), until: /\n/, timeoutMs: 60_000 });
    assert.doesNotMatch(r.serial, /DISCFORGE-SHORT/);
  });

  for (const diskIf of ['ide', 'virtio'] as const) {
    test(`SeaBIOS boots the ISO as a hard disk (${diskIf}) through DiscForge's MBR`, async (t) => {
      const root = p(`hyb-${diskIf}`);
      fs.mkdirSync(path.join(root, 'boot'), { recursive: true });
      fs.writeFileSync(path.join(root, 'boot', 'boot.bin'), noEmulationImage(`DISCFORGE-MBR-${diskIf}`, 4));
      fs.writeFileSync(path.join(root, 'big.bin'), Buffer.alloc(3 << 20, 7)); // some data: the image is not tiny
      const iso = p(`hyb-${diskIf}.iso`);
      xorrisoMkisofs(iso, ['-b', 'boot/boot.bin', '-c', 'boot/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', root]);
      const [img] = xorrisoElTorito(iso);
      const sectors = fs.statSync(iso).size / 512;
      const mbr = makeMbr({
        code: 'discforge', bootImageLba: img.lba * 4, bootImageSectors: 4, diskSignature: 0x44460001,
        partitions: [{ bootable: true, type: 0x17, startLba: 0, sectors }],
      });
      const disk = withMbr(iso, mbr, p(`hyb-${diskIf}.img`));
      await boots(t, { firmware: 'bios', disk, diskIf, until: new RegExp(`DISCFORGE-MBR-${diskIf} BIT-OK`), timeoutMs: 60_000 });
      assert.deepEqual(fs.readFileSync(disk).subarray(0, 512), mbr, 'snapshot=on: the image is unchanged');
    });
  }

  for (const loadSegment of [0x07c0, 0x2000]) {
    const hex = loadSegment.toString(16).toUpperCase().padStart(4, '0');
    test(`our MBR loads a 200-sector image to ${hex}:0000 (chunks of <= 64 sectors, across 64 KiB boundaries)`, async (t) => {
      const root = p(`big${hex}`);
      fs.mkdirSync(path.join(root, 'boot'), { recursive: true });
      const marker = `DISCFORGE-MBR-BIG-${hex}`;
      fs.writeFileSync(path.join(root, 'boot', 'boot.bin'), noEmulationImage(marker, 200, loadSegment));
      const iso = p(`big${hex}.iso`);
      // The CD boot of the same image checks the image itself: SeaBIOS loads the 200 sectors to the same place.
      xorrisoMkisofs(iso, [
        '-b', 'boot/boot.bin', '-c', 'boot/boot.cat', '-no-emul-boot', '-boot-load-size', '200', '-boot-info-table', root,
      ]);
      // xorriso has no option for the load segment: patch it into the initial/default entry (catalog bytes
      // 32 + 2..3; the validation entry's checksum covers only the first 32 bytes).
      if (loadSegment !== 0x07c0) {
        const fd = fs.openSync(iso, 'r+');
        const seg = Buffer.alloc(2);
        seg.writeUInt16LE(loadSegment);
        fs.writeSync(fd, seg, 0, 2, xorrisoBootCatalogLba(iso) * 2048 + 32 + 2);
        fs.closeSync(fd);
      }
      const [img] = xorrisoElTorito(iso);
      assert.equal(img.sectors, 200);
      assert.equal(img.loadSegment, loadSegment === 0x07c0 ? 0 : loadSegment);
      const until = new RegExp(`${marker} BIT-OK`);
      await boots(t, { firmware: 'bios', cdrom: iso, until, timeoutMs: 60_000 });
      const mbr = makeMbr({
        code: 'discforge', bootImageLba: img.lba * 4, bootImageSectors: 200, loadSegment, diskSignature: 2,
        partitions: [{ bootable: true, type: 0x17, startLba: 0, sectors: fs.statSync(iso).size / 512 }],
      });
      await boots(t, { firmware: 'bios', disk: withMbr(iso, mbr, p(`big${hex}.img`)), until, timeoutMs: 60_000 });
    });
  }

  test('our MBR reports a read error on screen and COM1, and halts', async (t) => {
    const root = p('bad');
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, 'boot.bin'), noEmulationImage('DISCFORGE-NEVER', 4));
    const iso = p('bad.iso');
    xorrisoMkisofs(iso, ['-b', 'boot.bin', '-no-emul-boot', '-boot-load-size', '4', root]);
    const sectors = fs.statSync(iso).size / 512;
    const mbr = makeMbr({
      code: 'discforge', bootImageLba: sectors + 1000, bootImageSectors: 4, diskSignature: 3, // beyond the disk
      partitions: [{ bootable: true, type: 0x17, startLba: 0, sectors }],
    });
    const r = await boots(t, { firmware: 'bios', disk: withMbr(iso, mbr, p('bad.img')), until: /DiscForge MBR: disk read error/, timeoutMs: 60_000 });
    assert.doesNotMatch(r.serial, /DISCFORGE-NEVER/);
  });

  test('our MBR without INT 13h extensions (booted from a floppy) and with nothing to load: message and halt', async (t) => {
    const mbr = makeMbr({
      code: 'discforge', bootImageLba: 100, bootImageSectors: 4, diskSignature: 4,
      partitions: [{ bootable: true, type: 0x01, startLba: 0, sectors: 2880 }],
    });
    const fd = Buffer.alloc(FLOPPY_BYTES['1.44']);
    mbr.copy(fd, 0);
    fs.writeFileSync(p('mbr-floppy.img'), fd);
    // SeaBIOS has no INT 13h extensions for floppy drives.
    await boots(t, { firmware: 'bios', floppy: p('mbr-floppy.img'), until: /DiscForge MBR: no INT 13h extensions\n/, timeoutMs: 60_000 });
    // COUNT = 0 (makeMbr refuses it; patch the field by hand) on a hard disk.
    const empty = Buffer.from(mbr);
    empty.writeUInt16LE(0, MBR_COUNT_OFFSET);
    const disk = Buffer.alloc(1 << 20);
    empty.copy(disk, 0);
    fs.writeFileSync(p('mbr-empty.img'), disk);
    await boots(t, { firmware: 'bios', disk: p('mbr-empty.img'), until: /DiscForge MBR: no boot image\n/, timeoutMs: 60_000 });
  });

  for (const kind of ['1.2', '1.44', '2.88'] as FloppyKind[]) {
    test(`SeaBIOS boots a ${kind} MB floppy-emulation entry`, async (t) => {
      const root = p(`fd${kind}`);
      fs.mkdirSync(root);
      const fd = floppyImage(`DISCFORGE-FLOPPY-${kind}`, kind);
      assert.equal(fd.length, FLOPPY_BYTES[kind]);
      fs.writeFileSync(path.join(root, 'floppy.img'), fd);
      const iso = p(`fd${kind}.iso`);
      xorrisoMkisofs(iso, ['-b', 'floppy.img', '-c', 'boot.cat', root]); // no -no-emul-boot: floppy emulation by size
      const [img] = xorrisoElTorito(iso);
      assert.equal(img.emulation, { '1.2': 'fd1.2', '1.44': 'fd1.4', '2.88': 'fd2.8' }[kind]);
      await boots(t, { firmware: 'bios', cdrom: iso, until: new RegExp(`DISCFORGE-FLOPPY-${kind.replace('.', '\\.')}`), timeoutMs: 60_000 });
    });
  }

  test('SeaBIOS boots a floppy image as drive A: (the image itself is a working boot floppy)', async (t) => {
    fs.writeFileSync(p('a.img'), floppyImage('DISCFORGE-FLOPPY-A', '1.44'));
    await boots(t, { firmware: 'bios', floppy: p('a.img'), until: /DISCFORGE-FLOPPY-A/, timeoutMs: 60_000 });
  });

  test('SeaBIOS boots a hard-disk-emulation entry', async (t) => {
    const root = p('hd');
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, 'hd.img'), hardDiskImage('DISCFORGE-HARDDISK', 2016));
    const iso = p('hd.iso');
    xorrisoMkisofs(iso, ['-b', 'hd.img', '-hard-disk-boot', '-c', 'boot.cat', root]);
    const [img] = xorrisoElTorito(iso);
    assert.equal(img.emulation, 'hd');
    await boots(t, { firmware: 'bios', cdrom: iso, until: /DISCFORGE-HARDDISK/, timeoutMs: 60_000 });
  });

  test('OVMF boots an EFI entry (FAT image with a GRUB EFI application) from the CD drive', async (t) => {
    const root = p('efi');
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, 'efi.img'), efiSystemPartition(grubEfiApp('DISCFORGE-UEFI-OK')));
    const iso = p('efi.iso');
    xorrisoMkisofs(iso, ['-e', 'efi.img', '-no-emul-boot', '-c', 'boot.cat', root]);
    const [img] = xorrisoElTorito(iso);
    assert.equal(img.platform, 'UEFI');
    await boots(t, { firmware: 'uefi', cdrom: iso, until: /DISCFORGE-UEFI-OK/ });
  });

  test('OVMF and the sector count of an EFI entry: 0 or 1 mean the whole image, a short count fails', async (t) => {
    // OVMF (EDK II's El Torito partition driver) takes a count below 2 as "up to the end of the disc" - what
    // mkisofs-style tools write when the ESP is 32 MiB or more and does not fit the 16-bit field - but it honours
    // any other count: a count smaller than the FAT image cuts the file system short and the entry fails.
    const root = p('efi-count');
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, 'efi.img'), efiSystemPartition(grubEfiApp('DISCFORGE-UEFI-COUNT')));
    const base = p('efi-count.iso');
    xorrisoMkisofs(base, ['-e', 'efi.img', '-no-emul-boot', '-c', 'boot.cat', root]);
    const catalog = xorrisoBootCatalogLba(base);
    for (const count of [1, 0, 8]) {
      const iso = p(`efi-count-${count}.iso`);
      const data = fs.readFileSync(base);
      data.writeUInt16LE(count, catalog * 2048 + 32 + 6); // initial/default entry: sector count
      fs.writeFileSync(iso, data);
      assert.equal(xorrisoElTorito(iso)[0].sectors, count);
      const r = await boots(t, { firmware: 'uefi', cdrom: iso, until: /DISCFORGE-UEFI-COUNT|BdsDxe: failed to load Boot\d+ "UEFI QEMU DVD-ROM/ });
      if (count < 2) assert.match(r.serial, /DISCFORGE-UEFI-COUNT/);
      else assert.match(r.serial, /failed to load Boot\d+ "UEFI QEMU DVD-ROM[^\n]*Not Found/);
    }
  });

  test('one image with a BIOS and an EFI entry boots both ways', async (t) => {
    const root = p('multi');
    fs.mkdirSync(path.join(root, 'boot'), { recursive: true });
    fs.writeFileSync(path.join(root, 'boot', 'boot.bin'), noEmulationImage('DISCFORGE-MULTI-BIOS', 4));
    fs.writeFileSync(path.join(root, 'boot', 'efi.img'), efiSystemPartition(grubEfiApp('DISCFORGE-MULTI-UEFI')));
    const iso = p('multi.iso');
    xorrisoMkisofs(iso, [
      '-b', 'boot/boot.bin', '-c', 'boot/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table',
      '-eltorito-alt-boot', '-e', 'boot/efi.img', '-no-emul-boot', root,
    ]);
    assert.deepEqual(xorrisoElTorito(iso).map((e) => e.platform), ['BIOS', 'UEFI']);
    await boots(t, { firmware: 'bios', cdrom: iso, until: /DISCFORGE-MULTI-BIOS BIT-OK/, timeoutMs: 60_000 });
    const r = await boots(t, { firmware: 'uefi', cdrom: iso, until: /DISCFORGE-MULTI-UEFI/ });
    assert.doesNotMatch(r.serial, /DISCFORGE-MULTI-BIOS/);
  });
});
