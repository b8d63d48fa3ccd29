/**
 * FAT12/FAT16/FAT32 file-system images made from a directory tree (EFI system partitions for El Torito and
 * hybrid images), without mkfs.vfat or mtools. The layout follows Microsoft's "FAT: General Overview of On-Disk
 * Format" (fatgen103); the UEFI specification (section "File System Format") uses the same rules, in particular
 * that the FAT type is decided by the count of clusters alone.
 *
 * Choices (all deterministic: the same tree and options give the same bytes):
 * - 512-byte sectors, 2 FATs, media 0xF8, hidden sectors 0, geometry 32 sectors × 64 heads (63 × 255 from 1 GiB).
 * - FAT12/16: 1 reserved sector, a fixed root directory of 512 entries (more, in steps of 16, when the root
 *   needs more). FAT32: 32 reserved sectors, FSInfo in sector 1, backup boot sector in 6 (backup FSInfo in 7),
 *   root directory in cluster 2.
 * - FAT type (when not forced): FAT32 from 512 MiB on (as mkfs.fat), otherwise the smallest cluster size that
 *   keeps the cluster count in the FAT16 range; the type then follows from the count (fatgen103: < 4085
 *   clusters FAT12, < 65525 FAT16, else FAT32). Counts within 16 of those limits are never used, because some
 *   readers are off by a few there. A forced FAT16/FAT32 on a small tree makes the volume big enough
 *   (FAT32: at least 65541 clusters, ≈ 33 MiB).
 * - Size: what the tree needs, at least 64 KiB free, at least `minBytes`, rounded up to 2048 bytes.
 * - Files are allocated contiguously, depth first: a directory's clusters, then its files, then its
 *   subdirectories (each in `sortedChildren` order). Empty files have cluster 0. Files have the archive attribute (0x20), directories
 *   0x10. `.`/`..` in every subdirectory; `..` of a first-level directory is cluster 0.
 * - Every time stamp (creation, write, access; the label) is `timeMs`, stored as its UTC date and time (FAT has
 *   no time zone), clamped to 1980–2107.
 * - Volume label: `label` upper-cased, default `EFISYS`, in the boot sector and as a root-directory label
 *   entry; `NO NAME` writes no label entry (the convention for "no label").
 * - Names: see fat-names.ts (long-name entries for everything that is not an upper-case 8.3 name).
 * - Symbolic links cannot be stored in FAT: they are errors (the caller should give the target instead).
 *   Any error problem makes `write` refuse (never an image that silently lacks something).
 * - A boot sector with a few bytes of our own x86 code that prints "Not a bootable disk" (for BIOSes that try).
 */
import type { DirNode, FileNode, TreeNode } from '../model';
import { pathOf, sortedChildren } from '../model';
import type { Sink } from '../image/sink';
import { InputError } from '../util/errors';
import { assignShortNames, lfnCount, lfnEntries, longNameProblem, upcaseKey } from './fat-names';

export type FatType = 12 | 16 | 32;

export interface FatOptions {
  /** Volume label (≤ 11 characters, upper-cased; short-name characters and spaces). Default `EFISYS`. */
  label?: string;
  /** Forced FAT type; default: chosen from the size (see the file comment). */
  fatType?: FatType;
  /** Make the volume at least this big (free space for users); default: what fits + 64 KiB. */
  minBytes?: number;
  /** Every time stamp in the volume. */
  timeMs: number;
  /** Volume serial number; default derived from `timeMs`. */
  volumeId?: number;
}

export interface FatProblem {
  node: TreeNode;
  message: string;
  severity: 'error' | 'warning';
}

export interface FatPlan {
  /** Exact image size (a multiple of 2048). */
  readonly bytes: number;
  readonly fatType: FatType;
  readonly clusterBytes: number;
  /** Unrepresentable names, symbolic links, files too big; errors make `write` throw. */
  readonly problems: FatProblem[];
  /** Writes exactly `bytes` bytes at the sink's current position. */
  write(sink: Sink): Promise<void>;
}

const SECTOR = 512;
/** Limits kept away from the fatgen103 boundaries (4085, 65525) by this many clusters. */
const MARGIN = 16;
const FAT12_MAX = 4084 - MARGIN;
const FAT16_MIN = 4085 + MARGIN;
const FAT16_MAX = 65524 - MARGIN;
const FAT32_MIN = 65525 + MARGIN;
/** fatgen103: the largest valid FAT32 cluster number is 0x0FFFFFF6 - 1 (0x0FFFFFF7 marks bad clusters). */
const FAT32_MAX = 0x0ffffff5 - 2 - MARGIN;
const SLACK_BYTES = 64 * 1024;
const AUTO_FAT32_FROM = 512 * 1024 * 1024;
/** fatgen103: a directory holds at most 65536 entries. */
const MAX_DIR_ENTRIES = 65536;
const MAX_FILE = 0xffffffff;

const ATTR_VOLUME_ID = 0x08;
const ATTR_DIRECTORY = 0x10;
const ATTR_ARCHIVE = 0x20;

interface EntryPlan {
  node: FileNode | DirNode;
  short: Buffer;
  /** Long name to write (undefined: the short name is the name). */
  long: string | undefined;
  dir?: DirPlan;
  firstCluster: number;
  clusters: number;
}

interface DirPlan {
  node: DirNode;
  parent: DirPlan | undefined;
  entries: EntryPlan[];
  /** Directory entries including `.`/`..` or the label. */
  entryCount: number;
  firstCluster: number;
  clusters: number;
}

interface Layout {
  fatType: FatType;
  spc: number;
  reserved: number;
  rootEntCnt: number;
  rootSectors: number;
  fatSectors: number;
  totalSectors: number;
  clusterCount: number;
}

/**
 * A layout with at least `need` clusters (plus slack) and at least `minSectors` sectors, for a given type and
 * cluster size; undefined if the count would leave that type's range (fatgen103 "FAT Type Determination").
 */
function layoutFor(type: FatType, spc: number, need: number, minSectors: number, rootEntries: number): Layout | undefined {
  const reserved = type === 32 ? 32 : 1;
  const rootEntCnt = type === 32 ? 0 : Math.max(512, Math.ceil(rootEntries / 16) * 16);
  if (rootEntCnt > 0xffff) return undefined;
  const rootSectors = (rootEntCnt * 32) / SECTOR;
  const minCount = type === 12 ? 1 : type === 16 ? FAT16_MIN : FAT32_MIN;
  const maxCount = type === 12 ? FAT12_MAX : type === 16 ? FAT16_MAX : FAT32_MAX;
  const want = Math.max(need + Math.ceil(SLACK_BYTES / (spc * SECTOR)), minCount);
  if (want > maxCount) return undefined;
  // fatgen103: one FAT holds an entry for every cluster plus the two reserved entries 0 and 1.
  const fatSize = (count: number) => Math.ceil(((count + 2) * type) / 8 / SECTOR);
  let total = Math.max(reserved + rootSectors + 2 * fatSize(want) + want * spc, minSectors);
  total = Math.ceil(total / 4) * 4; // whole 2048-byte blocks
  for (;;) {
    // The cluster count of `total` sectors (fatgen103: DataSec / SecPerClus) with a FAT big enough for it.
    let fatSectors = fatSize(want);
    let count: number;
    for (;;) {
      count = Math.floor((total - reserved - rootSectors - 2 * fatSectors) / spc);
      if (fatSize(count) <= fatSectors) break;
      fatSectors = fatSize(count);
    }
    if (count > maxCount || total > 0xffffffff) return undefined;
    if (count >= want) return { fatType: type, spc, reserved, rootEntCnt, rootSectors, fatSectors, totalSectors: total, clusterCount: count };
    total += 4;
  }
}

/** fatgen103 FAT32 cluster sizes by volume size (DskTableFAT32), in sectors per cluster. */
function fat32Spc(bytes: number): number {
  const sectors = bytes / SECTOR;
  if (sectors <= 532480) return 1;
  if (sectors <= 16777216) return 8;
  if (sectors <= 33554432) return 16;
  if (sectors <= 67108864) return 32;
  return 64;
}

function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/** FAT date and time (fatgen103 "Date and Time Formats") of `ms`, in UTC, clamped to 1980-01-01 … 2107-12-31. */
function fatTime(ms: number): { date: number; time: number; tenth: number } {
  const min = Date.UTC(1980, 0, 1);
  const max = Date.UTC(2107, 11, 31, 23, 59, 59);
  const t = new Date(Math.min(Math.max(ms, min), max));
  const date = ((t.getUTCFullYear() - 1980) << 9) | ((t.getUTCMonth() + 1) << 5) | t.getUTCDate();
  const time = (t.getUTCHours() << 11) | (t.getUTCMinutes() << 5) | (t.getUTCSeconds() >> 1);
  const tenth = (t.getUTCSeconds() & 1) * 100 + Math.floor(t.getUTCMilliseconds() / 10);
  return { date, time, tenth };
}

/** Label: upper-case, short-name characters and spaces, ≤ 11 bytes; undefined if invalid. */
function normalizeLabel(label: string): Buffer | undefined {
  const up = label.toUpperCase();
  if (up.length === 0 || up.length > 11 || up.startsWith(' ')) return undefined;
  if (!/^[A-Z0-9$%'\-_@~`!(){}^#& ]+$/.test(up)) return undefined;
  return Buffer.from(up.padEnd(11, ' '), 'latin1');
}

export function planFat(root: DirNode, opts: FatOptions): FatPlan {
  const problems: FatProblem[] = [];
  const err = (node: TreeNode, message: string) => problems.push({ node, message, severity: 'error' });

  let label: Buffer = Buffer.from('EFISYS     ', 'latin1');
  if (opts.label !== undefined) {
    const l = normalizeLabel(opts.label);
    if (l) label = l;
    else err(root, `volume label ${JSON.stringify(opts.label)} cannot be a FAT label (at most 11 characters A–Z 0–9 space $%'-_@~\`!(){}^#&)`);
  }
  const hasLabelEntry = label.toString('latin1') !== 'NO NAME    ';

  // ---- names and directory sizes (independent of the cluster size)
  const dirs: DirPlan[] = [];
  const files: EntryPlan[] = [];
  const build = (node: DirNode, parent: DirPlan | undefined): DirPlan => {
    const d: DirPlan = { node, parent, entries: [], entryCount: parent ? 2 : hasLabelEntry ? 1 : 0, firstCluster: 0, clusters: 0 };
    dirs.push(d);
    const seen = new Map<string, TreeNode>();
    const kids: (FileNode | DirNode)[] = [];
    for (const c of sortedChildren(node)) {
      if (c.kind === 'symlink') {
        err(c, `${pathOf(c)}: a symbolic link cannot be stored in a FAT file system (give the file it points to instead)`);
        continue;
      }
      const bad = longNameProblem(c.name);
      if (bad) {
        err(c, `${pathOf(c)}: FAT cannot hold this name: ${bad}`);
        continue;
      }
      const key = upcaseKey(c.name);
      const other = seen.get(key);
      if (other) {
        err(c, `${pathOf(c)}: FAT names are case-insensitive and this name is the same as ${JSON.stringify(other.name)}`);
        continue;
      }
      seen.set(key, c);
      if (c.kind === 'file') {
        if (c.size > MAX_FILE) err(c, `${pathOf(c)}: ${c.size} bytes is too big for FAT (at most 4 GiB − 1 bytes per file)`);
        if (c.recorded) err(c, `${pathOf(c)}: the file's data is only on an earlier session; it cannot be put in a FAT image`);
      }
      kids.push(c);
    }
    const names = assignShortNames(kids.map((k) => k.name));
    kids.forEach((k, i) => {
      const n = names[i]!;
      const e: EntryPlan = { node: k, short: n.short, long: n.lfn ? k.name : undefined, firstCluster: 0, clusters: 0 };
      d.entries.push(e);
      d.entryCount += 1 + (e.long ? lfnCount(e.long) : 0);
    });
    if (d.entryCount > MAX_DIR_ENTRIES) err(node, `${pathOf(node)}: ${d.entryCount} directory entries are more than a FAT directory holds (65536)`);
    for (const e of d.entries) {
      if (e.node.kind === 'dir') e.dir = build(e.node, d);
      else files.push(e);
    }
    return d;
  };
  const rootPlan = build(root, undefined);

  // ---- choose type and cluster size
  const needFor = (spc: number, type: FatType): number => {
    const cb = spc * SECTOR;
    let n = 0;
    for (const d of dirs) if (d.parent || type === 32) n += Math.max(1, ceilDiv(d.entryCount * 32, cb));
    for (const f of files) n += ceilDiv((f.node as FileNode).size, cb);
    return n;
  };
  const minSectors = Math.ceil((opts.minBytes ?? 0) / SECTOR);
  const estimate = (): number => {
    let b = 0;
    for (const d of dirs) b += Math.max(512, d.entryCount * 32);
    for (const f of files) b += ceilDiv((f.node as FileNode).size, SECTOR) * SECTOR;
    return Math.max(b, minSectors * SECTOR);
  };
  const tryType = (type: FatType): Layout | undefined => {
    if (type === 32) {
      // fatgen103 DskTableFAT32 for the cluster size; larger clusters if that is needed to fit.
      for (let spc = fat32Spc(estimate()); spc <= 64; spc *= 2) {
        const l = layoutFor(32, spc, needFor(spc, 32), minSectors, 0);
        if (l) return l;
      }
      return undefined;
    }
    for (let spc = 1; spc <= 64; spc *= 2) {
      const l = layoutFor(type, spc, needFor(spc, type), minSectors, rootPlan.entryCount);
      if (l) return l;
    }
    return undefined;
  };
  let layout: Layout | undefined;
  if (opts.fatType !== undefined) {
    layout = tryType(opts.fatType);
  } else if (estimate() >= AUTO_FAT32_FROM) {
    layout = tryType(32);
  } else {
    for (let spc = 1; spc <= 64 && !layout; spc *= 2) {
      layout =
        layoutFor(12, spc, needFor(spc, 12), minSectors, rootPlan.entryCount) ??
        layoutFor(16, spc, needFor(spc, 16), minSectors, rootPlan.entryCount);
    }
    layout ??= tryType(32);
  }
  if (!layout) {
    err(root, `the tree (${estimate()} bytes) does not fit in a FAT${opts.fatType ?? ''} file system`);
    // A placeholder so the plan stays inspectable; write() refuses because of the error.
    layout = { fatType: opts.fatType ?? 32, spc: 1, reserved: 1, rootEntCnt: 0, rootSectors: 0, fatSectors: 0, totalSectors: 0, clusterCount: 0 };
  }
  const L = layout;
  const clusterBytes = L.spc * SECTOR;

  // ---- allocation: depth first, a directory's clusters, its files, then its subdirectories (stable order)
  let next = 2;
  const order: EntryPlan[] = [];
  const rootEntry: EntryPlan = { node: root, short: Buffer.alloc(11), long: undefined, dir: rootPlan, firstCluster: 0, clusters: 0 };
  const alloc = (d: DirPlan, entry: EntryPlan): void => {
    if (d.parent || L.fatType === 32) {
      d.clusters = Math.max(1, ceilDiv(d.entryCount * 32, clusterBytes));
      d.firstCluster = next;
      next += d.clusters;
      entry.firstCluster = d.firstCluster;
      entry.clusters = d.clusters;
      order.push(entry);
    }
    for (const e of d.entries) {
      if (e.node.kind !== 'file') continue;
      e.clusters = ceilDiv(e.node.size, clusterBytes);
      if (e.clusters) {
        e.firstCluster = next;
        next += e.clusters;
        order.push(e);
      }
    }
    for (const e of d.entries) if (e.dir) alloc(e.dir, e);
  };
  if (problems.every((p) => p.severity !== 'error')) alloc(rootPlan, rootEntry);
  const usedClusters = next - 2;

  const bytes = L.totalSectors * SECTOR;
  const volumeId = (opts.volumeId ?? deriveVolumeId(opts.timeMs)) >>> 0;
  const ts = fatTime(opts.timeMs);

  const plan: FatPlan = {
    bytes,
    fatType: L.fatType,
    clusterBytes,
    problems,
    async write(sink: Sink): Promise<void> {
      const errors = problems.filter((p) => p.severity === 'error');
      if (errors.length) throw new InputError(`cannot make the FAT image: ${errors.map((p) => p.message).join('; ')}`);
      const start = sink.pos;

      // Reserved region.
      const boot = bootSector(L, label, volumeId);
      sink.write(boot);
      if (L.fatType === 32) {
        const fsinfo = fsInfoSector(L.clusterCount - usedClusters, usedClusters < L.clusterCount ? next : 0xffffffff);
        sink.write(fsinfo);
        sink.zeros(4 * SECTOR); // sectors 2–5
        sink.write(boot); // 6: backup boot sector
        sink.write(fsinfo); // 7: backup FSInfo
        sink.zeros((L.reserved - 8) * SECTOR);
      } else sink.zeros((L.reserved - 1) * SECTOR);

      // Two identical FATs.
      for (let copy = 0; copy < 2; copy++) {
        await writeFat(sink, L, order);
      }

      // Fixed root directory (FAT12/16).
      if (L.fatType !== 32) sink.write(dirBytes(rootPlan, L.rootEntCnt * 32));

      // Data region in cluster order.
      let cluster = 2;
      for (const e of order) {
        if (e.firstCluster !== cluster) throw new Error(`FAT writer: cluster ${e.firstCluster} expected at ${cluster}`);
        if (e.dir) {
          sink.write(dirBytes(e.dir, e.clusters * clusterBytes));
          await sink.checkpoint();
        } else {
          const f = e.node as FileNode;
          await sink.copyFile(f);
          sink.zeros(e.clusters * clusterBytes - f.size);
        }
        cluster += e.clusters;
      }
      // Free clusters and the sectors after the last cluster.
      const end = start + bytes;
      while (sink.pos < end) {
        sink.zeros(Math.min(end - sink.pos, 64 * 1024 * 1024));
        await sink.checkpoint();
      }
      if (sink.pos !== end) throw new Error(`FAT writer: wrote ${sink.pos - start} bytes, planned ${bytes}`);
    },
  };

  /** A directory's bytes: `.`/`..` or the label, then each child's long-name entries and short entry. */
  function dirBytes(d: DirPlan, size: number): Buffer {
    const buf = Buffer.alloc(size);
    let off = 0;
    const put = (b: Buffer) => {
      b.copy(buf, off);
      off += b.length;
    };
    if (d.parent) {
      put(shortEntry(Buffer.from('.          ', 'latin1'), ATTR_DIRECTORY, d.firstCluster, 0));
      // fatgen103: ".." of a directory whose parent is the root points to cluster 0 (also on FAT32).
      put(shortEntry(Buffer.from('..         ', 'latin1'), ATTR_DIRECTORY, d.parent.parent ? d.parent.firstCluster : 0, 0));
    } else if (hasLabelEntry) put(shortEntry(label, ATTR_VOLUME_ID, 0, 0));
    for (const e of d.entries) {
      if (e.long) put(lfnEntries(e.long, e.short));
      const isDir = e.node.kind === 'dir';
      put(shortEntry(e.short, isDir ? ATTR_DIRECTORY : ATTR_ARCHIVE, e.firstCluster, isDir ? 0 : (e.node as FileNode).size));
    }
    return buf;
  }

  /** A 32-byte short directory entry (fatgen103 "FAT 32 Byte Directory Entry Structure"). */
  function shortEntry(name: Buffer, attr: number, firstCluster: number, size: number): Buffer {
    const e = Buffer.alloc(32);
    name.copy(e, 0);
    e[11] = attr;
    e[12] = 0; // NTRes: no case flags (long names carry the case)
    e[13] = ts.tenth; // CrtTimeTenth
    e.writeUInt16LE(ts.time, 14); // CrtTime
    e.writeUInt16LE(ts.date, 16); // CrtDate
    e.writeUInt16LE(ts.date, 18); // LstAccDate
    e.writeUInt16LE(L.fatType === 32 ? (firstCluster >>> 16) & 0xffff : 0, 20);
    e.writeUInt16LE(ts.time, 22);
    e.writeUInt16LE(ts.date, 24);
    e.writeUInt16LE(firstCluster & 0xffff, 26);
    e.writeUInt32LE(size, 28);
    return e;
  }

  return plan;
}

/** A serial number derived from the time stamp (never random): a 32-bit mix of its seconds. */
function deriveVolumeId(timeMs: number): number {
  let x = Math.floor(timeMs / 1000) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** Our own tiny 16-bit boot code: print the message with INT 10h/0Eh, then halt. */
function bootCode(codeOff: number): Buffer {
  const msg = Buffer.from('Not a bootable disk: this is an EFI system partition.\r\n\0', 'latin1');
  const msgAddr = 0x7c00 + codeOff + 25;
  const code = Buffer.from([
    0x31, 0xc0, // xor ax,ax
    0x8e, 0xd8, // mov ds,ax
    0xbe, msgAddr & 0xff, msgAddr >> 8, // mov si,msg
    0xfc, // cld
    0xac, // lodsb            (8)
    0x84, 0xc0, // test al,al
    0x74, 0x09, // jz halt (22)
    0xb4, 0x0e, // mov ah,0Eh
    0xbb, 0x07, 0x00, // mov bx,7
    0xcd, 0x10, // int 10h
    0xeb, 0xf2, // jmp 8
    0xf4, // hlt              (22)
    0xeb, 0xfd, // jmp 22
  ]);
  return Buffer.concat([code, msg]);
}

/** The boot sector with the BPB (fatgen103 "Boot Sector and BPB"). */
function bootSector(L: Layout, label: Buffer, volumeId: number): Buffer {
  const b = Buffer.alloc(SECTOR);
  const fat32 = L.fatType === 32;
  b.set(fat32 ? [0xeb, 0x58, 0x90] : [0xeb, 0x3c, 0x90], 0);
  b.write('MSWIN4.1', 3, 'latin1'); // fatgen103: the most compatible OEM name
  b.writeUInt16LE(SECTOR, 11); // BytsPerSec
  b[13] = L.spc; // SecPerClus
  b.writeUInt16LE(L.reserved, 14); // RsvdSecCnt
  b[16] = 2; // NumFATs
  b.writeUInt16LE(L.rootEntCnt, 17); // RootEntCnt (0 for FAT32)
  const small = !fat32 && L.totalSectors < 0x10000;
  b.writeUInt16LE(small ? L.totalSectors : 0, 19); // TotSec16
  b[21] = 0xf8; // Media
  b.writeUInt16LE(fat32 ? 0 : L.fatSectors, 22); // FATSz16 (0 marks FAT32 for many readers)
  const big = L.totalSectors >= 2 * 1024 * 1024; // 1 GiB
  b.writeUInt16LE(big ? 63 : 32, 24); // SecPerTrk
  b.writeUInt16LE(big ? 255 : 64, 26); // NumHeads
  b.writeUInt32LE(0, 28); // HiddSec
  b.writeUInt32LE(small ? 0 : L.totalSectors, 32); // TotSec32
  let ext = 36;
  if (fat32) {
    b.writeUInt32LE(L.fatSectors, 36); // FATSz32
    b.writeUInt16LE(0, 40); // ExtFlags: mirrored FATs
    b.writeUInt16LE(0, 42); // FSVer 0.0
    b.writeUInt32LE(2, 44); // RootClus
    b.writeUInt16LE(1, 48); // FSInfo
    b.writeUInt16LE(6, 50); // BkBootSec
    ext = 64;
  }
  b[ext] = 0x80; // DrvNum
  b[ext + 1] = 0; // Reserved1 (clean)
  b[ext + 2] = 0x29; // BootSig: the next three fields are present
  b.writeUInt32LE(volumeId, ext + 3); // VolID
  label.copy(b, ext + 7); // VolLab
  b.write(fat32 ? 'FAT32   ' : L.fatType === 16 ? 'FAT16   ' : 'FAT12   ', ext + 18, 'latin1'); // FilSysType (informative only)
  const codeOff = ext + 26; // 62 (0x3E) or 90 (0x5A): where the jump at byte 0 lands
  bootCode(codeOff).copy(b, codeOff);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/** fatgen103 "FAT32 FSInfo Sector Structure". */
function fsInfoSector(free: number, nextFree: number): Buffer {
  const b = Buffer.alloc(SECTOR);
  b.writeUInt32LE(0x41615252, 0); // LeadSig
  b.writeUInt32LE(0x61417272, 484); // StrucSig
  b.writeUInt32LE(free >>> 0, 488); // Free_Count
  b.writeUInt32LE(nextFree >>> 0, 492); // Nxt_Free
  b.writeUInt32LE(0xaa550000, 508); // TrailSig
  return b;
}

/**
 * One FAT: entry 0 = media byte with the other bits set, entry 1 = end of chain (clean-shutdown bits set);
 * each allocation is a chain of consecutive clusters ending in end-of-chain; the rest is free (0).
 * Written in chunks, so that a FAT32 FAT of millions of entries never sits in memory whole.
 */
async function writeFat(sink: Sink, L: Layout, order: EntryPlan[]): Promise<void> {
  const total = L.fatSectors * SECTOR;
  const eoc = L.fatType === 12 ? 0xfff : L.fatType === 16 ? 0xffff : 0x0fffffff;
  const media = L.fatType === 12 ? 0xff8 : L.fatType === 16 ? 0xfff8 : 0x0ffffff8;
  // Entry value of cluster c, walking the allocations in order (clusters are asked for in increasing order).
  let idx = 0;
  const value = (c: number): number => {
    if (c === 0) return media;
    if (c === 1) return eoc;
    while (idx < order.length && order[idx]!.firstCluster + order[idx]!.clusters <= c) idx++;
    const e = order[idx];
    if (!e || c < e.firstCluster) return 0;
    return c === e.firstCluster + e.clusters - 1 ? eoc : c + 1;
  };
  const last = order[order.length - 1];
  const used = last ? last.firstCluster + last.clusters : 2;
  if (L.fatType === 12) {
    const buf = Buffer.alloc(total);
    for (let c = 0; c < used; c++) {
      const v = value(c);
      const off = Math.floor((c * 3) / 2);
      // fatgen103: a FAT12 entry is 12 bits at byte c*1.5; odd entries use the high 12 bits of the word.
      const w = buf.readUInt16LE(off);
      buf.writeUInt16LE(c & 1 ? (w & 0x000f) | (v << 4) : (w & 0xf000) | v, off);
    }
    sink.write(buf);
    return;
  }
  const width = L.fatType / 8;
  const CHUNK = 1024 * 1024;
  for (let off = 0; off < total; off += CHUNK) {
    const len = Math.min(CHUNK, total - off);
    const firstC = off / width;
    if (firstC >= used) {
      sink.zeros(total - off);
      break;
    }
    const buf = Buffer.alloc(len);
    for (let c = firstC; c < used && (c - firstC) * width < len; c++) {
      if (width === 2) buf.writeUInt16LE(value(c), (c - firstC) * 2);
      else buf.writeUInt32LE(value(c), (c - firstC) * 4);
    }
    sink.write(buf);
    await sink.checkpoint();
  }
}
