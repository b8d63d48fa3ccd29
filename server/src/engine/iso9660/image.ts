/**
 * An ISO 9660 image (+ Joliet, + Rock Ridge) as ordered writers, in the manner of libisofs' writer chain:
 * every writer first plans its blocks (so the whole layout and the image size are known before a byte is
 * written), then writes them; the sink's position is checked against the plan after each writer.
 *
 * Layout: system area (16 blocks, ECMA-119 6.2.1) · volume descriptor set (8.1: PVD, Joliet SVD, ISO 9660:1999
 * EVD, terminator) · path tables (9.4) · ISO directories, each followed by its SUSP continuation areas ·
 * Joliet directories ·
 * file data (each file once, referenced by every hierarchy).
 */
import * as fs from 'node:fs';
import type { FileNode, TreeNode } from '../model';
import { InputError } from '../util/errors';
import { Layout, type Writer } from '../image/layout';
import type { Sink } from '../image/sink';
import { aChars, both16, both32, date17, date7, dChars, padField, padFieldUcs2, SECTOR } from './encode';
import type { IsoLevel } from './names';
import { areaLengths, AreaAllocator, ce, CE_LEN, er, link, nm, packSusp, px, re, sl, sp, tf, type AreaPos } from './susp';
import { buildIsoTree, buildJolietTree, RELOCATION_DIR_NAME, type FsDir, type FsRecord, type TreeProblem } from './tree';
import type { DirNode } from '../model';

/** ECMA-119 9.1.4: a data length is 32 bits; large files are recorded as several extents (level 3, 6.5.1). */
export const MAX_EXTENT = 0xfffff800;
/** Blocks of zeros after the last file (see makeWriters). */
export const TAIL_PADDING = 150;

export interface VolumeInfo {
  label: string;
  publisher?: string;
  preparer?: string;
  application?: string;
  system?: string;
  volumeSet?: string;
  /** Fixed creation time (ms): every timestamp in the image becomes this. */
  createdMs?: number;
}

export interface IsoImageOptions {
  level: IsoLevel;
  joliet: boolean;
  jolietMaxName: number;
  rockRidge: boolean;
  volume: VolumeInfo;
  /** "Now", for images without a fixed creation time. */
  nowMs: number;
  /** Absolute address of the image's first block (a later session starts after the earlier ones). */
  baseLba?: number;
  /** Other file systems' writers, placed around the ISO 9660 ones (UDF: recognition sequence, anchors, …). */
  hooks?: ImageHooks;
  /** El Torito and hybrid (MBR/GPT) parts, made after planning when every address is known. */
  boot?: BootHooks;
}

/** What a bootable image adds to the ISO 9660 layout (server/src/engine/boot/eltorito.ts makes these). */
export interface BootHooks {
  /** El Torito 2.0: a boot record volume descriptor (after the PVD) pointing at the boot catalog at this address. */
  catalogLba: () => number;
  /** The system area's bytes (ECMA-119 6.2.1: the first 16 blocks, 32 KiB, are not used by ISO 9660): MBR, GPT. */
  systemArea?: () => Buffer;
  /** Files with data on the disc but in no directory (a hidden boot catalog or boot image); placed first. */
  hiddenFiles?: FileNode[];
  /** Bytes that end the tail padding (a backup GPT's entries), given the padding's end (absolute block). */
  tail?: (paddingEndLba: number) => Buffer;
  /**
   * The image's last 512 bytes (a backup GPT header must be the disk's last sector, UEFI 5.3.2): written over the
   * zeros that end the last block, which is padding or UDF's closing anchor (a 512-byte descriptor, ECMA-167 3/10.2).
   */
  lastSector?: () => Buffer;
}

/**
 * Where other file systems join the layout: after the ISO volume descriptor set (volume recognition
 * sequence), after the ISO/Joliet metadata (their own metadata), and after the shared file data.
 */
export interface ImageHooks {
  afterDescriptors?: Writer[];
  beforeData?: Writer[];
  afterData?: Writer[];
}

export interface FileExtents {
  node: FileNode;
  lba: number;
  extents: { lba: number; length: number }[];
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

export class IsoImage {
  readonly problems: TreeProblem[] = [];
  readonly isoDirs: FsDir[];
  readonly jolietDirs: FsDir[] | undefined;
  readonly layout: Layout;
  private readonly data = new Map<FileNode, FileExtents>();
  private readonly dataOrder: FileNode[] = [];
  private emptyLba = 0;
  private dataPadBlock = false;
  /** Absolute block just after the tail padding (before UDF's closing anchor, if any). */
  private paddingEnd = 0;
  /** Total image size in blocks, known once planned. */
  readonly blocks: number;
  private isoPathTable = { size: 0, l: 0, m: 0 };
  private jolietPathTable = { size: 0, l: 0, m: 0 };

  constructor(root: DirNode, private readonly opts: IsoImageOptions) {
    this.isoDirs = buildIsoTree(root, { level: opts.level, rockRidge: opts.rockRidge }, this.problems);
    this.jolietDirs = opts.joliet ? buildJolietTree(root, { maxName: opts.jolietMaxName }, this.problems) : undefined;
    this.collectFiles(root);
    this.layout = new Layout(this.makeWriters(), opts.baseLba ?? 0);
    this.blocks = this.layout.blocks;
  }

  /** Where a file's data lives (shared by every file system); undefined for empty files. */
  extentsOf(node: FileNode): FileExtents | undefined {
    return this.data.get(node);
  }

  /** Files in data order, each once. */
  get files(): readonly FileNode[] {
    return this.dataOrder;
  }

  /** The block every empty file and symbolic link points at. */
  get emptyFileLba(): number {
    return this.emptyLba;
  }

  get bytes(): number {
    return this.blocks * SECTOR;
  }

  /** The bytes of file data (for progress). */
  get dataBytes(): number {
    let n = 0;
    for (const f of this.dataOrder) n += f.size;
    return n;
  }

  private timeOf(node: TreeNode | undefined): number {
    return this.opts.volume.createdMs ?? node?.mtimeMs ?? this.opts.nowMs;
  }

  /** Files in a stable order (depth first, names in code unit order), each exactly once. */
  private collectFiles(root: DirNode): void {
    const walk = (d: DirNode) => {
      const kids = [...d.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const k of kids) if (k.kind === 'file') this.dataOrder.push(k);
      for (const k of kids) if (k.kind === 'dir') walk(k);
    };
    // Hidden boot files first: BIOS loaders and firmware find them low on the disc.
    const hidden = this.opts.boot?.hiddenFiles ?? [];
    walk(root);
    this.dataOrder.unshift(...hidden);
    if (this.opts.level < 3) {
      for (const f of this.dataOrder) {
        if (f.size > 0xffffffff) {
          this.problems.push({ node: f, code: 'file-too-large', severity: 'error',
            message: `${f.source} is ${f.size} bytes; ISO 9660 level ${this.opts.level} stores files below 4 GiB in one extent (ECMA-119 10.1–10.2): use level 3` });
        }
      }
    }
  }

  private makeWriters(): Writer[] {
    const o = this.opts;
    const vdCount = 1 + (o.boot ? 1 : 0) + (o.joliet ? 1 : 0) + (o.level === 4 ? 1 : 0) + 1;
    const blocksOf = (bytes: number) => Math.ceil(bytes / SECTOR);
    const writers: Writer[] = [
      { name: 'system area', plan: () => 16, write: (s) => this.writeSystemArea(s) },
      { name: 'volume descriptors', plan: () => vdCount, write: (s) => this.writeDescriptors(s) },
      ...(o.hooks?.afterDescriptors ?? []),
    ];
    const pathTables = (dirs: FsDir[], pt: { size: number; l: number; m: number }, name: string): Writer => ({
      name,
      plan: (lba) => {
        pt.size = dirs.reduce((n, d) => n + 8 + d.id.length + (d.id.length % 2), 0);
        pt.l = lba;
        pt.m = lba + blocksOf(pt.size);
        return 2 * blocksOf(pt.size);
      },
      write: (s) => {
        s.write(this.pathTable(dirs, 'L'));
        s.pad(SECTOR);
        s.write(this.pathTable(dirs, 'M'));
        s.pad(SECTOR);
      },
    });
    writers.push(pathTables(this.isoDirs, this.isoPathTable, 'ISO 9660 path tables'));
    if (this.jolietDirs) writers.push(pathTables(this.jolietDirs, this.jolietPathTable, 'Joliet path tables'));
    // Each directory's SUSP continuation areas follow its extent directly (as libisofs lays them out):
    // streaming readers such as libarchive only pick them up at that position.
    const dirsWriter = (pathTableOrder: FsDir[], rr: boolean, name: string): Writer => {
      const dirs = extentOrder(pathTableOrder[0]);
      return {
      name,
      plan: (lba) => {
        let start = lba;
        for (const d of dirs) {
          const alloc = rr ? new AreaAllocator() : undefined;
          d.size = this.layoutDirectory(d, rr, alloc, undefined);
          d.lba = start;
          d.ceLba = start + d.size / SECTOR;
          d.ceBlocks = alloc?.blocks ?? 0;
          start += d.size / SECTOR + d.ceBlocks;
        }
        return start - lba;
      },
      write: async (s) => {
        for (const d of dirs) {
          const areas = d.ceBlocks > 0 ? Buffer.alloc(d.ceBlocks * SECTOR) : undefined;
          this.layoutDirectory(d, rr, undefined, s, areas);
          if (areas) s.write(areas);
          await s.checkpoint();
        }
      },
      };
    };
    writers.push(dirsWriter(this.isoDirs, o.rockRidge, 'ISO 9660 directories'));
    if (this.jolietDirs) writers.push(dirsWriter(this.jolietDirs, false, 'Joliet directories'));
    writers.push(...(o.hooks?.beforeData ?? []));
    writers.push({
      name: 'file data',
      plan: (lba) => {
        const start = lba;
        this.emptyLba = lba;
        for (const f of this.dataOrder) {
          if (f.recorded) {
            // Imported from an earlier session: its data stays where it is (absolute extents).
            if (f.size > 0) this.data.set(f, { node: f, lba: f.recorded[0].lba, extents: f.recorded });
            continue;
          }
          const extents: { lba: number; length: number }[] = [];
          let remaining = f.size;
          let at = lba;
          do {
            const len = Math.min(remaining, MAX_EXTENT);
            extents.push({ lba: at, length: len });
            at += blocksOf(len);
            remaining -= len;
          } while (remaining > 0);
          if (f.size > 0) this.data.set(f, { node: f, lba, extents });
          lba = at;
        }
        // Empty files point at the start of the data area; keep one block there if no file has data.
        this.dataPadBlock = lba === start;
        return lba - start + (this.dataPadBlock ? 1 : 0);
      },
      write: async (s) => {
        for (const f of this.dataOrder) {
          if (f.recorded) continue;
          await writeFileData(s, f);
          s.pad(SECTOR);
        }
        if (this.dataPadBlock) s.zeros(SECTOR);
      },
    });
    // 150 zero blocks (300 KiB) at the end, as mkisofs' and xorriso's -pad: drives and kernels read ahead
    // past the last file on track-at-once CDs, and some readers (libarchive) need that much to recognise
    // a small image at all.
    writers.push({
      name: 'padding',
      plan: (lba) => {
        this.paddingEnd = lba + TAIL_PADDING;
        return TAIL_PADDING;
      },
      write: (s) => {
        const tail = o.boot?.tail?.(this.paddingEnd) ?? Buffer.alloc(0);
        if (tail.length > TAIL_PADDING * SECTOR) throw new Error('internal: the tail area is larger than the padding');
        s.zeros(TAIL_PADDING * SECTOR - tail.length);
        s.write(tail);
      },
    });
    // After the padding: UDF's closing anchor must be the image's last block (ECMA-167 3/8.4.2.1).
    writers.push(...(o.hooks?.afterData ?? []));
    const lastSector = o.boot?.lastSector;
    if (lastSector) {
      const last = writers[writers.length - 1];
      let end = 0;
      writers[writers.length - 1] = {
        name: last.name,
        plan: (lba) => {
          const n = last.plan(lba);
          end = (lba + n - (o.baseLba ?? 0)) * SECTOR;
          return n;
        },
        write: (s) => last.write(new LastSectorSink(s, end - 512, lastSector())),
      };
    }
    return writers;
  }

  /** Absolute block just after the 150-block tail padding (a backup GPT ends there). */
  get paddingEndLba(): number {
    return this.paddingEnd;
  }

  /** Writes the planned image; the layout checks after each writer that exactly the planned blocks were written. */
  async write(sink: Sink): Promise<void> {
    await this.layout.write(sink);
  }

  // ---- volume descriptors (ECMA-119 8) ----

  /** ECMA-119 6.2.1: the system area (16 blocks) is for the system's use: hybrid images keep an MBR/GPT there. */
  private writeSystemArea(s: Sink): void {
    const area = this.opts.boot?.systemArea?.() ?? Buffer.alloc(0);
    if (area.length > 16 * SECTOR) throw new Error('internal: the system area is larger than 16 blocks');
    s.write(area);
    s.zeros(16 * SECTOR - area.length);
  }

  private writeDescriptors(s: Sink): void {
    const o = this.opts;
    s.write(this.volumeDescriptor('primary'));
    if (o.boot) s.write(bootRecord(o.boot.catalogLba()));
    if (o.joliet) s.write(this.volumeDescriptor('joliet'));
    if (o.level === 4) s.write(this.volumeDescriptor('enhanced'));
    // 8.3: volume descriptor set terminator.
    const t = Buffer.alloc(SECTOR);
    t[0] = 255;
    t.write('CD001', 1, 'latin1');
    t[6] = 1;
    s.write(t);
  }

  private volumeDescriptor(kind: 'primary' | 'joliet' | 'enhanced'): Buffer {
    const v = this.opts.volume;
    const b = Buffer.alloc(SECTOR);
    const joliet = kind === 'joliet';
    b[0] = kind === 'primary' ? 1 : 2; // 8.4.1 / 8.5.1
    b.write('CD001', 1, 'latin1');
    b[6] = kind === 'enhanced' ? 2 : 1; // ISO 9660:1999 8.5.2: an enhanced volume descriptor has version 2
    const text = (off: number, width: number, s: string | undefined, d = false) =>
      joliet ? padFieldUcs2(b, off, width, s ?? '') : padField(b, off, width, s === undefined ? '' : d ? dChars(s) : aChars(s));
    text(8, 32, v.system ?? '');
    if (joliet) padFieldUcs2(b, 40, 32, v.label.slice(0, 16));
    else padField(b, 40, 32, dChars(v.label).slice(0, 32));
    both32(b, 80, (this.opts.baseLba ?? 0) + this.blocks); // 8.4.8 volume space size: up to the end of this session
    if (joliet) b.write('%/E', 88, 'latin1'); // Joliet: UCS-2 level 3 escape sequence
    both16(b, 120, 1); // volume set size
    both16(b, 124, 1); // volume sequence number
    both16(b, 128, SECTOR); // logical block size
    const pt = joliet ? this.jolietPathTable : this.isoPathTable;
    both32(b, 132, pt.size);
    b.writeUInt32LE(pt.l, 140);
    b.writeUInt32BE(pt.m, 148);
    const dirs = joliet ? this.jolietDirs! : this.isoDirs;
    this.dirRecord(Buffer.from([0]), dirs[0].lba, dirs[0].size, this.timeOf(dirs[0].node), 0x02, []).copy(b, 156); // 8.4.18
    text(190, 128, v.volumeSet ?? '', true);
    text(318, 128, v.publisher);
    text(446, 128, v.preparer);
    text(574, 128, v.application ?? 'DISCFORGE');
    text(702, 37, '', true); // copyright file identifier
    text(739, 37, '', true); // abstract file identifier
    text(776, 37, '', true); // bibliographic file identifier
    const created = v.createdMs ?? this.opts.nowMs;
    date17(b, 813, created); // 8.4.26 creation
    date17(b, 830, created); // modification
    date17(b, 847, undefined); // expiration: not specified
    date17(b, 864, undefined); // effective: not specified
    b[881] = kind === 'enhanced' ? 2 : 1; // 8.4.31 file structure version
    return b;
  }

  // ---- path tables (ECMA-119 9.4) ----

  private pathTable(dirs: FsDir[], type: 'L' | 'M'): Buffer {
    const size = dirs.reduce((n, d) => n + 8 + d.id.length + (d.id.length % 2), 0);
    const b = Buffer.alloc(size);
    let off = 0;
    for (const d of dirs) {
      b[off] = d.id.length;
      b[off + 1] = 0;
      const parent = Math.min(d.parent!.number, 0xffff);
      if (type === 'L') {
        b.writeUInt32LE(d.lba, off + 2);
        b.writeUInt16LE(parent, off + 6);
      } else {
        b.writeUInt32BE(d.lba, off + 2);
        b.writeUInt16BE(parent, off + 6);
      }
      d.id.copy(b, off + 8);
      off += 8 + d.id.length + (d.id.length % 2);
    }
    return b;
  }

  // ---- directories (ECMA-119 9.1, 6.8.1) ----

  /** ECMA-119 9.1: one directory record; the System Use field (9.1.13) carries SUSP entries. */
  private dirRecord(id: Buffer, lba: number, size: number, ms: number, flags: number, su: Buffer[]): Buffer {
    const base = 33 + id.length + (id.length % 2 === 0 ? 1 : 0);
    const suLen = su.reduce((n, e) => n + e.length, 0);
    const len = base + suLen + ((base + suLen) % 2);
    if (len > 255) throw new Error(`internal: directory record of ${len} bytes`);
    const r = Buffer.alloc(len);
    r[0] = len;
    both32(r, 2, lba);
    both32(r, 10, size);
    date7(r, 18, ms);
    r[25] = flags;
    both16(r, 28, 1);
    r[32] = id.length;
    id.copy(r, 33);
    let off = base;
    for (const e of su) off += e.copy(r, off);
    return r;
  }

  private modeOf(node: TreeNode | undefined): number {
    if (!node) return S_IFDIR | 0o755;
    if (node.kind === 'dir') return S_IFDIR | node.mode;
    if (node.kind === 'symlink') return S_IFLNK | 0o777;
    return S_IFREG | node.mode;
  }

  /** The Rock Ridge entries of one record (before packing). */
  private rrEntries(what: 'dot' | 'dotdot' | 'child', dir: FsDir, rec: FsRecord | undefined): Buffer[] {
    const e: Buffer[] = [];
    if (what === 'dot' || what === 'dotdot') {
      const target = what === 'dot' ? dir : (dir.logicalParent ?? dir.parent!);
      if (what === 'dot' && dir.number === 1) e.push(sp()); // SUSP 5.3: first in the root's "." record
      e.push(px(this.modeOf(target.node), 2 + target.subdirCount()), tf(this.timeOf(target.node)));
      if (what === 'dotdot' && dir.logicalParent) e.push(link('PL', dir.logicalParent.lba)); // RRIP 4.1.5.2
      if (what === 'dot' && dir.number === 1) e.push(er()); // SUSP 5.5, RRIP 4.3
      return e;
    }
    const r = rec!;
    const node = r.node;
    const nlink = r.dir ? 2 + r.dir.subdirCount() : r.cl ? 2 + r.cl.subdirCount() : 1;
    e.push(px(this.modeOf(node), nlink), tf(this.timeOf(node)));
    e.push(...nm(node ? node.name : RELOCATION_DIR_NAME));
    if (node?.kind === 'symlink') e.push(...sl(node.target));
    if (r.cl) e.push(link('CL', r.cl.lba)); // RRIP 4.1.5.1
    // RRIP 4.1.5.3: a relocated directory's record; the relocation folder carries RE too, so that Rock Ridge
    // readers (Linux, libisofs) hide it and only the plain ISO 9660 view shows it.
    if (r.re || (r.dir && !node)) e.push(re());
    return e;
  }

  /**
   * The byte length of the Rock Ridge entries rrEntries() makes for the same record, computed without building
   * them (planning 100,000 records must not allocate 100,000 buffers). The write pass checks that they agree.
   */
  private rrLength(what: 'dot' | 'dotdot' | 'child', dir: FsDir, rec: FsRecord | undefined): number {
    if (what === 'dot') return dir.number === 1 ? SP_LEN + PX_LEN + TF_LEN + ER_LEN : PX_LEN + TF_LEN;
    if (what === 'dotdot') return PX_LEN + TF_LEN + (dir.logicalParent ? LINK_LEN : 0);
    const r = rec!;
    const node = r.node;
    const nameBytes = Buffer.byteLength(node ? node.name : RELOCATION_DIR_NAME);
    let n = PX_LEN + TF_LEN + nameBytes + 5 * Math.max(1, Math.ceil(nameBytes / 250));
    if (node?.kind === 'symlink') n += sl(node.target).reduce((t, e) => t + e.length, 0);
    if (r.cl) n += LINK_LEN;
    if (r.re || (r.dir && !node)) n += RE_LEN;
    return n;
  }

  /** How many directory records a file needs: one per extent (ECMA-119 6.5.1), known before addresses are. */
  private extentCount(node: FileNode): number {
    return node.recorded ? node.recorded.length : Math.max(1, Math.ceil(node.size / MAX_EXTENT));
  }

  /**
   * Lays out (and, with a sink, writes) one directory's extent. Planning computes record lengths and
   * allocates continuation areas; writing reproduces the same layout with the final addresses, checks every
   * record against its planned length, and fills the continuation areas. Returns the extent size in bytes.
   */
  private layoutDirectory(
    dir: FsDir, rr: boolean, alloc: AreaAllocator | undefined, sink: Sink | undefined, ceAreas?: Buffer,
  ): number {
    const planning = sink === undefined;
    let size = 0;
    let used = 0; // bytes used in the current sector
    const out: Buffer[] = [];
    const place = (len: number, make: () => Buffer) => {
      // 6.8.1.1: a record never crosses a sector boundary; the rest of the sector is zero.
      if (used + len > SECTOR) {
        if (!planning) out.push(Buffer.alloc(SECTOR - used));
        size += SECTOR - used;
        used = 0;
      }
      if (!planning) {
        const r = make();
        if (r.length !== len) throw new Error(`internal: a directory record of ${r.length} bytes, planned ${len}`);
        out.push(r);
      }
      used += len;
      size += len;
    };
    const withSusp = (
      id: Buffer, what: 'dot' | 'dotdot' | 'child', rec: FsRecord | undefined, slot: AreaPos[], make: (su: Buffer[]) => Buffer,
    ): AreaPos[] => {
      if (!rr) {
        place(recordLength(id.length, 0), () => make([]));
        return slot;
      }
      const avail = 254 - (33 + id.length + (id.length % 2 === 0 ? 1 : 0));
      const quick = this.rrLength(what, dir, rec);
      if (planning && quick <= avail) {
        place(recordLength(id.length, quick), () => make([]));
        return [];
      }
      const entries = this.rrEntries(what, dir, rec);
      const total = entries.reduce((t, e) => t + e.length, 0);
      if (total !== quick) throw new Error(`internal: Rock Ridge entries of ${total} bytes, computed ${quick}`);
      const packed = packSusp(entries, avail);
      const areas = planning && alloc ? areaLengths(packed).map((len) => alloc.alloc(len)) : slot;
      const suLen = packed.inRecord.reduce((t, e) => t + e.length, 0) + (packed.areas.length ? CE_LEN : 0);
      place(recordLength(id.length, suLen), () => {
        const su = [...packed.inRecord];
        if (packed.areas.length) {
          const a0 = areas[0];
          su.push(ce(dir.ceLba + a0.block, a0.offset, a0.length));
          if (ceAreas) {
            packed.areas.forEach((content, k) => {
              const a = areas[k];
              let off = a.block * SECTOR + a.offset;
              for (const c of content) off += c.copy(ceAreas, off);
              const next = areas[k + 1];
              if (next) ce(dir.ceLba + next.block, next.offset, next.length).copy(ceAreas, off);
            });
          }
        }
        return make(su);
      });
      return areas;
    };
    const parent = dir.parent!;
    dir.dotCe = withSusp(DOT_ID, 'dot', undefined, dir.dotCe, (su) =>
      this.dirRecord(DOT_ID, dir.lba, dir.size, this.timeOf(dir.node), 0x02, su));
    dir.dotdotCe = withSusp(DOTDOT_ID, 'dotdot', undefined, dir.dotdotCe, (su) =>
      this.dirRecord(DOTDOT_ID, parent.lba, parent.size, this.timeOf(parent.node), 0x02, su));
    for (const rec of dir.records) {
      const node = rec.node;
      if (rec.dir) {
        const d = rec.dir;
        const [slot] = withSuspList(rec, 1);
        rec.ce![0] = withSusp(rec.id, 'child', rec, slot, (su) => this.dirRecord(rec.id, d.lba, d.size, this.timeOf(node), 0x02, su));
      } else if (node?.kind === 'file') {
        const count = this.extentCount(node);
        const fd = planning ? undefined : this.data.get(node);
        const extents = fd ? fd.extents : undefined;
        if (!planning && (extents?.length ?? 1) !== count) throw new Error(`internal: ${node.source} has ${extents?.length} extents, planned ${count}`);
        const slots = withSuspList(rec, count);
        for (let k = 0; k < count; k++) {
          // ECMA-119 9.1.6 bit 7: more records of this file follow (6.5.1 multi-extent files).
          const flags = k + 1 < count ? 0x80 : 0;
          rec.ce![k] = withSusp(rec.id, 'child', rec, slots[k], (su) => {
            const x = extents ? extents[k] : { lba: this.emptyLba, length: 0 };
            return this.dirRecord(rec.id, x.length === 0 ? this.emptyLba : x.lba, x.length, this.timeOf(node), flags, su);
          });
        }
      } else {
        // Symbolic links and CL placeholders are empty files carrying Rock Ridge entries.
        const [slot] = withSuspList(rec, 1);
        rec.ce![0] = withSusp(rec.id, 'child', rec, slot, (su) => this.dirRecord(rec.id, this.emptyLba, 0, this.timeOf(node), 0, su));
      }
    }
    size = Math.ceil(size / SECTOR) * SECTOR;
    if (sink) {
      for (const b of out) sink.write(b);
      sink.pad(SECTOR);
    }
    return Math.max(size, SECTOR);
  }
}

/** ECMA-119 9.1: a record's length: 33 fixed bytes, the identifier, a pad byte after an even one, System Use. */
function recordLength(idLength: number, suLength: number): number {
  const base = 33 + idLength + (idLength % 2 === 0 ? 1 : 0);
  return base + suLength + ((base + suLength) % 2);
}

const DOT_ID = Buffer.from([0]);
const DOTDOT_ID = Buffer.from([1]);
const SP_LEN = sp().length;
const ER_LEN = er().length;
const PX_LEN = px(0, 0).length;
const TF_LEN = tf(0).length;
const LINK_LEN = link('CL', 0).length;
const RE_LEN = re().length;

/**
 * Directory extents are laid out depth first over the recorded hierarchy, the relocation folder first, as
 * mkisofs does; path tables keep their own breadth-first order (ECMA-119 9.4). Streaming readers (libarchive)
 * read directories in address order and need a relocated directory's children after it, and nested relocations
 * resolved before the outer relocated directory is attached to its CL entry.
 */
function extentOrder(root: FsDir): FsDir[] {
  const out: FsDir[] = [];
  const stack: FsDir[] = [root];
  while (stack.length) {
    const d = stack.pop()!;
    out.push(d);
    const kids: FsDir[] = [];
    for (const r of d.records) {
      // The relocation folder (and so every relocated directory) goes first, as mkisofs lays it out.
      if (r.dir && !r.node) kids.unshift(r.dir);
      else if (r.dir) kids.push(r.dir);
    }
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
  }
  return out;
}

function withSuspList(rec: FsRecord, n: number): AreaPos[][] {
  if (!rec.ce) rec.ce = Array.from({ length: n }, () => []);
  return rec.ce;
}

/**
 * El Torito 1.0 2.0 (Boot Record Volume Descriptor): type 0, "CD001", version 1, the boot system identifier
 * "EL TORITO SPECIFICATION" (bytes 7–38, padded with zeros) and the boot catalog's absolute address at 0x47.
 */
function bootRecord(catalogLba: number): Buffer {
  const b = Buffer.alloc(SECTOR);
  b[0] = 0;
  b.write('CD001', 1, 'latin1');
  b[6] = 1;
  b.write('EL TORITO SPECIFICATION', 7, 'latin1');
  b.writeUInt32LE(catalogLba, 0x47);
  return b;
}

/** One file's data: streamed from its source, made by DiscForge (`generate`), or read whole and patched. */
export async function writeFileData(s: Sink, f: FileNode): Promise<void> {
  if (f.generate) {
    const start = s.pos;
    await f.generate(s);
    if (s.pos - start !== f.size) throw new Error(`internal: ${f.source} wrote ${s.pos - start} bytes, planned ${f.size}`);
    return;
  }
  if (f.patch) {
    const data = await readWhole(f);
    f.patch(data);
    s.write(data);
    await s.checkpoint();
    return;
  }
  await s.copyFile(f);
}

async function readWhole(f: FileNode): Promise<Buffer> {
  let data: Buffer;
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(f.source);
    data = await fs.promises.readFile(f.source);
  } catch (err) {
    throw new InputError(`cannot read ${f.source}: ${(err as Error).message}`);
  }
  if (data.length !== f.size || st.size !== f.size || st.mtimeMs !== f.mtimeMs) {
    throw new InputError(`${f.source} changed during the build (size ${f.size} → ${data.length}); build again`);
  }
  return data;
}

/** Passes writes through, putting `bytes` at [from, from + bytes.length) where the writer writes zeros. */
class LastSectorSink implements Sink {
  constructor(private readonly inner: Sink, private readonly from: number, private readonly bytes: Buffer) {}

  get pos(): number {
    return this.inner.pos;
  }

  private overlay(data: Buffer | undefined, count: number): void {
    const start = this.inner.pos;
    const a = Math.max(start, this.from);
    const b = Math.min(start + count, this.from + this.bytes.length);
    if (a >= b) {
      if (data) this.inner.write(data);
      else this.inner.zeros(count);
      return;
    }
    const out = data ? Buffer.from(data) : Buffer.alloc(count);
    const region = out.subarray(a - start, b - start);
    if (!region.equals(Buffer.alloc(region.length))) throw new Error('internal: the last sector is not free for the backup GPT header');
    this.bytes.copy(out, a - start, a - this.from, b - this.from);
    this.inner.write(out);
  }

  write(data: Buffer): void {
    this.overlay(data, data.length);
  }

  zeros(count: number): void {
    if (count > 1 << 20 && this.inner.pos + count <= this.from) {
      this.inner.zeros(count);
      return;
    }
    // Large zero runs before the overlay pass through in pieces.
    let left = count;
    while (left > 0) {
      const n = Math.min(left, 1 << 20);
      this.overlay(undefined, n);
      left -= n;
    }
  }

  pad(block: number): void {
    const r = this.inner.pos % block;
    if (r) this.zeros(block - r);
  }

  copyFile(file: FileNode): Promise<void> {
    return this.inner.copyFile(file);
  }

  checkpoint(): Promise<void> {
    return this.inner.checkpoint();
  }
}
