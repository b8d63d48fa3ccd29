/**
 * Boot programs and boot media for the tests, made at test time with real tools:
 *   - the tiny boot programs of test/fixtures/boot/*.asm, assembled with nasm, each printing a marker on COM1:
 *     noEmulationImage (El Torito no-emulation image), floppyImage (1.2/1.44/2.88 MB floppy), hardDiskImage
 *     (hard-disk emulation image: MBR + one partition);
 *   - grubEfiApp: a standalone GRUB EFI application (grub-mkimage, x86_64-efi) whose embedded configuration echoes a
 *     marker and halts (OVMF's console, and so the marker, goes to the serial port);
 *   - fatImage: a FAT image holding given files (mkfs.vfat -C, mmd, mcopy), e.g. an EFI system partition with
 *     EFI/BOOT/BOOTX64.EFI.
 * Results are cached (keyed by the source and the parameters) under $TMPDIR/discforge-bootcode-<uid>/, so repeated
 * calls cost nothing. A missing tool is an error (scripts/ensure-tools.mjs installs nasm, grub-common,
 * grub-efi-amd64-bin, dosfstools and mtools), never a reason to skip.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The repository root (tests run bundled from out/test/**; the fixtures live in test/fixtures/boot). */
function repoRoot(): string {
  for (let d = __dirname; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'test', 'fixtures', 'boot', 'noemul.asm')) && fs.existsSync(path.join(d, 'package.json'))) {
      return d;
    }
    if (path.dirname(d) === d) throw new Error(`test/fixtures/boot not found above ${__dirname}`);
  }
}

/** Folder of the fixtures' nasm sources. */
export function bootFixturesDir(): string {
  return path.join(repoRoot(), 'test', 'fixtures', 'boot');
}

function cacheDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const d = path.join(os.tmpdir(), `discforge-bootcode-${uid}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** Runs `make(dir)` in a fresh folder, which must write `dir/out`; caches that file under `key`. */
function cached(key: string, make: (dir: string) => void): Buffer {
  const file = path.join(cacheDir(), `${createHash('sha256').update(key).digest('hex').slice(0, 24)}.bin`);
  if (fs.existsSync(file)) return fs.readFileSync(file);
  const work = fs.mkdtempSync(path.join(cacheDir(), 'work-'));
  try {
    make(work);
    const out = fs.readFileSync(path.join(work, 'out'));
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, out);
    fs.renameSync(tmp, file); // atomic: parallel test files may make the same thing
    return out;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function tool(cmd: string, args: string[], pkg: string, cwd?: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string; stdout?: string; status?: number };
    if (err.code === 'ENOENT') throw new Error(`${cmd} not found: install ${pkg} (node scripts/ensure-tools.mjs)`);
    throw new Error(`${cmd} ${args.join(' ')} failed (status ${err.status}):\n${err.stderr ?? ''}${err.stdout ?? ''}`);
  }
}

/** Markers go into nasm string literals and GRUB's echo: keep them to safe characters. */
function checkMarker(marker: string): void {
  if (!/^[A-Za-z0-9_.:+=-][A-Za-z0-9 _.:+=-]{0,62}$/.test(marker)) {
    throw new Error(`boot marker ${JSON.stringify(marker)}: use 1-63 of A-Z a-z 0-9 space _ . : + = -`);
  }
}

/** Assembles test/fixtures/boot/<name>.asm with `-D` defines (strings must be quoted for nasm by the caller). */
export function assembleFixture(name: string, defines: Record<string, string | number>): Buffer {
  const src = path.join(bootFixturesDir(), `${name}.asm`);
  const text = Buffer.concat([fs.readFileSync(src), fs.readFileSync(path.join(bootFixturesDir(), 'serial.inc'))]);
  const defs = Object.entries(defines).map(([k, v]) => `-D${k}=${v}`);
  return cached(`nasm\0${name}\0${text.toString('latin1')}\0${JSON.stringify(defs)}`, (dir) => {
    tool('nasm', ['-f', 'bin', '-I', bootFixturesDir() + path.sep, ...defs, '-o', path.join(dir, 'out'), src], 'nasm');
  });
}

/**
 * An El Torito no-emulation boot image of `sectors` × 512 bytes (noemul.asm) to be loaded at `loadSegment`:0000
 * (default 0x07C0, El Torito's default; the program far-jumps to loadSegment:entry first, so 07C0:0000 and
 * 0000:7C00 entries both work). It prints `marker` (stored in its last sector, so it proves the whole image was
 * loaded), then `marker BIT-OK` when a consistent boot info table (bi_pvd = 16, bi_length = the image's size,
 * checksum equal to what is in memory) was patched in at offset 8, and halts.
 */
export function noEmulationImage(marker: string, sectors = 4, loadSegment = 0x07c0): Buffer {
  checkMarker(marker);
  if (!Number.isInteger(sectors) || sectors < 2 || sectors > 1024) throw new Error(`noEmulationImage: sectors ${sectors}`);
  if (!Number.isInteger(loadSegment) || loadSegment < 0x0800 - 0x40 || loadSegment * 16 + sectors * 512 > 0x9f000) {
    throw new Error(`noEmulationImage: load segment 0x${loadSegment.toString(16)} with ${sectors} sectors`);
  }
  return assembleFixture('noemul', { MARKER: `'${marker}'`, SECTORS: sectors, LOADSEG: `0x${loadSegment.toString(16)}` });
}

export type FloppyKind = '1.2' | '1.44' | '2.88';
/** Sizes of the El Torito floppy emulations, in bytes. */
export const FLOPPY_BYTES: Record<FloppyKind, number> = { '1.2': 1_228_800, '1.44': 1_474_560, '2.88': 2_949_120 };

/** A whole floppy image (floppy.asm): FAT12 boot sector whose code prints `marker`, empty FATs, zeros. */
export function floppyImage(marker: string, kind: FloppyKind = '1.44'): Buffer {
  checkMarker(marker);
  const k = { '1.2': 120, '1.44': 144, '2.88': 288 }[kind];
  return assembleFixture('floppy', { MARKER: `'${marker}'`, KIND: k });
}

/** Sectors per cylinder of hardDiskImage's geometry (16 heads × 63 sectors). */
export const HARD_DISK_CYLINDER = 16 * 63;

/**
 * A hard-disk emulation image (harddisk.asm) of at least `sectors` 512-byte sectors, rounded up to whole cylinders
 * of 16 × 63 sectors: an MBR whose code prints `marker`, one bootable partition (type 06h) from LBA 63 to the end.
 */
export function hardDiskImage(marker: string, sectors = 2 * HARD_DISK_CYLINDER): Buffer {
  checkMarker(marker);
  const cyls = Math.max(1, Math.ceil(sectors / HARD_DISK_CYLINDER));
  return assembleFixture('harddisk', { MARKER: `'${marker}'`, CYLS: cyls });
}

/**
 * A standalone GRUB EFI application for x86-64 (BOOTX64.EFI) with an embedded configuration that prints `marker`
 * with `echo` and then powers the machine off with `halt` (under QEMU: QEMU exits). Made with grub-mkimage from
 * grub-efi-amd64-bin's modules; prefix /EFI/BOOT. The marker reaches the serial port through the firmware's
 * console (OVMF mirrors it there), wrapped in ANSI escape sequences.
 */
export function grubEfiApp(marker: string, modules: readonly string[] = ['echo', 'halt']): Buffer {
  checkMarker(marker);
  const cfg = `echo ${marker}\nhalt\n`;
  const modDir = '/usr/lib/grub/x86_64-efi';
  const version = fs.existsSync(path.join(modDir, 'moddep.lst')) ? fs.readFileSync(path.join(modDir, 'moddep.lst')) : '';
  if (!version) throw new Error(`${modDir} not found: install grub-efi-amd64-bin (node scripts/ensure-tools.mjs)`);
  return cached(`grub-efi\0${cfg}\0${modules.join(',')}\0${version.toString()}`, (dir) => {
    fs.writeFileSync(path.join(dir, 'embedded.cfg'), cfg);
    tool(
      'grub-mkimage',
      ['-O', 'x86_64-efi', '-d', modDir, '-p', '/EFI/BOOT', '-c', path.join(dir, 'embedded.cfg'), '-o', path.join(dir, 'out'), ...modules],
      'grub-common',
    );
  });
}

/**
 * A FAT image of `sizeKiB` KiB (default: room for the files, at least 1440 KiB) holding `files` (path → content,
 * `/`-separated, folders made as needed), made with mkfs.vfat -C (FAT12/16 as mkfs.vfat chooses for the size) and
 * mtools. The volume ID is fixed, but mtools stamps the current time on the entries: compare contents, not bytes
 * (cached images are reused as they are).
 */
export function fatImage(files: Record<string, Buffer>, sizeKiB?: number): Buffer {
  const total = Object.values(files).reduce((n, b) => n + Math.ceil(b.length / 4096) * 4, 0);
  const size = sizeKiB ?? Math.max(1440, Math.ceil((total * 1.25 + 256) / 32) * 32);
  const key = createHash('sha256');
  key.update(`fat\0${size}\0`);
  for (const [p, b] of Object.entries(files).sort(([a], [b2]) => (a < b2 ? -1 : a > b2 ? 1 : 0))) {
    key.update(`${p}\0${b.length}\0`).update(b);
  }
  return cached(key.digest('hex'), (dir) => {
    const img = path.join(dir, 'out');
    tool('mkfs.vfat', ['-C', '-i', '44463346', img, String(size)], 'dosfstools');
    const made = new Set<string>();
    Object.entries(files).forEach(([p, content], n) => {
      const parts = p.split('/').filter((s) => s.length > 0);
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (!made.has(d)) {
          tool('mmd', ['-i', img, `::${d}`], 'mtools');
          made.add(d);
        }
      }
      const src = path.join(dir, `file-${n}`);
      fs.writeFileSync(src, content);
      tool('mcopy', ['-i', img, '-o', src, `::${parts.join('/')}`], 'mtools');
      fs.rmSync(src);
    });
  });
}

/** An EFI system partition image holding `app` as EFI/BOOT/BOOTX64.EFI (the removable-media default path). */
export function efiSystemPartition(app: Buffer, sizeKiB?: number): Buffer {
  return fatImage({ 'EFI/BOOT/BOOTX64.EFI': app }, sizeKiB);
}

// ---------------------------------------------------------------------------------------------------------------
// xorriso as the reference image maker and El Torito reader.

/** Runs `xorriso -as mkisofs -quiet -o OUT ARGS…` (the arguments as mkisofs takes them, sources last). */
export function xorrisoMkisofs(out: string, args: readonly string[]): void {
  tool('xorriso', ['-as', 'mkisofs', '-quiet', '-o', out, ...args], 'xorriso');
}

/** One boot image of `xorriso -report_el_torito plain`. */
export interface XorrisoBootImage {
  n: number;
  platform: string;
  bootable: boolean;
  emulation: string;
  loadSegment: number;
  /** Load size: 512-byte sectors. */
  sectors: number;
  /** 2048-byte block address of the image. */
  lba: number;
  path?: string;
}

/** The El Torito boot images of an ISO image, as xorriso reports them. */
export function xorrisoElTorito(iso: string): XorrisoBootImage[] {
  const text = tool('xorriso', ['-indev', iso, '-report_el_torito', 'plain'], 'xorriso');
  const out: XorrisoBootImage[] = [];
  for (const line of text.split('\n')) {
    let m = /^El Torito boot img :\s+(\d+)\s+(\S+)\s+([yn])\s+(\S+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+(\d+)\s+(\d+)/.exec(line);
    if (m) {
      out.push({
        n: Number(m[1]), platform: m[2], bootable: m[3] === 'y', emulation: m[4], loadSegment: parseInt(m[5], 16),
        sectors: Number(m[6]), lba: Number(m[7]),
      });
      continue;
    }
    m = /^El Torito img path :\s+(\d+)\s+(.*)$/.exec(line);
    if (m) {
      const e = out.find((x) => x.n === Number(m![1]));
      if (e) e.path = m[2];
    }
  }
  return out;
}

/** The 2048-byte block address of an ISO image's El Torito boot catalog, as xorriso reports it. */
export function xorrisoBootCatalogLba(iso: string): number {
  const text = tool('xorriso', ['-indev', iso, '-report_el_torito', 'plain'], 'xorriso');
  const m = /^El Torito catalog\s+:\s+(\d+)\s+\d+/m.exec(text);
  if (!m) throw new Error(`xorriso reports no El Torito catalog in ${iso}:\n${text}`);
  return Number(m[1]);
}
