/**
 * Raw CD-ROM sectors (ECMA-130 clause 14 and Annexes A, B): 2352 bytes = sync (12) + header (4: absolute MSF in
 * BCD and the mode) + the mode's fields:
 *   Mode 1:        2048 user data, EDC (4, over bytes 0..2063), 8 zero bytes, P parity (172), Q parity (104)
 *   Mode 2 Form 1: subheader (2 × 4), 2048 user data, EDC (over 16..2071), P and Q parity (header taken as zero)
 *   Mode 2 Form 2: subheader (2 × 4), 2324 user data, EDC (over 16..2347; zero when not computed)
 * The EDC is the 32-bit CRC with P(x) = (x^16 + x^15 + x^2 + 1)(x^16 + x^2 + x + 1), least significant bit first;
 * the P and Q parities are Reed-Solomon product codes over GF(2^8) with x^8 + x^4 + x^3 + x^2 + 1 (Annex A).
 * Scrambling (Annex B) with the x^15 + x + 1 register applies to bytes 12..2351 of a data sector on the disc (raw
 * writing sends sectors scrambled; images hold them unscrambled).
 *
 * The parities are computed table-driven (a column/diagonal walk with a multiply-by-α table): this module is the
 * writer; the tests check its output with an independent checker written from the standard's matrices.
 */
import { LEAD_PREGAP, writeBcdMsf } from './msf';

export const SECTOR_RAW = 2352;
export const SYNC = Uint8Array.from([0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);

// ---- EDC ----

const EDC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let e = i;
    for (let j = 0; j < 8; j++) e = (e >>> 1) ^ (e & 1 ? 0xd8018001 : 0);
    t[i] = e >>> 0;
  }
  return t;
})();

export function edc(buf: Uint8Array, start: number, end: number, seed = 0): number {
  let e = seed;
  for (let i = start; i < end; i++) e = (e >>> 8) ^ EDC_TABLE[(e ^ buf[i]) & 0xff];
  return e >>> 0;
}

function putEdc(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
  buf[off + 2] = (v >>> 16) & 0xff;
  buf[off + 3] = (v >>> 24) & 0xff;
}

// ---- ECC (P and Q parity) ----

/** F(x) = x·α (multiply by α = 2 in GF(2^8)/0x11D); B inverts x ↦ x·(1 + α). */
const ECC_F = new Uint8Array(256);
const ECC_B = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  const f = ((i << 1) ^ (i & 0x80 ? 0x11d : 0)) & 0xff;
  ECC_F[i] = f;
  ECC_B[i ^ f] = i;
}

/**
 * One family of RS(n, n-2) codewords over the bytes from `src`: `majors` codewords (both byte planes), each of
 * `minors` data bytes taken `minorStep` bytes apart (wrapping within `majors × minors` bytes), codeword k starting
 * at (k >> 1) × majorStep + (k & 1). The two parity bytes of codeword k go to dest[k] and dest[k + majors].
 */
function eccBlock(sec: Uint8Array, src: number, majors: number, minors: number, majorStep: number, minorStep: number, dest: number): void {
  const size = majors * minors;
  for (let major = 0; major < majors; major++) {
    let index = (major >> 1) * majorStep + (major & 1);
    let a = 0;
    let b = 0;
    for (let minor = 0; minor < minors; minor++) {
      const v = sec[src + index];
      index += minorStep;
      if (index >= size) index -= size;
      a ^= v;
      b ^= v;
      a = ECC_F[a];
    }
    a = ECC_B[ECC_F[a] ^ b];
    sec[dest + major] = a;
    sec[dest + major + majors] = a ^ b;
  }
}

/** Computes the P parity (bytes 2076..2247) and then the Q parity (2248..2351) over bytes 12..2247. */
export function computeEcc(sec: Uint8Array): void {
  eccBlock(sec, 12, 86, 24, 2, 86, 2076);
  eccBlock(sec, 12, 52, 43, 86, 88, 2248);
}

// ---- sectors ----

export type DataMode = 'mode1' | 'mode2form1' | 'mode2form2';

/** The header of the sector at `lba` (absolute address = lba + 150 frames). */
function header(sec: Uint8Array, lba: number, mode: number): void {
  sec.set(SYNC, 0);
  writeBcdMsf(sec, 12, lba + LEAD_PREGAP);
  sec[15] = mode;
}

/** Fills `sec` (2352 bytes) with a Mode 1 sector at `lba` holding `data` (2048 bytes at data[off..]). */
export function encodeMode1(sec: Uint8Array, lba: number, data: Uint8Array, off = 0): void {
  header(sec, lba, 1);
  sec.set(data.subarray(off, off + 2048), 16);
  putEdc(sec, 2064, edc(sec, 0, 2064));
  sec.fill(0, 2068, 2076);
  computeEcc(sec);
}

/** Mode 2 Form 1: `subheader` is the 4-byte file/channel/submode/coding (written twice); the Form 2 bit is cleared. */
export function encodeMode2Form1(sec: Uint8Array, lba: number, data: Uint8Array, off = 0, subheader = [0, 0, 0x08, 0]): void {
  header(sec, lba, 2);
  for (let i = 0; i < 4; i++) sec[16 + i] = sec[20 + i] = i === 2 ? subheader[i] & ~0x20 : subheader[i];
  sec.set(data.subarray(off, off + 2048), 24);
  putEdc(sec, 2072, edc(sec, 16, 2072));
  // The P and Q parities of Mode 2 Form 1 take the header as zero (ECMA-130 14.5.2: the address may change when
  // a sector is copied; the parities stay valid).
  const saved = [sec[12], sec[13], sec[14], sec[15]];
  sec.fill(0, 12, 16);
  computeEcc(sec);
  sec[12] = saved[0];
  sec[13] = saved[1];
  sec[14] = saved[2];
  sec[15] = saved[3];
}

/** Mode 2 Form 2: 2324 bytes of user data; the Form 2 bit is set; the EDC is computed. */
export function encodeMode2Form2(sec: Uint8Array, lba: number, data: Uint8Array, off = 0, subheader = [0, 0, 0x20, 0]): void {
  header(sec, lba, 2);
  for (let i = 0; i < 4; i++) sec[16 + i] = sec[20 + i] = i === 2 ? subheader[i] | 0x20 : subheader[i];
  sec.set(data.subarray(off, off + 2324), 24);
  putEdc(sec, 2348, edc(sec, 16, 2348));
}

/** User bytes per sector of each mode. */
export const USER_BYTES: Record<DataMode, number> = { mode1: 2048, mode2form1: 2048, mode2form2: 2324 };

export function encodeSector(mode: DataMode, sec: Uint8Array, lba: number, data: Uint8Array, off = 0): void {
  if (mode === 'mode1') encodeMode1(sec, lba, data, off);
  else if (mode === 'mode2form1') encodeMode2Form1(sec, lba, data, off);
  else encodeMode2Form2(sec, lba, data, off);
}

// ---- scrambling (ECMA-130 Annex B) ----

export const SCRAMBLE_TABLE = (() => {
  const t = new Uint8Array(SECTOR_RAW - 12);
  let reg = 1;
  for (let i = 0; i < t.length; i++) {
    let byte = 0;
    for (let bit = 0; bit < 8; bit++) {
      byte |= (reg & 1) << bit;
      const fb = (reg & 1) ^ ((reg >> 1) & 1);
      reg = (reg >> 1) | (fb << 14);
    }
    t[i] = byte;
  }
  return t;
})();

/** Scrambles (or descrambles: the operation is its own inverse) bytes 12..2351 of a data sector in place. */
export function scramble(sec: Uint8Array, off = 0): void {
  for (let i = 0; i < SCRAMBLE_TABLE.length; i++) sec[off + 12 + i] ^= SCRAMBLE_TABLE[i];
}

/** Whether a 2352-byte block starts with the data sector sync pattern. */
export function hasSync(sec: Uint8Array, off = 0): boolean {
  for (let i = 0; i < 12; i++) if (sec[off + i] !== SYNC[i]) return false;
  return true;
}
