/**
 * A throw-away Linux guest for tests that need the real kernel: mounting our images with its isofs/udf drivers,
 * SCSI pass-through, and so on. The guest is Debian's own kernel plus a busybox initramfs (make-guest.sh), booted
 * under QEMU with TCG (no KVM needed) in about 2.5 s. A test passes one shell command; it runs as root in the guest
 * (busybox sh, cwd /tmp) and its output comes back over a serial port.
 *
 *   const r = await runGuest('mount -t iso9660 -o ro /dev/sr0 /mnt && ls -l /mnt', { cdroms: [iso] });
 *   // r.status: the command's exit status; r.output: its stdout+stderr; r.log: the kernel console
 *
 * In the guest: `cdroms` (then `sg`) are /dev/sr0, sr1 … on virtio-scsi (scsi-cd; `sg` entries are passed through
 * as scsi-generic and appear as /dev/sg*), `disks` (read-write) and then `roDisks` are /dev/vda, vdb … (virtio-blk),
 * `share` is a host folder mounted read-write at /share (9p). The modules of DEFAULT_MODULES are loaded at boot.
 * The console (ttyS0, kernel messages of level ≤ 3 and /init's marker lines) is the `log`; the command's stdout and
 * stderr go to ttyS1, byte for byte, about 0.6 MB/s: send bulk data through `share`.
 *
 * Built guests are cached (ensureGuest) under $DISCFORGE_GUEST_CACHE, default <repo>/.tools/qemu-guest-cache:
 * downloads/ keeps the kernel and busybox .debs (~72 MB), guest-<hash>/ the built kernel and initramfs (~35 MB
 * on disk). The hash covers make-guest.sh, guest-init.sh and the GuestSpec, so editing either script rebuilds;
 * guests unused for 30 days are deleted when another one is built.
 * By hand: test/guest/run-guest.sh does what runGuest does (and gives a shell in the guest without a command).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

/** Modules /init loads at boot (their dependencies come along: udf needs crc-itu-t and cdrom, sr_mod cdrom …). */
export const DEFAULT_MODULES: readonly string[] = [
  'virtio_pci', 'virtio_blk', 'virtio_scsi', 'sd_mod', 'sr_mod', 'sg', 'isofs', 'udf', 'nls_utf8', 'qemu_fw_cfg',
  'loop', '9p', '9pnet_virtio',
];

/** What goes into a guest besides busybox; each distinct spec is built (and cached) once. */
export interface GuestSpec {
  /** Kernel modules to load at boot, in order (default DEFAULT_MODULES; qemu_fw_cfg and 9pnet_virtio are needed). */
  modules?: readonly string[];
  /** Host programs copied to /payload/bin (on PATH), with their shared libraries. */
  bins?: readonly string[];
  /** Host programs whose shared libraries only are copied, e.g. `node` to run the host's node from `share`. */
  libsOf?: readonly string[];
  /** Debian kernel package (default $DISCFORGE_GUEST_KPKG, else what linux-image-amd64 depends on). */
  kernelPackage?: string;
}

export interface GuestRun {
  /** Images attached as SCSI CD-ROMs, read-only: /dev/sr0, sr1 … */
  cdroms?: string[];
  /** Raw images attached as virtio disks, read-write: /dev/vda … (QEMU locks them; don't attach one file twice). */
  disks?: string[];
  /** Raw images attached as virtio disks, read-only, after `disks`. */
  roDisks?: string[];
  /** Host folder shared read-write at /share (9p; files the guest writes are owned by the host user running QEMU). */
  share?: string;
  /** SCSI pass-through (scsi-generic) after the CD-ROMs: iscsi://HOST:PORT/IQN/LUN URLs or host /dev/sgN. */
  sg?: string[];
  /** Kill QEMU after this many seconds (default 300); runGuest then throws. */
  timeoutSec?: number;
  /** Guest memory (default 1024 MiB). */
  memMiB?: number;
  /** A guest folder from ensureGuest(spec); default ensureGuest(). */
  guest?: string;
  /** More QEMU arguments, appended as they are. */
  qemuArgs?: string[];
}

export interface GuestResult {
  /** Exit status of the command in the guest. */
  status: number;
  /** What the command wrote to stdout and stderr (UTF-8). */
  output: string;
  /** The guest's console: kernel messages (level ≤ 3 after boot, `quiet`) and /init's GUEST-UP/GUEST-EXIT lines. */
  log: string;
  /** Wall-clock seconds from starting QEMU to its exit. */
  seconds: number;
}

/** Thrown when the guest did not run the command to its end: timeout, kernel panic, QEMU refusing its arguments. */
export class GuestError extends Error {
  constructor(message: string, readonly log: string, readonly output: string) {
    super(message);
    this.name = 'GuestError';
  }
}

let rootCache: string | undefined;
/** The repository root: the nearest folder above this module with test/guest/make-guest.sh (source or bundle). */
export function repoRoot(): string {
  if (rootCache) return rootCache;
  for (const start of [__dirname, process.cwd()]) {
    for (let d = path.resolve(start); ; d = path.dirname(d)) {
      if (existsSync(path.join(d, 'test', 'guest', 'make-guest.sh')) && existsSync(path.join(d, 'package.json'))) {
        return (rootCache = d);
      }
      if (path.dirname(d) === d) break;
    }
  }
  throw new Error(`test/guest/make-guest.sh not found above ${__dirname} or ${process.cwd()}`);
}

/** Where guests and downloads are cached: $DISCFORGE_GUEST_CACHE or <repo>/.tools/qemu-guest-cache. */
export function guestCacheDir(): string {
  const env = process.env.DISCFORGE_GUEST_CACHE;
  return path.resolve(env && env.length > 0 ? env : path.join(repoRoot(), '.tools', 'qemu-guest-cache'));
}

const building = new Map<string, Promise<string>>();

/**
 * Builds the guest (once: it is cached on disk, keyed by the scripts and the spec) and returns its folder, which
 * holds vmlinux, initrd.img and guest.env (KVER=, KPKG=, MODULES=). A cold build downloads the kernel .deb
 * (~70 MB) and takes about 10 s; a cached guest returns at once. Safe to call from test files running in parallel.
 */
export async function ensureGuest(spec: GuestSpec = {}): Promise<string> {
  const here = path.join(repoRoot(), 'test', 'guest');
  const norm = {
    modules: [...(spec.modules ?? DEFAULT_MODULES)],
    bins: [...(spec.bins ?? [])],
    libsOf: [...(spec.libsOf ?? [])],
    kernelPackage: spec.kernelPackage ?? process.env.DISCFORGE_GUEST_KPKG ?? '',
  };
  const h = createHash('sha256');
  for (const f of ['make-guest.sh', 'guest-init.sh']) h.update(readFileSync(path.join(here, f)));
  h.update(JSON.stringify(norm));
  const key = h.digest('hex').slice(0, 16);
  let p = building.get(key);
  if (!p) {
    p = buildGuest(here, key, norm);
    building.set(key, p);
    p.catch(() => building.delete(key));
  }
  return p;
}

function isBuilt(dir: string): boolean {
  return ['vmlinux', 'initrd.img', 'guest.env'].every((f) => existsSync(path.join(dir, f)));
}

async function buildGuest(
  here: string,
  key: string,
  spec: { modules: string[]; bins: string[]; libsOf: string[]; kernelPackage: string },
): Promise<string> {
  const cache = guestCacheDir();
  const dir = path.join(cache, `guest-${key}`);
  const touch = (): Promise<void> => fsp.utimes(dir, new Date(), new Date()).catch(() => undefined); // for pruning
  if (isBuilt(dir)) {
    await touch();
    return dir;
  }
  await fsp.mkdir(cache, { recursive: true });
  const unlock = await lock(path.join(cache, 'build.lock'));
  try {
    if (isBuilt(dir)) return dir; // another process built it while we waited
    // Under the lock nobody else builds: leftovers of crashed builds, and guests unused for 30 days, go.
    for (const n of await fsp.readdir(cache)) {
      if (!n.startsWith('guest-')) continue;
      const p = path.join(cache, n);
      const old = Date.now() - ((await fsp.stat(p).catch(() => undefined))?.mtimeMs ?? Date.now()) > 30 * 86400_000;
      if (n.includes('.tmp-') || old) await fsp.rm(p, { recursive: true, force: true });
    }
    const tmp = `${dir}.tmp-${process.pid}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CACHE: path.join(cache, 'downloads'),
      MODULES: spec.modules.join(' '),
      BINS: spec.bins.join(' '),
      LIBS_OF: spec.libsOf.join(' '),
      DEBIAN_FRONTEND: 'noninteractive',
    };
    if (spec.kernelPackage) env.KPKG = spec.kernelPackage;
    else delete env.KPKG;
    const r = await run('sh', [path.join(here, 'make-guest.sh'), tmp], { env });
    if (r.code !== 0 || !isBuilt(tmp)) {
      await fsp.rm(tmp, { recursive: true, force: true });
      throw new Error(
        `make-guest.sh failed (status ${r.code}). It needs apt-get, dpkg, cpio, xz and qemu-system-x86 ` +
          `(node scripts/ensure-tools.mjs installs them):\n${r.stderr}${r.stdout}`,
      );
    }
    await fsp.rename(tmp, dir);
    return dir;
  } finally {
    await unlock();
  }
}

/** A lock folder shared by processes; a lock whose owner died (or is older than 30 min) is taken over. */
async function lock(lockDir: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      await fsp.mkdir(lockDir);
      await fsp.writeFile(path.join(lockDir, 'pid'), `${process.pid}\n`);
      return () => fsp.rm(lockDir, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let stale = false;
    try {
      const st = await fsp.stat(lockDir);
      const pid = Number((await fsp.readFile(path.join(lockDir, 'pid'), 'utf8').catch(() => '')).trim());
      if (Date.now() - st.mtimeMs > 30 * 60_000) stale = true;
      else if (pid > 0 && !processAlive(pid)) stale = true;
      else if (!(pid > 0) && Date.now() - st.mtimeMs > 10_000) stale = true; // died between mkdir and writing pid
    } catch {
      continue; // the lock went away meanwhile: try again at once
    }
    if (stale) {
      await fsp.rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
  });
}

/** A QEMU option value: commas are doubled. */
const q = (s: string): string => path.resolve(s).replace(/,/g, ',,');
const qUrl = (s: string): string => (/^[a-z]+:\/\//.test(s) ? s : path.resolve(s)).replace(/,/g, ',,');

/** The QEMU arguments for a run (without the command file and serial files). Exported for tests of the harness. */
export function qemuDeviceArgs(opts: GuestRun): string[] {
  const a: string[] = ['-device', 'virtio-scsi-pci,id=scsi0'];
  let n = 0;
  let scsiId = 0;
  for (const f of opts.cdroms ?? []) {
    a.push('-drive', `file=${q(f)},if=none,id=d${n},format=raw,readonly=on,media=cdrom`);
    a.push('-device', `scsi-cd,bus=scsi0.0,scsi-id=${scsiId++},lun=0,drive=d${n++}`);
  }
  for (const u of opts.sg ?? []) {
    a.push('-drive', `file=${qUrl(u)},if=none,id=d${n},format=raw`);
    a.push('-device', `scsi-generic,bus=scsi0.0,scsi-id=${scsiId++},lun=0,drive=d${n++}`);
  }
  for (const f of opts.disks ?? []) {
    a.push('-drive', `file=${q(f)},if=none,id=d${n},format=raw`, '-device', `virtio-blk-pci,drive=d${n++}`);
  }
  for (const f of opts.roDisks ?? []) {
    a.push('-drive', `file=${q(f)},if=none,id=d${n},format=raw,readonly=on`, '-device', `virtio-blk-pci,drive=d${n++}`);
  }
  if (opts.share) a.push('-virtfs', `local,path=${q(opts.share)},mount_tag=share,security_model=none`);
  return a;
}

/**
 * Boots the guest, runs `cmd` (a busybox sh script) in it and returns its exit status and output.
 * Throws GuestError if the guest does not get to the end of the command (timeout, panic, bad QEMU arguments).
 * The guest's exit statuses 124 and 125 are ordinary statuses here (unlike run-guest.sh's).
 */
export async function runGuest(cmd: string, opts: GuestRun = {}): Promise<GuestResult> {
  const g = opts.guest ?? (await ensureGuest());
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'discforge-guest-'));
  try {
    const cmdFile = path.join(tmp, 'cmd');
    const logFile = path.join(tmp, 'console.log');
    const outFile = path.join(tmp, 'output');
    await fsp.writeFile(cmdFile, cmd.endsWith('\n') ? cmd : `${cmd}\n`);
    const timeoutSec = opts.timeoutSec ?? 300;
    const args = [
      '-n', '10', 'qemu-system-x86_64',
      '-accel', 'tcg', '-M', 'pc', '-cpu', 'max', '-smp', '1', '-m', String(opts.memMiB ?? 1024),
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      '-serial', `file:${logFile}`, '-serial', `file:${outFile}`,
      '-kernel', path.join(g, 'vmlinux'), '-initrd', path.join(g, 'initrd.img'),
      '-append', 'console=ttyS0 quiet panic=-1 scsi_mod.scan=sync',
      '-fw_cfg', `name=opt/cmd,file=${q(cmdFile)}`,
      ...qemuDeviceArgs(opts),
      ...(opts.qemuArgs ?? []),
    ];
    const t0 = process.hrtime.bigint();
    let r: Awaited<ReturnType<typeof run>>;
    try {
      r = await run('nice', args, { timeoutMs: timeoutSec * 1000 });
    } catch (e) {
      throw new Error(`cannot start QEMU (${(e as Error).message}): install qemu-system-x86 (node scripts/ensure-tools.mjs)`);
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const log = (await fsp.readFile(logFile, 'utf8').catch(() => '')).replace(/\r/g, '');
    const output = await fsp.readFile(outFile, 'utf8').catch(() => '');
    const exit = /^GUEST-EXIT=(\d+)/m.exec(log);
    const tail = (s: string): string => s.split('\n').slice(-40).join('\n');
    if (r.timedOut) {
      throw new GuestError(`guest timed out after ${timeoutSec} s\n--- console (end):\n${tail(log)}\n--- output (end):\n${tail(output)}`, log, output);
    }
    if (!exit && r.code === 127) {
      throw new Error(`qemu-system-x86_64 not found: install qemu-system-x86 (node scripts/ensure-tools.mjs)\n${r.stderr}`);
    }
    if (!exit) {
      throw new GuestError(
        `guest stopped without finishing the command (QEMU status ${r.code})\n${r.stderr}` +
          `--- console (end):\n${tail(log)}\n--- output (end):\n${tail(output)}`,
        log,
        output,
      );
    }
    return { status: Number(exit[1]), output, log, seconds };
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Listing a mounted file system in the guest, and reading the listing back on the host.

/**
 * Shell functions for a guest command (prepend them):
 *   listing NAME DIR                       prints a section with every entry under DIR: type, mode, size, mtime,
 *                                          inode, symlink target, SHA-256 of regular files
 *   mount_list NAME DEV FSTYPE OPTS        mounts DEV read-only (mount -t FSTYPE -o ro,OPTS) at /mnt, lists it,
 *                                          unmounts; on failure prints "@@@ MOUNT-FAILED NAME" and returns 1
 * Read the output with parseSections / parseListing.
 */
export const LISTING_SH = [
  'listing() {',
  '  echo "@@@ BEGIN $1"',
  '  ( set -o pipefail; cd "$2" || exit 1',
  "    find . -mindepth 1 -exec stat -c 'S\t%F\t%a\t%s\t%Y\t%i\t%n' {} + || exit 1",
  "    find . -mindepth 1 -type l -exec stat -c 'L\t%N' {} + || exit 1",
  "    find . -mindepth 1 -type f -exec sha256sum {} + | sed 's/^/H\t/' )",
  '  echo "@@@ END $1 $?"',
  '}',
  'mount_list() {',
  '  mkdir -p /mnt',
  '  if e=$(mount -t "$3" -o "ro${4:+,$4}" "$2" /mnt 2>&1); then listing "$1" /mnt; r=$?; umount /mnt; return $r',
  '  else echo "@@@ MOUNT-FAILED $1 $e" | tr "\\n" " "; echo; return 1; fi',
  '}',
  '',
].join('\n');

/** A section "@@@ BEGIN name" … "@@@ END name status" of a guest's output (or a mount that failed). */
export interface Section {
  name: string;
  lines: string[];
  /** The status on the END line; -1 if the section has no END line (or the mount failed). */
  status: number;
  /** For `mount_list`: the mount failed, with this message. */
  mountFailed?: string;
}

/** Splits a guest's output into its sections (lines outside sections are ignored). */
export function parseSections(output: string): Map<string, Section> {
  const out = new Map<string, Section>();
  let cur: Section | undefined;
  for (const line of output.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^@@@ BEGIN (\S+)$/.exec(line))) {
      cur = { name: m[1], lines: [], status: -1 };
      out.set(cur.name, cur);
    } else if ((m = /^@@@ END (\S+) (\d+)$/.exec(line)) && cur && cur.name === m[1]) {
      cur.status = Number(m[2]);
      cur = undefined;
    } else if ((m = /^@@@ MOUNT-FAILED (\S+) ?(.*)$/.exec(line))) {
      out.set(m[1], { name: m[1], lines: [], status: -1, mountFailed: m[2] || 'mount failed' });
    } else if (cur) {
      cur.lines.push(line);
    }
  }
  return out;
}

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

/** One entry of a listing, as the guest kernel shows it. */
export interface Entry {
  /** Path relative to the listed folder, without a leading ./ (e.g. `docs/a.txt`). */
  path: string;
  type: EntryType;
  /** Permission bits (e.g. 0o755). */
  mode: number;
  size: number;
  /** Modification time, seconds since 1970. */
  mtime: number;
  ino: number;
  /** Regular files: SHA-256 of the content (hex). */
  sha256?: string;
  /** Symbolic links: the target. */
  target?: string;
}

/** Reads a `listing` section into path → entry. Throws on a malformed line or a path listed twice. */
export function parseListing(section: Section): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const rel = (p: string): string => (p.startsWith('./') ? p.slice(2) : p);
  const get = (p: string): Entry => {
    const e = entries.get(rel(p));
    if (!e) throw new Error(`listing ${section.name}: ${p} has no stat line`);
    return e;
  };
  for (const line of section.lines) {
    if (line === '') continue;
    const f = line.split('\t');
    if (f[0] === 'S' && f.length >= 7) {
      const p = rel(f.slice(6).join('\t'));
      if (entries.has(p)) throw new Error(`listing ${section.name}: ${p} listed twice`);
      const type: EntryType = f[1].startsWith('regular')
        ? 'file'
        : f[1] === 'directory'
          ? 'dir'
          : f[1] === 'symbolic link'
            ? 'symlink'
            : 'other';
      entries.set(p, {
        path: p, type, mode: parseInt(f[2], 8), size: Number(f[3]), mtime: Number(f[4]), ino: Number(f[5]),
      });
    } else if (f[0] === 'L') {
      const m = /^'(.*)' -> '(.*)'$/.exec(f.slice(1).join('\t'));
      if (!m) throw new Error(`listing ${section.name}: bad link line ${JSON.stringify(line)}`);
      get(m[1]).target = m[2];
    } else if (f[0] === 'H') {
      const m = /^([0-9a-f]{64}) {2}(.*)$/.exec(f.slice(1).join('\t'));
      if (!m) throw new Error(`listing ${section.name}: bad hash line ${JSON.stringify(line)}`);
      get(m[2]).sha256 = m[1];
    } else {
      throw new Error(`listing ${section.name}: unexpected line ${JSON.stringify(line)}`);
    }
  }
  return entries;
}
