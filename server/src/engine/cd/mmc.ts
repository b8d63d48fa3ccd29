/**
 * The MMC side of CD mastering (MMC-6 clause 4.3 "CD Model", 6.34 SEND CUE SHEET, 6.15 READ CD, 7.5 Write
 * Parameters page): the CDBs and parameter data that the audio burner sends and the emulated recorder parses.
 *
 * - Write Parameters page 05h: write type 1 (track at once), 2 (session at once), 3 (raw); track mode = the Q
 *   control nibble; data block type 0 (2352 raw), 1 (2368 raw + P/Q), 3 (2448 raw + raw P–W), 8 (Mode 1 2048);
 *   the Media Catalogue Number (bytes 16..31, MCVAL) and the track's ISRC (bytes 32..47, TCVAL) for TAO.
 * - Cue sheet entries (8 bytes): CTL/ADR, TNO and INDEX (BCD), DATA FORM, SCMS, absolute MIN SEC FRAME (binary).
 *   Data forms: 00h audio 2352, 01h audio lead-in/lead-out (generated), 10h Mode 1 2048, 14h Mode 1 lead-in/out
 *   (generated); +40h on the lead-in: the host sends the R–W sub-channel of the lead-in (CD-TEXT), 96 bytes a
 *   sector. ADR 2 entries carry the MCN, ADR 3 entries the ISRC, as ASCII.
 * - Raw writing (data block type 3) from the lead-in: the host sends the lead-in's Q (mode 1 TOC: POINT 01..99,
 *   A0, A1, A2, each three times) and R–W (CD-TEXT packs as 6-bit symbols), the program area with its P/Q, data
 *   sectors scrambled (ECMA-130 Annex B), and the lead-out.
 */
import { bcd, LEAD_PREGAP, writeBcdMsf } from './msf';
import { setQCrc } from './subcode';
import type { CdLayout } from './layout';

export const OP_READ_CD = 0xbe;

/** ATIP lead-in start of the emulated CD-R/RW (97:27:00): LBA -11625. */
export const LEAD_IN_START = -11_625;
/** Lead-out sectors a raw writer sends (90 s: what a drive writes itself in TAO/SAO). */
export const RAW_LEAD_OUT = 6750;

export const DATA_BLOCK = { raw: 0, rawPQ: 1, rawPWpacked: 2, rawPW: 3, mode1: 8 } as const;

export function blockSize(dataBlockType: number): number {
  switch (dataBlockType) {
    case 0: return 2352;
    case 1: return 2368;
    case 2:
    case 3: return 2448;
    case 8: return 2048;
    case 10: return 2048;
    case 12: return 2324;
    case 13: return 2332;
    default: return 0;
  }
}

export interface CdWriteParams {
  writeType: 1 | 2 | 3;
  /** Q control nibble of the track (TAO): data 4, copy 2, pre-emphasis 1. */
  trackMode: number;
  dataBlockType: number;
  multiSession: 0 | 3;
  bufe: boolean;
  mcn?: string;
  isrc?: string;
}

/** The Write Parameters mode page (05h) with MCN and ISRC. */
export function cdWriteParametersPage(p: CdWriteParams): Buffer {
  const b = Buffer.alloc(2 + 0x32);
  b[0] = 0x05;
  b[1] = 0x32;
  b[2] = (p.bufe ? 0x40 : 0) | p.writeType;
  b[3] = (p.multiSession << 6) | (p.trackMode & 0x0f);
  b[4] = p.dataBlockType & 0x0f;
  b[8] = 0; // session format: CD-DA or CD-ROM
  if (p.mcn) {
    b[16] = 0x80;
    b.write(p.mcn, 17, 13, 'latin1');
  }
  if (p.isrc) {
    b[32] = 0x80;
    b.write(p.isrc, 33, 12, 'latin1');
  }
  return b;
}

export function decodeCdWriteParameters(page: Buffer): CdWriteParams & { raw: Buffer } {
  return {
    writeType: (page[2] & 0x0f) as 1 | 2 | 3,
    trackMode: page[3] & 0x0f,
    dataBlockType: page[4] & 0x0f,
    multiSession: ((page[3] >> 6) & 3) as 0 | 3,
    bufe: !!(page[2] & 0x40),
    mcn: page.length >= 30 && page[16] & 0x80 ? page.toString('latin1', 17, 30) : undefined,
    isrc: page.length >= 45 && page[32] & 0x80 ? page.toString('latin1', 33, 45) : undefined,
    raw: page,
  };
}

/** READ CD (BEh): expected sector type (0 any, 1 CD-DA, 2 Mode 1), main-channel flags, sub-channel selection. */
export function readCd(lba: number, count: number, sectorType: number, flags: number, sub: 0 | 1 | 2): Buffer {
  const c = Buffer.alloc(12);
  c[0] = OP_READ_CD;
  c[1] = (sectorType & 7) << 2;
  c.writeInt32BE(lba, 2);
  c.writeUIntBE(count, 6, 3);
  c[9] = flags;
  c[10] = sub;
  return c;
}

/** Bytes per sector READ CD returns for a sector of `mode` with `flags` and `sub`. */
export function readCdSize(mode: 'audio' | 'mode1', flags: number, sub: number): number {
  let n = 0;
  if (mode === 'audio') n = flags & 0x10 ? 2352 : 0;
  else {
    if (flags & 0x80) n += 12;
    if (flags & 0x20) n += 4; // header
    if (flags & 0x10) n += 2048;
    if (flags & 0x08) n += 288;
  }
  return n + (sub === 1 ? 96 : sub === 2 ? 16 : 0);
}

// ---- cue sheet ----

export interface CueEntry {
  ctlAdr: number;
  tno: number;
  index: number;
  dataForm: number;
  scms: number;
  lba: number;
  /** ADR 2/3 entries: the 7 bytes after CTL/ADR (text). */
  text?: Buffer;
}

function entry(e: CueEntry): Buffer {
  const b = Buffer.alloc(8);
  b[0] = e.ctlAdr;
  if (e.text) {
    e.text.copy(b, 1, 0, 7);
    return b;
  }
  b[1] = e.tno === 0xaa ? 0xaa : bcd(e.tno);
  b[2] = bcd(e.index);
  b[3] = e.dataForm;
  b[4] = e.scms;
  const f = e.lba + LEAD_PREGAP;
  b[5] = Math.floor(f / 4500);
  b[6] = Math.floor(f / 75) % 60;
  b[7] = f % 75;
  return b;
}

/** The cue sheet of a layout for session-at-once writing (user data: audio 2352, Mode 1 2048). */
export function cueSheet(L: CdLayout, cdText: boolean): Buffer {
  const out: Buffer[] = [];
  const first = L.tracks[0];
  const control = (t: CdLayout['tracks'][number]) => (t.flags.data ? 4 : 0) | (t.flags.copy ? 2 : 0) | (t.flags.preEmphasis ? 1 : 0);
  const dataForm = (t: CdLayout['tracks'][number]) => (t.mode === 'audio' ? 0x00 : 0x10);
  out.push(entry({ ctlAdr: (control(first) << 4) | 1, tno: 0, index: 0, dataForm: (first.mode === 'audio' ? 0x01 : 0x14) | (cdText ? 0x40 : 0), scms: 0, lba: -LEAD_PREGAP }));
  if (L.mcn) {
    out.push(entry({ ctlAdr: 0x02, tno: 0, index: 0, dataForm: 0, scms: 0, lba: 0, text: Buffer.from(L.mcn.slice(0, 7), 'latin1') }));
    out.push(entry({ ctlAdr: 0x02, tno: 0, index: 0, dataForm: 0, scms: 0, lba: 0, text: Buffer.from(L.mcn.slice(7) + '\0', 'latin1') }));
  }
  for (const t of L.tracks) {
    const ctl = control(t) << 4;
    if (t.isrc) {
      out.push(entry({ ctlAdr: ctl | 3, tno: 0, index: 0, dataForm: 0, scms: 0, lba: 0, text: Buffer.concat([Buffer.from([bcd(t.number)]), Buffer.from(t.isrc.slice(0, 6), 'latin1')]) }));
      out.push(entry({ ctlAdr: ctl | 3, tno: 0, index: 0, dataForm: 0, scms: 0, lba: 0, text: Buffer.concat([Buffer.from([bcd(t.number)]), Buffer.from(t.isrc.slice(6), 'latin1')]) }));
    }
    const scms = t.flags.copyOnce ? 0x80 : 0;
    if (t.pregap < t.indexes[0]) out.push(entry({ ctlAdr: ctl | 1, tno: t.number, index: 0, dataForm: dataForm(t), scms, lba: t.pregap }));
    t.indexes.forEach((lba, i) => out.push(entry({ ctlAdr: ctl | 1, tno: t.number, index: i + 1, dataForm: dataForm(t), scms, lba })));
  }
  const last = L.tracks[L.tracks.length - 1];
  out.push(entry({ ctlAdr: (control(last) << 4) | 1, tno: 0xaa, index: 1, dataForm: last.mode === 'audio' ? 0x01 : 0x14, scms: 0, lba: L.leadOut }));
  return Buffer.concat(out);
}

export function parseCueSheet(b: Buffer): CueEntry[] {
  const out: CueEntry[] = [];
  for (let o = 0; o + 8 <= b.length; o += 8) {
    const adr = b[o] & 0x0f;
    if (adr === 2 || adr === 3) {
      out.push({ ctlAdr: b[o], tno: 0, index: 0, dataForm: 0, scms: 0, lba: 0, text: Buffer.from(b.subarray(o + 1, o + 8)) });
      continue;
    }
    const tno = b[o + 1] === 0xaa ? 0xaa : (b[o + 1] >> 4) * 10 + (b[o + 1] & 15);
    out.push({ ctlAdr: b[o], tno, index: (b[o + 2] >> 4) * 10 + (b[o + 2] & 15), dataForm: b[o + 3], scms: b[o + 4], lba: (b[o + 5] * 60 + b[o + 6]) * 75 + b[o + 7] - LEAD_PREGAP });
  }
  return out;
}

// ---- the lead-in of a raw write ----

/** Q of lead-in sector `i` (from the lead-in start): the TOC, each POINT three times, cycling. */
export function leadInQ(q: Uint8Array, L: CdLayout, i: number): void {
  const points: { point: number; control: number; pmsf: [number, number, number] | number }[] = [];
  const ctl = (t: CdLayout['tracks'][number]) => (t.flags.data ? 4 : 0) | (t.flags.copy ? 2 : 0) | (t.flags.preEmphasis ? 1 : 0);
  for (const t of L.tracks) points.push({ point: t.number, control: ctl(t), pmsf: t.indexes[0] });
  const first = L.tracks[0];
  const last = L.tracks[L.tracks.length - 1];
  points.push({ point: 0xa0, control: ctl(first), pmsf: [first.number, 0x00, 0] });
  points.push({ point: 0xa1, control: ctl(last), pmsf: [last.number, 0, 0] });
  points.push({ point: 0xa2, control: ctl(last), pmsf: L.leadOut });
  const p = points[Math.floor(i / 3) % points.length];
  q.fill(0, 0, 12);
  q[0] = (p.control << 4) | 1;
  q[1] = 0; // TNO 00: lead-in
  q[2] = p.point < 0xa0 ? bcd(p.point) : p.point;
  writeBcdMsf(q, 3, i); // running time in the lead-in
  q[6] = 0;
  if (typeof p.pmsf === 'number') writeBcdMsf(q, 7, p.pmsf + LEAD_PREGAP);
  else {
    q[7] = bcd(p.pmsf[0]);
    q[8] = p.pmsf[1];
    q[9] = p.pmsf[2];
  }
  setQCrc(q);
}

/** R–W of lead-in sector `i`: four CD-TEXT packs (18 bytes = 24 six-bit symbols each), cycling through `packs`. */
export function leadInRw(rw: Uint8Array, packs: Buffer | undefined, i: number): void {
  rw.fill(0, 0, 96);
  if (!packs || packs.length === 0) return;
  const n = packs.length / 18;
  for (let k = 0; k < 4; k++) {
    const p = packs.subarray(((i * 4 + k) % n) * 18, ((i * 4 + k) % n) * 18 + 18);
    for (let s = 0; s < 24; s++) {
      // Symbol s holds bits 6s .. 6s+5 of the pack, most significant first.
      let v = 0;
      for (let b = 0; b < 6; b++) {
        const bit = 6 * s + b;
        v = (v << 1) | ((p[bit >> 3] >> (7 - (bit & 7))) & 1);
      }
      rw[k * 24 + s] = v;
    }
  }
}

/** The inverse of leadInRw: four packs from 96 R–W symbols. */
export function packsFromRw(rw: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  for (let k = 0; k < 4; k++) {
    const p = Buffer.alloc(18);
    for (let s = 0; s < 24; s++) {
      const v = rw[k * 24 + s] & 0x3f;
      for (let b = 0; b < 6; b++) {
        const bit = 6 * s + b;
        if ((v >> (5 - b)) & 1) p[bit >> 3] |= 0x80 >> (bit & 7);
      }
    }
    out.push(p);
  }
  return out;
}
