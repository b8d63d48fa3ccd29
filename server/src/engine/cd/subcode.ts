/**
 * The sub-channels of a CD sector (ECMA-130 clause 22; IEC 60908 17.5): 96 bits per sector in each of the
 * channels P, Q, R, S, T, U, V, W.
 *
 *   P   1 during the pause before a track (index 0) and the 2 s before track 1; 2 Hz on/off in the lead-out.
 *   Q   80 data bits + CRC-16 (x^16 + x^12 + x^5 + 1, stored inverted):
 *       mode 1  CONTROL/ADR, TNO, INDEX, relative time (counting down to 0 in a pause), 0, absolute time (BCD)
 *       mode 2  the Media Catalogue Number (13 BCD digits) and the absolute frame
 *       mode 3  the ISRC (5 six-bit characters, 7 BCD digits) and the absolute frame
 *       Mode 2 and mode 3 each take one sector in every 100 (the standard asks at least one in 100; mode 1 in at
 *       least 9 of 10 consecutive sectors); never the first sector of a track or index, so the drive sees every
 *       transition in mode 1.
 *   R–W 6-bit symbols; CD-TEXT packs in the lead-in (./cdtext.ts), zero in the program area here.
 * Formats for images and MMC: raw interleaved P–W (96 bytes: byte i holds bit i of each channel, P in bit 7),
 * and "formatted Q" (16 bytes: the 12 Q bytes, 3 zero bytes, P in bit 7 of byte 15), the 2368-byte layout.
 */
import { bcd, LEAD_PREGAP, writeBcdMsf } from './msf';

// ---- CRC-16 (CCITT, as used by Q and CD-TEXT packs) ----

const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

export function crc16(buf: Uint8Array, start: number, end: number): number {
  let c = 0;
  for (let i = start; i < end; i++) c = ((c << 8) & 0xffff) ^ CRC_TABLE[((c >> 8) ^ buf[i]) & 0xff];
  return c;
}

/** Sets bytes 10..11 of a 12-byte Q block to the inverted CRC of bytes 0..9. */
export function setQCrc(q: Uint8Array, off = 0): void {
  const c = crc16(q, off, off + 10) ^ 0xffff;
  q[off + 10] = c >> 8;
  q[off + 11] = c & 0xff;
}

// ---- control field ----

export interface TrackFlags {
  data: boolean;
  /** Digital copy permitted (DCP). */
  copy: boolean;
  preEmphasis: boolean;
  /** SCMS "copy once": the copy bit alternates (on for 4 sectors, off for 4: 9.375 Hz, IEC 60908 17.5.1). */
  copyOnce?: boolean;
}

export function controlNibble(f: TrackFlags, frame = 0): number {
  const copyBit = f.copyOnce ? (Math.floor(frame / 4) & 1) === 0 : f.copy;
  return (f.data ? 0x4 : 0) | (copyBit ? 0x2 : 0) | (f.preEmphasis ? 0x1 : 0);
}

// ---- Q encoders ----

/** Mode 1 (position). `relative` counts frames from index 1 (negative in the pause: encoded as its magnitude). */
export function qPosition(q: Uint8Array, control: number, track: number, index: number, relative: number, absoluteLba: number): void {
  q[0] = (control << 4) | 1;
  q[1] = bcd(track);
  q[2] = bcd(index);
  writeBcdMsf(q, 3, Math.abs(relative));
  q[6] = 0;
  writeBcdMsf(q, 7, absoluteLba + LEAD_PREGAP);
  setQCrc(q);
}

/** Mode 2: Media Catalogue Number (13 digits). */
export function qMcn(q: Uint8Array, control: number, mcn: string, absoluteLba: number): void {
  q.fill(0, 0, 12);
  q[0] = (control << 4) | 2;
  for (let i = 0; i < 13; i++) {
    const d = mcn.charCodeAt(i) - 48;
    const byte = 1 + (i >> 1);
    q[byte] |= i & 1 ? d : d << 4;
  }
  q[9] = bcd((absoluteLba + LEAD_PREGAP) % 75);
  setQCrc(q);
}

function isrcChar(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48; // '0'..'9' → 00h..09h
  return code - 65 + 0x11; // 'A'..'Z' → 11h..2Ah
}

/** Mode 3: ISRC (CCOOOYYNNNNN). */
export function qIsrc(q: Uint8Array, control: number, isrc: string, absoluteLba: number): void {
  q.fill(0, 0, 12);
  q[0] = (control << 4) | 3;
  // 5 × 6 bits, 2 zero bits, 7 × 4 bits, 4 zero bits = 64 bits in bytes 1..8.
  let acc = 0n;
  for (let i = 0; i < 5; i++) acc = (acc << 6n) | BigInt(isrcChar(isrc[i]));
  acc <<= 2n;
  for (let i = 5; i < 12; i++) acc = (acc << 4n) | BigInt(isrc.charCodeAt(i) - 48);
  acc <<= 4n;
  for (let i = 7; i >= 0; i--) {
    q[1 + i] = Number(acc & 0xffn);
    acc >>= 8n;
  }
  q[9] = bcd((absoluteLba + LEAD_PREGAP) % 75);
  setQCrc(q);
}

// ---- P–W packing ----

/**
 * Interleaves P (all 96 bits equal to `p`), Q (12 bytes) and R–W (96 six-bit symbols, or none) into the raw
 * 96-byte P–W layout at out[off..off+96].
 */
export function interleave(out: Uint8Array, off: number, p: boolean, q: Uint8Array, rw?: Uint8Array): void {
  const pBit = p ? 0x80 : 0;
  for (let i = 0; i < 96; i++) {
    const qBit = (q[i >> 3] >> (7 - (i & 7))) & 1;
    out[off + i] = pBit | (qBit << 6) | (rw ? rw[i] & 0x3f : 0);
  }
}

/** The 16-byte formatted Q (+P) layout of the 2368-byte sectors (MMC "P-Q sub-channel", data block type 2). */
export function formattedQ(out: Uint8Array, off: number, p: boolean, q: Uint8Array): void {
  out.set(q.subarray(0, 12), off);
  out[off + 12] = 0;
  out[off + 13] = 0;
  out[off + 14] = 0;
  out[off + 15] = p ? 0x80 : 0;
}

/** Extracts Q (12 bytes) and P from raw interleaved P–W. */
export function deinterleaveQ(raw: Uint8Array, off: number): { p: boolean; q: Uint8Array; rw: Uint8Array } {
  const q = new Uint8Array(12);
  const rw = new Uint8Array(96);
  let pCount = 0;
  for (let i = 0; i < 96; i++) {
    const b = raw[off + i];
    if (b & 0x80) pCount++;
    if (b & 0x40) q[i >> 3] |= 0x80 >> (i & 7);
    rw[i] = b & 0x3f;
  }
  return { p: pCount > 48, q, rw };
}
