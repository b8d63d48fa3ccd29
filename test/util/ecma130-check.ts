/**
 * An independent checker of CD-ROM data sectors, written from ECMA-130 (2nd edition) and NOT sharing code with
 * the writer (server/src/engine/cd/sector.ts): the writer computes parities with a table-driven column walk; this
 * file recomputes the standard's syndromes H·V = 0 with plain GF(2^8) multiplication, the EDC bit by bit from
 * the polynomial product, and the scrambler from its shift register.
 *
 * - 14.3 EDC: P(x) = (x^16 + x^15 + x^2 + 1)·(x^16 + x^2 + x + 1), the data taken least significant bit first,
 *   the 32 parity bits stored least significant byte first. Mode 1 over bytes 0..2063 (stored at 2064), Mode 2
 *   Form 1 over 16..2071 (at 2072), Form 2 over 16..2347 (at 2348; zero means "not computed").
 * - Annex A: GF(2^8) with x^8 + x^4 + x^3 + x^2 + 1, α = (00000010). Bytes 12..2351 form 1170 words S(n) of two
 *   bytes (12 + 2n and 13 + 2n), each byte plane a separate code. P: for Np = 0..42, V = S(43·Mp + Np), Mp = 0..25,
 *   H_P = [1 … 1; α^25 … α^0]. Q: for Nq = 0..25, V = S((44·Mq + 43·Nq) mod 1118), Mq = 0..42, then S(1118 + Nq)
 *   and S(1144 + Nq), H_Q = [1 … 1; α^44 … α^0]. Mode 2 Form 1 takes the header (bytes 12..15) as zero.
 * - Annex B: scrambler x^15 + x + 1, preset to 0000 0000 0000 001, over bytes 12..2351, LSB first.
 */

// ---- GF(2^8) ----
const EXP: number[] = [];
const LOG: number[] = new Array(256).fill(-1);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d; // x^8 = x^4 + x^3 + x^2 + 1
  }
}
function mul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[(LOG[a] + LOG[b]) % 255];
}
function alphaPow(k: number): number {
  return EXP[((k % 255) + 255) % 255];
}

/** Syndromes (S0, S1) of a codeword v with H = [1 … 1; α^(n-1) … α^0]. */
function syndromes(v: number[]): [number, number] {
  let s0 = 0;
  let s1 = 0;
  const n = v.length;
  for (let i = 0; i < n; i++) {
    s0 ^= v[i];
    s1 ^= mul(alphaPow(n - 1 - i), v[i]);
  }
  return [s0, s1];
}

// ---- EDC, bit by bit ----
/** The generator as a 33-bit number (bit k = coefficient of x^k), multiplied out here. */
function edcGenerator(): bigint {
  const a = (1n << 16n) | (1n << 15n) | (1n << 2n) | 1n;
  const b = (1n << 16n) | (1n << 2n) | (1n << 1n) | 1n;
  let p = 0n;
  for (let k = 0n; k <= 16n; k++) if ((b >> k) & 1n) p ^= a << k;
  return p;
}
const GEN = edcGenerator();
/** Bit-reversed 32 low coefficients: the register shifts right because data enters least significant bit first. */
const GEN_REFLECTED = (() => {
  let r = 0;
  for (let k = 0; k < 32; k++) if ((GEN >> BigInt(k)) & 1n) r |= 1 << (31 - k);
  return r >>> 0;
})();

export function edcBitwise(buf: Uint8Array, start: number, end: number): number {
  let reg = 0;
  for (let i = start; i < end; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const inBit = (buf[i] >> bit) & 1;
      const fb = (reg ^ inBit) & 1;
      reg = reg >>> 1;
      if (fb) reg = (reg ^ GEN_REFLECTED) >>> 0;
    }
  }
  return reg >>> 0;
}

function storedEdc(buf: Uint8Array, off: number): number {
  return (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
}

// ---- scrambler ----
export function scrambleBytes(): Uint8Array {
  const out = new Uint8Array(2340);
  let reg = 0x0001; // 15 bits, preset 000000000000001
  for (let i = 0; i < 2340; i++) {
    let byte = 0;
    for (let bit = 0; bit < 8; bit++) {
      const o = reg & 1; // output: the register's least significant stage
      byte |= o << bit;
      const fb = (reg & 1) ^ ((reg >> 1) & 1); // x^15 + x + 1
      reg = (reg >> 1) | (fb << 14);
    }
    out[i] = byte;
  }
  return out;
}

// ---- the checks ----

export interface SectorCheck {
  ok: boolean;
  mode: number | 'audio';
  form?: 1 | 2;
  edc: boolean;
  p: boolean;
  q: boolean;
  header: boolean;
  problems: string[];
}

function word(sec: Uint8Array, n: number, plane: number, zeroHeader: boolean): number {
  const off = 12 + 2 * n + plane;
  if (zeroHeader && off < 16) return 0;
  return sec[off];
}

function checkParity(sec: Uint8Array, zeroHeader: boolean): { p: boolean; q: boolean } {
  let p = true;
  let q = true;
  for (let plane = 0; plane < 2; plane++) {
    for (let np = 0; np < 43; np++) {
      const v: number[] = [];
      for (let mp = 0; mp < 26; mp++) v.push(word(sec, 43 * mp + np, plane, zeroHeader));
      const [s0, s1] = syndromes(v);
      if (s0 || s1) p = false;
    }
    for (let nq = 0; nq < 26; nq++) {
      const v: number[] = [];
      for (let mq = 0; mq < 43; mq++) v.push(word(sec, (44 * mq + 43 * nq) % 1118, plane, zeroHeader));
      v.push(word(sec, 1118 + nq, plane, zeroHeader), word(sec, 1144 + nq, plane, zeroHeader));
      const [s0, s1] = syndromes(v);
      if (s0 || s1) q = false;
    }
  }
  return { p, q };
}

const SYNC = [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];

function bcdToInt(b: number): number {
  return (b >> 4) * 10 + (b & 15);
}

/**
 * Checks one unscrambled 2352-byte data sector. `lba`, when given, must match the header's address
 * (absolute frames − 150).
 */
export function checkDataSector(sec: Uint8Array, lba?: number): SectorCheck {
  const problems: string[] = [];
  for (let i = 0; i < 12; i++) if (sec[i] !== SYNC[i]) return { ok: false, mode: 'audio', edc: false, p: false, q: false, header: false, problems: ['no sync pattern'] };
  const mode = sec[15];
  const frames = (bcdToInt(sec[12]) * 60 + bcdToInt(sec[13])) * 75 + bcdToInt(sec[14]);
  const header = lba === undefined || frames - 150 === lba;
  if (!header) problems.push(`header address ${frames - 150}, expected ${lba}`);
  if (mode === 1) {
    const edc = edcBitwise(sec, 0, 2064) === storedEdc(sec, 2064);
    if (!edc) problems.push('EDC mismatch');
    let zero = true;
    for (let i = 2068; i < 2076; i++) if (sec[i]) zero = false;
    if (!zero) problems.push('intermediate field not zero');
    const { p, q } = checkParity(sec, false);
    if (!p) problems.push('P parity mismatch');
    if (!q) problems.push('Q parity mismatch');
    return { ok: edc && p && q && zero && header, mode, edc, p, q, header, problems };
  }
  if (mode === 2) {
    for (let i = 0; i < 4; i++) if (sec[16 + i] !== sec[20 + i]) problems.push('the two subheader copies differ');
    const form2 = (sec[18] & 0x20) !== 0;
    if (form2) {
      const stored = storedEdc(sec, 2348);
      const edc = stored === 0 || edcBitwise(sec, 16, 2348) === stored;
      if (!edc) problems.push('EDC mismatch');
      return { ok: edc && header && problems.length === 0, mode, form: 2, edc, p: true, q: true, header, problems };
    }
    const edc = edcBitwise(sec, 16, 2072) === storedEdc(sec, 2072);
    if (!edc) problems.push('EDC mismatch');
    const { p, q } = checkParity(sec, true);
    if (!p) problems.push('P parity mismatch');
    if (!q) problems.push('Q parity mismatch');
    return { ok: edc && p && q && header && problems.length === 0, mode, form: 1, edc, p, q, header, problems };
  }
  return { ok: false, mode, edc: false, p: false, q: false, header, problems: [`mode byte ${mode}`] };
}

// ---- Q sub-channel CRC (IEC 60908 17.5.2): x^16 + x^12 + x^5 + 1 over 80 bits, inverted ----
export function qCrcOk(q: Uint8Array): boolean {
  let reg = 0;
  for (let i = 0; i < 10; i++) {
    for (let bit = 7; bit >= 0; bit--) {
      const inBit = (q[i] >> bit) & 1;
      const fb = ((reg >> 15) & 1) ^ inBit;
      reg = (reg << 1) & 0xffff;
      if (fb) reg ^= 0x1021;
    }
  }
  const stored = ((q[10] << 8) | q[11]) ^ 0xffff;
  return reg === stored;
}

/** CRC of an 18-byte CD-TEXT pack (same polynomial, over bytes 0..15, inverted). */
export function packCrcOk(p: Uint8Array): boolean {
  let reg = 0;
  for (let i = 0; i < 16; i++) {
    for (let bit = 7; bit >= 0; bit--) {
      const fb = ((reg >> 15) & 1) ^ ((p[i] >> bit) & 1);
      reg = (reg << 1) & 0xffff;
      if (fb) reg ^= 0x1021;
    }
  }
  return reg === (((p[16] << 8) | p[17]) ^ 0xffff);
}
