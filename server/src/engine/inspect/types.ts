/**
 * The shape of `discforge inspect`'s report. Plain JSON data only (no bigint, no Map, no undefined-vs-missing
 * tricks that JSON cannot round-trip): the CLI's `--json` output is `JSON.stringify(report, null, 2)`.
 */

import type { UdfDetails } from './udf';

export interface InspectOptions {
  /** Stop listing a file system after this many entries (default 1 000 000); the report says so in `problems`. */
  maxEntries?: number;
  /** Do not descend below this directory depth (default 64); the report says so in `problems`. */
  maxDepth?: number;
  /**
   * Where the session to read starts (a block number, default 0). Readers of a multisession disc use the last
   * session: its volume descriptor set (and the UDF volume recognition sequence after it) is at sessionStart + 16,
   * its UDF anchor at sessionStart + 256; every other address (extents, path tables, the boot catalog, UDF
   * partitions) is absolute. A start past the image is an InputError; one that holds no descriptors a problem.
   */
  sessionStart?: number;
  /**
   * The session's last block, where its closing UDF anchors are (sessionEnd and sessionEnd − 256; ECMA-167
   * 3/8.4.2.1). Default: the image's last block. Ignored unless it lies in the session and the image.
   */
  sessionEnd?: number;
}

export interface InspectReport {
  /** The image path as given. */
  image: string;
  /** File size in bytes. */
  size: number;
  /** Logical sector size (ECMA-119 6.1.2: 2048 bytes for CD-ROM). */
  sectorSize: number;
  /** Whole sectors in the file (size / sectorSize, rounded down). */
  sectors: number;
  /** The block the session read starts at (0 unless InspectOptions.sessionStart chose a later session). */
  sessionStart: number;
  /** The session's last block, when the caller gave it (InspectOptions.sessionEnd). */
  sessionEnd?: number;
  /** Every descriptor of the volume descriptor set, in recorded order (ECMA-119 6.7.1), terminator included. */
  volumeDescriptors: VolumeDescriptor[];
  /** The El Torito boot catalog, when a boot record points to one (./boot.ts). */
  boot?: BootCatalogReport;
  /** The partition tables of the system area (sectors 0-15), when there are any: hybrid MBR, GPT, APM. */
  systemArea?: SystemAreaReport;
  /** One tree per file system found: iso9660, rockridge, joliet, iso9660:1999. */
  fileSystems: FileSystemReport[];
  /**
   * Every problem found, volume-level ones first, then each file system's prefixed with its type,
   * e.g. `[joliet] /DIR/: ...`. Empty for a clean image.
   */
  problems: string[];
  limits: { maxEntries: number; maxDepth: number };
}

export type VolumeDescriptor =
  | VolumeDescriptorVolume
  | VolumeDescriptorBoot
  | VolumeDescriptorPartition
  | VolumeDescriptorTerminator
  | VolumeDescriptorUnknown;

interface VolumeDescriptorCommon {
  /** Logical sector number of the descriptor (16, 17, ...). */
  lba: number;
  /** Volume descriptor type byte (ECMA-119 8.1.1). */
  type: number;
  /** Volume descriptor version byte (ECMA-119 8.1.3). */
  version: number;
}

/** Primary (type 1), supplementary (type 2, version 1) or enhanced (type 2, version 2; ISO 9660:1999). */
export interface VolumeDescriptorVolume extends VolumeDescriptorCommon {
  kind: 'primary' | 'supplementary' | 'enhanced';
  /** Joliet, recognised by its escape sequence in an SVD (%/@ level 1, %/C level 2, %/E level 3). */
  joliet: { level: 1 | 2 | 3; escape: string } | null;
  /** SVD/EVD volume flags (ECMA-119 8.5.3); 0 for a PVD. */
  volumeFlags: number;
  /** SVD/EVD escape sequences field as hex (ECMA-119 8.5.6); '' for a PVD or when empty. */
  escapeSequences: string;
  systemId: string;
  volumeId: string;
  volumeSetId: string;
  publisherId: string;
  preparerId: string;
  applicationId: string;
  copyrightFileId: string;
  abstractFileId: string;
  bibliographicFileId: string;
  /** In logical blocks. */
  volumeSpaceSize: number;
  volumeSetSize: number;
  volumeSequenceNumber: number;
  logicalBlockSize: number;
  /** In bytes. */
  pathTableSize: number;
  /** Logical block numbers of the type L (little-endian) and type M (big-endian) path tables; 0 = absent. */
  pathTableL: number;
  pathTableLOptional: number;
  pathTableM: number;
  pathTableMOptional: number;
  rootDirectory: { lba: number; length: number };
  creationDate: string | null;
  modificationDate: string | null;
  expirationDate: string | null;
  effectiveDate: string | null;
  fileStructureVersion: number;
}

/** Boot record (type 0, ECMA-119 8.2). El Torito puts the boot catalog's sector in bytes 71-74. */
export interface VolumeDescriptorBoot extends VolumeDescriptorCommon {
  kind: 'boot';
  bootSystemId: string;
  bootId: string;
  /** Set when the boot system id is "EL TORITO SPECIFICATION". */
  elTorito: { catalogLba: number } | null;
}

/** Volume partition descriptor (type 3, ECMA-119 8.6). */
export interface VolumeDescriptorPartition extends VolumeDescriptorCommon {
  kind: 'partition';
  systemId: string;
  partitionId: string;
  partitionLba: number;
  partitionSize: number;
}

/** Volume descriptor set terminator (type 255, ECMA-119 8.3). */
export interface VolumeDescriptorTerminator extends VolumeDescriptorCommon {
  kind: 'terminator';
}

export interface VolumeDescriptorUnknown extends VolumeDescriptorCommon {
  kind: 'unknown';
}

export type FileSystemType = 'iso9660' | 'rockridge' | 'joliet' | 'iso9660:1999' | 'udf';

export interface FileSystemReport {
  type: FileSystemType;
  /** e.g. "ISO 9660 (primary, level 2 names)", "Joliet (UCS-2 level 3)", "Rock Ridge (RRIP_1991A)". */
  label: string;
  /** Sector of the volume descriptor whose root this tree starts from. */
  descriptorLba: number;
  blockSize: number;
  root: { lba: number; length: number };
  /**
   * iso9660 only: the lowest ECMA-119 interchange level (10) the names and files satisfy: 1 (8.3 names),
   * 2 (names up to 31 characters), 3 (multi-extent files); null when some names are not ECMA-119 d-characters.
   */
  interchangeLevel?: 1 | 2 | 3 | null;
  /** joliet only. */
  jolietLevel?: 1 | 2 | 3;
  /** rockridge only: what the root "." record announced (SUSP 5.3 SP, 5.5 ER). */
  rockRidge?: {
    /** RRIP version from the ER identifier: RRIP_1991A (RRIP 1.10), IEEE_P1282 / IEEE_1282 (1.12), or "unidentified". */
    version: string;
    /** SP LEN_SKP: bytes skipped at the start of every other System Use Area. */
    skipBytes: number;
    extensions: { id: string; descriptor: string; source: string; version: number }[];
  };
  /** udf only: revision, anchors, descriptor sequences, partitions and maps, integrity (./udf.ts). */
  udf?: UdfDetails;
  /** Directories (root included), regular files, symbolic links, and the sum of file sizes. */
  directories: number;
  files: number;
  symlinks: number;
  totalFileBytes: number;
  /** false when the listing stopped early (maxEntries, budget) — the tree and counts are partial. */
  complete: boolean;
  /** Depth-first, directories before their contents, directory order (ECMA-119 9.3) within a directory. */
  entries: InspectEntry[];
  problems: string[];
}

export interface Extent {
  /** Logical block number of the extent (ECMA-119 9.1.3). */
  lba: number;
  /** Data length in bytes (ECMA-119 9.1.4). */
  length: number;
}

export interface InspectEntry {
  /** Absolute path in this file system, e.g. "/PHOTOS/A.JPG;1"; "/" for the root. */
  path: string;
  /** Last path component as recorded ("" for the root). */
  name: string;
  kind: 'file' | 'dir' | 'symlink';
  /** Depth below the root (root = 0). */
  depth: number;
  /** Bytes. For multi-extent files (ECMA-119 9.1.6) the sum over all extents. */
  size: number;
  extents: Extent[];
  /** Recording date of the (last) directory record (ECMA-119 9.1.5), ISO 8601. */
  recorded: string | null;
  /** File flags of the (last) directory record (ECMA-119 9.1.6). */
  flags: number;
  /** Extended attribute record length in blocks (ECMA-119 9.1.2), when non-zero. */
  extAttrLength?: number;
  hidden?: boolean;
  associated?: boolean;
  /** Rock Ridge PX (RRIP 4.1.1): st_mode, links, owner, group, serial number. */
  mode?: number;
  /** `ls -l` style, e.g. "drwxr-xr-x". */
  modeString?: string;
  nlink?: number;
  uid?: number;
  gid?: number;
  ino?: number;
  /** Rock Ridge PN (RRIP 4.1.2). */
  rdev?: { high: number; low: number };
  /** Rock Ridge SL (RRIP 4.1.3). */
  target?: string;
  /** Rock Ridge TF (RRIP 4.1.6). */
  times?: RockRidgeTimes;
  /**
   * Rock Ridge CL (RRIP 4.1.5.1): this directory was relocated (its records live elsewhere, usually under
   * rr_moved) and is shown here, where it belongs.
   */
  relocated?: boolean;
}

export interface RockRidgeTimes {
  creation?: string | null;
  modify?: string | null;
  access?: string | null;
  attributes?: string | null;
  backup?: string | null;
  expiration?: string | null;
  effective?: string | null;
}

/** El Torito platform ids: 0 x86 BIOS, 1 PowerPC, 2 Mac, 0xEF UEFI; anything else as its number. */
export type BootPlatform = 'bios' | 'efi' | 'ppc' | 'mac' | number;
/** El Torito boot media types 0-4; an invalid type stays a number (and is a problem). */
export type BootEmulation = 'none' | 'floppy-1.2' | 'floppy-1.44' | 'floppy-2.88' | 'hard-disk';

export interface BootCatalogReport {
  /** Sector of the catalog (from the boot record). */
  catalogLba: number;
  /** The validation entry (El Torito 2.1); null when the catalog could not be read. */
  validation: { platform: BootPlatform; id: string; checksumOk: boolean } | null;
  /** The default entry first (section 0), then each section's entries in catalog order. */
  entries: BootEntryReport[];
}

export interface BootEntryReport {
  /** 0 for the initial/default entry, n for the n-th section header's entries. */
  section: number;
  /** The validation entry's platform for the default entry, the section header's otherwise. */
  platform: BootPlatform;
  /** Boot indicator 0x88. */
  bootable: boolean;
  emulation: BootEmulation | number;
  /** As recorded: 0 means the BIOS default 0x07C0. */
  loadSegment: number;
  /** System type: the partition type of a hard-disk image (byte 4). */
  systemType: number;
  /** Virtual 512-byte sectors loaded (no emulation), usually 1 with emulation. */
  sectorCount: number;
  /** Load RBA: the image's first 2048-byte sector. */
  lba: number;
  /** Section entries: selection criteria type and vendor bytes (entry bytes 12-31, then extension bytes 2-31) as hex, trailing zeros dropped; absent when all zero. */
  selection?: string;
  /** Section entries: the section header's id string, when not empty. */
  id?: string;
  /** Section entries: media type bits 6-7 (0x40 the image holds an ATAPI driver, 0x80 SCSI drivers). */
  mediaFlags?: number;
  /** No-emulation entries: a boot info table (mkisofs -boot-info-table) is present and consistent. */
  bootInfoTable?: boolean;
}

export interface SystemAreaReport {
  mbr?: MbrReport;
  gpt?: GptReport;
  /** An Apple Partition Map ("ER" block 0, "PM" block 1) is there. */
  apm?: boolean;
}

export interface MbrReport {
  /** Bytes 0-439 are not all zero. */
  bootCode: boolean;
  /** Bytes 440-443, little-endian. */
  diskSignature: number;
  /** The entries that are not all zero, numbered 1-4 by slot. */
  partitions: MbrPartitionReport[];
}

export interface MbrPartitionReport {
  number: number;
  /** 0x80 active, 0x00 inactive. */
  status: number;
  bootable: boolean;
  type: number;
  typeName?: string;
  chsStart: { cylinder: number; head: number; sector: number };
  chsEnd: { cylinder: number; head: number; sector: number };
  /** First 512-byte sector. */
  start: number;
  sectors: number;
}

export interface GptReport {
  /** e.g. "1.0". */
  revision: string;
  headerSize: number;
  headerCrcOk: boolean;
  /** 512-byte LBAs. */
  myLba: number;
  alternateLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
  diskGuid: string;
  entryArrayLba: number;
  entryCount: number;
  entrySize: number;
  /** null when the array was not read (too large, past the end of the image, bad entry size). */
  entriesCrcOk: boolean | null;
  /** The backup header at AlternateLBA: ok when present, intact and consistent with the primary one. */
  backup: { lba: number; ok: boolean };
  /** Used entries (non-zero type GUID), numbered by their slot in the array (1-based). */
  partitions: GptPartitionReport[];
}

export interface GptPartitionReport {
  number: number;
  /** Mixed-endian GUID text, e.g. C12A7328-F81F-11D2-BA4B-00A0C93EC93B. */
  typeGuid: string;
  /** Well-known types: "EFI System", "Microsoft basic data", "Linux filesystem", "Apple HFS+", ... */
  typeName?: string;
  guid: string;
  firstLba: number;
  lastLba: number;
  sectors: number;
  /** 64 attribute bits as 0x + 16 hex digits. */
  attributes: string;
  name: string;
}
