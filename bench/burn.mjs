// @ts-check
// Burn benchmark: a 4 GiB image burned to an emulated BD-R at unlimited speed with full verification, through
// the CLI (`discforge burn IMAGE --drive virtual:bd-r:… --verify full`). Reports the write and read-back rates
// (MB = 10^6 bytes) that the engine measured, the wall time and the CLI process's peak RSS (VmHWM, polled from
// /proc). Target (issue 6): both rates at least 400 MB/s, memory flat in the image size.
// Usage: node scripts/build.mjs && node bench/burn.mjs [--size-gib N] [--dir DIR]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
/** @param {string} name @param {string} dflt @returns {string} */
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const sizeGiB = Number(opt('--size-gib', '4'));
const dir = opt('--dir', join(root, 'bench', '.work', 'burn'));
const cli = join(root, 'dist', 'cli.js');
if (!existsSync(cli)) {
  console.error('dist/cli.js is missing: run `node scripts/build.mjs` first');
  process.exit(1);
}
mkdirSync(dir, { recursive: true });

// The image: 4 GiB of incompressible data (a 64 MiB random block repeated with a per-block marker), built once.
const image = join(dir, `image-${sizeGiB}g.iso`);
const bytes = sizeGiB * 1024 * 1024 * 1024;
if (!existsSync(image) || statSync(image).size !== bytes) {
  console.error(`making ${image} (${sizeGiB} GiB)…`);
  const block = randomBytes(64 * 1024 * 1024);
  const fd = openSync(image, 'w');
  for (let off = 0, i = 0; off < bytes; off += block.length, i++) {
    block.writeUInt32BE(i, 0);
    writeSync(fd, block, 0, Math.min(block.length, bytes - off), off);
  }
  closeSync(fd);
}
// The emulated disc lives on tmpfs when there is room (the medium's speed is not the host disk's).
const shm = '/dev/shm';
const discDir = opt('--disc-dir', existsSync(shm) && statfsSync(shm).bavail * statfsSync(shm).bsize > bytes * 1.2 ? shm : dir);
const disc = join(discDir, `discforge-bench-disc-${process.pid}.img`);
for (const f of [disc, disc + '.state.json', disc + '.lock']) rmSync(f, { force: true });

const t0 = Date.now();
const child = spawn(process.execPath, [cli, 'burn', image, '--drive', `virtual:bd-r:${disc}`, '--verify', 'full', '--progress', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
let stdout = '';
let lastProgress = '';
child.stdout.setEncoding('utf8').on('data', (s) => (stdout += s));
child.stderr.setEncoding('utf8').on('data', (s) => {
  const lines = String(s).trim().split('\n');
  lastProgress = lines[lines.length - 1];
});
let peakKiB = 0;
const poll = setInterval(() => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
  } catch {
    /* exited */
  }
}, 50);
const code = await new Promise((r) => child.on('close', r));
clearInterval(poll);
const wallS = (Date.now() - t0) / 1000;
if (code !== 0) {
  console.error(`burn failed (exit ${code}): ${stdout}\n${lastProgress}`);
  process.exit(1);
}
const m = /write (\d+) MB\/s.*read back (\d+) MB\/s/.exec(stdout);
const writeMBps = m ? Number(m[1]) : NaN;
const readMBps = m ? Number(m[2]) : NaN;
const result = {
  image: `${sizeGiB} GiB`,
  drive: 'virtual:bd-r (unlimited speed)',
  discFile: discDir,
  verify: 'full',
  wallS: Math.round(wallS * 10) / 10,
  writeMBps,
  readBackMBps: readMBps,
  peakRssMiB: Math.round(peakKiB / 1024),
  target: 'write and read-back >= 400 MB/s (5.5x the 16x BD-R rate of 72 MB/s), memory flat in the image size',
  pass: writeMBps >= 400 && readMBps >= 400,
};
console.log(stdout.trim());
console.log(JSON.stringify(result, null, 2));
rmSync(disc, { force: true });
rmSync(disc + '.state.json', { force: true });
process.exit(result.pass ? 0 : 1);
