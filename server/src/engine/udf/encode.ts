/**
 * Field encodings of ECMA-167 (3rd edition) as profiled by OSTA UDF: descriptor tags with their checksum and
 * CRC (3/7.2), timestamps (1/7.3), character set specifications and d-strings in OSTA CS0 (1/7.2.1, 1/7.2.12,
 * UDF 2.1.1–2.1.3), entity identifiers (1/7.4, UDF 2.1.5), extent and allocation descriptors (3/7.1, 4/14.14).
 * Shared by the writer and by `discforge inspect`.
 */

export const BLOCK = 2048;

// ---- CRC-ITU-T (ECMA-167 3/7.2.6: x^16 + x^12 + x^5 + 1, initial value 0, no reflection) ----

const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 8;
    for (let j = 0; j < 8; j++) r = ((r << 1) ^ (r & 0x8000 ? 0x1021 : 0)) & 0xffff;
    t[i] = r;
  }
  return t;
})();

export function crcItu(b: Buffer, start = 0, end = b.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >> 8) ^ b[i]) & 0xff]) & 0xffff;
  return crc;
}

/** 3/7.2.3: the sum of bytes 0–3 and 5–15 of a tag, modulo 256. */
export function tagChecksum(b: Buffer, off = 0): number {
  let s = 0;
  for (let i = 0; i < 16; i++) if (i !== 4) s += b[off + i];
  return s & 0xff;
}

/** Tag identifiers (3/7.2.1, 4/7.2.1). */
export const TAG = {
  PVD: 1, AVDP: 2, VDP: 3, IUVD: 4, PD: 5, LVD: 6, USD: 7, TD: 8, LVID: 9,
  FSD: 256, FID: 257, AED: 258, IE: 259, TE: 260, FE: 261, EAHD: 262, USE: 263, SBD: 264, PIE: 265, EFE: 266,
} as const;

/**
 * Fills in a descriptor tag at `off` (3/7.2): identifier, version (2 for NSR02, 3 for NSR03), serial number,
 * CRC over the `length - 16` bytes after the tag, location, and last the checksum.
 */
export function finishTag(b: Buffer, off: number, id: number, version: number, location: number, length: number, serial = 1): void {
  b.writeUInt16LE(id, off);
  b.writeUInt16LE(version, off + 2);
  b[off + 5] = 0;
  b.writeUInt16LE(serial, off + 6);
  const crcLen = length - 16;
  b.writeUInt16LE(crcItu(b, off + 16, off + 16 + crcLen), off + 8);
  b.writeUInt16LE(crcLen, off + 10);
  b.writeUInt32LE(location >>> 0, off + 12);
  b[off + 4] = tagChecksum(b, off);
}

// ---- timestamps (1/7.3) ----

/** 1/7.3: a timestamp in UTC (type 1 = local time, offset 0 minutes), with centi-, hundreds-of-micro- and microseconds. */
export function timestamp(b: Buffer, off: number, ms: number): void {
  const d = new Date(ms);
  b.writeUInt16LE((1 << 12) | 0, off); // type 1, time zone offset 0
  b.writeInt16LE(Math.min(Math.max(d.getUTCFullYear(), 1), 9999), off + 2);
  b[off + 4] = d.getUTCMonth() + 1;
  b[off + 5] = d.getUTCDate();
  b[off + 6] = d.getUTCHours();
  b[off + 7] = d.getUTCMinutes();
  b[off + 8] = d.getUTCSeconds();
  const msPart = ((ms % 1000) + 1000) % 1000;
  const micros = Math.floor(msPart * 1000);
  b[off + 9] = Math.floor(micros / 10000);
  b[off + 10] = Math.floor((micros % 10000) / 100);
  b[off + 11] = micros % 100;
}

/** Reads a timestamp back as ms since the epoch (time zone applied when specified); undefined if invalid. */
export function readTimestamp(b: Buffer, off: number): number | undefined {
  const tz = b.readUInt16LE(off);
  const year = b.readInt16LE(off + 2);
  const month = b[off + 4];
  const day = b[off + 5];
  if (year === 0 && month === 0 && day === 0) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > 31 || b[off + 6] > 23 || b[off + 7] > 59 || b[off + 8] > 60) return undefined;
  let offsetMin = tz & 0x0fff;
  if (offsetMin & 0x800) offsetMin -= 0x1000;
  if (offsetMin === -2047 || (tz >> 12) !== 1) offsetMin = 0;
  const ms = Date.UTC(year, month - 1, day, b[off + 6], b[off + 7], b[off + 8]) + b[off + 9] * 10 + Math.floor((b[off + 10] * 100 + b[off + 11]) / 1000);
  return ms - offsetMin * 60000;
}

// ---- OSTA CS0 (UDF 2.1.1) ----

/** Whether a name can be recorded with 8-bit compression (every UTF-16 unit below 256). */
export function fitsCs0Bytes(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Length in bytes of `s` as OSTA compressed Unicode (compression ID included); 0 for the empty string. */
export function cs0Length(s: string): number {
  if (s.length === 0) return 0;
  return 1 + (fitsCs0Bytes(s) ? s.length : 2 * s.length);
}

/**
 * UDF 2.1.1: OSTA compressed Unicode. Compression ID 8 (one byte per character) when every character is
 * below U+0100, else 16 (big-endian UTF-16 code units; characters outside the BMP as surrogate pairs).
 */
export function cs0(s: string): Buffer {
  if (s.length === 0) return Buffer.alloc(0);
  if (fitsCs0Bytes(s)) {
    const b = Buffer.alloc(1 + s.length);
    b[0] = 8;
    for (let i = 0; i < s.length; i++) b[1 + i] = s.charCodeAt(i);
    return b;
  }
  const b = Buffer.alloc(1 + 2 * s.length);
  b[0] = 16;
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), 1 + 2 * i);
  return b;
}

/** Decodes OSTA CS0 bytes (compression ID first); `undefined` for an unknown compression ID. */
export function decodeCs0(b: Buffer): string | undefined {
  if (b.length === 0) return '';
  const id = b[0];
  if (id === 8 || id === 254) return b.subarray(1).toString('latin1');
  if (id === 16 || id === 255) {
    let s = '';
    for (let i = 1; i + 1 < b.length; i += 2) s += String.fromCharCode(b.readUInt16BE(i));
    return s;
  }
  return undefined;
}

/** Cuts `s` to at most `maxBytes` bytes of CS0, never in the middle of a surrogate pair. */
export function cutCs0(s: string, maxBytes: number): string {
  while (s.length > 0 && cs0Length(s) > maxBytes) {
    s = s.slice(0, -1);
    if (/[\ud800-\udbff]$/.test(s)) s = s.slice(0, -1);
  }
  return s;
}

/** 1/7.2.12: a d-string field of `width` bytes: CS0 characters, zero padding, the used length in the last byte. */
export function dstring(b: Buffer, off: number, width: number, s: string): void {
  b.fill(0, off, off + width);
  const enc = cs0(cutCs0(s, width - 1));
  enc.copy(b, off);
  b[off + width - 1] = enc.length;
}

export function readDstring(b: Buffer, off: number, width: number): string {
  const len = Math.min(b[off + width - 1], width - 1);
  return decodeCs0(b.subarray(off, off + len)) ?? '';
}

/** 1/7.2.1, UDF 2.1.2: charspec CS0 "OSTA Compressed Unicode". */
export function charspec(b: Buffer, off: number): void {
  b.fill(0, off, off + 64);
  b[off] = 0;
  b.write('OSTA Compressed Unicode', off + 1, 'latin1');
}

// ---- entity identifiers (1/7.4, UDF 2.1.5) ----

/** 1/7.4: flags (1), identifier (23), identifier suffix (8). */
export function regid(b: Buffer, off: number, id: string, suffix: Buffer | number[] = []): void {
  b.fill(0, off, off + 32);
  b.write(id.slice(0, 23), off + 1, 'latin1');
  Buffer.from(suffix).copy(b, off + 24, 0, 8);
}

export function readRegid(b: Buffer, off: number): { id: string; suffix: Buffer } {
  const raw = b.subarray(off + 1, off + 24);
  const end = raw.indexOf(0);
  return { id: raw.subarray(0, end < 0 ? raw.length : end).toString('latin1'), suffix: Buffer.from(b.subarray(off + 24, off + 32)) };
}

/** UDF 2.1.5.3 domain identifier suffix: UDF revision (BCD-like, e.g. 0x0201), domain flags. */
export function domainSuffix(revision: number, flags = 0): number[] {
  return [revision & 0xff, revision >> 8, flags, 0, 0, 0, 0, 0];
}

/** UDF 2.1.5.3 UDF identifier suffix: UDF revision, OS class, OS identifier. */
export function udfSuffix(revision: number): number[] {
  return [revision & 0xff, revision >> 8, 0, 0, 0, 0, 0, 0];
}

// ---- addresses (3/7.1, 4/7.1, 4/14.14) ----

export function extentAd(b: Buffer, off: number, length: number, location: number): void {
  b.writeUInt32LE(length >>> 0, off);
  b.writeUInt32LE(location >>> 0, off + 4);
}

/** 4/14.14.2 long_ad: extent length (type in the top 2 bits), lb_addr (block, partition reference), impUse (6). */
export function longAd(b: Buffer, off: number, length: number, block: number, partitionRef: number, uniqueId?: number): void {
  b.writeUInt32LE(length >>> 0, off);
  b.writeUInt32LE(block >>> 0, off + 4);
  b.writeUInt16LE(partitionRef, off + 8);
  b.fill(0, off + 10, off + 16);
  // UDF 2.3.4.3: in a FID, the ICB's implementation use holds flags (2) and the UDF unique ID (4).
  if (uniqueId !== undefined) b.writeUInt32LE(uniqueId >>> 0, off + 12);
}

/** 4/14.14.1 short_ad: extent length (type in the top 2 bits), position (block in the ICB's partition). */
export function shortAd(b: Buffer, off: number, length: number, position: number): void {
  b.writeUInt32LE(length >>> 0, off);
  b.writeUInt32LE(position >>> 0, off + 4);
}

/** 4/14.14.1.1: extent type in the top two bits of an extent length. */
export const EXTENT_RECORDED = 0;
export const EXTENT_NEXT_AED = 3;

/** The largest extent an allocation descriptor can describe, in whole blocks: 2^30 − 1 bytes rounded down. */
export const MAX_AD_BYTES = 0x3ffff800;
