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
  /** Every descriptor of the volume descriptor set, in recorded order (ECMA-119 6.7.1), terminator included. */
  volumeDescriptors: VolumeDescriptor[];
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
