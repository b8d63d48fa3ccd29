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
