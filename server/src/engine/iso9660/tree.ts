/**
 * The directory hierarchies as each file system records them: ISO 9660 (with Rock Ridge relocation of
 * deep folders) and Joliet. Both refer to the same FileNodes, so file data is stored once.
 */
import { pathOf, sortedChildren, type DirNode, type TreeNode } from '../model';
import { ucs2be } from './encode';
import { isoName, joinName, jolietName, uniquify, type IsoLevel, type MappedName } from './names';
import type { AreaPos } from './susp';

/** One directory record (other than "." and ".."). */
export interface FsRecord {
  /** File identifier as recorded (ECMA-119 9.1.11), e.g. `README.TXT;1`. */
  id: Buffer;
  /** The disc-tree node; undefined for the relocation folder. */
  node: TreeNode | undefined;
  /** The directory this record describes, when it is one (recorded here, not relocated away). */
  dir?: FsDir;
  /** RRIP CL: this file record stands for a directory relocated to `cl`. */
  cl?: FsDir;
  /** RRIP RE: this is the record of a relocated directory (inside the relocation folder). */
  re?: boolean;
  /** Continuation areas, one list per directory record this entry needs (several for multi-extent files). */
  ce?: AreaPos[][];
}

export class FsDir {
  records: FsRecord[] = [];
  /** Path table directory number (ECMA-119 9.4), 1-based. */
  number = 0;
  lba = 0;
  /** Size of the directory's extent in bytes (a multiple of the block size). */
  size = 0;
  /** Where this directory's SUSP continuation areas start (right after its extent), and how many blocks. */
  ceLba = 0;
  ceBlocks = 0;
  dotCe: AreaPos[] = [];
  dotdotCe: AreaPos[] = [];
  constructor(
    readonly id: Buffer,
    readonly node: DirNode | undefined,
    /** The directory that physically holds this one's record ("..", path table parent). */
    public parent: FsDir | undefined,
    readonly depth: number,
    /** For a relocated directory: where it logically belongs (RRIP PL). */
    readonly logicalParent?: FsDir,
  ) {}

  /** Number of subdirectories as POSIX sees them (RRIP PX links = 2 + this). */
  subdirCount(): number {
    return this.records.filter((r) => (r.dir && !r.re) || r.cl || (r.re && this.node === undefined)).length;
  }
}

/** An identifier split for ECMA-119 9.3 ordering: name, extension, version. */
type IdKey = [Buffer, Buffer, number];

function splitId(id: Buffer, unit: 1 | 2): IdKey {
  const at = (buf: Buffer, ch: number): number => {
    for (let i = buf.length - unit; i >= 0; i -= unit) if ((unit === 1 ? buf[i] : buf.readUInt16BE(i)) === ch) return i;
    return -1;
  };
  const semi = at(id, 0x3b);
  const name = semi >= 0 ? id.subarray(0, semi) : id;
  const version = semi >= 0 ? Number(id.subarray(semi + unit).toString(unit === 1 ? 'latin1' : 'utf16le').replace(/\0/g, '')) || 0 : 0;
  const dot = at(name, 0x2e);
  return dot >= 0 ? [name.subarray(0, dot), name.subarray(dot + unit), version] : [name, Buffer.alloc(0), version];
}

function compareKeys(a: IdKey, b: IdKey, unit: 1 | 2): number {
  // Each part compared as if padded with spaces (0x20; 0x0020 in UCS-2).
  const padCmp = (x: Buffer, y: Buffer) => {
    const n = Math.max(x.length, y.length);
    for (let i = 0; i < n; i++) {
      const cx = i < x.length ? x[i] : unit === 2 && i % 2 === 0 ? 0 : 0x20;
      const cy = i < y.length ? y[i] : unit === 2 && i % 2 === 0 ? 0 : 0x20;
      if (cx !== cy) return cx - cy;
    }
    return 0;
  };
  return padCmp(a[0], b[0]) || padCmp(a[1], b[1]) || b[2] - a[2];
}

/**
 * ECMA-119 9.3: records are ordered by file name, then extension (each compared as if padded with spaces),
 * then by version number, descending. Works for 8-bit and UCS-2 identifiers (`unit` bytes per character).
 */
export function compareIds(a: Buffer, b: Buffer, unit: 1 | 2): number {
  return compareKeys(splitId(a, unit), splitId(b, unit), unit);
}

/** Sorts records in 9.3 order, splitting each identifier once. */
function sortRecords(records: FsRecord[], unit: 1 | 2): void {
  const keyed = records.map((r) => ({ r, k: splitId(r.id, unit) }));
  keyed.sort((x, y) => compareKeys(x.k, y.k, unit));
  for (let i = 0; i < keyed.length; i++) records[i] = keyed[i].r;
}

export interface TreeProblem {
  node: TreeNode;
  code: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface IsoTreeOptions {
  level: IsoLevel;
  rockRidge: boolean;
}

/** ECMA-119 6.8.2.1: at most eight levels of directories (the root is level 1), for levels 1–3. */
const MAX_DEPTH = 8;
export const RELOCATION_DIR_NAME = '.rr_moved';

/** Builds the ISO 9660 hierarchy; returns directories in path table order (ECMA-119 9.4.3 / 6.9.1). */
export function buildIsoTree(root: DirNode, opts: IsoTreeOptions, problems: TreeProblem[]): FsDir[] {
  const level4Max = opts.rockRidge ? 193 : 207; // leave room for a CE entry in the record (SUSP 5.1)
  const limitDepth = opts.level < 4;
  const isoRoot = new FsDir(Buffer.from([0]), root, undefined, 1);
  isoRoot.parent = isoRoot;
  let moved: FsDir | undefined;
  const movedRecords: { rec: FsRecord; name: MappedName }[] = [];

  const needsRelocation = (d: DirNode, depth: number): boolean =>
    [...d.children.values()].some((c) => c.kind === 'dir' && (depth + 1 > MAX_DEPTH || needsRelocation(c, depth + 1)));
  if (limitDepth && opts.rockRidge && needsRelocation(root, 1)) {
    moved = new FsDir(Buffer.from('RR_MOVED'), undefined, isoRoot, 2);
  }

  const mapName = (n: string, isDir: boolean) => isoName(n, isDir, opts.level, level4Max);
  const idString = (m: MappedName, isDir: boolean) => joinName(m, isDir, opts.level);
  const maxBase = (ext: string, isDir: boolean, m?: MappedName) =>
    opts.level === 1 ? 8 : opts.level === 4 ? (m?.base.length ?? 1) : isDir ? 31 : 30 - ext.length;
  const idBuffer = (m: MappedName, isDir: boolean) =>
    Buffer.from(idString(m, isDir) + (isDir || opts.level === 4 ? '' : ';1'), opts.level === 4 ? 'utf8' : 'latin1');

  const fill = (dir: FsDir, node: DirNode) => {
    const kids = sortedChildren(node);
    const entries: { name: string; isDir: boolean; node: TreeNode | undefined }[] = kids.map((k) => ({ name: k.name, isDir: k.kind === 'dir', node: k }));
    if (dir === isoRoot && moved) entries.push({ name: 'RR_MOVED', isDir: true, node: undefined });
    const mapped = entries.map((e) => mapName(e.name, e.isDir));
    const unique = uniquify(mapped, entries.map((e) => e.isDir), (ext, isDir) => maxBase(ext, isDir, undefined), idString, (s) => s);
    const subdirs: [FsDir, DirNode][] = [];
    entries.forEach((e, i) => {
      const m = unique[i];
      if (!e.node) {
        dir.records.push({ id: moved!.id, node: undefined, dir: moved });
        return;
      }
      const id = idBuffer(m, e.isDir);
      if (e.node.kind !== 'dir') {
        dir.records.push({ id, node: e.node });
        return;
      }
      if (limitDepth && dir.depth + 1 > MAX_DEPTH) {
        if (!moved) {
          problems.push({
            node: e.node,
            code: 'tree-too-deep',
            severity: 'error',
            message: `the folder ${pathOf(e.node)} is ${dir.depth + 1} levels deep; ISO 9660 level ${opts.level} allows ${MAX_DEPTH} (ECMA-119 6.8.2.1). Add "rockridge" to fileSystems (deep folders are then relocated) or use iso9660 level 4`,
          });
          return;
        }
        // RRIP 4.1.5: record the directory in the relocation folder (RE) and leave a CL file in its place.
        const relocated = new FsDir(Buffer.alloc(0), e.node, moved, moved.depth + 1, dir);
        const rec: FsRecord = { id: Buffer.alloc(0), node: e.node, dir: relocated, re: true };
        movedRecords.push({ rec, name: mapName(e.node.name, true) });
        dir.records.push({ id, node: e.node, cl: relocated });
        subdirs.push([relocated, e.node]);
        return;
      }
      const sub = new FsDir(id, e.node, dir, dir.depth + 1);
      dir.records.push({ id, node: e.node, dir: sub });
      subdirs.push([sub, e.node]);
    });
    for (const [sub, n] of subdirs) fill(sub, n);
  };
  fill(isoRoot, root);

  if (moved) {
    const unique = uniquify(movedRecords.map((r) => r.name), movedRecords.map(() => true), () => 31, idString, (s) => s);
    movedRecords.forEach((r, i) => {
      const id = idBuffer(unique[i], true);
      r.rec.id = id;
      (r.rec.dir as { id: Buffer }).id = id;
      moved!.records.push(r.rec);
    });
  }
  return finishTree(isoRoot, 1);
}

export interface JolietTreeOptions {
  /** Maximum name length in UCS-2 code units (64 by the Joliet specification; 103 with longNames). */
  maxName: number;
}

/** Builds the Joliet hierarchy (no depth limit is enforced by readers; symbolic links are left out). */
export function buildJolietTree(root: DirNode, opts: JolietTreeOptions, problems: TreeProblem[]): FsDir[] {
  const jRoot = new FsDir(Buffer.from([0]), root, undefined, 1);
  jRoot.parent = jRoot;
  const fill = (dir: FsDir, node: DirNode) => {
    const kids = sortedChildren(node).filter((k) => k.kind !== 'symlink');
    const isDir = kids.map((k) => k.kind === 'dir');
    const mapped = kids.map((k, i) => jolietName(k.name, isDir[i], opts.maxName));
    const unique = uniquify(mapped, isDir, (ext) => opts.maxName - (ext ? ext.length + 1 : 0), (m, d) => joinName(m, d, 'joliet'), (s) => s);
    kids.forEach((k, i) => {
      const name = joinName(unique[i], isDir[i], 'joliet');
      if (name !== k.name) {
        problems.push({
          node: k,
          code: 'joliet-name',
          severity: 'warning',
          message: `Joliet shows ${pathOf(k)} as "${name}"${k.name.length > opts.maxName ? ` (Joliet names have at most ${opts.maxName} characters)` : ''}`,
        });
      }
      const id = ucs2be(name + (isDir[i] ? '' : ';1'));
      if (k.kind === 'dir') {
        const sub = new FsDir(id, k, dir, dir.depth + 1);
        dir.records.push({ id, node: k, dir: sub });
        fill(sub, k);
      } else dir.records.push({ id, node: k });
    });
  };
  fill(jRoot, root);
  return finishTree(jRoot, 2);
}

/** Sorts every directory's records (9.3) and lists directories in path table order, numbering them. */
function finishTree(root: FsDir, unit: 1 | 2): FsDir[] {
  const order: FsDir[] = [root];
  for (let i = 0; i < order.length; i++) {
    const d = order[i];
    d.number = i + 1;
    sortRecords(d.records, unit);
    for (const r of d.records) if (r.dir) order.push(r.dir);
  }
  return order;
}
