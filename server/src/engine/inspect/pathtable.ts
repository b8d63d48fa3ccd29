/**
 * Path table checks (ECMA-119 6.9 and 9.4). A path table record is
 *   [0] length of directory identifier LEN_DI   [1] extended attribute record length
 *   [2] location of extent (32, LE in the type L table, BE in the type M table)
 *   [6] parent directory number (16, same byte order)   [8] identifier, plus a padding byte if LEN_DI is odd.
 * Records are numbered from 1 (the root, whose parent is itself), ordered by level, then by parent number,
 * then by identifier (6.9.1), so a parent always comes before its children.
 */
import { printable, ucs2be, utf8OrLatin1 } from './bytes';
import type { Problems } from './problems';
import type { ImageReader } from './reader';
import { displayDir, type PhysicalDir } from './tree';
import type { VolumeDescriptorVolume } from './types';

interface PathRecord {
  id: Buffer;
  lba: number;
  parent: number;
}

/** 65535 directories (the parent number is 16 bits) of at most 8 + 255 bytes each. */
const MAX_PATH_TABLE = 65535 * 264;
/** Mismatches reported per table before the rest are summarised. */
const MAX_MISMATCHES = 20;

export async function checkPathTables(
  reader: ImageReader,
  vd: VolumeDescriptorVolume,
  dirs: Map<number, PhysicalDir>,
  treeComplete: boolean,
  problems: Problems,
): Promise<void> {
  const bs = vd.logicalBlockSize;
  const size = vd.pathTableSize;
  const label = `path table`;
  if (size === 0) {
    problems.add(`${label}: size is 0 (it must hold at least the root record, ECMA-119 9.4)`);
    return;
  }
  if (size > MAX_PATH_TABLE || size > reader.size) {
    problems.add(`${label}: size ${size} bytes is absurd (image is ${reader.size} bytes; ECMA-119 8.4.14); not checked`);
    return;
  }
  const decodeId = (id: Buffer): string => (vd.joliet ? ucs2be(id) : utf8OrLatin1(id));
  const tables: { name: string; records: PathRecord[] }[] = [];
  for (const [name, lba, little] of [
    ['type L', vd.pathTableL, true],
    ['type M', vd.pathTableM, false],
  ] as const) {
    if (lba === 0) {
      problems.add(`${label} ${name}: not recorded (location 0; ECMA-119 8.4.15/8.4.17)`);
      continue;
    }
    const start = lba * bs;
    if (start + size > reader.size) {
      problems.add(`${label} ${name} at LBA ${lba} (${size} bytes) ends past the end of the image (truncated)`);
      continue;
    }
    const buf = await reader.read(start, size);
    tables.push({ name, records: parsePathTable(buf, little, `${label} ${name}`, problems) });
  }
  if (tables.length === 2) compareTables(tables[0].records, tables[1].records, label, problems);
  if (tables.length === 0) return;
  const { name, records } = tables[0];
  const where = `${label} ${name}`;
  checkOrder(records, where, problems);
  if (!treeComplete) return; // a partial tree would make every unlisted directory look missing
  let mismatches = 0;
  const report = (m: string): void => {
    if (mismatches++ < MAX_MISMATCHES) problems.add(m);
  };
  const listed = new Set<number>();
  records.forEach((rec, i) => {
    const n = i + 1;
    listed.add(rec.lba);
    const dir = dirs.get(rec.lba);
    const shown = i === 0 ? '(root)' : JSON.stringify(decodeId(rec.id));
    if (!dir) {
      report(`${where} record ${n} ${shown} (LBA ${rec.lba}) has no directory with that extent in the tree (ECMA-119 9.4)`);
      return;
    }
    if (i > 0 && !rec.id.equals(dir.id)) {
      report(`${where} record ${n} ${shown} (LBA ${rec.lba}) is named ${JSON.stringify(decodeId(dir.id))} in the tree (${displayDir(dir.path)})`);
    }
    const parent = records[rec.parent - 1];
    if (parent && parent.lba !== dir.parentLba) {
      report(
        `${where} record ${n} ${shown}: parent is record ${rec.parent} (LBA ${parent.lba}) but ${displayDir(dir.path)}'s parent is at LBA ${dir.parentLba}`,
      );
    }
  });
  for (const [lba, dir] of dirs) {
    if (!listed.has(lba)) report(`${where}: directory ${displayDir(dir.path)} (LBA ${lba}) is missing from the path table (ECMA-119 6.9)`);
  }
  if (records.length !== dirs.size) report(`${where} has ${records.length} records but the tree has ${dirs.size} directories`);
  if (mismatches > MAX_MISMATCHES) problems.add(`${where}: ${mismatches - MAX_MISMATCHES} more mismatches not listed`);
}

function parsePathTable(buf: Buffer, little: boolean, where: string, problems: Problems): PathRecord[] {
  const out: PathRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const len = buf[pos];
    if (len === 0) {
      // Zero padding at the end is tolerated; a zero length in the middle is not a record.
      if (buf.subarray(pos).some((b) => b !== 0)) problems.add(`${where}: record ${out.length + 1} at byte ${pos} has identifier length 0 (ECMA-119 9.4.1)`);
      break;
    }
    const recLen = 8 + len + (len % 2);
    if (pos + 8 + len > buf.length) {
      problems.add(`${where}: record ${out.length + 1} at byte ${pos} runs past the path table size ${buf.length} (ECMA-119 9.4)`);
      break;
    }
    out.push({
      lba: little ? buf.readUInt32LE(pos + 2) : buf.readUInt32BE(pos + 2),
      parent: little ? buf.readUInt16LE(pos + 6) : buf.readUInt16BE(pos + 6),
      id: Buffer.from(buf.subarray(pos + 8, pos + 8 + len)),
    });
    pos += recLen;
  }
  return out;
}

function checkOrder(records: PathRecord[], where: string, problems: Problems): void {
  if (records.length === 0) return;
  const root = records[0];
  if (root.parent !== 1 || root.id.length !== 1 || root.id[0] !== 0) {
    problems.add(`${where}: record 1 is not the root (identifier ${printable(root.id)}, parent ${root.parent}; ECMA-119 6.9.1)`);
  }
  for (let i = 1; i < records.length; i++) {
    const p = records[i].parent;
    if (p < 1 || p > i) {
      problems.add(`${where}: record ${i + 1} has parent number ${p}, which does not come before it (ECMA-119 6.9.1)`);
      return;
    }
    if (p < records[i - 1].parent) {
      problems.add(`${where}: record ${i + 1} is out of order (parent ${p} after parent ${records[i - 1].parent}; ECMA-119 6.9.1)`);
      return;
    }
  }
}

function compareTables(l: PathRecord[], m: PathRecord[], label: string, problems: Problems): void {
  if (l.length !== m.length) {
    problems.add(`${label}: type L has ${l.length} records but type M has ${m.length} (ECMA-119 9.4)`);
    return;
  }
  for (let i = 0; i < l.length; i++) {
    if (l[i].lba !== m[i].lba || l[i].parent !== m[i].parent || !l[i].id.equals(m[i].id)) {
      problems.add(`${label}: record ${i + 1} differs between the type L and type M tables (ECMA-119 9.4)`);
      return;
    }
  }
}
