/**
 * System Use Sharing Protocol (SUSP 1.12) and Rock Ridge (RRIP 1.10, identifier RRIP_1991A) entries,
 * and their packing into a directory record's System Use field plus Continuation Areas (SUSP 5.1 CE).
 */
import { both32, date7 } from './encode';

const enc = (sig: string, len: number): Buffer => {
  const b = Buffer.alloc(len);
  b.write(sig, 0, 'latin1');
  b[2] = len;
  b[3] = 1; // entry version
  return b;
};

/** SUSP 5.3 SP: in the "." record of the root, first; check bytes BE EF, LEN_SKP 0. */
export function sp(): Buffer {
  const b = enc('SP', 7);
  b[4] = 0xbe;
  b[5] = 0xef;
  b[6] = 0;
  return b;
}

const ER_ID = 'RRIP_1991A';
const ER_DES = 'THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS';
const ER_SRC = 'PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.';

/** SUSP 5.5 ER: announces RRIP (RRIP 1.10 4.3). */
export function er(): Buffer {
  const b = enc('ER', 8 + ER_ID.length + ER_DES.length + ER_SRC.length);
  b[4] = ER_ID.length;
  b[5] = ER_DES.length;
  b[6] = ER_SRC.length;
  b[7] = 1;
  b.write(ER_ID + ER_DES + ER_SRC, 8, 'latin1');
  return b;
}

/** RRIP 4.1.1 PX: mode (with file type), links, uid, gid (RRIP 1.10 form, 36 bytes). */
export function px(mode: number, nlink: number, uid = 0, gid = 0): Buffer {
  const b = enc('PX', 36);
  both32(b, 4, mode);
  both32(b, 12, nlink);
  both32(b, 20, uid);
  both32(b, 28, gid);
  return b;
}

/** RRIP 4.1.6 TF: modify, access and attribute-change times, 7-byte form (flags 0x0E). */
export function tf(ms: number): Buffer {
  const b = enc('TF', 5 + 3 * 7);
  b[4] = 0x0e;
  date7(b, 5, ms);
  date7(b, 12, ms);
  date7(b, 19, ms);
  return b;
}

/** RRIP 4.1.4 NM: the POSIX name, split into several entries with CONTINUE when long. */
export function nm(name: string): Buffer[] {
  const bytes = Buffer.from(name, 'utf8');
  const out: Buffer[] = [];
  for (let off = 0; off < bytes.length || out.length === 0; off += 250) {
    const piece = bytes.subarray(off, off + 250);
    const b = enc('NM', 5 + piece.length);
    b[4] = off + 250 < bytes.length ? 0x01 : 0x00;
    piece.copy(b, 5);
    out.push(b);
  }
  return out;
}

/** RRIP 4.1.3 SL: a symbolic link's target as component records, split over entries as needed. */
export function sl(target: string): Buffer[] {
  // Component records: flags (0x01 continue, 0x02 ".", 0x04 "..", 0x08 root), length, content.
  const comps: Buffer[] = [];
  const parts = target.split('/');
  if (target.startsWith('/')) {
    comps.push(Buffer.from([0x08, 0]));
    parts.shift();
  }
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === '' && i === parts.length - 1 && i > 0) break; // trailing slash
    if (p === '.') comps.push(Buffer.from([0x02, 0]));
    else if (p === '..') comps.push(Buffer.from([0x04, 0]));
    else {
      const bytes = Buffer.from(p, 'utf8');
      for (let off = 0; off < bytes.length || off === 0; off += 240) {
        const piece = bytes.subarray(off, off + 240);
        comps.push(Buffer.concat([Buffer.from([off + 240 < bytes.length ? 0x01 : 0, piece.length]), piece]));
        if (bytes.length === 0) break;
      }
    }
  }
  const out: Buffer[] = [];
  let cur: Buffer[] = [];
  let len = 5;
  const flush = (more: boolean) => {
    const b = enc('SL', len);
    b[4] = more ? 0x01 : 0x00;
    Buffer.concat(cur).copy(b, 5);
    out.push(b);
    cur = [];
    len = 5;
  };
  for (const c of comps) {
    if (len + c.length > 255) flush(true);
    cur.push(c);
    len += c.length;
  }
  flush(false);
  return out;
}

/** RRIP 4.1.5.1 CL / 4.1.5.2 PL: child and parent links of a relocated directory. */
export function link(sig: 'CL' | 'PL', lba: number): Buffer {
  const b = enc(sig, 12);
  both32(b, 4, lba);
  return b;
}

/** RRIP 4.1.5.3 RE: this directory record is a relocated directory. */
export function re(): Buffer {
  return enc('RE', 4);
}

/** SUSP 5.1 CE: where the System Use field continues. */
export function ce(lba: number, offset: number, length: number): Buffer {
  const b = enc('CE', 28);
  both32(b, 4, lba);
  both32(b, 12, offset);
  both32(b, 20, length);
  return b;
}

export const CE_LEN = 28;
const AREA = 2048;

/** Where one continuation area lives: a block of the continuation region and an offset in it. */
export interface AreaPos {
  block: number;
  offset: number;
  length: number;
}

export interface PackedSusp {
  /** Entries that stay in the directory record (without the CE, which is added at write time). */
  inRecord: Buffer[];
  /** Continuation areas' contents (without their chaining CEs). */
  areas: Buffer[][];
}

/**
 * Splits entries between the record (`avail` bytes) and continuation areas of at most one logical block
 * each (SUSP 5.1: an area is within one block here), chained by CE entries.
 */
export function packSusp(entries: Buffer[], avail: number): PackedSusp {
  const total = entries.reduce((n, e) => n + e.length, 0);
  if (total <= avail) return { inRecord: entries, areas: [] };
  entries = splitNames(entries, avail);
  const inRecord: Buffer[] = [];
  let used = 0;
  let i = 0;
  while (i < entries.length && used + entries[i].length <= avail - CE_LEN) used += entries[i++].length, inRecord.push(entries[i - 1]);
  const areas: Buffer[][] = [];
  while (i < entries.length) {
    const area: Buffer[] = [];
    let len = 0;
    const remaining = entries.slice(i).reduce((n, e) => n + e.length, 0);
    const cap = remaining <= AREA ? AREA : AREA - CE_LEN;
    while (i < entries.length && len + entries[i].length <= cap) len += entries[i++].length, area.push(entries[i - 1]);
    areas.push(area);
  }
  return { inRecord, areas };
}

/**
 * When the entries overflow the record, the name (NM) is split so that its first piece fills the record and
 * the rest continues in the continuation area (RRIP 4.1.4 CONTINUE), as other writers do; some readers take
 * the name only from NM entries that start in the directory record itself.
 */
function splitNames(entries: Buffer[], avail: number): Buffer[] {
  const first = entries.findIndex((e) => e.toString('latin1', 0, 2) === 'NM');
  if (first < 0) return entries;
  let last = first;
  while (last + 1 < entries.length && entries[last + 1].toString('latin1', 0, 2) === 'NM') last++;
  const before = entries.slice(0, first).reduce((n, e) => n + e.length, 0);
  const room = avail - CE_LEN - before - 5; // bytes of name that fit in the record's first NM piece
  if (room < 1) return entries;
  const name = Buffer.concat(entries.slice(first, last + 1).map((e) => e.subarray(5)));
  const pieces: Buffer[] = [];
  const sizes = [Math.min(room, 250)];
  for (let left = name.length - sizes[0]; left > 0; left -= 250) sizes.push(Math.min(left, 250));
  let off = 0;
  for (const [k, size] of sizes.entries()) {
    const b = Buffer.alloc(5 + size);
    b.write('NM', 0, 'latin1');
    b[2] = 5 + size;
    b[3] = 1;
    b[4] = k + 1 < sizes.length ? 0x01 : 0x00;
    name.copy(b, 5, off, off + size);
    off += size;
    pieces.push(b);
  }
  return [...entries.slice(0, first), ...pieces, ...entries.slice(last + 1)];
}

/** The byte length of each area as recorded (its entries plus a CE when another area follows). */
export function areaLengths(p: PackedSusp): number[] {
  return p.areas.map((a, k) => a.reduce((n, e) => n + e.length, 0) + (k + 1 < p.areas.length ? CE_LEN : 0));
}

/** Allocates continuation areas in the continuation region, never across a block boundary. */
export class AreaAllocator {
  private block = 0;
  private offset = 0;
  alloc(length: number): AreaPos {
    if (this.offset + length > AREA) {
      this.block++;
      this.offset = 0;
    }
    const pos = { block: this.block, offset: this.offset, length };
    this.offset += length;
    return pos;
  }
  get blocks(): number {
    return this.offset === 0 && this.block === 0 ? 0 : this.block + 1;
  }
}
