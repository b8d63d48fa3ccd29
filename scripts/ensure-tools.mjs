// @ts-check
// Makes sure the independent readers and tools the tests use are installed (`npm test` runs this first).
// As root on Debian it installs what is missing with apt-get; elsewhere it says what to install and fails:
// a missing reader is never a reason to skip a test.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian package → a file it installs (how we tell it is there). */
const packages = {
  xorriso: '/usr/bin/xorriso',
  genisoimage: '/usr/bin/isoinfo',
  '7zip': '/usr/bin/7zz',
  'libarchive-tools': '/usr/bin/bsdtar',
  'libcdio-utils': '/usr/bin/iso-info',
  udftools: '/usr/bin/udfinfo',
  'grub-rescue-pc': '/usr/lib/grub-rescue/grub-rescue-cdrom.iso',
  ipxe: '/usr/lib/ipxe/ipxe.iso',
  // test/guest: QEMU boots Debian's kernel (downloaded with apt-get download, not installed) from a busybox initramfs
  'qemu-system-x86': '/usr/bin/qemu-system-x86_64',
  cpio: '/usr/bin/cpio',
  'xz-utils': '/usr/bin/xz',
  // test/native: the SCSI addon is compiled (node-gyp: g++, make); tgt emulates a DVD+R recorder over iSCSI on the
  // loopback, which QEMU (its iscsi driver is in qemu-block-extra) passes through to the guest as /dev/sg0
  'g++': '/usr/bin/g++',
  make: '/usr/bin/make',
  tgt: '/usr/sbin/tgtd',
  'qemu-block-extra': '/usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so',
  // test/vscode: a real VS Code (code-server, installed into .tools/ by test/vscode/install-code-server.mjs) driven
  // by Debian's chromium; code-server's install needs ripgrep (pre-seeded for @vscode/ripgrep) and kerberos headers
  chromium: '/usr/bin/chromium',
  ripgrep: '/usr/bin/rg',
  'libkrb5-dev': '/usr/include/gssapi/gssapi.h',
  // test/engine/audio-*, cd-*: audio CD readers (cue sheets, TOC files, BIN splitting) and reference encoders/decoders
  cuetools: '/usr/bin/cueprint',
  cdrdao: '/usr/bin/cdrdao',
  bchunk: '/usr/bin/bchunk',
  sox: '/usr/bin/sox',
  flac: '/usr/bin/flac',
  lame: '/usr/bin/lame',
  mpg123: '/usr/bin/mpg123',
  'vorbis-tools': '/usr/bin/oggenc',
  // test/engine/boot-*, test/guest/boot-*: El Torito and hybrid images booted by firmware we did not write (SeaBIOS is
  // qemu-system-x86's, OVMF for UEFI), real boot loaders (ISOLINUX, GRUB) as payloads, FAT checkers for generated EFI
  // system partitions, nasm for the MBR boot code and the tests' tiny boot programs, Debian ISOs for `inspect`
  ovmf: '/usr/share/ovmf/OVMF.fd',
  isolinux: '/usr/lib/ISOLINUX/isolinux.bin',
  'syslinux-common': '/usr/lib/syslinux/modules/bios/ldlinux.c32',
  'grub-common': '/usr/bin/grub-mkimage',
  'grub-efi-amd64-bin': '/usr/lib/grub/x86_64-efi/moddep.lst',
  'grub-pc-bin': '/usr/lib/grub/i386-pc/boot_hybrid.img',
  'memtest86+': '/usr/lib/memtest86+/memtest86+x64.iso',
  dosfstools: '/usr/sbin/fsck.fat',
  mtools: '/usr/bin/mdir',
  nasm: '/usr/bin/nasm',
  gdisk: '/usr/sbin/sgdisk',
  // a real kernel + initramfs for ISOLINUX to start from our discs (the Debian installer's netboot kernel)
  'debian-installer-12-netboot-amd64': '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/linux',
};

const missing = Object.entries(packages).filter(([, file]) => !existsSync(file)).map(([pkg]) => pkg);
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !existsSync('/usr/bin/apt-get')) {
  console.error(`The tests need these Debian packages: ${missing.join(' ')}\n` +
    `Install them (sudo apt-get install -y ${missing.join(' ')}) and run the tests again.`);
  process.exit(1);
}
console.error(`installing test tools: ${missing.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
/** @param {string[]} args */
const apt = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
if (!apt(['install', '-y', '-q', '--no-install-recommends', ...missing])) {
  if (!apt(['update', '-q']) || !apt(['install', '-y', '-q', '--no-install-recommends', ...missing])) {
    console.error('apt-get could not install the test tools');
    process.exit(1);
  }
}
