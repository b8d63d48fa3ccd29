/**
 * Boots an image with firmware we did not write - SeaBIOS (QEMU's default PC BIOS) or OVMF (UEFI, Debian's `ovmf`)
 * - under QEMU with TCG, and watches the serial console (COM1) until a pattern shows up:
 *
 *   const r = await bootFirmware({ firmware: 'bios', cdrom: iso, until: /DISCFORGE-BIOS-OK/ });
 *   assert.ok(r.matched, r.serial);
 *
 * The machine: `-M pc` (i440FX; IDE controller on board) for both firmwares, no network, no display, one serial
 * port (a file QEMU writes; polled every 100 ms), `-no-reboot` (a reset or shutdown ends QEMU). Devices:
 *   cdrom   ide-cd on the IDE bus, read-only;
 *   disk    raw, `snapshot=on` (writes go to a throw-away overlay: the image is never modified), as an IDE hard disk
 *           (default) or virtio-blk (`diskIf: 'virtio'`);
 *   floppy  raw, drive A:, read-only.
 * The boot device is `boot`, or else the first of cdrom, disk, floppy that is given (it gets bootindex 0, the
 * others follow). QEMU runs under `nice -n 10`; it is killed (by its PID) as soon as `until` matches, at the
 * timeout, and if anything throws. The returned `serial` has ANSI escape sequences and CRs removed (OVMF, GRUB and
 * Linux paint the console with them), and so is what `until` is matched against.
 *
 * Times under TCG on a loaded 2-core machine: SeaBIOS reaches a boot sector in 1-3 s, OVMF reaches an EFI boot
 * loader in 10-40 s (default timeout 120 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

export interface FirmwareBoot {
  firmware: 'bios' | 'uefi';
  /** An ISO image on an IDE CD-ROM drive. */
  cdrom?: string;
  /** A raw hard-disk image (used with snapshot=on: never modified). */
  disk?: string;
  /** How the disk is attached: 'ide' (default) or 'virtio' (virtio-blk-pci). */
  diskIf?: 'ide' | 'virtio';
  /** A raw floppy image on drive A:. */
  floppy?: string;
  /** Which device boots (default: the first given of cdrom, disk, floppy). */
  boot?: 'cdrom' | 'disk' | 'floppy';
  /** Stop as soon as the serial console (escape sequences removed) matches. */
  until: RegExp;
  /** Give up after this long (default 120000 ms); the result then has matched: false. */
  timeoutMs?: number;
  /** Guest memory (default 256 MiB). */
  memoryMiB?: number;
  /** Keep the raw serial console in this file (default: a temporary file, removed). */
  log?: string;
  /** More QEMU arguments, appended as they are. */
  qemuArgs?: string[];
}

export interface FirmwareResult {
  /** `until` matched the console before the timeout (or before QEMU stopped by itself). */
  matched: boolean;
  /** The serial console, ANSI escape sequences and CRs removed. */
  serial: string;
  /** Milliseconds from starting QEMU to the match (or to the end). */
  ms: number;
  /** Why the run ended: the pattern matched, the timeout, or QEMU exited by itself (`exit`, with `stderr`). */
  ended: 'matched' | 'timeout' | 'exit';
  /** QEMU's stderr (arguments refused, firmware missing …). */
  stderr: string;
}

/** Debian's OVMF build with its variable store, one file (fine for `-bios`: nothing persists between boots). */
export const OVMF_FD = '/usr/share/ovmf/OVMF.fd';

/** Removes ANSI/VT100 escape sequences (CSI, OSC, charset selection, single-character ones) and carriage returns. */
export function stripAnsi(s: string): string {
  return s
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '') // CSI … final byte
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '') // OSC … BEL / ST
    .replace(/\x1b[()*+][0-9A-Za-z]/g, '') // designate character set
    .replace(/\x1b[@-Z\\-_=>78c]/g, '') // other two-character escapes
    .replace(/\r/g, '');
}

/** A QEMU option value: commas are doubled. */
const q = (s: string): string => path.resolve(s).replace(/,/g, ',,');

/** The QEMU arguments for a boot (without `nice` and the serial file). Exported for tests of the harness. */
export function firmwareQemuArgs(o: FirmwareBoot): string[] {
  const a: string[] = [
    '-accel', 'tcg', '-M', 'pc', '-m', String(o.memoryMiB ?? 256),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
  ];
  if (o.firmware === 'uefi') a.push('-bios', OVMF_FD);
  const order = (['cdrom', 'disk', 'floppy'] as const).filter((d) => o[d] !== undefined);
  if (order.length === 0) throw new Error('bootFirmware: give a cdrom, a disk or a floppy');
  const first = o.boot ?? order[0];
  if (!order.includes(first)) throw new Error(`bootFirmware: boot from ${first}, but no ${first} is given`);
  const index = (d: (typeof order)[number]): number => (d === first ? 0 : 1 + order.filter((x) => x !== first).indexOf(d));
  if (o.cdrom !== undefined) {
    a.push('-drive', `file=${q(o.cdrom)},if=none,id=cd0,format=raw,media=cdrom,readonly=on`);
    a.push('-device', `ide-cd,drive=cd0,bus=ide.1,unit=0,bootindex=${index('cdrom')}`);
  }
  if (o.disk !== undefined) {
    a.push('-drive', `file=${q(o.disk)},if=none,id=hd0,format=raw,snapshot=on`);
    if ((o.diskIf ?? 'ide') === 'virtio') a.push('-device', `virtio-blk-pci,drive=hd0,bootindex=${index('disk')}`);
    else a.push('-device', `ide-hd,drive=hd0,bus=ide.0,unit=0,bootindex=${index('disk')}`);
  }
  if (o.floppy !== undefined) {
    a.push('-drive', `file=${q(o.floppy)},if=none,id=fd0,format=raw,readonly=on`);
    a.push('-device', 'floppy,drive=fd0,unit=0', '-global', `isa-fdc.bootindexA=${index('floppy')}`);
  }
  a.push(...(o.qemuArgs ?? []));
  return a;
}

/** Boots the machine and watches its serial console; see the module comment. */
export async function bootFirmware(o: FirmwareBoot): Promise<FirmwareResult> {
  if (o.firmware === 'uefi' && !existsSync(OVMF_FD)) {
    throw new Error(`${OVMF_FD} not found: install ovmf (node scripts/ensure-tools.mjs)`);
  }
  const timeoutMs = o.timeoutMs ?? 120_000;
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'discforge-fw-'));
  const logFile = o.log ? path.resolve(o.log) : path.join(tmp, 'serial.log');
  await fsp.writeFile(logFile, '');
  let child: ChildProcess | undefined;
  try {
    const args = ['-n', '10', 'qemu-system-x86_64', ...firmwareQemuArgs(o), '-serial', `file:${q(logFile)}`];
    const t0 = Date.now();
    // nice execs QEMU: the child's PID is QEMU's.
    const proc = spawn('nice', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    const errs: Buffer[] = [];
    proc.stderr?.on('data', (b: Buffer) => errs.push(b));
    let exited = false;
    const exitP = new Promise<void>((resolve) => {
      proc.on('error', (e) => {
        errs.push(Buffer.from(`cannot start QEMU: ${e.message}\n`));
        exited = true;
        resolve();
      });
      proc.on('exit', () => {
        exited = true;
        resolve();
      });
    });
    const read = async (): Promise<string> => stripAnsi(await fsp.readFile(logFile, 'latin1').catch(() => ''));
    let serial = '';
    let ended: FirmwareResult['ended'] = 'timeout';
    for (;;) {
      serial = await read();
      if (o.until.test(serial)) {
        ended = 'matched';
        break;
      }
      if (exited) {
        serial = await read(); // what QEMU wrote before it exited
        ended = o.until.test(serial) ? 'matched' : 'exit';
        break;
      }
      if (Date.now() - t0 > timeoutMs) break;
      await Promise.race([exitP, new Promise((r) => setTimeout(r, 100))]);
    }
    const ms = Date.now() - t0;
    await stop(proc, exitP);
    child = undefined;
    return { matched: ended === 'matched', serial, ms, ended, stderr: Buffer.concat(errs).toString('utf8') };
  } finally {
    if (child) await stop(child, new Promise((r) => child?.once('exit', r)));
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/** Kills QEMU (its own PID only) and waits for it to go. */
async function stop(proc: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  proc.kill('SIGKILL');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
}
