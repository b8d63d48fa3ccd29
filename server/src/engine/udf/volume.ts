/**
 * A UDF file system (ECMA-167 3rd edition as profiled by OSTA UDF 1.02, 1.50, 2.00, 2.01, 2.50 and 2.60) as
 * ordered writers, to be composed with the ISO 9660 writers (a bridge image: one copy of each file's data,
 * referenced by ISO 9660, Joliet and UDF) or on its own (a UDF-only image; see ./image.ts).
 *
 * Where it goes (absolute blocks):
 *   head  — volume recognition sequence BEA01 / NSR02|NSR03 / TEA01 (ECMA-167 2/9) right after the ISO 9660
 *           descriptor set (or at 16), main volume descriptor sequence at 32 and reserve at 48 (3/8.4.2, 16
 *           blocks each: PVD, IUVD, PD, LVD, USD, TD), logical volume integrity sequence at 64 (LVID + TD,
 *           3/10.10), the first anchor at 256 (3/8.4.2.1);
 *   partition start — the file set descriptor (4/14.1) + TD, then for each directory (depth first) its
 *           (extended) file entry and its file identifier descriptors, then the entries of its files and
 *           symbolic links. UDF 2.50+ put all of that in the metadata partition (UDF 2.2.10): a metadata file
 *           (ICB file type 250) whose one extent is this area — followed by its copy when "redundantMetadata"
 *           — and a metadata mirror file (251);
 *   file data — shared: each file once, contiguous; UDF refers to it with allocation descriptors of at most
 *           2^30 − 2048 bytes each (4/14.14.1.1), ISO 9660 with its own extents;
 *   tail  — the closing anchor in the image's last block.
 * The partition (one, number 0, read-only access) runs from the metadata to the closing anchor.
 *
 * Every size is known when planning; addresses of file data, which ISO 9660 plans after this file system's
 * metadata, are only read when writing (sizes never depend on them).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { VolumeInfo } from '../iso9660/image';
import type { Writer } from '../image/layout';
import type { Sink } from '../image/sink';
import { pathOf, sortedChildren, type DirNode, type FileNode, type TreeNode } from '../model';
import { InputError } from '../util/errors';
import {
  BLOCK, charspec, cs0, domainSuffix, dstring, EXTENT_NEXT_AED, extentAd, finishTag, longAd, MAX_AD_BYTES,
  regid, shortAd, TAG, timestamp, udfSuffix,
} from './encode';
import { udfNames } from './names';

export const UDF_REVISIONS = ['1.02', '1.50', '2.00', '2.01', '2.50', '2.60'] as const;
export type UdfRevision = (typeof UDF_REVISIONS)[number];

/** The revision as recorded (UDF 2.1.5.3: 0x0102 … 0x0260). */
export function revisionNumber(r: UdfRevision): number {
  return parseInt(r.replace('.', ''), 16);
}

export const IMPLEMENTATION_ID = '*DiscForge';
/** Blocks of the main and of the reserve volume descriptor sequence extents (UDF 2.2.3: at least 16). */
const VDS_BLOCKS = 16;
/** The integrity sequence extent: LVID + terminating descriptor. */
const LVID_BLOCKS = 2;
/**
 * UDF 2.2.10: allocation and alignment unit of the metadata file, in blocks. 32 blocks = 64 KiB, the ECC block of
 * BD (and a multiple of DVD's 16): the metadata extents start and end on such boundaries.
 */
export const METADATA_UNIT = 32;

/** ICB file types (4/14.6.6, UDF 2.2.13). */
const FT_DIR = 4;
const FT_FILE = 5;
const FT_SYMLINK = 12;
const FT_METADATA = 250;
const FT_METADATA_MIRROR = 251;

/** ICB tag flags (4/14.6.8). */
const AD_SHORT = 0;
const AD_LONG = 1;
const AD_EMBEDDED = 3;
const ICB_SETUID = 0x40;
const ICB_SETGID = 0x80;
const ICB_STICKY = 0x100;

/** FID file characteristics (4/14.4.3). */
const FID_DIRECTORY = 0x02;
const FID_PARENT = 0x08;

export interface UdfProblem {
  node: TreeNode;
  code: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface UdfOptions {
  revision: UdfRevision;
  /** UDF 2.50+: record the metadata twice (the metadata mirror file gets its own copy, UDF 2.2.10 flag bit 0). */
  redundantMetadata: boolean;
  volume: VolumeInfo;
  /** "Now", for images without a fixed creation time. */
  nowMs: number;
  /** Absolute address of the session's first block (the anchor is at base + 256). */
  baseLba?: number;
  /**
   * Store files that fit into their file entry there (4/14.6.8 allocation type 3). Only for UDF-only images:
   * in a bridge image the data is shared with ISO 9660 and stays in the data area.
   */
  embedSmallFiles: boolean;
  /** The largest extent one allocation descriptor describes (bytes, a multiple of 2048). Tests lower it. */
  maxExtentBytes?: number;
}

/** Where file data is: the shared data area, planned by whoever writes it (ISO 9660 or ./image.ts). */
export interface UdfDataSource {
  /**
   * A file's data extents (absolute blocks, byte lengths; every one but the last a whole number of blocks), or
   * undefined when it has none. New data is one contiguous run; data imported from an earlier session of a
   * multisession disc (FileNode.recorded) keeps its extents.
   */
  extentsOf(file: FileNode): { lba: number; length: number }[] | undefined;
}

interface UEntry {
  node: TreeNode;
  kind: 'dir' | 'file' | 'symlink';
  parent: UEntry;
  uniqueId: number;
  /** Block of the (extended) file entry: partition block, or metadata partition block (2.50+). */
  icb: number;
  /** The same, relative to the start of the metadata area (known before the partition is placed). */
  icbOff: number;
  /** How many allocation descriptors the data takes (known when planning: sizes never depend on addresses). */
  adCount: number;
  /** Allocation extent descriptor blocks right after the entry (4/14.5), for files with very many extents. */
  aedBlocks: number;
  /** Bytes of data the entry describes (FIDs for directories, path components for symlinks). */
  length: number;
  /** Data stored inside the entry (allocation type 3). */
  embedded: boolean;
  // directories
  children?: { id: Buffer; entry: UEntry }[];
  subdirs?: number;
  /** First block of the directory's FIDs (or of a long symlink's path components), like `icb`. */
  dataBlock?: number;
  dataOff?: number;
  // symbolic links
  link?: Buffer;
}

const hex8 = (n: number) => (n >>> 0).toString(16).toUpperCase().padStart(8, '0');

export class UdfFileSystem {
  readonly problems: UdfProblem[] = [];
  readonly revision: number;
  readonly metadataPartition: boolean;
  private readonly efe: boolean;
  private readonly descVersion: number;
  private readonly maxExtent: number;
  private readonly root: UEntry;
  /** Entries in the order they are laid out in the metadata area. */
  private readonly seq: UEntry[] = [];
  private readonly embeddedFiles = new Set<FileNode>();
  /** The lowest block of data imported from an earlier session, if any: the partition must reach down to it. */
  private lowestRecorded: number | undefined;
  private files = 0;
  private dirs = 0;
  private nextUniqueId = 16;
  private data: UdfDataSource | undefined;

  // ---- planned addresses (absolute blocks unless noted) ----
  private mvds = 0;
  private rvds = 0;
  private lvid = 0;
  private anchor1 = 0;
  private anchor2 = 0;
  /** First block of the partition. */
  private partStart = 0;
  /** Partition block where the metadata area starts (0 unless the partition also covers earlier sessions' data). */
  private metaBase = 0;
  /** Block of the file set descriptor (partition block, or metadata partition block). */
  private fsdBlock = 0;
  /** Blocks of metadata (FSD, entries, directories), before rounding to METADATA_UNIT. */
  private metaBlocks = 0;
  /** Blocks of the metadata extent (2.50+: rounded up to the allocation unit). */
  private metaExtentBlocks = 0;
  /** Padding before the metadata, so that the partition starts on a METADATA_UNIT boundary (2.50+). */
  private metaPad = 0;
  /** 2.50+: partition blocks of the metadata file's and the mirror file's entries. */
  private metaFileIcb = 0;
  private mirrorFileIcb = 0;
  /** 2.50+: partition block of the mirror copy (= the metadata extent when it is not redundant). */
  private mirrorStart = 0;
  private planned = false;

  constructor(root: DirNode, private readonly opts: UdfOptions) {
    this.revision = revisionNumber(opts.revision);
    this.metadataPartition = this.revision >= 0x0250;
    this.efe = this.revision >= 0x0200;
    this.descVersion = this.revision >= 0x0200 ? 3 : 2;
    const maxExtent = opts.maxExtentBytes ?? MAX_AD_BYTES;
    if (maxExtent % BLOCK !== 0 || maxExtent <= 0 || maxExtent > MAX_AD_BYTES) throw new Error(`internal: maxExtentBytes ${maxExtent}`);
    this.maxExtent = maxExtent;
    this.root = this.buildTree(root);
    this.layoutMetadata();
    const extentBlocks = this.metadataPartition ? Math.ceil(this.metaBlocks / METADATA_UNIT) * METADATA_UNIT : this.metaBlocks;
    if (this.metadataPartition && extentBlocks * BLOCK > MAX_AD_BYTES) {
      this.problems.push({ node: root, code: 'udf-metadata-size', severity: 'error',
        message: `the UDF metadata needs ${extentBlocks * BLOCK} bytes, more than the one extent of ${MAX_AD_BYTES} bytes a UDF ${opts.revision} metadata partition gets here: use UDF 2.01, or fewer files` });
    }
  }

  /** Tells the file system where the shared file data is (needed only when writing). */
  setDataSource(source: UdfDataSource): void {
    this.data = source;
  }

  /** Files whose data is inside their file entry: the data area must not store them. */
  isEmbedded(file: FileNode): boolean {
    return this.embeddedFiles.has(file);
  }

  get counts(): { files: number; directories: number } {
    return { files: this.files, directories: this.dirs };
  }

  // ------------------------------------------------------------------------------------------------
  // The tree

  private timeOf(node: TreeNode | undefined): number {
    return this.opts.volume.createdMs ?? node?.mtimeMs ?? this.opts.nowMs;
  }

  private get headerSize(): number {
    return this.efe ? 216 : 176;
  }

  private buildTree(rootNode: DirNode): UEntry {
    const make = (node: TreeNode, parent: UEntry | undefined): UEntry => {
      const e: UEntry = {
        node, kind: node.kind, parent: parent!, uniqueId: 0, icb: 0, icbOff: 0, adCount: 0, aedBlocks: 0, length: 0, embedded: false,
      };
      if (!parent) e.parent = e;
      return e;
    };
    const root = make(rootNode, undefined);
    const stack: UEntry[] = [root];
    while (stack.length) {
      const d = stack.pop()!;
      this.dirs++;
      this.seq.push(d);
      const kids = sortedChildren(d.node as DirNode);
      const names = udfNames(kids.map((k) => ({ name: k.name, isDir: k.kind === 'dir' })));
      d.children = [];
      d.subdirs = 0;
      const subdirs: UEntry[] = [];
      kids.forEach((k, i) => {
        const n = names[i];
        if (n.changed) {
          this.problems.push({ node: k, code: 'udf-name', severity: 'warning',
            message: `UDF shows ${pathOf(k)} as "${n.name}" (UDF names have at most 255 bytes of OSTA compressed Unicode: 254 characters below U+0100, else 127)` });
        }
        const e = make(k, d);
        d.children!.push({ id: cs0(n.name), entry: e });
        if (k.kind === 'dir') {
          d.subdirs!++;
          subdirs.push(e);
        }
      });
      // Directory data: a parent FID, then one FID per child (4/14.4; 4-byte aligned).
      d.length = fidLength(0) + d.children.reduce((s, c) => s + fidLength(c.id.length), 0);
      d.adCount = this.adCountOf(d);
      for (const c of d.children) {
        const e = c.entry;
        if (e.kind === 'dir') continue;
        e.uniqueId = this.nextUniqueId++;
        this.seq.push(e);
        this.files++;
        if (e.kind === 'file') {
          const f = e.node as FileNode;
          e.length = f.size;
          e.embedded = f.size === 0 || (!f.recorded && this.opts.embedSmallFiles && f.size <= BLOCK - this.headerSize);
          if (e.embedded && f.size > 0) this.embeddedFiles.add(f);
          if (f.recorded && f.size > 0) {
            const low = Math.min(...f.recorded.map((x) => x.lba));
            this.lowestRecorded = Math.min(this.lowestRecorded ?? low, low);
          }
        } else {
          e.link = this.pathComponents(e.node as { target: string } & TreeNode);
          e.length = e.link.length;
          e.embedded = e.length <= BLOCK - this.headerSize;
        }
        e.adCount = this.adCountOf(e);
        e.aedBlocks = this.aedBlocksFor(e);
      }
      // Subdirectories get their unique IDs in order; they are laid out after this directory's files.
      for (const s of subdirs) s.uniqueId = this.nextUniqueId++;
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]);
    }
    return root;
  }

  /** ECMA-167 4/14.16: a symbolic link's target as path components (root, parent, current, named). */
  private pathComponents(link: { target: string } & TreeNode): Buffer {
    const parts: Buffer[] = [];
    const comp = (type: number, id: Buffer = Buffer.alloc(0)) => {
      const b = Buffer.alloc(4 + id.length);
      b[0] = type;
      b[1] = id.length;
      id.copy(b, 4);
      parts.push(b);
    };
    const target = link.target;
    if (target.startsWith('/')) comp(2);
    for (const p of target.split('/')) {
      if (p === '') continue;
      if (p === '.') comp(4);
      else if (p === '..') comp(3);
      else {
        const id = cs0(p);
        if (id.length > 255) {
          this.problems.push({ node: link, code: 'udf-symlink', severity: 'error',
            message: `the symbolic link ${pathOf(link)} points to "${target}", whose component "${p.slice(0, 40)}…" is longer than UDF records (255 bytes of OSTA compressed Unicode, ECMA-167 4/14.16.1)` });
          continue;
        }
        comp(5, id);
      }
    }
    return Buffer.concat(parts);
  }

  private adSizeOf(e: UEntry): number {
    // Files in a metadata partition refer to data in the physical partition: long_ad (UDF 2.3.10).
    return this.metadataPartition && e.kind === 'file' ? 16 : 8;
  }

  /** Allocation descriptors of an entry's data: each extent in pieces of at most maxExtent bytes. */
  private adCountOf(e: UEntry): number {
    if (e.embedded || e.length === 0) return 0;
    const recorded = e.kind === 'file' ? (e.node as FileNode).recorded : undefined;
    const lengths = recorded ? mergeRuns(recorded).map((x) => x.length) : [e.length];
    return lengths.reduce((n, len) => n + Math.max(Math.ceil(len / this.maxExtent), 1), 0);
  }

  /** How many allocation extent descriptors a file needs when its allocation descriptors overflow the entry. */
  private aedBlocksFor(e: UEntry): number {
    const n = e.adCount;
    const ad = this.adSizeOf(e);
    const inEntry = Math.floor((BLOCK - this.headerSize) / ad);
    if (n <= inEntry) return 0;
    const perAed = Math.floor((BLOCK - 24) / ad);
    let left = n - (inEntry - 1);
    let blocks = 0;
    while (left > 0) {
      blocks++;
      left -= left <= perAed ? left : perAed - 1;
    }
    return blocks;
  }

  // ------------------------------------------------------------------------------------------------
  // Writers

  private base(): number {
    return this.opts.baseLba ?? 0;
  }

  /** Absolute block of the session's first block (anchors are at base + 256 and in the last block). */
  get baseLba(): number {
    return this.base();
  }

  /**
   * The volume structures before the partition: recognition sequence, both descriptor sequences, the integrity
   * sequence and the anchor at 256. Goes right after the ISO 9660 descriptor set terminator (or the system area).
   */
  headWriters(): Writer[] {
    const base = this.base();
    // Each structure at its usual block (or right after what precedes it, should that be later); the anchor
    // exactly at 256.
    const at = (name: string, target: number, blocks: number, set: (lba: number) => void, write: (s: Sink) => void, exact = false): Writer[] => {
      let pad = 0;
      return [{
        name,
        plan: (lba) => {
          pad = Math.max(base + target - lba, 0);
          if (exact && lba + pad !== base + target) {
            throw new Error(`internal: ${name} must be at block ${base + target}, but the structures before it end at ${lba}`);
          }
          set(lba + pad);
          return pad + blocks;
        },
        write: (s) => {
          s.zeros(pad * BLOCK);
          write(s);
        },
      }];
    };
    return [
      { name: 'UDF volume recognition sequence', plan: () => 3, write: (s) => this.writeVrs(s) },
      ...at('UDF main volume descriptor sequence', 32, VDS_BLOCKS, (l) => (this.mvds = l), (s) => this.writeVds(s, this.mvds)),
      ...at('UDF reserve volume descriptor sequence', 48, VDS_BLOCKS, (l) => (this.rvds = l), (s) => this.writeVds(s, this.rvds)),
      ...at('UDF logical volume integrity sequence', 64, LVID_BLOCKS, (l) => (this.lvid = l), (s) => this.writeLvid(s)),
      ...at('UDF anchor (256)', 256, 1, (l) => (this.anchor1 = l), (s) => s.write(this.anchor(this.anchor1)), true),
    ];
  }

  /** The start of the partition: file set descriptor, file entries and directories (2.50+: the metadata partition). */
  partitionWriters(): Writer[] {
    return [{
      name: this.metadataPartition ? 'UDF metadata partition' : 'UDF file set and directories',
      plan: (lba) => {
        this.metaPad = this.metadataPartition ? (METADATA_UNIT - (lba % METADATA_UNIT)) % METADATA_UNIT : 0;
        const metaStart = lba + this.metaPad;
        // The partition starts with the metadata, or lower when files of earlier sessions are referenced.
        const low = this.lowestRecorded;
        this.partStart = low === undefined || low >= metaStart ? metaStart : low - (this.metadataPartition ? low % METADATA_UNIT : 0);
        this.metaBase = metaStart - this.partStart;
        // Addresses in the metadata area: partition blocks, or (2.50+) blocks of the metadata partition.
        const base = this.metadataPartition ? 0 : this.metaBase;
        this.fsdBlock = base;
        for (const e of this.seq) {
          e.icb = base + e.icbOff;
          if (e.dataOff !== undefined) e.dataBlock = base + e.dataOff;
        }
        if (this.metadataPartition) {
          this.metaExtentBlocks = Math.ceil(this.metaBlocks / METADATA_UNIT) * METADATA_UNIT;
          // The mirror copy follows the metadata (a reader such as 7-Zip takes data behind the file data for
          // the end of the volume), then both files' entries.
          const copies = this.opts.redundantMetadata ? 2 : 1;
          this.mirrorStart = this.metaBase + (this.opts.redundantMetadata ? this.metaExtentBlocks : 0);
          this.metaFileIcb = this.metaBase + copies * this.metaExtentBlocks;
          this.mirrorFileIcb = this.metaFileIcb + 1;
          return this.metaPad + copies * this.metaExtentBlocks + 2;
        }
        this.metaExtentBlocks = this.metaBlocks;
        return this.metaBlocks;
      },
      write: async (s) => {
        this.checkPlanned();
        s.zeros(this.metaPad * BLOCK);
        await this.writeMetadata(s);
        if (this.metadataPartition) {
          if (this.opts.redundantMetadata) await this.writeMetadata(s);
          s.write(this.metadataFileEntry(FT_METADATA, this.metaFileIcb, this.metaBase));
          s.write(this.metadataFileEntry(FT_METADATA_MIRROR, this.mirrorFileIcb, this.mirrorStart));
        }
      },
    }];
  }

  /** The closing anchor, in the image's last block (3/8.4.2.1); the partition ends before it. */
  tailWriters(): Writer[] {
    return [{
      name: 'UDF anchor (end)',
      plan: (lba) => {
        this.anchor2 = lba;
        this.planned = true;
        return 1;
      },
      write: (s) => s.write(this.anchor(this.anchor2)),
    }];
  }

  private checkPlanned(): void {
    if (!this.planned) throw new Error('internal: the UDF writers were not all planned');
    if (!this.data) throw new Error('internal: the UDF file system has no data source');
  }

  /** Blocks in the partition: from the metadata to the end of the file data (and the padding after it). */
  private get partBlocks(): number {
    return this.anchor2 - this.partStart;
  }

  /** Assigns every entry its blocks in the metadata area (relative to its start). */
  private layoutMetadata(): void {
    let cursor = 2; // FSD, terminating descriptor
    for (const e of this.seq) {
      e.icbOff = cursor;
      cursor += 1 + e.aedBlocks;
      if (e.kind === 'dir' || (e.kind === 'symlink' && !e.embedded)) {
        e.dataOff = cursor;
        cursor += Math.ceil(e.length / BLOCK);
      }
    }
    this.metaBlocks = cursor;
  }

  // ------------------------------------------------------------------------------------------------
  // Volume structures

  private tag(b: Buffer, off: number, id: number, location: number, length: number): void {
    finishTag(b, off, id, this.descVersion, location, length);
  }

  private get recorded(): number {
    return this.opts.volume.createdMs ?? this.opts.nowMs;
  }

  private writeVrs(s: Sink): void {
    // ECMA-167 2/9.2–9.3: BEA01, NSR02 (UDF ≤ 1.50) or NSR03 (UDF 2.00+), TEA01; one descriptor per sector.
    for (const id of ['BEA01', this.revision >= 0x0200 ? 'NSR03' : 'NSR02', 'TEA01']) {
      const b = Buffer.alloc(BLOCK);
      b[0] = 0;
      b.write(id, 1, 'latin1');
      b[6] = 1;
      s.write(b);
    }
  }

  private anchor(lba: number): Buffer {
    // 3/10.2: anchor volume descriptor pointer: main and reserve descriptor sequence extents.
    const b = Buffer.alloc(BLOCK);
    extentAd(b, 16, VDS_BLOCKS * BLOCK, this.mvds);
    extentAd(b, 24, VDS_BLOCKS * BLOCK, this.rvds);
    this.tag(b, 0, TAG.AVDP, lba, 512);
    return b;
  }

  private get label(): string {
    return this.opts.volume.label;
  }

  /** UDF 2.2.2.5: the first 16 characters of the volume set identifier are a unique hex value (time + hash). */
  private volumeSetId(): string {
    const v = this.opts.volume;
    const h = createHash('sha256').update(`${v.label}\0${v.volumeSet ?? ''}\0${this.recorded}`).digest();
    const id = hex8(Math.floor(this.recorded / 1000)) + hex8(h.readUInt32BE(0));
    return v.volumeSet ? `${id} ${v.volumeSet}` : id;
  }

  private writeVds(s: Sink, start: number): void {
    const rev = this.revision;
    const blocks: Buffer[] = [];
    const desc = () => {
      const b = Buffer.alloc(BLOCK);
      blocks.push(b);
      return b;
    };
    const impl = (b: Buffer, off: number) => regid(b, off, IMPLEMENTATION_ID);
    const v = this.opts.volume;
    // 3/10.1 primary volume descriptor (UDF 2.2.2)
    {
      const b = desc();
      b.writeUInt32LE(1, 16); // volume descriptor sequence number
      b.writeUInt32LE(0, 20); // primary volume descriptor number
      dstring(b, 24, 32, this.label);
      b.writeUInt16LE(1, 56); // volume sequence number
      b.writeUInt16LE(1, 58); // maximum volume sequence number
      b.writeUInt16LE(2, 60); // interchange level (single volume)
      b.writeUInt16LE(2, 62); // maximum interchange level
      b.writeUInt32LE(1, 64); // character set list: CS0
      b.writeUInt32LE(1, 68);
      dstring(b, 72, 128, this.volumeSetId());
      charspec(b, 200);
      charspec(b, 264);
      regid(b, 344, asciiId(v.application ?? ''));
      timestamp(b, 376, this.recorded);
      impl(b, 388);
      this.tag(b, 0, TAG.PVD, start, 512);
    }
    // 3/10.4 implementation use volume descriptor with UDF LV Info (UDF 2.2.7)
    {
      const b = desc();
      b.writeUInt32LE(2, 16);
      regid(b, 20, '*UDF LV Info', udfSuffix(rev));
      charspec(b, 52);
      dstring(b, 116, 128, this.label);
      dstring(b, 244, 36, v.preparer ?? ''); // LVInfo1: owner
      dstring(b, 280, 36, v.publisher ?? ''); // LVInfo2: organization
      dstring(b, 316, 36, ''); // LVInfo3: contact
      impl(b, 352);
      this.tag(b, 0, TAG.IUVD, start + 1, 512);
    }
    // 3/10.5 partition descriptor (UDF 2.2.14): partition 0, read-only, no space bitmaps
    {
      const b = desc();
      b.writeUInt32LE(3, 16);
      b.writeUInt16LE(1, 20); // allocated
      b.writeUInt16LE(0, 22); // partition number
      regid(b, 24, rev >= 0x0200 ? '+NSR03' : '+NSR02');
      b.writeUInt32LE(1, 184); // access type: read-only
      b.writeUInt32LE(this.partStart, 188);
      b.writeUInt32LE(this.partBlocks, 192);
      impl(b, 196);
      this.tag(b, 0, TAG.PD, start + 2, 512);
    }
    // 3/10.6 logical volume descriptor (UDF 2.2.4) with its partition maps (3/10.7, UDF 2.2.10)
    {
      const b = desc();
      b.writeUInt32LE(4, 16);
      charspec(b, 20);
      dstring(b, 84, 128, this.label);
      b.writeUInt32LE(BLOCK, 212);
      regid(b, 216, '*OSTA UDF Compliant', domainSuffix(rev));
      longAd(b, 248, 2 * BLOCK, this.fsdBlock, this.metadataPartition ? 1 : 0); // the file set descriptor sequence
      impl(b, 272);
      extentAd(b, 432, LVID_BLOCKS * BLOCK, this.lvid);
      let off = 440;
      b[off] = 1; // type 1 partition map: volume sequence number 1, partition 0
      b[off + 1] = 6;
      b.writeUInt16LE(1, off + 2);
      b.writeUInt16LE(0, off + 4);
      off += 6;
      if (this.metadataPartition) {
        b[off] = 2;
        b[off + 1] = 64;
        regid(b, off + 4, '*UDF Metadata Partition', udfSuffix(rev));
        b.writeUInt16LE(1, off + 36); // volume sequence number
        b.writeUInt16LE(0, off + 38); // partition number
        b.writeUInt32LE(this.metaFileIcb, off + 40);
        b.writeUInt32LE(this.mirrorFileIcb, off + 44);
        b.writeUInt32LE(0xffffffff, off + 48); // no metadata bitmap file: read-only media (UDF 2.2.10)
        b.writeUInt32LE(METADATA_UNIT, off + 52); // allocation unit size
        b.writeUInt16LE(METADATA_UNIT, off + 56); // alignment unit size
        b[off + 58] = this.opts.redundantMetadata ? 1 : 0; // duplicate metadata flag
        off += 64;
      }
      b.writeUInt32LE(off - 440, 264); // map table length
      b.writeUInt32LE(this.metadataPartition ? 2 : 1, 268); // number of partition maps
      this.tag(b, 0, TAG.LVD, start + 3, off);
    }
    // 3/10.8 unallocated space descriptor: none
    {
      const b = desc();
      b.writeUInt32LE(5, 16);
      b.writeUInt32LE(0, 20);
      this.tag(b, 0, TAG.USD, start + 4, 24);
    }
    // 3/10.9 terminating descriptor
    {
      const b = desc();
      this.tag(b, 0, TAG.TD, start + 5, 512);
    }
    for (const b of blocks) s.write(b);
    s.zeros((VDS_BLOCKS - blocks.length) * BLOCK);
  }

  private writeLvid(s: Sink): void {
    // 3/10.10 logical volume integrity descriptor (UDF 2.2.6), closed.
    const b = Buffer.alloc(BLOCK);
    timestamp(b, 16, this.recorded);
    b.writeUInt32LE(1, 28); // integrity type: close
    // Logical volume contents use: the logical volume header descriptor (4/14.15): next unique ID.
    writeU64(b, 40, this.nextUniqueId);
    const np = this.metadataPartition ? 2 : 1;
    b.writeUInt32LE(np, 72);
    const impUseLength = 46;
    b.writeUInt32LE(impUseLength, 76);
    let off = 80;
    // Free space: none (read-only); the metadata partition's free space and size are "not specified".
    b.writeUInt32LE(0, off);
    if (np === 2) b.writeUInt32LE(0xffffffff, off + 4);
    off += 4 * np;
    b.writeUInt32LE(this.partBlocks, off);
    if (np === 2) b.writeUInt32LE(0xffffffff, off + 4);
    off += 4 * np;
    // UDF 2.2.6.4 implementation use: implementation ID, files, directories, UDF revisions.
    regid(b, off, IMPLEMENTATION_ID);
    b.writeUInt32LE(this.files, off + 32);
    b.writeUInt32LE(this.dirs, off + 36);
    // UDF 2.60 is read-compatible with 2.50: its minimum read revision is 2.50 (UDF 2.60 2.2.6.4).
    b.writeUInt16LE(this.revision === 0x0260 ? 0x0250 : this.revision, off + 40);
    b.writeUInt16LE(this.revision, off + 42);
    b.writeUInt16LE(this.revision, off + 44);
    off += impUseLength;
    this.tag(b, 0, TAG.LVID, this.lvid, off);
    s.write(b);
    const td = Buffer.alloc(BLOCK);
    this.tag(td, 0, TAG.TD, this.lvid + 1, 512);
    s.write(td);
  }

  // ------------------------------------------------------------------------------------------------
  // The metadata area: file set, entries, directories

  private get metaRef(): number {
    return this.metadataPartition ? 1 : 0;
  }

  private async writeMetadata(s: Sink): Promise<void> {
    const start = s.pos;
    // 4/14.1 file set descriptor (UDF 2.3.2) + terminating descriptor (4/14.2)
    {
      const b = Buffer.alloc(BLOCK);
      timestamp(b, 16, this.recorded);
      b.writeUInt16LE(3, 28); // interchange level
      b.writeUInt16LE(3, 30); // maximum interchange level
      b.writeUInt32LE(1, 32); // character set list
      b.writeUInt32LE(1, 36);
      b.writeUInt32LE(0, 40); // file set number
      b.writeUInt32LE(0, 44); // file set descriptor number
      charspec(b, 48);
      dstring(b, 112, 128, this.label);
      charspec(b, 240);
      dstring(b, 304, 32, this.label);
      longAd(b, 400, BLOCK, this.root.icb, this.metaRef);
      regid(b, 416, '*OSTA UDF Compliant', domainSuffix(this.revision));
      this.tag(b, 0, TAG.FSD, this.fsdBlock, 512);
      s.write(b);
      const td = Buffer.alloc(BLOCK);
      this.tag(td, 0, TAG.TD, this.fsdBlock + 1, 512);
      s.write(td);
    }
    const fe = Buffer.alloc(BLOCK);
    let n = 0;
    for (const e of this.seq) {
      const aeds = this.writeEntry(fe, e);
      s.write(fe);
      for (const a of aeds) s.write(a);
      if (e.kind === 'dir') {
        const d = this.directoryData(e);
        s.write(d);
      } else if (e.kind === 'symlink' && !e.embedded) {
        const d = Buffer.alloc(Math.ceil(e.length / BLOCK) * BLOCK);
        e.link!.copy(d);
        s.write(d);
      }
      if (++n % 256 === 0) await s.checkpoint();
    }
    s.zeros((this.metaExtentBlocks - this.metaBlocks) * BLOCK);
    const written = s.pos - start;
    if (written !== this.metaExtentBlocks * BLOCK) throw new Error(`internal: UDF metadata is ${written} bytes, planned ${this.metaExtentBlocks * BLOCK}`);
  }

  /** 4/14.4: the directory's FIDs, padded to whole blocks. */
  private directoryData(d: UEntry): Buffer {
    const b = Buffer.alloc(Math.ceil(d.length / BLOCK) * BLOCK);
    let off = 0;
    const fid = (id: Buffer, target: UEntry, flags: number) => {
      const len = fidLength(id.length);
      b.writeUInt16LE(1, off + 16); // file version number
      b[off + 18] = flags;
      b[off + 19] = id.length;
      longAd(b, off + 20, BLOCK, target.icb, this.metaRef, target.uniqueId);
      b.writeUInt16LE(0, off + 36); // length of implementation use
      id.copy(b, off + 38);
      this.tag(b, off, TAG.FID, d.dataBlock! + Math.floor(off / BLOCK), len);
      off += len;
    };
    fid(Buffer.alloc(0), d.parent, FID_DIRECTORY | FID_PARENT);
    for (const c of d.children!) fid(c.id, c.entry, c.entry.kind === 'dir' ? FID_DIRECTORY : 0);
    if (off !== d.length) throw new Error(`internal: directory ${pathOf(d.node)}: ${off} bytes of FIDs, planned ${d.length}`);
    return b;
  }

  /** The allocation descriptors' extents (partition-relative) of an entry's data. */
  private extentsOf(e: UEntry): { block: number; length: number; ref: number }[] {
    let runs: { block: number; length: number }[];
    let ref: number;
    if (e.kind === 'file') {
      const f = e.node as FileNode;
      const xs = this.data!.extentsOf(f);
      if (!xs || xs.length === 0) throw new Error(`internal: no data recorded for ${f.source}`);
      // ISO 9660 records a file of 4 GiB or more as several contiguous extents: one run for UDF.
      runs = mergeRuns(xs).map((x) => ({ block: x.lba - this.partStart, length: x.length }));
      for (const r of runs) {
        if (r.block < 0 || r.block + Math.ceil(r.length / BLOCK) > this.partBlocks) {
          throw new Error(`internal: the data of ${f.source} (block ${r.block + this.partStart}) lies outside the UDF partition`);
        }
      }
      ref = 0;
    } else {
      runs = [{ block: e.dataBlock!, length: e.length }];
      ref = this.metaRef;
    }
    const out: { block: number; length: number; ref: number }[] = [];
    for (const r of runs) {
      let done = 0;
      do {
        out.push({ block: r.block + done / BLOCK, length: Math.min(this.maxExtent, r.length - done), ref });
        done += this.maxExtent;
      } while (done < r.length);
    }
    if (out.length !== e.adCount) throw new Error(`internal: ${pathOf(e.node)}: ${out.length} allocation descriptors, planned ${e.adCount}`);
    return out;
  }

  /** POSIX mode bits → 4/14.9.5 permissions (execute, write, read, change attributes, delete per class). */
  private permissions(mode: number): number {
    let p = 0;
    for (const [shift, bits] of [[0, mode & 7], [5, (mode >> 3) & 7], [10, (mode >> 6) & 7]] as const) {
      let c = 0;
      if (bits & 1) c |= 1; // execute
      if (bits & 2) c |= 2 | 8 | 16; // write, change attributes, delete
      if (bits & 4) c |= 4; // read
      p |= c << shift;
    }
    return p;
  }

  /**
   * Fills `b` with the (extended) file entry of `e` (4/14.9, 4/14.17; UDF 2.3.6) and returns the allocation
   * extent descriptors that continue its allocation descriptors, if any.
   */
  private writeEntry(b: Buffer, e: UEntry): Buffer[] {
    b.fill(0);
    const node = e.node;
    const t = this.timeOf(node);
    const fileType = e.kind === 'dir' ? FT_DIR : e.kind === 'symlink' ? FT_SYMLINK : FT_FILE;
    const mode = e.kind === 'symlink' ? 0o777 : node.mode;
    let flags = 0;
    if (mode & 0o4000) flags |= ICB_SETUID;
    if (mode & 0o2000) flags |= ICB_SETGID;
    if (mode & 0o1000) flags |= ICB_STICKY;
    const adSize = this.adSizeOf(e);
    flags |= e.embedded ? AD_EMBEDDED : adSize === 16 ? AD_LONG : AD_SHORT;
    const linkCount = e.kind === 'dir' ? 1 + e.subdirs! : 1;
    let recorded = 0;
    let ads: Buffer[] = [];
    let inline: Buffer | undefined;
    if (e.embedded) {
      if (e.kind === 'symlink') inline = e.link!;
      else if (e.length > 0) inline = readSmallFile(e.node as FileNode);
    } else {
      const extents = this.extentsOf(e);
      recorded = extents.reduce((n, x) => n + Math.ceil(x.length / BLOCK), 0);
      ads = extents.map((x) => {
        const a = Buffer.alloc(adSize);
        if (adSize === 16) longAd(a, 0, x.length, x.block, x.ref);
        else shortAd(a, 0, x.length, x.block);
        return a;
      });
    }
    const h = this.headerSize;
    this.icbTag(b, 16, fileType, flags);
    b.writeUInt32LE(0, 36); // uid: root, as Rock Ridge records it
    b.writeUInt32LE(0, 40); // gid
    b.writeUInt32LE(this.permissions(mode), 44);
    b.writeUInt16LE(linkCount, 48);
    writeU64(b, 56, e.length); // information length
    if (this.efe) {
      writeU64(b, 64, e.length); // object size
      writeU64(b, 72, recorded);
      timestamp(b, 80, t); // access
      timestamp(b, 92, t); // modification
      timestamp(b, 104, t); // creation
      timestamp(b, 116, t); // attribute
      b.writeUInt32LE(1, 128); // checkpoint
      regid(b, 168, IMPLEMENTATION_ID);
      writeU64(b, 200, e.uniqueId);
    } else {
      writeU64(b, 64, recorded);
      timestamp(b, 72, t);
      timestamp(b, 84, t);
      timestamp(b, 96, t);
      b.writeUInt32LE(1, 108);
      regid(b, 128, IMPLEMENTATION_ID);
      writeU64(b, 160, e.uniqueId);
    }
    const lEaOff = h - 8;
    b.writeUInt32LE(0, lEaOff); // no extended attributes
    const aeds: Buffer[] = [];
    let lAd: number;
    if (inline) {
      inline.copy(b, h);
      lAd = inline.length;
    } else {
      // Allocation descriptors; when they do not fit, the last slot points to an allocation extent descriptor
      // (4/14.5) in the next block, and so on (4/12.3.2: extent type 3).
      const inEntry = Math.floor((BLOCK - h) / adSize);
      const perAed = Math.floor((BLOCK - 24) / adSize);
      let i = 0;
      let take = ads.length <= inEntry ? ads.length : inEntry - 1;
      for (let k = 0; k < take; k++) ads[i++].copy(b, h + k * adSize);
      lAd = take * adSize;
      let prev = e.icb;
      let block = e.icb + 1;
      const chain = (buf: Buffer, off: number) => {
        if (adSize === 16) longAd(buf, off, (EXTENT_NEXT_AED << 30) | BLOCK, block, this.metaRef);
        else shortAd(buf, off, (EXTENT_NEXT_AED << 30) | BLOCK, block);
      };
      if (i < ads.length) {
        chain(b, h + lAd);
        lAd += adSize;
      }
      while (i < ads.length) {
        const a = Buffer.alloc(BLOCK);
        const left = ads.length - i;
        take = left <= perAed ? left : perAed - 1;
        for (let k = 0; k < take; k++) ads[i++].copy(a, 24 + k * adSize);
        let len = take * adSize;
        const self = block;
        block++;
        if (i < ads.length) {
          chain(a, 24 + len);
          len += adSize;
        }
        a.writeUInt32LE(prev, 16); // previous allocation extent location
        a.writeUInt32LE(len, 20);
        // UDF 2.01+ cover the descriptors with the CRC; earlier revisions only the header (UDF 1.50 2.3.11).
        this.tag(a, 0, TAG.AED, self, this.revision >= 0x0201 ? 24 + len : 24);
        prev = self;
        aeds.push(a);
      }
      if (aeds.length !== e.aedBlocks) throw new Error(`internal: ${pathOf(node)}: ${aeds.length} AEDs, planned ${e.aedBlocks}`);
    }
    b.writeUInt32LE(lAd, lEaOff + 4);
    this.tag(b, 0, this.efe ? TAG.EFE : TAG.FE, e.icb, h + lAd);
    return aeds;
  }

  /** 4/14.6 ICB tag: strategy 4 (one direct entry), file type, flags. */
  private icbTag(b: Buffer, off: number, fileType: number, flags: number): void {
    b.writeUInt32LE(0, off); // prior recorded number of direct entries
    b.writeUInt16LE(4, off + 4); // strategy type
    b.writeUInt16LE(1, off + 8); // maximum number of entries
    b[off + 11] = fileType;
    b.writeUInt16LE(flags, off + 18);
  }

  /** UDF 2.2.13: the metadata file (250) or mirror file (251) entry, in the physical partition. */
  private metadataFileEntry(fileType: number, icb: number, extentStart: number): Buffer {
    const b = Buffer.alloc(BLOCK);
    const bytes = this.metaExtentBlocks * BLOCK;
    this.icbTag(b, 16, fileType, AD_SHORT);
    b.writeUInt16LE(1, 48); // link count
    writeU64(b, 56, bytes);
    writeU64(b, 64, bytes);
    writeU64(b, 72, this.metaExtentBlocks);
    for (const off of [80, 92, 104, 116]) timestamp(b, off, this.recorded);
    b.writeUInt32LE(1, 128);
    regid(b, 168, IMPLEMENTATION_ID);
    writeU64(b, 200, 0);
    // One extent (a reader such as 7-Zip requires it): at most 2^30 − 2048 bytes of metadata.
    shortAd(b, 216, bytes, extentStart);
    b.writeUInt32LE(0, 208);
    b.writeUInt32LE(8, 212);
    this.tag(b, 0, TAG.EFE, icb, 216 + 8);
    return b;
  }
}

/** Joins extents that follow each other on the disc (each but the last a whole number of blocks). */
function mergeRuns(xs: readonly { lba: number; length: number }[]): { lba: number; length: number }[] {
  const out: { lba: number; length: number }[] = [];
  for (const x of xs) {
    const last = out[out.length - 1];
    if (last && last.length % BLOCK === 0 && last.lba + last.length / BLOCK === x.lba) last.length += x.length;
    else out.push({ lba: x.lba, length: x.length });
  }
  return out;
}

/** 4/14.4: a FID is 38 bytes + identifier (+ implementation use), padded to a multiple of 4. */
function fidLength(idLength: number): number {
  return (38 + idLength + 3) & ~3;
}

function writeU64(b: Buffer, off: number, v: number): void {
  b.writeUInt32LE(v % 0x100000000, off);
  b.writeUInt32LE(Math.floor(v / 0x100000000), off + 4);
}

/** An entity identifier from free text: printable ASCII only, at most 23 characters. */
function asciiId(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, 23);
}

/** Reads a small file's whole content for an entry, with the same change checks as the data area. */
function readSmallFile(file: FileNode): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file.source, 'r');
  } catch (err) {
    throw new InputError(`cannot read ${file.source}: ${(err as Error).message}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.size !== file.size || st.mtimeMs !== file.mtimeMs) {
      throw new InputError(`${file.source} changed during the build (size ${file.size} → ${st.size}); build again`);
    }
    const b = Buffer.alloc(file.size);
    let off = 0;
    while (off < b.length) {
      const n = fs.readSync(fd, b, off, b.length - off, off);
      if (n === 0) throw new InputError(`${file.source} became shorter during the build; build again`);
      off += n;
    }
    return b;
  } finally {
    fs.closeSync(fd);
  }
}
