/* Generated from media-schema/disc-project.schema.json by `npm run gen:types`. Do not edit by hand. */

/**
 * A DiscForge disc project (*.disc.json, JSON with comments): what goes on the disc and how it is mastered.
 */
export type DiscProject = {
  /**
   * URI of this JSON Schema (for editors).
   */
  $schema?: string;
  /**
   * What sort of disc this project makes. `data`: a file-system image (ISO 9660 and friends). `audio`: an audio CD (CD-DA) from `tracks`, written as BIN + cue sheet. `mixed`: a mixed-mode CD: a data track built from `files` like a data disc, then the audio `tracks`.
   */
  kind: 'data' | 'audio' | 'mixed';
  volume?: Volume;
  /**
   * Target media, used for capacity checks. The planned image must fit on it.
   */
  media?:
    | 'cd-r'
    | 'cd-r-74'
    | 'cd-r-80'
    | 'cd-r-90'
    | 'cd-r-99'
    | 'cd-rw'
    | 'dvd+r'
    | 'dvd-r'
    | 'dvd+rw'
    | 'dvd-rw'
    | 'dvd+r-dl'
    | 'dvd-r-dl'
    | 'dvd-ram'
    | 'bd-r'
    | 'bd-r-dl'
    | 'bd-r-tl'
    | 'bd-r-ql'
    | 'bd-re'
    | 'bd-re-dl'
    | 'bd-re-tl';
  /**
   * File systems written into the image; they share one copy of each file's data. Default: iso9660, joliet, rockridge, udf (an ISO 9660/Joliet/UDF bridge). Without iso9660 the image is UDF only.
   *
   * @minItems 1
   */
  fileSystems?: [FileSystem, ...FileSystem[]];
  iso9660?: Iso9660Options;
  joliet?: JolietOptions;
  udf?: UdfOptions;
  /**
   * What goes on the disc, in order. Later entries may add to folders created by earlier ones, but never replace a file.
   */
  files?: FileEntry[];
  /**
   * El Torito boot entries (a bootable disc): one per boot image, in catalog order. The first (or the one marked `default`) is the initial/default entry; the others follow in sections, one section per run of entries of the same platform. Typical: a BIOS entry (ISOLINUX, GRUB) and an UEFI entry (an EFI system partition image).
   *
   * @minItems 1
   */
  boot?: [BootEntry, ...BootEntry[]];
  hybrid?: Hybrid;
  /**
   * Where `discforge build` writes the image, relative to this manifest (overridden by --output). Audio and mixed CDs: a .cue (or .toc) path; the BIN, cue sheet, cdrdao TOC and CD-TEXT file are written beside it (album.cue → album.bin, album.cue, album.toc, album.cdt).
   */
  output?: string;
  /**
   * Audio and mixed CDs: the audio tracks in order (WAV, FLAC, MP3 or Ogg Vorbis; converted to 44.1 kHz, 16-bit stereo when needed).
   *
   * @maxItems 99
   */
  tracks?: AudioTrack[];
  /**
   * Audio and mixed CDs: the Media Catalogue Number (MCN, 13 digits: EAN-13/UPC-A), in the sub-channel and the cue sheet.
   */
  catalog?: string;
  cdText?: CdText;
  /**
   * Audio and mixed CDs: tracks run on without a pause (pregap 0) unless a track sets "pregap"; the 2-second pause before track 1 is always there. Default false (2-second pauses).
   */
  gapless?: boolean;
  /**
   * Audio and mixed CDs: sub-channel data in the BIN: `none` (2352-byte sectors, the default), `pq` (2368: + 16 bytes of P/Q), `rw` (2448: + 96 bytes of raw P–W).
   */
  subcode?: 'none' | 'pq' | 'rw';
};
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "FileSystem".
 */
export type FileSystem = 'iso9660' | 'joliet' | 'rockridge' | 'udf';
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "FileEntry".
 */
export type FileEntry = SourceEntry | DirectoryEntry;
/**
 * A time: seconds (a number, e.g. 95.5) or "MM:SS:FF" (minutes, seconds, frames of 1/75 s).
 *
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "CdTime".
 */
export type CdTime = number | string;
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "MediaType".
 */
export type MediaType =
  | 'cd-r'
  | 'cd-r-74'
  | 'cd-r-80'
  | 'cd-r-90'
  | 'cd-r-99'
  | 'cd-rw'
  | 'dvd+r'
  | 'dvd-r'
  | 'dvd+rw'
  | 'dvd-rw'
  | 'dvd+r-dl'
  | 'dvd-r-dl'
  | 'dvd-ram'
  | 'bd-r'
  | 'bd-r-dl'
  | 'bd-r-tl'
  | 'bd-r-ql'
  | 'bd-re'
  | 'bd-re-dl'
  | 'bd-re-tl';

/**
 * Volume identification, written to the volume descriptors.
 *
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "Volume".
 */
export interface Volume {
  /**
   * Volume label (ISO 9660: up to 32 d-characters A-Z 0-9 _, mapped; Joliet: up to 16 characters).
   */
  label?: string;
  /**
   * Publisher identifier (ECMA-119 8.4.20).
   */
  publisher?: string;
  /**
   * Data preparer identifier (ECMA-119 8.4.21).
   */
  preparer?: string;
  /**
   * Application identifier (ECMA-119 8.4.22). Default: DISCFORGE.
   */
  application?: string;
  /**
   * System identifier (ECMA-119 8.4.5).
   */
  system?: string;
  /**
   * Volume set identifier (ECMA-119 8.4.19).
   */
  volumeSet?: string;
  /**
   * Creation time (RFC 3339). When set, every timestamp in the image is this time, so that the same manifest and inputs give a byte-identical image.
   */
  created?: string;
}
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "Iso9660Options".
 */
export interface Iso9660Options {
  /**
   * Interchange level: 1 (8.3 names), 2 (31-character names), 3 (files of 4 GiB and more as several extents), 4 (ISO 9660:1999: 207-character names, no depth limit). Default 3.
   */
  level?: 1 | 2 | 3 | 4;
}
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "JolietOptions".
 */
export interface JolietOptions {
  /**
   * Allow Joliet names of up to 103 characters (as Windows reads them) instead of the specified 64.
   */
  longNames?: boolean;
}
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "UdfOptions".
 */
export interface UdfOptions {
  /**
   * OSTA UDF revision: 1.02 (DVD-Video/ROM), 1.50, 2.00, 2.01 (default), 2.50 or 2.60 (metadata partition, as on BD).
   */
  revision?: '1.02' | '1.50' | '2.00' | '2.01' | '2.50' | '2.60';
  /**
   * UDF 2.50 and 2.60: record the metadata twice (the metadata mirror file gets its own copy). Default false.
   */
  redundantMetadata?: boolean;
}
/**
 * Files from the computer: a file, a folder (recursively) or a glob, relative to the manifest.
 *
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "SourceEntry".
 */
export interface SourceEntry {
  /**
   * A file, a folder or a glob (*, **, ?, [..], {a,b}), relative to this manifest.
   */
  source: string;
  /**
   * Where it goes on the disc. Ends with / to put it into that folder. Default: the source's name in the root (globs: the root).
   */
  target?: string;
  /**
   * Glob patterns, matched against paths relative to the folder or glob base; a pattern without / also matches any base name.
   */
  exclude?: string[];
  /**
   * Store what symbolic links point to instead of the links (Rock Ridge keeps links by default).
   */
  followSymlinks?: boolean;
}
/**
 * An (empty) folder on the disc.
 *
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "DirectoryEntry".
 */
export interface DirectoryEntry {
  /**
   * Absolute path of the folder on the disc.
   */
  directory: string;
}
/**
 * One El Torito boot entry (El Torito 1.0, 2.0–2.4): which firmware it is for, the boot image, and how the firmware loads it.
 *
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "BootEntry".
 */
export interface BootEntry {
  /**
   * The firmware this entry is for: `bios` (x86 PC BIOS, platform id 0x00), `efi` (UEFI, 0xEF), `ppc` (PowerPC, 0x01), `mac` (Macintosh, 0x02).
   */
  platform: 'bios' | 'efi' | 'ppc' | 'mac';
  /**
   * The boot image: a file on the disc (its path on the disc, from `files`), e.g. "/isolinux/isolinux.bin". With `efiDirectory`: where the generated EFI system partition image is shown on the disc (without it, that image is hidden).
   */
  image?: string;
  /**
   * UEFI: a folder (relative to this manifest) from which DiscForge builds the EFI system partition image (FAT12/16/32), e.g. a folder holding EFI/BOOT/BOOTX64.EFI.
   */
  efiDirectory?: string;
  /**
   * UEFI with `efiDirectory`: the least size of the generated EFI system partition in bytes (room to spare). Default: what the files need.
   */
  espSize?: number;
  /**
   * UEFI with `efiDirectory`: the FAT type of the generated EFI system partition. Default: chosen from the size (FAT12 for small partitions, as mkfs.fat does).
   */
  espFat?: 12 | 16 | 32;
  /**
   * How the firmware presents the image: `none` (no emulation: the image is loaded into memory and run; BIOS loaders and UEFI), `floppy-1.2`, `floppy-1.44`, `floppy-2.88` (the image is a floppy disk of exactly that size) or `hard-disk` (the image is a hard disk with one partition). Default none.
   */
  emulation?: 'none' | 'floppy-1.2' | 'floppy-1.44' | 'floppy-2.88' | 'hard-disk';
  /**
   * No emulation, BIOS: the real-mode segment the image is loaded at. Default 0x07C0 (written as 0, El Torito 2.2).
   */
  loadSegment?: number;
  /**
   * No emulation: how many 512-byte sectors the firmware loads. Default 4 (2 KiB, what ISOLINUX and GRUB expect) for BIOS; the whole image for UEFI.
   */
  loadSectors?: number;
  /**
   * No emulation: patch a boot info table into the image at byte 8 (the disc's primary volume descriptor address, the image's address, length and checksum), as ISOLINUX and GRUB's eltorito.img need (mkisofs -boot-info-table).
   */
  bootInfoTable?: boolean;
  /**
   * Hide the boot image from the disc's directories (its data is still on the disc, reachable through the boot catalog).
   */
  hidden?: boolean;
  /**
   * An identifier for the entry's section (El Torito section header ID string, up to 28 characters); for the default entry, the validation entry's ID (24 characters).
   */
  id?: string;
  /**
   * Where the boot catalog is shown on the disc, e.g. "/boot/boot.cat" (one entry may set it). Default: the catalog is hidden.
   */
  catalogPath?: string;
  /**
   * Make this the initial/default entry (the one a BIOS without multi-boot support uses). Default: the first entry.
   */
  default?: boolean;
}
/**
 * Make the image bootable when written to a USB stick or booted as a hard disk too (isohybrid): a master boot record and/or a GUID partition table in the system area, as xorriso's -isohybrid-mbr / --efi-boot-part images.
 *
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "Hybrid".
 */
export interface Hybrid {
  /**
   * `true`: an MBR with DiscForge's own boot code, which loads and starts the BIOS no-emulation boot image from the disc. A path (relative to this manifest): an MBR template to patch, as the loader expects — syslinux's isohdpfx.bin (for ISOLINUX) or GRUB's boot_hybrid.img (for GRUB's eltorito.img). `false`: no boot code.
   */
  mbr?: boolean | string;
  /**
   * A GUID partition table (with a protective MBR) whose EFI system partition is the UEFI boot entry's image, so UEFI firmware boots the stick.
   */
  gpt?: boolean;
}
/**
 * An audio track: a source file, optionally trimmed, with its CD-TEXT, ISRC, pause, indexes and flags.
 *
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "AudioTrack".
 */
export interface AudioTrack {
  /**
   * The audio file (WAV, FLAC, MP3, Ogg Vorbis), relative to this manifest.
   */
  source: string;
  title?: string;
  performer?: string;
  songwriter?: string;
  composer?: string;
  arranger?: string;
  message?: string;
  /**
   * International Standard Recording Code: CCOOOYYNNNNN (12 characters).
   */
  isrc?: string;
  /**
   * The pause (index 0) before the track. Default 2 s (0 with "gapless"); track 1 always 2 s.
   */
  pregap?: number | string;
  /**
   * Index points from the start of the track: index 1 at 0, then index 2, 3 …
   *
   * @maxItems 99
   */
  indexes?: CdTime[];
  /**
   * The audio has 50/15 µs pre-emphasis (the PRE flag).
   */
  preEmphasis?: boolean;
  /**
   * Digital copy: `prohibited` (default), `permitted` (the DCP flag) or `once` (SCMS: the flag alternates).
   */
  copy?: 'prohibited' | 'permitted' | 'once';
  /**
   * A time: seconds (a number, e.g. 95.5) or "MM:SS:FF" (minutes, seconds, frames of 1/75 s).
   */
  start?: number | string;
  /**
   * A time: seconds (a number, e.g. 95.5) or "MM:SS:FF" (minutes, seconds, frames of 1/75 s).
   */
  end?: number | string;
}
/**
 * CD-TEXT for the disc (ISO 8859-1 text), written to the cue sheet, the TOC file and the lead-in.
 *
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "CdText".
 */
export interface CdText {
  title?: string;
  performer?: string;
  songwriter?: string;
  composer?: string;
  arranger?: string;
  message?: string;
  /**
   * Language of the text (ISO 639-1 code, e.g. "en"). Default en.
   */
  language?: string;
}
