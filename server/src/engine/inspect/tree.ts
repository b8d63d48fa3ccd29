/**
 * Directory-tree walk of one file system (one volume descriptor's root, seen as plain ISO 9660, Rock Ridge,
 * Joliet or ISO 9660:1999). Reads directories sector by sector (ECMA-119 6.8.1), merges multi-extent files
 * (9.1.6), resolves Rock Ridge relocation (RRIP 4.1.5), and records what is wrong as problems instead of
 * failing: one damaged directory must not hide the rest of the image.
 *
 * Bounded: entries (maxEntries), depth (maxDepth), directory bytes read, records scanned, continuation bytes;
 * a directory extent met twice is a cycle and is not entered again.
 */
import { printable, ucs2be, utf8OrLatin1, isAllZero } from './bytes';
import type { Problems } from './problems';
import { ImageReader, SECTOR } from './reader';
import {
  type DirRecord,
  FLAG_ASSOCIATED,
  FLAG_DIRECTORY,
  FLAG_HIDDEN,
  FLAG_MULTI_EXTENT,
  isDot,
  isDotDot,
  parseDirRecord,
} from './records';
import { decodeRockRidge, readSuspFields, type RockRidgeInfo, type SuspContext } from './susp';
import type { Extent, FileSystemType, InspectEntry } from './types';

/** Directory bytes one walk may read: far above any real image (a million RR entries is ~200 MiB). */
const DIR_BYTES_BUDGET = 512 * 1024 * 1024;
const CE_BYTES_BUDGET = 64 * 1024 * 1024;
/** Stands for the entry's path in messages produced before its (Rock Ridge) name is known. */
const WHERE = '\u0000where\u0000';
/** Directory data is read in chunks of this many bytes (a whole number of sectors). */
const CHUNK = 64 * SECTOR;

export interface WalkOptions {
  view: FileSystemType;
  blockSize: number;
  root: { lba: number; length: number; recorded: string | null };
  maxEntries: number;
  maxDepth: number;
  /** Rock Ridge view: SUSP LEN_SKP. */
  suspSkip?: number;
}

/** A directory as it is physically recorded: what the path table must agree with (ECMA-119 9.4). */
export interface PhysicalDir {
  id: Buffer;
  parentLba: number;
  path: string;
}

export interface WalkResult {
  entries: InspectEntry[];
  complete: boolean;
  multiExtent: boolean;
  /** Directories by extent LBA (not for the rockridge view, whose tree is not the physical one). */
  dirs: Map<number, PhysicalDir>;
}

interface DirToWalk {
  entry: InspectEntry;
  lba: number;
  length: number;
  parentLba: number;
  /** The physical identifier of the directory's record (for the path table check). */
  id: Buffer;
}

export async function walkTree(reader: ImageReader, opts: WalkOptions, problems: Problems): Promise<WalkResult> {
  return new Walker(reader, opts, problems).run();
}

class Walker {
  private readonly entries: InspectEntry[] = [];
  private readonly visited = new Map<number, string>();
  private readonly dirs = new Map<number, PhysicalDir>();
  private dirBytes = DIR_BYTES_BUDGET;
  private records = 0;
  private readonly recordLimit: number;
  private stopped = false;
  private complete = true;
  private multiExtent = false;
  private readonly susp: SuspContext;
  private readonly rr: boolean;
  private readonly badParent: { count: number; first?: string } = { count: 0 };

  constructor(
    private readonly reader: ImageReader,
    private readonly opts: WalkOptions,
    private readonly problems: Problems,
  ) {
    this.recordLimit = opts.maxEntries * 4 + 64;
    this.rr = opts.view === 'rockridge';
    this.susp = {
      reader,
      blockSize: opts.blockSize,
      problem: (m) => this.problems.add(m),
      budget: { ceBytes: CE_BYTES_BUDGET },
    };
  }

  async run(): Promise<WalkResult> {
    const { root } = this.opts;
    const rootEntry: InspectEntry = {
      path: '/',
      name: '',
      kind: 'dir',
      depth: 0,
      size: root.length,
      extents: [{ lba: root.lba, length: root.length }],
      recorded: root.recorded,
      flags: FLAG_DIRECTORY,
    };
    this.entries.push(rootEntry);
    this.visited.set(root.lba, '/');
    await this.walkDir({ entry: rootEntry, lba: root.lba, length: root.length, parentLba: root.lba, id: Buffer.from([0]) });
    if (this.badParent.first) {
      const n = this.badParent.count;
      this.problems.add(n === 1 ? this.badParent.first : `${this.badParent.first}; ${n} directories are affected`);
    }
    return { entries: this.entries, complete: this.complete, multiExtent: this.multiExtent, dirs: this.dirs };
  }

  private stop(message: string): void {
    if (!this.stopped) this.problems.add(message);
    this.stopped = true;
    this.complete = false;
  }

  private async walkDir(dir: DirToWalk): Promise<void> {
    const { entry } = dir;
    if (!this.rr) this.dirs.set(dir.lba, { id: dir.id, parentLba: dir.parentLba, path: entry.path });
    const records = await this.readDirectory(dir.lba, dir.length, entry.path);
    this.checkDots(dir, records);
    if (entry.depth === 0 && records.length > 0 && isDot(records[0])) entry.recorded = records[0].recorded;
    if (this.rr && records.length > 0 && isDot(records[0])) {
      // The "." record carries the directory's own Rock Ridge attributes (RRIP 4.1.1; for a relocated
      // directory the CL placeholder's may be incomplete), so they win.
      const rr = await this.rockRidge(records[0], `${displayDir(entry.path)} (".")`);
      applyRockRidgeAttributes(entry, rr);
    }
    if (this.rr && entry.relocated && records.length > 1 && isDotDot(records[1])) {
      // RRIP 4.1.5.2: the ".." of a relocated directory carries PL, the location of its real parent.
      const where = `${displayDir(entry.path)} ("..")`;
      const pl = (await this.rockRidge(records[1], where)).parentLink;
      if (pl === undefined) this.problems.add(`${where}: relocated directory has no PL field (RRIP 4.1.5.2)`);
      else if (pl !== dir.parentLba) {
        this.problems.add(`${where}: PL points to LBA ${pl} but the directory is listed under LBA ${dir.parentLba} (RRIP 4.1.5.2)`);
      }
    }
    const names = new Set<string>();
    for (const group of this.groupExtents(records, entry.path)) {
      if (this.stopped) return;
      const child = await this.makeEntry(dir, group);
      if (!child) continue;
      const { item, descend } = child;
      if (this.entries.length >= this.opts.maxEntries) {
        this.stop(`listing stopped after ${this.opts.maxEntries} entries (maxEntries); the tree is incomplete`);
        return;
      }
      const key = `${item.associated ? 'A' : ''}${item.name}`;
      if (names.has(key)) this.problems.add(`${item.path}: duplicate name in directory ${displayDir(entry.path)}`);
      names.add(key);
      this.entries.push(item);
      if (!descend) continue;
      if (item.depth >= this.opts.maxDepth) {
        this.problems.add(`${displayDir(item.path)}: deeper than maxDepth (${this.opts.maxDepth}); contents not listed`);
        this.complete = false;
        continue;
      }
      const seen = this.visited.get(descend.lba);
      if (seen !== undefined) {
        this.problems.add(
          `${displayDir(item.path)}: directory extent at LBA ${descend.lba} is already listed as ${displayDir(seen)}: ` +
            'directory cycle or shared directory; not entered again',
        );
        continue;
      }
      this.visited.set(descend.lba, item.path);
      await this.walkDir({ entry: item, lba: descend.lba, length: descend.length, parentLba: dir.lba, id: descend.id });
    }
  }

  /**
   * ECMA-119 6.8.1.1: a directory is a sequence of records; a record never crosses a logical sector boundary,
   * and the unused rest of a sector is zero (a length byte of 0 means "continue in the next sector").
   */
  private async readDirectory(lba: number, dataLength: number, path: string): Promise<DirRecord[]> {
    const where = displayDir(path);
    const records: DirRecord[] = [];
    const start = lba * this.opts.blockSize;
    if (dataLength === 0) {
      this.problems.add(`${where}: directory at LBA ${lba} has data length 0 (it must hold at least "." and "..", ECMA-119 6.8.2.2)`);
      return records;
    }
    if (start >= this.reader.size) {
      this.problems.add(`${where}: directory extent at LBA ${lba} is past the end of the image (truncated)`);
      return records;
    }
    let length = dataLength;
    if (start + length > this.reader.size) {
      this.problems.add(
        `${where}: directory extent at LBA ${lba} (${dataLength} bytes) ends past the end of the image (truncated)`,
      );
      length = this.reader.size - start;
    }
    if (length > this.dirBytes) {
      this.stop(`${where}: directory data read exceeds ${DIR_BYTES_BUDGET} bytes in total; the tree is incomplete`);
      length = this.dirBytes;
    }
    this.dirBytes -= length;
    const end = start + length;
    let zeroTailReported = false;
    for (let chunkStart = start; chunkStart < end; ) {
      const chunkEnd = Math.min(end, Math.floor(chunkStart / SECTOR) * SECTOR + CHUNK);
      const buf = await this.reader.read(chunkStart, chunkEnd - chunkStart);
      if (buf.length === 0) break;
      let pos = 0;
      while (pos < buf.length) {
        const abs = chunkStart + pos;
        const sectorEnd = Math.min((Math.floor(abs / SECTOR) + 1) * SECTOR - chunkStart, buf.length);
        const loc = `directory record at LBA ${Math.floor(abs / SECTOR)} offset ${abs % SECTOR}`;
        const len = buf[pos];
        if (len === 0) {
          if (!zeroTailReported && !isAllZero(buf, pos, sectorEnd)) {
            this.problems.add(`${where}: non-zero bytes after the last record of the sector at ${loc} (ECMA-119 6.8.1.1)`);
            zeroTailReported = true;
          }
          pos = sectorEnd;
          continue;
        }
        if (len >= 34 && pos + len > sectorEnd) {
          this.problems.add(`${where}: ${loc} has length ${len} and crosses a sector boundary (ECMA-119 6.8.1.1)`);
          pos = sectorEnd;
          continue;
        }
        const rec = parseDirRecord(buf.subarray(0, sectorEnd), pos, abs);
        if (typeof rec === 'string') {
          this.problems.add(`${where}: ${loc} ${rec} (ECMA-119 9.1); rest of the sector skipped`);
          pos = sectorEnd;
          continue;
        }
        if (rec.inconsistent.length > 0) {
          this.problems.add(
            `${where}: ${loc}: ${rec.inconsistent.join(', ')} differ between little- and big-endian copies (ECMA-119 7.3.3)`,
          );
        }
        records.push(rec);
        pos += len;
        if (++this.records > this.recordLimit) {
          this.stop(`listing stopped after ${this.recordLimit} directory records; the tree is incomplete`);
          return records;
        }
      }
      chunkStart = chunkEnd;
    }
    return records;
  }

  /** ECMA-119 6.8.2.2: the first record is "." (this directory), the second ".." (its parent). */
  private checkDots(dir: DirToWalk, records: DirRecord[]): void {
    if (records.length === 0) return;
    const where = displayDir(dir.entry.path);
    const [dot, dotdot] = records;
    if (!isDot(dot)) this.problems.add(`${where}: first record is not "." (ECMA-119 6.8.2.2)`);
    else if (dot.lba !== dir.lba) this.problems.add(`${where}: "." points to LBA ${dot.lba}, expected ${dir.lba} (ECMA-119 6.8.2.2)`);
    if (!dotdot || !isDotDot(dotdot)) this.problems.add(`${where}: second record is not ".." (ECMA-119 6.8.2.2)`);
    else if (!this.rr && dotdot.lba !== dir.parentLba) {
      // Reported once per tree with a count: some writers get this wrong in every directory (libisofs 1.5.4
      // points Joliet ".." records at the directory itself).
      this.badParent.count++;
      this.badParent.first ??= `${where}: ".." points to LBA ${dotdot.lba}${
        dotdot.lba === dir.lba ? ' (the directory itself)' : ''
      }, expected the parent at ${dir.parentLba} (ECMA-119 6.8.2.2)`;
    }
  }

  /** ECMA-119 9.1.6 bit 7: every record of a file but the last has the multi-extent flag; same identifier. */
  private *groupExtents(records: DirRecord[], path: string): Generator<DirRecord[]> {
    let pending: DirRecord[] | null = null;
    for (const rec of records) {
      if (isDot(rec) || isDotDot(rec)) continue;
      if (pending) {
        if (rec.id.equals(pending[0].id)) {
          pending.push(rec);
          if (!(rec.flags & FLAG_MULTI_EXTENT)) {
            yield pending;
            pending = null;
          }
          continue;
        }
        this.problems.add(
          `${displayDir(path)}: multi-extent file "${printable(pending[0].id)}" has no final extent (ECMA-119 9.1.6)`,
        );
        yield pending;
        pending = null;
      }
      if (rec.flags & FLAG_MULTI_EXTENT) pending = [rec];
      else yield [rec];
    }
    if (pending) {
      this.problems.add(`${displayDir(path)}: multi-extent file "${printable(pending[0].id)}" has no final extent (ECMA-119 9.1.6)`);
      yield pending;
    }
  }

  private displayName(id: Buffer, path: string): string {
    switch (this.opts.view) {
      case 'joliet': {
        // Joliet: UCS-2 big-endian identifiers; the ";1" version suffix is not part of the name users see.
        if (id.length % 2 !== 0) this.problems.add(`${path}: Joliet identifier has an odd length ${id.length}`);
        return ucs2be(id).replace(/;\d+$/u, '');
      }
      case 'iso9660:1999':
        return utf8OrLatin1(id).replace(/;\d+$/u, '');
      default:
        return utf8OrLatin1(id);
    }
  }

  /**
   * The record's Rock Ridge fields. Problems found on the way name `where`; when the name is not known yet
   * (it is in the fields being decoded), pass WHERE and collect them in `sink` to fill in the path later.
   */
  private async rockRidge(rec: DirRecord, where: string, sink?: string[]): Promise<RockRidgeInfo> {
    const problem = sink ? (m: string) => sink.push(m) : (m: string) => this.problems.add(m);
    const fields = await readSuspFields({ ...this.susp, problem }, rec.systemUse, this.opts.suspSkip ?? 0, where);
    return decodeRockRidge(fields, where, problem);
  }

  private async makeEntry(
    dir: DirToWalk,
    group: DirRecord[],
  ): Promise<{ item: InspectEntry; descend: { lba: number; length: number; id: Buffer } | null } | null> {
    const last = group[group.length - 1];
    const bs = this.opts.blockSize;
    const parentPath = dir.entry.path === '/' ? '' : dir.entry.path;
    let name = this.displayName(last.id, `${parentPath}/${printable(last.id)}`);
    let rr: RockRidgeInfo | null = null;
    const rrProblems: string[] = [];
    if (this.rr) {
      // SUSP: fields of the last extent of a multi-extent file apply to the whole file.
      rr = await this.rockRidge(last, WHERE, rrProblems);
      if (rr.name) name = utf8OrLatin1(rr.name);
    }
    const path = `${parentPath}/${name}`;
    for (const m of rrProblems) this.problems.add(m.split(WHERE).join(path));
    if (rr?.relocated) return null; // RRIP 4.1.5.3: shown where its CL placeholder is
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      this.problems.add(`${path}: invalid file name ${JSON.stringify(name)} in directory ${displayDir(dir.entry.path)}`);
    }
    const isDir = (last.flags & FLAG_DIRECTORY) !== 0 || rr?.childLink !== undefined;
    if (isDir && group.length > 1) this.problems.add(`${path}: a directory recorded as a multi-extent file (ECMA-119 6.8.1)`);
    const extents: Extent[] = group.map((r) => ({ lba: r.lba, length: r.dataLength }));
    const item: InspectEntry = {
      path,
      name,
      kind: isDir ? 'dir' : 'file',
      depth: dir.entry.depth + 1,
      size: extents.reduce((n, e) => n + e.length, 0),
      extents,
      recorded: last.recorded,
      flags: last.flags,
    };
    if (last.extAttrLength) item.extAttrLength = last.extAttrLength;
    if (last.flags & FLAG_HIDDEN) item.hidden = true;
    if (last.flags & FLAG_ASSOCIATED) item.associated = true;
    if (group.length > 1) this.multiExtent = true;
    if (rr) {
      applyRockRidgeAttributes(item, rr);
      if (rr.target !== undefined) {
        item.kind = 'symlink';
        item.target = rr.target;
      } else if (item.mode !== undefined && (item.mode & 0o170000) === 0o120000) {
        item.kind = 'symlink';
        item.target = '';
        this.problems.add(`${path}: PX mode says symbolic link but there is no SL field (RRIP 4.1.3)`);
      }
    }
    if (!isDir) {
      // Data extents must lie inside the image (the extended attribute record, if any, comes first: 9.1.2).
      for (const r of group) {
        if (r.dataLength === 0) continue;
        const startByte = (r.lba + r.extAttrLength) * bs;
        if (startByte + r.dataLength > this.reader.size) {
          this.problems.add(
            `${path}: extent at LBA ${r.lba} (${r.dataLength} bytes) ends past the end of the image (${this.reader.size} bytes): truncated`,
          );
        }
      }
      return { item, descend: null };
    }
    if (rr?.childLink !== undefined) {
      // RRIP 4.1.5.1: the directory's records are at the CL location; its "." record gives its length.
      item.relocated = true;
      const target = await this.relocatedDirectory(rr.childLink, path);
      if (!target) return { item, descend: null };
      item.size = target.length;
      item.extents = [{ lba: rr.childLink, length: target.length }];
      return { item, descend: { lba: rr.childLink, length: target.length, id: last.id } };
    }
    return { item, descend: { lba: last.lba, length: last.dataLength, id: last.id } };
  }

  private async relocatedDirectory(lba: number, path: string): Promise<{ length: number } | null> {
    const start = lba * this.opts.blockSize;
    if (start + 34 > this.reader.size) {
      this.problems.add(`${path}: CL points to LBA ${lba}, past the end of the image (RRIP 4.1.5.1)`);
      return null;
    }
    const buf = await this.reader.bytes(start, Math.min(SECTOR, 255));
    const dot = parseDirRecord(buf, 0, start);
    if (typeof dot === 'string' || !isDot(dot) || !(dot.flags & FLAG_DIRECTORY)) {
      this.problems.add(`${path}: CL points to LBA ${lba}, which does not start with a "." directory record (RRIP 4.1.5.1)`);
      return null;
    }
    return { length: dot.dataLength };
  }
}

function applyRockRidgeAttributes(entry: InspectEntry, rr: RockRidgeInfo): void {
  if (rr.px) {
    entry.mode = rr.px.mode;
    entry.modeString = modeString(rr.px.mode);
    entry.nlink = rr.px.nlink;
    entry.uid = rr.px.uid;
    entry.gid = rr.px.gid;
    if (rr.px.ino !== undefined) entry.ino = rr.px.ino;
  }
  if (rr.rdev) entry.rdev = rr.rdev;
  if (rr.times) entry.times = rr.times;
}

export function displayDir(path: string): string {
  return path.endsWith('/') ? path : `${path}/`;
}

/** POSIX st_mode as `ls -l` shows it (RRIP 4.1.1 uses the POSIX file mode bits). */
export function modeString(mode: number): string {
  const types: Record<number, string> = {
    0o140000: 's',
    0o120000: 'l',
    0o100000: '-',
    0o060000: 'b',
    0o040000: 'd',
    0o020000: 'c',
    0o010000: 'p',
  };
  const t = types[mode & 0o170000] ?? '?';
  const bit = (m: number, c: string): string => (mode & m ? c : '-');
  const exec = (x: number, special: number, on: string): string =>
    mode & special ? (mode & x ? on : on.toUpperCase()) : mode & x ? 'x' : '-';
  return (
    t +
    bit(0o400, 'r') +
    bit(0o200, 'w') +
    exec(0o100, 0o4000, 's') +
    bit(0o040, 'r') +
    bit(0o020, 'w') +
    exec(0o010, 0o2000, 's') +
    bit(0o004, 'r') +
    bit(0o002, 'w') +
    exec(0o001, 0o1000, 't')
  );
}
