/**
 * Bootable discs: El Torito boot entries (BIOS, UEFI, PowerPC, Mac; no emulation, floppy and hard-disk
 * emulation), the boot catalog, boot info tables, EFI system partition images built from a folder, and hybrid
 * system areas (MBR, GPT) so that the same image boots from a USB stick.
 *
 * Planning only decides what goes where (and checks the manifest); every byte that depends on an address (the
 * catalog, the boot info table, the MBR and GPT) is made when the image is written, after the layout is planned.
 *
 * Sources: "El Torito" Bootable CD-ROM Format Specification 1.0 (Phoenix/IBM, 1995): 2.0 boot record volume
 * descriptor, 2.1 validation entry, 2.2 initial/default entry, 2.3 section header, 2.4 section entry; the boot
 * info table is mkisofs' `-boot-info-table` convention (ISOLINUX, GRUB's eltorito.img); UEFI 2.10 5.2 (MBR,
 * protective MBR), 5.3 (GPT header and partition entries), 13.3.2 (El Torito platform id 0xEF).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ManifestDocument, JsonPath } from '../manifest/load';
import type { BootEntry, DiscProject } from '../manifest/types.generated';
import { pathOf, type DirNode, type FileNode, type TreeNode } from '../model';
import { crc32 } from '../util/crc32';
import type { Diagnostic } from '../util/errors';
import type { BootHooks, IsoImage } from '../iso9660/image';
import { planFat, type FatPlan } from './fat';
import { makeMbr, templateKind, type MbrPartition } from './mbr';

const SECTOR = 2048;

/** El Torito 2.1: platform ids. */
export const PLATFORM_IDS = { bios: 0x00, ppc: 0x01, mac: 0x02, efi: 0xef } as const;
/** El Torito 2.2: boot media types. */
export const MEDIA_TYPES = { none: 0, 'floppy-1.2': 1, 'floppy-1.44': 2, 'floppy-2.88': 3, 'hard-disk': 4 } as const;
/** Sizes of emulated floppies (El Torito 2.2: 1.2 MB, 1.44 MB, 2.88 MB diskettes). */
export const FLOPPY_BYTES: Record<string, number> = { 'floppy-1.2': 1_228_800, 'floppy-1.44': 1_474_560, 'floppy-2.88': 2_949_120 };

export type Platform = keyof typeof PLATFORM_IDS;
export type Emulation = keyof typeof MEDIA_TYPES;

/** One planned catalog entry. */
export interface PlannedBootEntry {
  index: number;
  platform: Platform;
  emulation: Emulation;
  node: FileNode;
  loadSegment: number;
  /** 512-byte virtual sectors the firmware loads (El Torito 2.2 "sector count"). */
  sectorCount: number;
  /** Hard-disk emulation: the partition type of the image's one partition (El Torito 2.2 "system type"). */
  systemType: number;
  bootInfoTable: boolean;
  id?: string;
  hidden: boolean;
  /** Made from `efiDirectory`. */
  esp?: FatPlan;
}

export interface BootPlan {
  /** The tree to write: the resolved tree plus shown generated files, minus hidden boot images (a copy). */
  root: DirNode;
  entries: PlannedBootEntry[];
  catalog: FileNode;
  hooks: BootHooks;
  /** Call once the ISO image is planned: the write-time parts need its addresses. */
  attach(iso: IsoImage): void;
  /** What the hybrid system area will hold (for messages and hover). */
  hybrid?: { mbr: 'discforge' | 'isolinux' | 'grub2' | 'none'; gpt: boolean };
}

export interface BootOptions {
  doc: ManifestDocument;
  project: DiscProject;
  root: DirNode;
  /** Every timestamp of generated files and folders. */
  timeMs: number;
  /** The volume label (seeds the deterministic disk GUIDs and MBR signature). */
  label: string;
}

type Report = (p: JsonPath, code: string, message: string, severity?: Diagnostic['severity']) => void;

/** Plans the boot entries of a manifest; problems go to `diagnostics`. Returns undefined when there is nothing to do or an error. */
export function planBoot(o: BootOptions, diagnostics: Diagnostic[]): BootPlan | undefined {
  const { doc, project } = o;
  const boot = project.boot ?? [];
  let failed = false;
  const report: Report = (p, code, message, severity = 'error') => {
    if (severity === 'error') failed = true;
    diagnostics.push(doc.diagnostic(p, code, message, severity));
  };
  if (boot.length === 0) {
    if (project.hybrid) report(['hybrid'], 'hybrid-without-boot', '"hybrid" needs "boot" entries: the MBR and GPT start the disc\'s boot images');
    return undefined;
  }
  const baseDir = path.dirname(path.resolve(doc.file));
  const tree = new TreeCopy(o.root, o.timeMs);
  const entries: PlannedBootEntry[] = [];
  const hidden: FileNode[] = [];

  // The catalog: one entry may say where it is shown.
  const catalogAt = boot.map((b, i) => ({ b, i })).filter(({ b }) => b.catalogPath !== undefined);
  for (const extra of catalogAt.slice(1)) {
    report(['boot', extra.i, 'catalogPath'], 'boot-catalog-path', `the boot catalog is already shown at "${catalogAt[0].b.catalogPath}" (entry ${catalogAt[0].i + 1}): one entry sets "catalogPath"`);
  }
  const defaults = boot.map((b, i) => ({ b, i })).filter(({ b }) => b.default);
  for (const extra of defaults.slice(1)) {
    report(['boot', extra.i, 'default'], 'boot-default', `entry ${defaults[0].i + 1} is already the default entry`);
  }

  boot.forEach((b, i) => {
    const planned = planEntry(b, i, { baseDir, tree, report, timeMs: o.timeMs, label: o.label });
    if (!planned) return;
    entries.push(planned);
    if (planned.hidden) hidden.push(planned.node);
  });
  if (failed) return undefined;

  // Catalog order: the default entry first (El Torito 2.2), then the others in manifest order.
  const defaultIndex = defaults.length ? entries.findIndex((e) => e.index === defaults[0].i) : 0;
  const ordered = [entries[defaultIndex], ...entries.filter((_, k) => k !== defaultIndex)];
  const sections = sectionsOf(ordered.slice(1));
  const catalogBytes = 32 * (2 + (ordered.length - 1) + sections.length);
  const catalog: FileNode = {
    kind: 'file',
    name: 'boot.catalog',
    parent: undefined,
    mode: 0o444,
    mtimeMs: o.timeMs,
    origin: catalogAt.length ? ['boot', catalogAt[0].i, 'catalogPath'] : ['boot'],
    source: 'the El Torito boot catalog',
    size: Math.ceil(catalogBytes / SECTOR) * SECTOR,
  };
  if (catalogAt.length) {
    if (!tree.insert(catalogAt[0].b.catalogPath!, catalog, (why) => report(['boot', catalogAt[0].i, 'catalogPath'], 'boot-catalog-path', why))) return undefined;
  } else {
    hidden.unshift(catalog);
  }

  let iso: IsoImage | undefined;
  const lbaOf = (node: FileNode): number => {
    const ext = iso?.extentsOf(node);
    if (!ext) throw new Error(`internal: ${node.source} has no address`);
    return ext.lba;
  };
  catalog.generate = (sink) => {
    sink.write(catalogImage(ordered, sections, lbaOf, catalog.size));
  };
  for (const e of entries) {
    if (e.bootInfoTable) {
      e.node.patch = (data) => patchBootInfoTable(data, iso!.layout.baseLba + 16, lbaOf(e.node));
    }
  }

  const hooks: BootHooks = {
    catalogLba: () => lbaOf(catalog),
    hiddenFiles: hidden,
  };
  const plan: BootPlan = {
    root: tree.root,
    entries: ordered,
    catalog,
    hooks,
    attach: (image) => {
      iso = image;
    },
  };

  const hybrid = project.hybrid;
  if (hybrid) {
    const sys = planHybrid(hybrid, ordered, baseDir, report, o.label);
    if (!sys) return failed ? undefined : plan;
    plan.hybrid = { mbr: sys.mbrKind, gpt: sys.gpt };
    if (sys.mbrKind === 'grub2' && sys.biosEntry) {
      // GRUB 2's hybrid MBR (boot_hybrid.img) loads core.img itself, and core.img's first sector then needs to know
      // where the rest is: the boot image's 512-byte address + 5, as a 64-bit number at byte 2548 of the boot image
      // (what grub-mkrescue asks of xorriso with --grub2-boot-info). Patched before the boot info table, whose
      // checksum covers it.
      const e = sys.biosEntry;
      const bit = e.node.patch;
      e.node.patch = (data) => {
        data.writeBigUInt64LE(BigInt((lbaOf(e.node) - iso!.layout.baseLba) * 4 + 5), GRUB2_BOOT_INFO_OFFSET);
        bit?.(data);
      };
    }
    hooks.systemArea = () => sys.systemArea(iso!, lbaOf);
    if (sys.gpt) {
      hooks.tail = (paddingEnd) => sys.backupEntries(iso!, lbaOf, paddingEnd);
      hooks.lastSector = () => sys.backupHeader(iso!, lbaOf);
    }
  }
  return failed ? undefined : plan;
}

interface EntryContext {
  baseDir: string;
  tree: TreeCopy;
  report: Report;
  timeMs: number;
  label: string;
}

function planEntry(b: BootEntry, i: number, c: EntryContext): PlannedBootEntry | undefined {
  const at = (...p: (string | number)[]): JsonPath => ['boot', i, ...p];
  const platform = b.platform as Platform;
  const emulation = (b.emulation ?? 'none') as Emulation;
  let node: FileNode | undefined;
  let esp: FatPlan | undefined;
  let hidden = b.hidden ?? false;

  if (b.efiDirectory !== undefined) {
    if (platform !== 'efi') {
      c.report(at('efiDirectory'), 'boot-efi-directory', `"efiDirectory" makes an EFI system partition: it belongs to an entry with "platform": "efi", not "${platform}"`);
      return undefined;
    }
    if (emulation !== 'none') {
      c.report(at('emulation'), 'boot-emulation', 'UEFI boots EFI system partition images without emulation: leave "emulation" out or set it to "none"');
      return undefined;
    }
    const dir = path.resolve(c.baseDir, b.efiDirectory);
    const scanned = scanFolder(dir, c.timeMs, at('efiDirectory'));
    if (typeof scanned === 'string') {
      c.report(at('efiDirectory'), 'boot-efi-directory', scanned);
      return undefined;
    }
    if (!findPath(scanned, ['EFI', 'BOOT'])) {
      c.report(at('efiDirectory'), 'boot-efi-directory',
        `${b.efiDirectory} has no EFI/BOOT folder: UEFI firmware starts \\EFI\\BOOT\\BOOTX64.EFI (BOOTIA32.EFI, BOOTAA64.EFI, …) from removable media`, 'warning');
    }
    try {
      esp = planFat(scanned, { label: 'EFISYS', fatType: b.espFat as 12 | 16 | 32 | undefined, minBytes: b.espSize, timeMs: c.timeMs });
    } catch (err) {
      c.report(at(b.espFat !== undefined ? 'espFat' : 'efiDirectory'), 'boot-esp', `the EFI system partition cannot be made: ${(err as Error).message}`);
      return undefined;
    }
    let bad = false;
    for (const p of esp.problems) {
      if (p.severity === 'error') bad = true;
      // A problem of the whole volume (it does not fit the FAT type asked for) belongs to "espFat"/"espSize".
      const whole = p.node === scanned && (b.espFat !== undefined || b.espSize !== undefined);
      c.report(at(whole ? (b.espFat !== undefined ? 'espFat' : 'espSize') : 'efiDirectory'), 'boot-esp', `${b.efiDirectory}: ${p.message}`, p.severity);
    }
    if (bad) return undefined;
    const fat = esp;
    node = {
      kind: 'file',
      name: 'efiboot.img',
      parent: undefined,
      mode: 0o444,
      mtimeMs: c.timeMs,
      origin: at('efiDirectory'),
      source: `the EFI system partition made from ${b.efiDirectory}`,
      size: fat.bytes,
      generate: (sink) => fat.write(sink),
    };
    if (b.image !== undefined) {
      if (!c.tree.insert(b.image, node, (why) => c.report(at('image'), 'boot-image', why))) return undefined;
    } else {
      hidden = true;
    }
  } else if (b.image !== undefined) {
    const found = findPath(c.tree.root, splitDiscPath(b.image));
    if (!found) {
      c.report(at('image'), 'boot-image-missing', `there is no file "${b.image}" on the disc: add it under "files" (boot images are files of the disc)`);
      return undefined;
    }
    if (found.kind !== 'file') {
      c.report(at('image'), 'boot-image-missing', `"${b.image}" is ${found.kind === 'dir' ? 'a folder' : 'a symbolic link'} on the disc; a boot image is a file`);
      return undefined;
    }
    if (found.recorded) {
      c.report(at('image'), 'boot-image', `"${b.image}" comes from an earlier session; boot images must be written in this one`);
      return undefined;
    }
    node = found;
    if (hidden) c.tree.remove(b.image);
  } else {
    c.report(['boot', i], 'boot-image-missing', 'a boot entry needs "image" (a file on the disc) or, for UEFI, "efiDirectory"');
    return undefined;
  }

  const head = node.generate ? undefined : readHead(node.source, 4096);
  let systemType = 0;
  let sectorCount: number;
  if (emulation === 'none') {
    const whole = Math.ceil(node.size / 512);
    // El Torito 2.2: sector count = 512-byte virtual sectors loaded. BIOS loaders load 4 (2 KiB, mkisofs'
    // default) and read the rest themselves. UEFI takes the count as the size of the EFI system partition: the
    // whole image; one too big for the 16-bit field is given as 0, which firmware (OVMF) reads as "up to the end of
    // the disc" — a smaller count would cut the partition short.
    sectorCount = b.loadSectors ?? (platform === 'bios' ? Math.min(4, whole) : whole <= 0xffff ? whole : 0);
    if (b.loadSectors !== undefined && b.loadSectors * 512 > Math.ceil(node.size / SECTOR) * SECTOR) {
      c.report(at('loadSectors'), 'boot-load-size', `loads ${b.loadSectors * 512} bytes but ${b.image ?? 'the image'} is only ${node.size} bytes: the firmware would load what follows it on the disc`, 'warning');
    }
    if (node.size === 0) {
      c.report(at('image'), 'boot-image', `"${b.image}" is empty`);
      return undefined;
    }
  } else {
    sectorCount = 1; // El Torito 2.2: emulated media: the BIOS loads the first sector (the boot sector).
    if (b.loadSectors !== undefined) c.report(at('loadSectors'), 'boot-load-size', '"loadSectors" applies to "emulation": "none"; an emulated disk is read through the emulation', 'warning');
    if (platform === 'efi') c.report(at('emulation'), 'boot-emulation', 'UEFI firmware boots "emulation": "none" entries (an EFI system partition image)', 'warning');
    const want = FLOPPY_BYTES[emulation];
    if (want !== undefined && node.size !== want) {
      c.report(at('image'), 'boot-floppy-size', `"${emulation}" emulation needs an image of exactly ${want} bytes; ${b.image} is ${node.size} bytes`);
      return undefined;
    }
    if (emulation === 'hard-disk') {
      const why = head ? hardDiskProblem(head) : 'a generated image is not a hard disk';
      if (typeof why === 'string') {
        c.report(at('image'), 'boot-hard-disk', `"hard-disk" emulation needs a disk image with a master boot record and one partition (El Torito 2.2): ${why}`);
        return undefined;
      }
      systemType = why;
    }
  }

  const bootInfoTable = b.bootInfoTable ?? false;
  if (bootInfoTable) {
    if (emulation !== 'none') {
      c.report(at('bootInfoTable'), 'boot-info-table', 'a boot info table is patched into no-emulation images only');
      return undefined;
    }
    if (node.generate) {
      c.report(at('bootInfoTable'), 'boot-info-table', 'a generated EFI system partition has no room for a boot info table (bytes 8–63 are the FAT boot sector)');
      return undefined;
    }
    if (node.size < 64) {
      c.report(at('bootInfoTable'), 'boot-info-table', `${b.image} is ${node.size} bytes: a boot info table fills bytes 8–63`);
      return undefined;
    }
  } else if (head && emulation === 'none' && platform === 'bios') {
    const loader = needsBootInfoTable(head);
    if (loader) c.report(at('image'), 'boot-info-table-missing', `${b.image} looks like ${loader}, which finds itself on the disc through a boot info table: add "bootInfoTable": true`, 'warning');
  }
  if (head && platform === 'efi' && emulation === 'none' && !looksLikeFat(head)) {
    c.report(at('image'), 'boot-esp', `${b.image} does not look like a FAT file system: UEFI firmware reads the EFI entry's image as an EFI system partition (or use "efiDirectory")`, 'warning');
  }
  if (b.loadSegment !== undefined && (platform !== 'bios' || emulation !== 'none')) {
    c.report(at('loadSegment'), 'boot-load-segment', '"loadSegment" applies to BIOS no-emulation entries', 'warning');
  }
  return {
    index: i,
    platform,
    emulation,
    node,
    loadSegment: platform === 'bios' && emulation === 'none' ? b.loadSegment ?? 0 : 0,
    sectorCount,
    systemType,
    bootInfoTable,
    id: b.id,
    hidden,
    esp,
  };
}

// ---- the boot catalog (El Torito 2.1–2.4) ----

interface Section {
  platform: Platform;
  entries: PlannedBootEntry[];
  id?: string;
}

/** Runs of entries for the same platform share a section (El Torito 2.3). */
function sectionsOf(rest: PlannedBootEntry[]): Section[] {
  const out: Section[] = [];
  for (const e of rest) {
    const last = out[out.length - 1];
    if (last && last.platform === e.platform && (e.id === undefined || e.id === last.id)) last.entries.push(e);
    else out.push({ platform: e.platform, entries: [e], id: e.id });
  }
  return out;
}

function catalogImage(ordered: PlannedBootEntry[], sections: Section[], lbaOf: (n: FileNode) => number, size: number): Buffer {
  const b = Buffer.alloc(size);
  const first = ordered[0];
  // 2.1 validation entry: header id 1, platform, id string, checksum (all 16-bit words sum to 0), key 55 AA.
  b[0] = 1;
  b[1] = PLATFORM_IDS[first.platform];
  b.write((first.id ?? '').slice(0, 24), 4, 'latin1');
  b[30] = 0x55;
  b[31] = 0xaa;
  let sum = 0;
  for (let k = 0; k < 32; k += 2) sum = (sum + b.readUInt16LE(k)) & 0xffff;
  b.writeUInt16LE((0x10000 - sum) & 0xffff, 28);
  // 2.2 initial/default entry.
  entryBytes(first, lbaOf).copy(b, 32);
  let off = 64;
  sections.forEach((s, k) => {
    // 2.3 section header: 0x90, or 0x91 for the last one; platform; number of entries; id string.
    b[off] = k === sections.length - 1 ? 0x91 : 0x90;
    b[off + 1] = PLATFORM_IDS[s.platform];
    b.writeUInt16LE(s.entries.length, off + 2);
    b.write((s.id ?? '').slice(0, 28), off + 4, 'latin1');
    off += 32;
    for (const e of s.entries) {
      entryBytes(e, lbaOf).copy(b, off); // 2.4 section entry (selection criteria type 0: none)
      off += 32;
    }
  });
  return b;
}

function entryBytes(e: PlannedBootEntry, lbaOf: (n: FileNode) => number): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x88; // bootable
  b[1] = MEDIA_TYPES[e.emulation];
  b.writeUInt16LE(e.loadSegment, 2);
  b[4] = e.systemType;
  b.writeUInt16LE(e.sectorCount, 6);
  b.writeUInt32LE(lbaOf(e.node), 8);
  return b;
}

/**
 * The boot info table (mkisofs -boot-info-table): bytes 8–63 of a no-emulation image hold the PVD's address,
 * the image's own address and length, and the 32-bit sum of the image's 32-bit words from byte 64 on.
 */
export function patchBootInfoTable(data: Buffer, pvdLba: number, fileLba: number): void {
  let sum = 0;
  const words = Math.floor((data.length - 64) / 4);
  for (let k = 0; k < words; k++) sum = (sum + data.readUInt32LE(64 + 4 * k)) >>> 0;
  const rest = (data.length - 64) % 4;
  if (rest) {
    const last = Buffer.alloc(4);
    data.copy(last, 0, data.length - rest);
    sum = (sum + last.readUInt32LE(0)) >>> 0;
  }
  data.writeUInt32LE(pvdLba, 8);
  data.writeUInt32LE(fileLba, 12);
  data.writeUInt32LE(data.length, 16);
  data.writeUInt32LE(sum, 20);
  data.fill(0, 24, 64);
}

// ---- hybrid system area (MBR, GPT) ----

/** GRUB 2's boot info: where core.img's sectors continue (grub-mkrescue / xorriso --grub2-boot-info). */
const GRUB2_BOOT_INFO_OFFSET = 2548;

interface HybridPlan {
  mbrKind: 'discforge' | 'isolinux' | 'grub2' | 'none';
  biosEntry?: PlannedBootEntry;
  gpt: boolean;
  systemArea(iso: IsoImage, lbaOf: (n: FileNode) => number): Buffer;
  backupEntries(iso: IsoImage, lbaOf: (n: FileNode) => number, paddingEnd: number): Buffer;
  backupHeader(iso: IsoImage, lbaOf: (n: FileNode) => number): Buffer;
}

const ESP_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const GPT_ENTRIES = 128;
const GPT_ENTRY_SIZE = 128;
/** 512-byte sectors of the primary GPT's entry array (128 × 128 bytes). */
const GPT_ARRAY_SECTORS = (GPT_ENTRIES * GPT_ENTRY_SIZE) / 512;

function planHybrid(h: NonNullable<DiscProject['hybrid']>, ordered: PlannedBootEntry[], baseDir: string, report: Report, label: string): HybridPlan | undefined {
  const biosEntry = ordered.find((e) => e.platform === 'bios' && e.emulation === 'none');
  const efiEntries = ordered.filter((e) => e.platform === 'efi' && e.emulation === 'none');
  const gpt = h.gpt ?? false;
  let code: 'discforge' | Buffer | undefined;
  let mbrKind: HybridPlan['mbrKind'] = 'none';
  if (h.mbr === true) {
    code = 'discforge';
    mbrKind = 'discforge';
  } else if (typeof h.mbr === 'string') {
    const file = path.resolve(baseDir, h.mbr);
    let t: Buffer;
    try {
      t = fs.readFileSync(file);
    } catch (err) {
      report(['hybrid', 'mbr'], 'hybrid-mbr', `cannot read the MBR template ${h.mbr}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      return undefined;
    }
    if (t.length < 432) {
      report(['hybrid', 'mbr'], 'hybrid-mbr', `${h.mbr} is ${t.length} bytes: an MBR template holds at least 432 bytes of boot code (isohdpfx.bin, boot_hybrid.img are 432/512)`);
      return undefined;
    }
    const kind = templateKind(t);
    if (kind === 'unknown') {
      report(['hybrid', 'mbr'], 'hybrid-mbr', `${h.mbr} is neither syslinux's isohdpfx.bin nor GRUB's boot_hybrid.img: DiscForge does not know how to tell it where the boot image is`);
      return undefined;
    }
    code = t;
    mbrKind = kind;
  }
  if (code !== undefined && !biosEntry) {
    report(['hybrid', 'mbr'], 'hybrid-mbr', 'the MBR boot code starts the BIOS boot image: add a "platform": "bios" entry with "emulation": "none"');
    return undefined;
  }
  if (mbrKind === 'grub2' && biosEntry && (biosEntry.node.generate || biosEntry.node.size < GRUB2_BOOT_INFO_OFFSET + 8)) {
    report(['hybrid', 'mbr'], 'hybrid-mbr', `GRUB's boot_hybrid.img starts GRUB's eltorito.img (cdboot.img + core.img, tens of KiB); the BIOS boot image is ${biosEntry.node.size} bytes`);
    return undefined;
  }
  if (code === 'discforge' && biosEntry && !biosEntry.node.generate) {
    const head = readHead(biosEntry.node.source, 4096);
    const loader = head && needsBootInfoTable(head);
    if (loader) {
      const template = loader === 'ISOLINUX' ? 'syslinux\'s isohdpfx.bin (/usr/lib/ISOLINUX/isohdpfx.bin on Debian)' : 'GRUB\'s boot_hybrid.img (/usr/lib/grub/i386-pc/boot_hybrid.img on Debian)';
      report(['hybrid', 'mbr'], 'hybrid-mbr-loader',
        `${loader} reads the disc as a CD (2048-byte sectors, El Torito services) and will not start from a hard disk through DiscForge's MBR: set "mbr" to ${template}`, 'warning');
    }
  }
  if (gpt && efiEntries.length === 0) {
    report(['hybrid', 'gpt'], 'hybrid-gpt', 'the GPT\'s partition is the EFI system partition: add a "platform": "efi" entry');
    return undefined;
  }
  if (code === undefined && !gpt) {
    report(['hybrid'], 'hybrid-empty', '"hybrid" asks for nothing: set "mbr" and/or "gpt"', 'warning');
    return undefined;
  }
  const seed = crypto.createHash('sha256').update(`discforge-hybrid:${label}`);
  const digest = (what: string) => crypto.createHash('sha256').update(seed.copy().digest()).update(what).digest();
  const diskSignature = digest('mbr').readUInt32LE(0);

  const espParts = (lbaOf: (n: FileNode) => number) =>
    efiEntries.map((e) => ({ start: lbaOf(e.node) * 4, sectors: Math.ceil(e.node.size / 512), entry: e }));

  const totalSectors = (iso: IsoImage) => (iso.layout.blocks) * 4;

  // The backup GPT (UEFI 5.3.2): its header is the disk's last sector; its entry array ends the tail padding (just
  // before the header when nothing follows the padding, else before UDF's closing anchor, whose block's last 512
  // bytes hold the header).
  const gptOf = (iso: IsoImage, lbaOf: (n: FileNode) => number) => {
    const base = iso.layout.baseLba;
    const total = totalSectors(iso);
    const entriesEnd = Math.min((iso.paddingEndLba - base) * 4, total - 1);
    return gptStructures(espParts((n) => lbaOf(n) - base), total - 1, entriesEnd - GPT_ARRAY_SECTORS, digest);
  };

  return {
    mbrKind,
    gpt,
    biosEntry,
    systemArea: (iso, lbaOf) => {
      const total = totalSectors(iso);
      const base = iso.layout.baseLba;
      let partitions: MbrPartition[];
      if (gpt) {
        // UEFI 5.2.3: a protective MBR: one 0xEE partition from LBA 1 to the end of the disk (or 2^32 - 1).
        partitions = [{ bootable: false, type: 0xee, startLba: 1, sectors: Math.min(total - 1, 0xffffffff) }];
      } else if (efiEntries.length) {
        // As xorriso's hybrid images: partition 1 (type 0, so that UEFI's MBR check skips it) marks the whole
        // image active for BIOSes that want an active partition; one 0xEF partition per EFI system partition.
        partitions = [
          { bootable: true, type: 0x00, startLba: 0, sectors: Math.min(total, 0xffffffff) },
          ...espParts(lbaOf).slice(0, 3).map((p) => ({ bootable: false, type: 0xef, startLba: p.start - base * 4, sectors: p.sectors })),
        ];
      } else {
        // isohybrid's layout: one active partition (type 0x17) from sector 0 over the whole image.
        partitions = [{ bootable: true, type: 0x17, startLba: 0, sectors: Math.min(total, 0xffffffff) }];
      }
      const area = Buffer.alloc(16 * SECTOR);
      if (code !== undefined || gpt) {
        makeMbr({
          code: code ?? Buffer.alloc(440),
          bootImageLba: biosEntry && code !== undefined ? (lbaOf(biosEntry.node) - base) * 4 : undefined,
          bootImageSectors: biosEntry?.sectorCount,
          loadSegment: biosEntry?.loadSegment || 0x07c0,
          diskSignature,
          partitions,
        }).copy(area, 0);
      }
      if (gpt) {
        const g = gptOf(iso, lbaOf);
        g.primaryHeader.copy(area, 512);
        g.entries.copy(area, 1024);
      }
      return area;
    },
    backupEntries: (iso, lbaOf, paddingEnd) => {
      const base = iso.layout.baseLba;
      const total = totalSectors(iso);
      const entriesEnd = Math.min((paddingEnd - base) * 4, total - 1);
      const after = (paddingEnd - base) * 4 - entriesEnd; // sectors between the array and the padding's end
      return Buffer.concat([gptOf(iso, lbaOf).entries, Buffer.alloc(after * 512)]);
    },
    backupHeader: (iso, lbaOf) => gptOf(iso, lbaOf).backupHeader,
  };
}

/** UEFI 5.3.2/5.3.3: GPT headers (primary at LBA 1, backup at `backupHeader`) and the partition entry array. */
function gptStructures(
  esps: { start: number; sectors: number; entry: PlannedBootEntry }[],
  backupHeader: number,
  backupArray: number,
  digest: (what: string) => Buffer,
): { primaryHeader: Buffer; backupHeader: Buffer; entries: Buffer } {
  const entries = Buffer.alloc(GPT_ENTRIES * GPT_ENTRY_SIZE);
  esps.forEach((p, k) => {
    const e = entries.subarray(k * GPT_ENTRY_SIZE, (k + 1) * GPT_ENTRY_SIZE);
    guidBytes(ESP_TYPE).copy(e, 0);
    guidFrom(digest(`partition:${k}`)).copy(e, 16);
    e.writeBigUInt64LE(BigInt(p.start), 32);
    e.writeBigUInt64LE(BigInt(p.start + p.sectors - 1), 40); // inclusive
    e.writeBigUInt64LE(0n, 48);
    e.write(esps.length > 1 ? `EFI system partition ${k + 1}` : 'EFI system partition', 56, 'utf16le');
  });
  const arrayCrc = crc32(entries);
  const firstUsable = 64; // the ISO 9660 volume descriptors start at 32 KiB; nothing is placed below
  const lastUsable = backupArray - 1;
  const header = (my: number, alternate: number, arrayLba: number) => {
    const h = Buffer.alloc(512);
    h.write('EFI PART', 0, 'latin1');
    h.writeUInt32LE(0x00010000, 8);
    h.writeUInt32LE(92, 12);
    h.writeBigUInt64LE(BigInt(my), 24);
    h.writeBigUInt64LE(BigInt(alternate), 32);
    h.writeBigUInt64LE(BigInt(firstUsable), 40);
    h.writeBigUInt64LE(BigInt(lastUsable), 48);
    guidFrom(digest('disk')).copy(h, 56);
    h.writeBigUInt64LE(BigInt(arrayLba), 72);
    h.writeUInt32LE(GPT_ENTRIES, 80);
    h.writeUInt32LE(GPT_ENTRY_SIZE, 84);
    h.writeUInt32LE(arrayCrc, 88);
    h.writeUInt32LE(crc32(h.subarray(0, 92)), 16);
    return h;
  };
  return {
    primaryHeader: header(1, backupHeader, 2),
    backupHeader: header(backupHeader, 1, backupArray),
    entries,
  };
}

/** A GUID's on-disk bytes (UEFI Appendix A: the first three fields little-endian). */
function guidBytes(text: string): Buffer {
  const hex = text.replace(/-/g, '');
  const b = Buffer.from(hex, 'hex');
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  return b;
}

/** A deterministic random-looking GUID (RFC 4122 version 4 layout) from hash bytes. */
function guidFrom(hash: Buffer): Buffer {
  const b = Buffer.from(hash.subarray(0, 16));
  b[7] = (b[7] & 0x0f) | 0x40; // version 4 (byte 7 is the high byte of the little-endian third field)
  b[8] = (b[8] & 0x3f) | 0x80; // variant 10
  return b;
}

// ---- looking at images ----

function readHead(file: string, bytes: number): Buffer | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(bytes);
      const n = fs.readSync(fd, b, 0, bytes, 0);
      return b.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** Loaders known to need the boot info table: ISOLINUX (isolinux.bin) and GRUB's cdboot.img/eltorito.img. */
function needsBootInfoTable(head: Buffer): string | undefined {
  if (head.includes('ISOLINUX', 0, 'latin1')) return 'ISOLINUX';
  if (head.includes('no boot info', 0, 'latin1')) return 'GRUB\'s eltorito.img';
  return undefined;
}

function looksLikeFat(head: Buffer): boolean {
  if (head.length < 512 || head[510] !== 0x55 || head[511] !== 0xaa) return false;
  const t16 = head.toString('latin1', 54, 62);
  const t32 = head.toString('latin1', 82, 90);
  return t16.startsWith('FAT') || t32.startsWith('FAT');
}

/** El Torito 2.2: a hard-disk image has an MBR with one partition; returns its type, or why not. */
function hardDiskProblem(head: Buffer): number | string {
  if (head.length < 512) return 'the image is smaller than one sector';
  if (head[510] !== 0x55 || head[511] !== 0xaa) return 'the first sector does not end with the 55 AA signature';
  const used: number[] = [];
  for (let k = 0; k < 4; k++) {
    const type = head[446 + 16 * k + 4];
    if (type !== 0) used.push(type);
  }
  if (used.length !== 1) return `the partition table has ${used.length} partitions`;
  return used[0];
}

// ---- the tree ----

export function splitDiscPath(p: string): string[] {
  return p.replace(/\\/g, '/').split('/').filter((s) => s !== '');
}

export function findPath(root: DirNode, parts: string[]): TreeNode | undefined {
  let n: TreeNode = root;
  for (const name of parts) {
    if (n.kind !== 'dir') return undefined;
    // UEFI and BIOS loaders are looked up the way the user wrote them; FAT/ISO readers ignore case, so do we.
    const exact: TreeNode | undefined = n.children.get(name);
    const next: TreeNode | undefined = exact ?? [...n.children.values()].find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (!next) return undefined;
    n = next;
  }
  return n;
}

/**
 * Copy-on-write edits of the resolved tree (which an editor's scan cache shares between plans): folders along
 * an edited path are copied; everything else is shared.
 */
class TreeCopy {
  root: DirNode;
  private readonly copied = new Set<DirNode>();

  constructor(original: DirNode, private readonly timeMs: number) {
    this.root = this.copy(original, undefined);
  }

  private copy(d: DirNode, parent: DirNode | undefined): DirNode {
    const c: DirNode = { ...d, parent, children: new Map(d.children) };
    this.copied.add(c);
    return c;
  }

  /** The folder at `parts`, copied (created when `create`); undefined if a file is in the way. */
  private dirAt(parts: string[], create: boolean, origin: JsonPath): DirNode | string | undefined {
    let d = this.root;
    for (const name of parts) {
      const next = d.children.get(name);
      if (!next) {
        if (!create) return undefined;
        const made: DirNode = { kind: 'dir', name, parent: d, mode: 0o755, mtimeMs: this.timeMs, origin, children: new Map() };
        this.copied.add(made);
        d.children.set(name, made);
        d = made;
        continue;
      }
      if (next.kind !== 'dir') return `"${name}" is a file on the disc, not a folder`;
      const c = this.copied.has(next) ? next : this.copy(next, d);
      d.children.set(name, c);
      d = c;
    }
    return d;
  }

  insert(target: string, node: FileNode, fail: (why: string) => void): boolean {
    const parts = splitDiscPath(target);
    if (parts.length === 0) {
      fail(`"${target}" is the root folder; give a file name`);
      return false;
    }
    const d = this.dirAt(parts.slice(0, -1), true, node.origin);
    if (typeof d === 'string' || !d) {
      fail(`cannot place "${target}": ${d ?? 'no such folder'}`);
      return false;
    }
    const name = parts[parts.length - 1];
    if (d.children.has(name)) {
      fail(`"${target}" is already on the disc (from "files"): choose another path`);
      return false;
    }
    node.name = name;
    node.parent = d;
    d.children.set(name, node);
    return true;
  }

  remove(target: string): void {
    const parts = splitDiscPath(target);
    const d = this.dirAt(parts.slice(0, -1), false, []);
    if (!d || typeof d === 'string') return;
    const name = parts[parts.length - 1];
    const exact = d.children.has(name) ? name : [...d.children.keys()].find((k) => k.toLowerCase() === name.toLowerCase());
    if (exact !== undefined) d.children.delete(exact);
  }
}

/** Reads a folder for an EFI system partition (links are followed: FAT has none). */
function scanFolder(dir: string, timeMs: number, origin: JsonPath): DirNode | string {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return `there is no folder ${dir}`;
  }
  if (!st.isDirectory()) return `${dir} is not a folder`;
  const root: DirNode = { kind: 'dir', name: '', parent: undefined, mode: 0o755, mtimeMs: timeMs, origin, children: new Map() };
  let count = 0;
  const walk = (from: string, into: DirNode, depth: number): string | undefined => {
    if (depth > 64) return `${from}: folders nested too deep (a link loop?)`;
    let names: string[];
    try {
      names = fs.readdirSync(from).sort();
    } catch (err) {
      return `cannot read ${from}: ${(err as Error).message}`;
    }
    for (const name of names) {
      if (++count > 100_000) return `${dir} holds more than 100,000 entries`;
      const full = path.join(from, name);
      let s: fs.Stats;
      try {
        s = fs.statSync(full);
      } catch (err) {
        return `cannot read ${full}: ${(err as Error).message}`;
      }
      if (s.isDirectory()) {
        const d: DirNode = { kind: 'dir', name, parent: into, mode: 0o755, mtimeMs: s.mtimeMs, origin, children: new Map() };
        into.children.set(name, d);
        const why = walk(full, d, depth + 1);
        if (why) return why;
      } else if (s.isFile()) {
        into.children.set(name, { kind: 'file', name, parent: into, mode: 0o644, mtimeMs: s.mtimeMs, origin, source: full, size: s.size });
      }
    }
    return undefined;
  };
  return walk(dir, root, 0) ?? root;
}

// ---- describing a plan (CLI) ----

const PLATFORM_TEXT: Record<Platform, string> = { bios: 'BIOS', efi: 'UEFI', ppc: 'PowerPC', mac: 'Mac' };

/** One entry as `check --json` reports it. */
export interface BootEntryDescription {
  platform: Platform;
  emulation: Emulation;
  /** The image's path on the disc; null when hidden. */
  path: string | null;
  bytes: number;
  sectorCount: number;
  bootInfoTable: boolean;
  esp?: { fatType: number };
}

export function describeBootEntries(b: BootPlan): BootEntryDescription[] {
  return b.entries.map((e) => ({
    platform: e.platform,
    emulation: e.emulation,
    path: e.hidden ? null : pathOf(e.node),
    bytes: e.node.size,
    sectorCount: e.sectorCount,
    bootInfoTable: e.bootInfoTable,
    esp: e.esp ? { fatType: e.esp.fatType } : undefined,
  }));
}

/** A line for the CLI: "bootable: BIOS (…); UEFI (…); hybrid: …". */
export function describeBoot(b: BootPlan): string {
  const parts = b.entries.map((e) => {
    const where = e.hidden ? 'hidden' : pathOf(e.node);
    const what = e.esp ? `EFI system partition, FAT${e.esp.fatType}, ${e.node.size} bytes, ${where}` : where;
    const how = e.emulation === 'none' ? `loads ${e.sectorCount} × 512 bytes${e.bootInfoTable ? ', boot info table' : ''}` : `${e.emulation} emulation`;
    return `${PLATFORM_TEXT[e.platform]} (${what}; ${how})`;
  });
  let line = `bootable: ${parts.join('; ')}`;
  if (b.hybrid) {
    const mbr = { discforge: 'MBR with DiscForge\'s boot code', isolinux: 'MBR from syslinux\'s isohdpfx.bin', grub2: 'MBR from GRUB\'s boot_hybrid.img', none: '' }[b.hybrid.mbr];
    line += `; hybrid: ${[mbr, b.hybrid.gpt ? 'GPT with the EFI system partition' : ''].filter(Boolean).join(' + ')}`;
  }
  return line;
}
