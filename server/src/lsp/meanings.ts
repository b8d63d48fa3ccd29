/** What the manifest's enumerated values mean, for hovers (the schema names them; this says what they do). */
import type { JSONPath } from 'jsonc-parser';
import { formatBytes, MEDIA } from '../engine/media';

const SECTOR = 2048;

const FILE_SYSTEMS: Record<string, string> = {
  iso9660: 'ISO 9660 (ECMA-119): the primary file system every reader understands; names follow the chosen `iso9660.level`.',
  joliet: 'Joliet: a second directory tree with Unicode names (UCS-2, up to 64 characters, or 103 with `joliet.longNames`), the one Windows shows.',
  rockridge: 'Rock Ridge (RRIP 1.10): POSIX names, permissions, symbolic links and timestamps in the ISO 9660 tree, the one Linux and macOS show.',
  udf: 'UDF: the file system of DVD and Blu-ray authoring; shares each file\'s data with the other trees (a bridge disc).',
};

const LEVELS: Record<string, string> = {
  '1': 'ISO 9660 level 1: 8.3 upper-case names (A–Z 0–9 _), folders of 8 characters, files in one extent. Readable everywhere, including DOS.',
  '2': 'ISO 9660 level 2: names up to 30 characters (31 for folders), files in one extent (under 4 GiB).',
  '3': 'ISO 9660 level 3: like level 2, and files of 4 GiB and more stored as several extents. The default.',
  '4': 'ISO 9660:1999 (level 4): names up to 207 bytes without `;1`, no depth limit.',
};

const KINDS: Record<string, string> = {
  data: 'A data disc: a file-system image (ISO 9660 and friends) of the `files` listed.',
  audio: 'An audio CD (Red Book): the `tracks` listed, written as BIN/CUE or burned disc-at-once.',
  mixed: 'A mixed-mode CD: a data track with the `files`, then the audio `tracks`.',
};

const PLATFORMS: Record<string, string> = {
  bios: 'El Torito platform 0x00: PC BIOS (80x86).',
  efi: 'El Torito platform 0xEF: UEFI. The image is a FAT EFI system partition.',
  ppc: 'El Torito platform 0x01: PowerPC.',
  mac: 'El Torito platform 0x02: Mac.',
};

const EMULATIONS: Record<string, string> = {
  none: 'No emulation: the firmware loads `loadSectors` sectors of the boot image and runs it (ISOLINUX, GRUB).',
  'floppy-1.2': 'The boot image is a 1.2 MB floppy (exactly 1,228,800 bytes), booted as drive A:.',
  'floppy-1.44': 'The boot image is a 1.44 MB floppy (exactly 1,474,560 bytes), booted as drive A:.',
  'floppy-2.88': 'The boot image is a 2.88 MB floppy (exactly 2,949,120 bytes), booted as drive A:.',
  'hard-disk': 'The boot image is a hard disk image with an MBR and one partition, booted as drive C:.',
};

/** The meaning of the value at `path`, or undefined when it is not an enumerated value we know. */
export function meaningOf(path: JSONPath, value: unknown): string | undefined {
  const key = String(value);
  const [a, b, c] = path;
  if (path.length === 1 && a === 'media' && key in MEDIA) {
    const m = MEDIA[key as keyof typeof MEDIA];
    return `**${key}**: ${m.name}, ${formatBytes(m.blocks * SECTOR)} (${m.blocks.toLocaleString('en-US')} blocks of 2048 bytes) for one data session.`;
  }
  if (path.length === 2 && a === 'fileSystems' && key in FILE_SYSTEMS) return `**${key}**: ${FILE_SYSTEMS[key]}`;
  if (path.length === 1 && a === 'kind' && key in KINDS) return `**${key}**: ${KINDS[key]}`;
  if (path.length === 2 && a === 'iso9660' && b === 'level' && key in LEVELS) return LEVELS[key];
  if (path.length === 3 && a === 'boot' && c === 'platform' && key in PLATFORMS) return `**${key}**: ${PLATFORMS[key]}`;
  if (path.length === 3 && a === 'boot' && c === 'emulation' && key in EMULATIONS) return `**${key}**: ${EMULATIONS[key]}`;
  if (path.length === 2 && a === 'udf' && b === 'revision') return `**UDF ${key}**: ${Number(key) >= 2.5 ? 'uses the metadata partition (Blu-ray).' : 'no metadata partition; read by every UDF reader since its revision.'}`;
  return undefined;
}
