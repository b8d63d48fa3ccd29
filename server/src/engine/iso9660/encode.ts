/** Field encodings of ECMA-119 (7.1–7.3 numbers, 8.4.26.1 / 9.1.5 dates, 7.4 character sets). */

export const SECTOR = 2048;

/** 7.2.3 / 7.3.3: both-byte-order 16- and 32-bit numbers. */
export function both16(b: Buffer, off: number, v: number): void {
  b.writeUInt16LE(v, off);
  b.writeUInt16BE(v, off + 2);
}
export function both32(b: Buffer, off: number, v: number): void {
  b.writeUInt32LE(v >>> 0, off);
  b.writeUInt32BE(v >>> 0, off + 4);
}

/** 9.1.5: seven-byte recording date: years since 1900, month, day, hour, minute, second, GMT offset (15 min). */
let lastDate7 = { ms: NaN, bytes: Buffer.alloc(7) };

export function date7(b: Buffer, off: number, ms: number): void {
  // Most records of an image share one time (volume.created): encode it once.
  if (ms === lastDate7.ms) {
    lastDate7.bytes.copy(b, off);
    return;
  }
  const d = new Date(ms);
  const year = Math.min(Math.max(d.getUTCFullYear() - 1900, 0), 255);
  b[off] = year;
  b[off + 1] = d.getUTCMonth() + 1;
  b[off + 2] = d.getUTCDate();
  b[off + 3] = d.getUTCHours();
  b[off + 4] = d.getUTCMinutes();
  b[off + 5] = d.getUTCSeconds();
  b[off + 6] = 0;
  lastDate7 = { ms, bytes: Buffer.from(b.subarray(off, off + 7)) };
}

/** 8.4.26.1: seventeen-byte volume date "YYYYMMDDHHMMSScc" + GMT offset; `undefined` = not specified. */
export function date17(b: Buffer, off: number, ms: number | undefined): void {
  if (ms === undefined) {
    b.write('0000000000000000', off, 'latin1');
    b[off + 16] = 0;
    return;
  }
  const d = new Date(ms);
  const p = (n: number, w: number) => String(n).padStart(w, '0');
  const s =
    p(Math.min(Math.max(d.getUTCFullYear(), 1), 9999), 4) + p(d.getUTCMonth() + 1, 2) + p(d.getUTCDate(), 2) +
    p(d.getUTCHours(), 2) + p(d.getUTCMinutes(), 2) + p(d.getUTCSeconds(), 2) + p(Math.floor(d.getUTCMilliseconds() / 10), 2);
  b.write(s, off, 'latin1');
  b[off + 16] = 0;
}

/** 7.4.1 a-characters; lower case is mapped to upper case, anything else to `_`. */
export function aChars(s: string): string {
  return s.toUpperCase().replace(/[^A-Z0-9_ !"%&'()*+,\-./:;<=>?]/g, '_');
}

/** 7.4.1 d-characters: A-Z 0-9 _. */
export function dChars(s: string): string {
  return s.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/** Writes a space-padded (0x20) fixed-width field in latin1. */
export function padField(b: Buffer, off: number, width: number, s: string): void {
  b.fill(0x20, off, off + width);
  b.write(s.slice(0, width), off, 'latin1');
}

/** UCS-2 big-endian (Joliet); surrogate pairs stay as two code units, as Windows writes them. */
export function ucs2be(s: string): Buffer {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2);
  return b;
}

/** Writes a UCS-2 BE fixed-width field padded with U+0020 (Joliet SVD identifiers). */
export function padFieldUcs2(b: Buffer, off: number, width: number, s: string): void {
  for (let i = 0; i + 1 < width; i += 2) b.writeUInt16BE(0x0020, off + i);
  if (width % 2) b[off + width - 1] = 0;
  ucs2be(s.slice(0, Math.floor(width / 2))).copy(b, off);
}
