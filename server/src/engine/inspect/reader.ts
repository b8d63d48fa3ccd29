/**
 * Positional, bounded reads from an image file. Never loads the whole image: every read names an offset and a
 * length, is clamped to the file, and small sector reads go through a little LRU cache (directory records and
 * SUSP continuation areas are read many times over).
 */
import type { FileHandle } from 'node:fs/promises';

export const SECTOR = 2048;

export class ImageReader {
  private readonly cache = new Map<number, Buffer>();
  private static readonly CACHE_SECTORS = 512;

  constructor(
    private readonly fh: FileHandle,
    /** File name used in messages. */
    readonly name: string,
    readonly size: number,
  ) {}

  /** Reads up to `length` bytes at `offset`; returns fewer when the file ends first (never throws for that). */
  async read(offset: number, length: number): Promise<Buffer> {
    if (offset >= this.size || length <= 0) return Buffer.alloc(0);
    const n = Math.min(length, this.size - offset);
    const buf = Buffer.alloc(n);
    let done = 0;
    while (done < n) {
      const { bytesRead } = await this.fh.read(buf, done, n - done, offset + done);
      if (bytesRead === 0) break; // the file shrank under us
      done += bytesRead;
    }
    return done === n ? buf : buf.subarray(0, done);
  }

  /** One 2048-byte sector (shorter at the end of the file, empty past it), cached. */
  async sector(index: number): Promise<Buffer> {
    const hit = this.cache.get(index);
    if (hit) {
      this.cache.delete(index);
      this.cache.set(index, hit);
      return hit;
    }
    const buf = await this.read(index * SECTOR, SECTOR);
    this.cache.set(index, buf);
    if (this.cache.size > ImageReader.CACHE_SECTORS) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return buf;
  }

  /** Bytes at an arbitrary offset assembled from cached sectors (for small areas: CE continuation areas). */
  async bytes(offset: number, length: number): Promise<Buffer> {
    if (length > 4 * SECTOR) return this.read(offset, length);
    const parts: Buffer[] = [];
    let pos = offset;
    const end = Math.min(offset + length, this.size);
    while (pos < end) {
      const s = Math.floor(pos / SECTOR);
      const sec = await this.sector(s);
      const from = pos - s * SECTOR;
      if (from >= sec.length) break;
      const to = Math.min(sec.length, end - s * SECTOR);
      parts.push(sec.subarray(from, to));
      pos = s * SECTOR + to;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}
