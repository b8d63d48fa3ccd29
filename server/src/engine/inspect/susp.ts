/**
 * System Use Sharing Protocol (SUSP 1.12) and the Rock Ridge Interchange Protocol (RRIP 1.12) on top of it.
 *
 * SUSP 4.1: every System Use Field is  [0..1] signature, [2] length LEN_SUF (header included), [3] version, data.
 * SUSP 5.1 CE: continuation area = block (both 32 at 4), offset (both 32 at 12), length (both 32 at 20).
 * SUSP 5.2 PD: padding.  5.3 SP: check bytes BE EF and LEN_SKP, only in the root's "." record, at byte 0.
 * SUSP 5.4 ST: terminates the System Use Area.  5.5 ER: extensions reference (identifier, descriptor, source).
 *
 * Everything a hostile image controls is bounded: entries per record, continuation hops, continuation bytes
 * (per record and per walk), name and link lengths, and continuation areas visited twice are a loop.
 */
import { both32, dirDateTime, decDateTime, printable, utf8OrLatin1 } from './bytes';
import type { ImageReader } from './reader';
import type { RockRidgeTimes } from './types';

export interface SuspEntry {
  sig: string;
  version: number;
  /** Bytes after the 4-byte header. */
  data: Buffer;
}

export interface SuspContext {
  reader: ImageReader;
  blockSize: number;
  problem: (message: string) => void;
  /** Continuation-area bytes this walk may still read (shared by every record of one file system). */
  budget: { ceBytes: number };
}

const MAX_FIELDS_PER_RECORD = 2048;
const MAX_CE_HOPS = 32;
/** libisofs writes continuation areas of a few KiB at most (large ACLs / xattrs); 64 KiB is already absurd. */
const MAX_CE_LENGTH = 64 * 1024;
/** Longest NM name / SL target accepted (Linux PATH_MAX is 4096; NAME_MAX 255). */
const MAX_NAME_BYTES = 4096;

/**
 * All System Use Fields of one directory record: its System Use Area from byte `skip` on (SUSP 5.3 LEN_SKP),
 * then every continuation area chained by CE (SUSP 5.1). PD and CE themselves are consumed here; ST stops
 * the area it is in.
 */
export async function readSuspFields(ctx: SuspContext, systemUse: Buffer, skip: number, where: string): Promise<SuspEntry[]> {
  const out: SuspEntry[] = [];
  let area = systemUse.subarray(Math.min(skip, systemUse.length));
  let areaName = 'system use area';
  const visited = new Set<string>();
  for (let hop = 0; ; hop++) {
    let ce: { block: number; offset: number; length: number } | null = null;
    let pos = 0;
    while (pos + 4 <= area.length) {
      // Unused bytes at the end of an area are zero (a record is padded, SUSP 4): nothing more here.
      if (area[pos] === 0 && area[pos + 1] === 0) break;
      const sig = area.toString('latin1', pos, pos + 2);
      const len = area[pos + 2];
      if (len < 4 || pos + len > area.length) {
        ctx.problem(
          `${where}: SUSP field "${printable(area.subarray(pos, pos + 2))}" at byte ${pos} of its ${areaName} has length ${len}, ` +
            `${len < 4 ? 'less than its 4-byte header' : `but only ${area.length - pos} bytes remain`} (SUSP 4.1)`,
        );
        break;
      }
      const data = area.subarray(pos + 4, pos + len);
      pos += len;
      if (sig === 'ST') break; // SUSP 5.4
      if (sig === 'PD') continue; // SUSP 5.2
      if (sig === 'CE') {
        if (data.length < 24) {
          ctx.problem(`${where}: CE field has length ${len}, expected 28 (SUSP 5.1)`);
          continue;
        }
        if (ce) ctx.problem(`${where}: more than one CE field in one ${areaName} (SUSP 5.1); the last one is used`);
        ce = { block: both32(data, 0).value, offset: both32(data, 8).value, length: both32(data, 16).value };
        continue;
      }
      if (out.length >= MAX_FIELDS_PER_RECORD) {
        ctx.problem(`${where}: more than ${MAX_FIELDS_PER_RECORD} System Use Fields; the rest are ignored`);
        return out;
      }
      out.push({ sig, version: area[pos - len + 3], data: Buffer.from(data) });
    }
    if (!ce || ce.length === 0) return out;
    const key = `${ce.block}:${ce.offset}`;
    const describe = `CE continuation area at block ${ce.block} offset ${ce.offset} (${ce.length} bytes)`;
    if (visited.has(key)) {
      ctx.problem(`${where}: ${describe} was already read for this record: continuation loop (SUSP 5.1)`);
      return out;
    }
    visited.add(key);
    if (hop >= MAX_CE_HOPS) {
      ctx.problem(`${where}: more than ${MAX_CE_HOPS} chained CE continuation areas; the rest are ignored`);
      return out;
    }
    if (ce.length > MAX_CE_LENGTH) {
      ctx.problem(`${where}: ${describe} has an absurd length (more than ${MAX_CE_LENGTH} bytes) (SUSP 5.1)`);
      return out;
    }
    const start = ce.block * ctx.blockSize + ce.offset;
    if (start + ce.length > ctx.reader.size) {
      ctx.problem(`${where}: ${describe} points outside the image (${ctx.reader.size} bytes) (SUSP 5.1)`);
      return out;
    }
    if (ce.length > ctx.budget.ceBytes) {
      ctx.problem(`${where}: continuation-area budget for this file system exhausted; ${describe} not read`);
      return out;
    }
    ctx.budget.ceBytes -= ce.length;
    area = await ctx.reader.bytes(start, ce.length);
    areaName = 'continuation area';
  }
}

export interface SharingProtocol {
  /** SUSP 5.3 LEN_SKP. */
  skip: number;
}

/** SUSP 5.3: the SP field at byte 0 of the root's "." System Use Area says SUSP is in use. */
export function detectSharingProtocol(rootDotSystemUse: Buffer): SharingProtocol | null {
  const b = rootDotSystemUse;
  if (b.length < 7 || b[0] !== 0x53 || b[1] !== 0x50 || b[2] !== 7 || b[4] !== 0xbe || b[5] !== 0xef) return null;
  return { skip: b[6] };
}

export interface Extension {
  id: string;
  descriptor: string;
  source: string;
  version: number;
}

/** SUSP 5.5 ER: [0] LEN_ID [1] LEN_DES [2] LEN_SRC [3] EXT_VER, then identifier, descriptor, source. */
export function parseExtensions(fields: SuspEntry[], where: string, problem: (m: string) => void): Extension[] {
  const out: Extension[] = [];
  for (const f of fields) {
    if (f.sig !== 'ER') continue;
    const d = f.data;
    if (d.length < 4 || 4 + d[0] + d[1] + d[2] > d.length) {
      problem(`${where}: ER field is shorter than its identifier, descriptor and source lengths say (SUSP 5.5)`);
      continue;
    }
    const a = 4;
    const b = a + d[0];
    const c = b + d[1];
    out.push({
      id: d.toString('latin1', a, b),
      descriptor: d.toString('latin1', b, c),
      source: d.toString('latin1', c, c + d[2]),
      version: d[3],
    });
  }
  return out;
}

/** The Rock Ridge identifiers of ER fields (RRIP 1.12 5: "IEEE_P1282"; 1.10: "RRIP_1991A"; final: "IEEE_1282"). */
export const RRIP_IDS = ['RRIP_1991A', 'IEEE_P1282', 'IEEE_1282'];
/** Signatures that only RRIP defines: their presence without an ER still means Rock Ridge. */
export const RRIP_SIGNATURES = new Set(['RR', 'PX', 'PN', 'SL', 'NM', 'CL', 'PL', 'RE', 'TF', 'SF']);

export interface RockRidgeInfo {
  name?: Buffer;
  /** NM CURRENT / PARENT flags (RRIP 4.1.4). */
  nameIsDot?: boolean;
  px?: { mode: number; nlink: number; uid: number; gid: number; ino?: number };
  rdev?: { high: number; low: number };
  target?: string;
  times?: RockRidgeTimes;
  /** CL: where the relocated directory really is (RRIP 4.1.5.1). */
  childLink?: number;
  /** PL: the relocated directory's real parent (RRIP 4.1.5.2). */
  parentLink?: number;
  /** RE: this is the relocated directory itself, hide it here (RRIP 4.1.5.3). */
  relocated?: boolean;
}

const TF_NAMES: (keyof RockRidgeTimes)[] = ['creation', 'modify', 'access', 'attributes', 'backup', 'expiration', 'effective'];

/** Decodes the RRIP fields of one record (RRIP 1.12 section 4.1). */
export function decodeRockRidge(fields: SuspEntry[], where: string, problem: (m: string) => void): RockRidgeInfo {
  const rr: RockRidgeInfo = {};
  const nameParts: Buffer[] = [];
  let nameBytes = 0;
  let nameState: 'none' | 'open' | 'done' = 'none';
  let link: LinkBuilder | null = null;
  let linkState: 'none' | 'open' | 'done' = 'none';
  for (const f of fields) {
    const d = f.data;
    switch (f.sig) {
      case 'PX': // RRIP 4.1.1: mode, links, uid, gid (both 32 each), serial number (1.12 only)
        if (d.length < 32) {
          problem(`${where}: PX field has length ${d.length + 4}, expected 36 or 44 (RRIP 4.1.1)`);
          break;
        }
        rr.px = {
          mode: both32(d, 0).value,
          nlink: both32(d, 8).value,
          uid: both32(d, 16).value,
          gid: both32(d, 24).value,
          ...(d.length >= 40 ? { ino: both32(d, 32).value } : {}),
        };
        break;
      case 'PN': // RRIP 4.1.2: device number high and low (both 32)
        if (d.length >= 16) rr.rdev = { high: both32(d, 0).value, low: both32(d, 8).value };
        else problem(`${where}: PN field has length ${d.length + 4}, expected 20 (RRIP 4.1.2)`);
        break;
      case 'SL': {
        // RRIP 4.1.3: [0] flags (bit 0 CONTINUE: the link goes on in the next SL), then component records.
        if (linkState === 'done') {
          problem(`${where}: a second symbolic link (SL) after a complete one is ignored (RRIP 4.1.3)`);
          break;
        }
        if (d.length < 1) break;
        link ??= new LinkBuilder();
        const err = link.addComponents(d.subarray(1));
        if (err) {
          problem(`${where}: SL ${err} (RRIP 4.1.3.1)`);
          linkState = 'done';
          break;
        }
        linkState = d[0] & 1 ? 'open' : 'done';
        break;
      }
      case 'NM': {
        // RRIP 4.1.4: [0] flags (bit 0 CONTINUE, bit 1 CURRENT, bit 2 PARENT, bit 5 HOST), then name bytes.
        if (nameState === 'done') {
          problem(`${where}: a second alternate name (NM) after a complete one is ignored (RRIP 4.1.4)`);
          break;
        }
        if (d.length < 1) break;
        const flags = d[0];
        if (flags & 0x06) rr.nameIsDot = true;
        nameBytes += d.length - 1;
        if (nameBytes > MAX_NAME_BYTES) {
          problem(`${where}: NM name is longer than ${MAX_NAME_BYTES} bytes; truncated (RRIP 4.1.4)`);
          nameState = 'done';
          break;
        }
        nameParts.push(d.subarray(1));
        nameState = flags & 1 ? 'open' : 'done';
        break;
      }
      case 'CL': // RRIP 4.1.5.1
        if (d.length >= 8) rr.childLink = both32(d, 0).value;
        else problem(`${where}: CL field has length ${d.length + 4}, expected 12 (RRIP 4.1.5.1)`);
        break;
      case 'PL': // RRIP 4.1.5.2
        if (d.length >= 8) rr.parentLink = both32(d, 0).value;
        else problem(`${where}: PL field has length ${d.length + 4}, expected 12 (RRIP 4.1.5.2)`);
        break;
      case 'RE': // RRIP 4.1.5.3
        rr.relocated = true;
        break;
      case 'TF': {
        // RRIP 4.1.6: [0] flags; one timestamp per set bit 0-6, 7 bytes (9.1.5) or 17 bytes (8.4.26.1) if bit 7.
        if (d.length < 1) break;
        const long = (d[0] & 0x80) !== 0;
        const width = long ? 17 : 7;
        const times: RockRidgeTimes = {};
        let pos = 1;
        for (let bit = 0; bit < 7; bit++) {
          if (!(d[0] & (1 << bit))) continue;
          if (pos + width > d.length) {
            problem(`${where}: TF field is too short for the timestamps its flags announce (RRIP 4.1.6)`);
            break;
          }
          times[TF_NAMES[bit]] = long ? decDateTime(d, pos) : dirDateTime(d, pos);
          pos += width;
        }
        rr.times = times;
        break;
      }
      default:
        break; // RR (1.09 flags), SF, ZF, AA/AL (AAIP), ES, ...: not needed for the listing
    }
  }
  if (nameState === 'open') problem(`${where}: NM name has the CONTINUE flag but no NM field follows (RRIP 4.1.4)`);
  if (linkState === 'open') problem(`${where}: symbolic link (SL) has the CONTINUE flag but no SL field follows (RRIP 4.1.3)`);
  if (nameParts.length > 0 && !rr.nameIsDot) rr.name = Buffer.concat(nameParts);
  if (link) rr.target = link.result();
  return rr;
}

/**
 * RRIP 4.1.3.1 component records: [0] flags (0x01 CONTINUE: this component goes on in the next one, 0x02 ".",
 * 0x04 "..", 0x08 root "/", 0x10 volume root, 0x20 host name), [1] length, content.
 */
class LinkBuilder {
  private readonly bytes: number[] = [];
  private needSeparator = false;
  private started = false;

  addComponents(d: Buffer): string | null {
    let pos = 0;
    while (pos < d.length) {
      if (pos + 2 > d.length) return 'component record is cut short';
      const flags = d[pos];
      const len = d[pos + 1];
      if (pos + 2 + len > d.length) return `component record has length ${len} but only ${d.length - pos - 2} bytes remain`;
      const content = d.subarray(pos + 2, pos + 2 + len);
      pos += 2 + len;
      if (flags & 0x08 || flags & 0x10) {
        // root: the path is absolute (a root component only ever starts a link)
        this.bytes.length = 0;
        this.bytes.push(0x2f);
        this.needSeparator = false;
        this.started = true;
        continue;
      }
      if (this.needSeparator) this.bytes.push(0x2f);
      if (flags & 0x02) this.bytes.push(0x2e);
      else if (flags & 0x04) this.bytes.push(0x2e, 0x2e);
      else if (!(flags & 0x20)) for (const c of content) this.bytes.push(c);
      this.started = true;
      this.needSeparator = (flags & 0x01) === 0;
      if (this.bytes.length > MAX_NAME_BYTES) return `symbolic link target is longer than ${MAX_NAME_BYTES} bytes`;
    }
    return null;
  }

  result(): string {
    return this.started ? utf8OrLatin1(Buffer.from(this.bytes)) : '';
  }
}
