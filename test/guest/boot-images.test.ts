// Issue 4's proof: DiscForge's bootable images, booted by firmware we did not write (QEMU's SeaBIOS, Debian's OVMF)
// under TCG. Each boot program prints a marker on the serial port; a boot counts when the marker appears.
// - one image with a BIOS and a UEFI entry boots both ways from the CD-ROM drive, and as a hard disk (hybrid MBR
//   with DiscForge's boot code for SeaBIOS, GPT with the generated ESP for OVMF);
// - an MBR-only hybrid (0xEF partition) boots under OVMF as a disk;
// - floppy and hard-disk emulation entries boot under SeaBIOS;
// - GRUB's eltorito.img boots from the CD and, behind GRUB's boot_hybrid.img, as a hard disk;
// - a Debian-installer-style disc: ISOLINUX (isolinux.bin with a boot info table, isohdpfx.bin as MBR template) under
//   SeaBIOS and GRUB (a standalone EFI image in the generated ESP, GPT) under OVMF start the installer's kernel and
//   initramfs from the disc, each from the CD-ROM drive and as a hard disk.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildOk, makeTmp, writeManifest, writeTree } from '../util/fixtures';
import { floppyImage, grubEfiApp, hardDiskImage, noEmulationImage } from '../util/bootcode';
import { bootFirmware, type FirmwareBoot } from './firmware';
import { readBoot } from '../../server/src/engine/inspect';

const CREATED = '2026-01-01T00:00:00Z';

async function boots(o: FirmwareBoot, what: string): Promise<string> {
  const r = await bootFirmware({ timeoutMs: 180_000, ...o });
  assert.ok(r.matched, `${what}: no ${o.until} on the serial console after ${r.ms} ms (${r.ended}); console:\n${r.serial.slice(-3000)}\n${r.stderr}`);
  return r.serial;
}

describe('bootable images under SeaBIOS and OVMF', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    writeTree(proj, {
      disc: { boot: { 'loader.bin': noEmulationImage('DF-BIOS-ENTRY', 8) }, 'readme.txt': 'a bootable disc\n' },
      efi: { EFI: { BOOT: { 'BOOTX64.EFI': grubEfiApp('DF-UEFI-ENTRY') } } },
      emul: {
        'floppy.img': floppyImage('DF-FLOPPY-144', '1.44'),
        'floppy12.img': floppyImage('DF-FLOPPY-12', '1.2'),
        'floppy288.img': floppyImage('DF-FLOPPY-288', '2.88'),
        'disk.img': hardDiskImage('DF-HARD-DISK'),
      },
    });
  });
  after(() => tmp.cleanup());

  function build(name: string, body: string): string {
    writeManifest(proj, `{
  "kind": "data",
  "volume": { "label": "${name.toUpperCase()}", "created": "${CREATED}" },
${body},
  "output": "${name}.iso"
}
`, `${name}.disc.json`);
    const image = path.join(proj, `${name}.iso`);
    buildOk(path.join(proj, `${name}.disc.json`), image, [], { cwd: proj });
    return image;
  }

  describe('one image, BIOS + UEFI entries, hybrid MBR + GPT', () => {
    let image: string;
    before(() => {
      image = build('multi', `  "files": [ { "source": "disc/", "target": "/" } ],
  "boot": [
    { "platform": "bios", "image": "/boot/loader.bin", "loadSectors": 8, "bootInfoTable": true },
    { "platform": "efi", "efiDirectory": "efi" }
  ],
  "hybrid": { "mbr": true, "gpt": true }`);
    });

    test('SeaBIOS boots the BIOS entry from the CD-ROM drive (all 8 sectors loaded, boot info table right)', async () => {
      const serial = await boots({ firmware: 'bios', cdrom: image, until: /DF-BIOS-ENTRY BIT-OK/ }, 'SeaBIOS, CD');
      assert.doesNotMatch(serial, /DF-UEFI-ENTRY/);
    });
    test('OVMF boots the UEFI entry (the generated ESP) from the CD-ROM drive', async () => {
      await boots({ firmware: 'uefi', cdrom: image, until: /DF-UEFI-ENTRY/ }, 'OVMF, CD');
    });
    test('SeaBIOS boots the image as a hard disk: DiscForge\'s MBR starts the BIOS boot image', async () => {
      await boots({ firmware: 'bios', disk: image, diskIf: 'ide', until: /DF-BIOS-ENTRY/ }, 'SeaBIOS, IDE disk');
    });
    test('OVMF boots the image as a hard disk through the GPT\'s EFI system partition', async () => {
      await boots({ firmware: 'uefi', disk: image, diskIf: 'virtio', until: /DF-UEFI-ENTRY/ }, 'OVMF, virtio disk');
    });
  });

  test('an MBR-only hybrid (an 0xEF partition for the ESP) boots under OVMF and SeaBIOS as a disk', async () => {
    const image = build('mbronly', `  "files": [ { "source": "disc/", "target": "/" } ],
  "boot": [
    { "platform": "bios", "image": "/boot/loader.bin", "loadSectors": 8 },
    { "platform": "efi", "efiDirectory": "efi", "image": "/efi.img" }
  ],
  "hybrid": { "mbr": true }`);
    await boots({ firmware: 'uefi', disk: image, diskIf: 'virtio', until: /DF-UEFI-ENTRY/ }, 'OVMF, MBR disk');
    await boots({ firmware: 'bios', disk: image, diskIf: 'virtio', until: /DF-BIOS-ENTRY/ }, 'SeaBIOS, MBR virtio disk');
  });

  test('a FAT32 ESP larger than the catalog\'s sector count can say (65535 × 512 bytes) boots under OVMF from the CD and as a disk', async () => {
    const image = build('fat32', `  "files": [ { "source": "disc/readme.txt" } ],
  "boot": [ { "platform": "efi", "efiDirectory": "efi", "espFat": 32 } ],
  "hybrid": { "gpt": true }`);
    // The ESP is larger than 65535 × 512 bytes: the entry's sector count is 0 ("to the end"), not a short count.
    const entry = (await readBoot(image)).boot?.entries[0];
    assert.equal(entry?.sectorCount, 0);
    assert.ok(fs.statSync(image).size > 0xffff * 512);
    await boots({ firmware: 'uefi', cdrom: image, until: /DF-UEFI-ENTRY/ }, 'OVMF, CD, FAT32 ESP');
    await boots({ firmware: 'uefi', disk: image, diskIf: 'virtio', until: /DF-UEFI-ENTRY/ }, 'OVMF, disk, FAT32 ESP');
  });

  test('floppy-1.44, floppy-1.2, floppy-2.88 and hard-disk emulation entries boot under SeaBIOS', async () => {
    const fd = build('floppy', `  "files": [ { "source": "emul/floppy.img" }, { "source": "disc/readme.txt" } ],
  "boot": [ { "platform": "bios", "image": "/floppy.img", "emulation": "floppy-1.44" } ]`);
    await boots({ firmware: 'bios', cdrom: fd, until: /DF-FLOPPY-144/ }, 'SeaBIOS, floppy emulation');
    for (const [kind, file, marker] of [['floppy-1.2', 'floppy12.img', /DF-FLOPPY-12\b/], ['floppy-2.88', 'floppy288.img', /DF-FLOPPY-288/]] as const) {
      const image = build(kind.replace('.', ''), `  "files": [ { "source": "emul/${file}" } ],
  "boot": [ { "platform": "bios", "image": "/${file}", "emulation": "${kind}" } ]`);
      await boots({ firmware: 'bios', cdrom: image, until: marker }, `SeaBIOS, ${kind} emulation`);
    }
    const hd = build('harddisk', `  "files": [ { "source": "emul/disk.img" } ],
  "boot": [ { "platform": "bios", "image": "/disk.img", "emulation": "hard-disk", "hidden": true } ]`);
    await boots({ firmware: 'bios', cdrom: hd, until: /DF-HARD-DISK/ }, 'SeaBIOS, hard-disk emulation');
  });

  test('GRUB\'s eltorito.img boots from the CD-ROM drive, and as a hard disk through boot_hybrid.img (grub2 boot info patched)', async () => {
    const dir = path.join(proj, 'grub');
    fs.mkdirSync(path.join(dir, 'boot', 'grub'), { recursive: true });
    const cfg = path.join(tmp.dir, 'grub-bios.cfg');
    fs.writeFileSync(cfg, 'serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\necho DF-GRUB-BIOS\nhalt\n');
    const r = spawnSync('grub-mkimage', ['-O', 'i386-pc-eltorito', '-d', '/usr/lib/grub/i386-pc', '-p', '/boot/grub', '-c', cfg,
      '-o', path.join(dir, 'boot', 'grub', 'eltorito.img'), 'biosdisk', 'iso9660', 'serial', 'terminal', 'echo', 'halt'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const image = build('grub', `  "files": [ { "source": "grub", "target": "/" } ],
  "boot": [ { "platform": "bios", "image": "/boot/grub/eltorito.img", "loadSectors": 4, "bootInfoTable": true } ],
  "hybrid": { "mbr": "/usr/lib/grub/i386-pc/boot_hybrid.img" }`);
    await boots({ firmware: 'bios', cdrom: image, until: /DF-GRUB-BIOS/ }, 'GRUB, CD');
    await boots({ firmware: 'bios', disk: image, diskIf: 'ide', until: /DF-GRUB-BIOS/ }, 'GRUB, hard disk');
  });

  test('a Debian-installer-style disc: ISOLINUX (BIOS) and GRUB (UEFI) start the installer\'s kernel and initramfs, from the CD-ROM drive and as a hard disk (isohdpfx.bin + GPT)', async () => {
    const di = '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64';
    const root = path.join(proj, 'debian');
    writeTree(root, {
      disc: {
        isolinux: {
          'isolinux.bin': fs.readFileSync('/usr/lib/ISOLINUX/isolinux.bin'),
          'ldlinux.c32': fs.readFileSync('/usr/lib/syslinux/modules/bios/ldlinux.c32'),
          'isolinux.cfg': 'SERIAL 0 115200\nPROMPT 0\nTIMEOUT 0\nDEFAULT linux\nLABEL linux\n  KERNEL /install/vmlinuz\n  APPEND initrd=/install/initrd.gz console=ttyS0 panic=-1\n',
        },
        install: { vmlinuz: fs.readFileSync(path.join(di, 'linux')), 'initrd.gz': fs.readFileSync(path.join(di, 'initrd.gz')) },
      },
      efi: { EFI: { BOOT: {} } },
    });
    // GRUB for UEFI, standalone: finds the disc's kernel wherever the firmware booted from (CD or the stick's ISO).
    const cfg = path.join(tmp.dir, 'grub-efi-linux.cfg');
    fs.writeFileSync(cfg, 'echo DF-GRUB-EFI\nsearch --no-floppy --file /install/vmlinuz --set=root\nlinux /install/vmlinuz console=ttyS0 panic=-1\ninitrd /install/initrd.gz\nboot\n');
    const r = spawnSync('grub-mkimage', ['-O', 'x86_64-efi', '-d', '/usr/lib/grub/x86_64-efi', '-p', '/EFI/BOOT', '-c', cfg,
      '-o', path.join(root, 'efi', 'EFI', 'BOOT', 'BOOTX64.EFI'), 'iso9660', 'part_gpt', 'part_msdos', 'fat', 'search', 'search_fs_file', 'linux', 'echo'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const image = build('debian', `  "files": [ { "source": "debian/disc", "target": "/" } ],
  "boot": [
    { "platform": "bios", "image": "/isolinux/isolinux.bin", "loadSectors": 4, "bootInfoTable": true, "catalogPath": "/isolinux/boot.cat" },
    { "platform": "efi", "efiDirectory": "debian/efi", "image": "/boot/efi.img" }
  ],
  "hybrid": { "mbr": "/usr/lib/ISOLINUX/isohdpfx.bin", "gpt": true }`);
    // The kernel says "Run /init as init process" once it has unpacked the initramfs the loader read from the disc.
    const until = /Run \/init as init process|Kernel panic/;
    const started = (serial: string, what: string) => {
      assert.match(serial, /Linux version \d/, what);
      assert.match(serial, /Run \/init as init process/, what);
    };
    const cd = await boots({ firmware: 'bios', cdrom: image, until, memoryMiB: 1024 }, 'ISOLINUX, CD');
    assert.match(cd, /ISOLINUX 6/);
    started(cd, 'ISOLINUX, CD');
    started(await boots({ firmware: 'bios', disk: image, diskIf: 'ide', until, memoryMiB: 1024 }, 'ISOLINUX, hard disk'), 'ISOLINUX, hard disk');
    const efiCd = await boots({ firmware: 'uefi', cdrom: image, until, memoryMiB: 1024 }, 'GRUB EFI, CD');
    assert.match(efiCd, /DF-GRUB-EFI/);
    started(efiCd, 'GRUB EFI, CD');
    const efiDisk = await boots({ firmware: 'uefi', disk: image, diskIf: 'virtio', until, memoryMiB: 1024 }, 'GRUB EFI, hard disk');
    assert.match(efiDisk, /DF-GRUB-EFI/);
    started(efiDisk, 'GRUB EFI, hard disk');
  });
});
