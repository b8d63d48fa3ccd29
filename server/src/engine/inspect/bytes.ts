/**
 * Field decoders for ISO 9660 structures (ECMA-119 7.x "recording of numerical values" and 8.4.26.1 / 9.1.5
 * dates). Pure functions over Buffers; no I/O.
 */
import { isUtf8 } from 'node:buffer';

/** ECMA-119 7.2.3: 16-bit both-byte orders (LE then BE). Returns the LE value and whether the BE copy agrees. */
export function both16(b: Buffer, off: number): { value: number; consistent: boolean } {
  const le = b.readUInt16LE(off);
  return { value: le, consistent: le === b.readUInt16BE(off + 2) };
}

/** ECMA-119 7.3.3: 32-bit both-byte orders (LE then BE). */
export function both32(b: Buffer, off: number): { value: number; consistent: boolean } {
  const le = b.readUInt32LE(off);
  return { value: le, consistent: le === b.readUInt32BE(off + 4) };
}

/** ECMA-119 8.4.26.1: 17-byte "dec-datetime" (16 digits YYYYMMDDHHMMSScc + signed offset in 15-minute units). */
export function decDateTime(b: Buffer, off: number): string | null {
  const digits = b.toString('latin1', off, off + 16);
  const tz = b.readInt8(off + 16);
  // "Not specified" is all '0' digits (or, in practice, all zero bytes / spaces) with a zero offset.
  if (!/^\d{16}$/.test(digits)) return null;
  if (/^0{16}$/.test(digits)) return null;
  const year = Number(digits.slice(0, 4));
  const month = Number(digits.slice(4, 6));
  const day = Number(digits.slice(6, 8));
  const hour = Number(digits.slice(8, 10));
  const minute = Number(digits.slice(10, 12));
  const second = Number(digits.slice(12, 14));
  const hundredths = Number(digits.slice(14, 16));
  if (!validDate(year, month, day, hour, minute, second) || tz < -48 || tz > 52) return null;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}.${pad(hundredths)}${offsetString(tz)}`;
}

/** ECMA-119 9.1.5: 7-byte recording date and time (years since 1900, month, day, hour, minute, second, offset). */
export function dirDateTime(b: Buffer, off: number): string | null {
  if (off + 7 > b.length) return null;
  const year = 1900 + b[off];
  const month = b[off + 1];
  const day = b[off + 2];
  const hour = b[off + 3];
  const minute = b[off + 4];
  const second = b[off + 5];
  const tz = b.readInt8(off + 6);
  if (b[off] === 0 && month === 0 && day === 0) return null; // not recorded
  if (!validDate(year, month, day, hour, minute, second) || tz < -48 || tz > 52) return null;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}${offsetString(tz)}`;
}

function validDate(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function offsetString(quarterHours: number): string {
  if (quarterHours === 0) return 'Z';
  const sign = quarterHours < 0 ? '-' : '+';
  const minutes = Math.abs(quarterHours) * 15;
  return `${sign}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** a-/d-characters (ECMA-119 7.4) padded with spaces: decode as Latin-1 and trim the padding. */
export function trimmedAscii(b: Buffer, off: number, len: number): string {
  return stripPadding(b.toString('latin1', off, off + len));
}

/** Joliet: identifiers are UCS-2 big-endian (Joliet spec, "Supplementary Volume Descriptor" fields). */
export function ucs2be(b: Buffer, off = 0, len = b.length - off): string {
  const even = len - (len % 2);
  const swapped = Buffer.allocUnsafe(even);
  for (let i = 0; i < even; i += 2) {
    swapped[i] = b[off + i + 1];
    swapped[i + 1] = b[off + i];
  }
  return swapped.toString('utf16le');
}

export function trimmedUcs2(b: Buffer, off: number, len: number): string {
  return stripPadding(ucs2be(b, off, len));
}

function stripPadding(s: string): string {
  return s.replace(/[\0 ]+$/u, '').replace(/^\0+/u, '');
}

/** Bytes that are valid UTF-8 decode as UTF-8, anything else as Latin-1 (never throws, never loses a byte). */
export function utf8OrLatin1(b: Buffer): string {
  return isUtf8(b) ? b.toString('utf8') : b.toString('latin1');
}

export function isAllZero(b: Buffer, start = 0, end = b.length): boolean {
  for (let i = start; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

/** Printable rendering of arbitrary bytes for messages: ASCII kept, the rest as \xNN. */
export function printable(b: Buffer): string {
  let s = '';
  for (const c of b) s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return s;
}
