/**
 * The image output: a buffered, position-checked byte sink that streams file data straight from the
 * sources (no temporary copies). Blocks of zeros are skipped (seek instead of write) so that sparse
 * inputs give sparse images; the file is truncated to the planned size at the end.
 * Synchronous I/O in big chunks is used on purpose: it is several times faster than the promise API for
 * many small files; the loop yields to the event loop regularly so progress and cancellation work.
 */
import * as fs from 'node:fs';
import type { FileNode } from '../model';
import { CancelledError, InputError } from '../util/errors';

const CHUNK = 2 * 1024 * 1024;
const ZERO = Buffer.alloc(CHUNK);
const YIELD_EVERY_MS = 50;

export interface SinkOptions {
  signal?: AbortSignal;
  /** Called with the number of bytes written so far (throttled by the caller). */
  onBytes?: (written: number) => void;
  /** Skip writing all-zero chunks (output must be a fresh regular file). */
  sparse?: boolean;
}

/**
 * What the layout's writers write into: a position-checked byte stream. `ImageSink` writes a file; the burn
 * engine's sinks send the same stream to a recorder (WRITE commands) or compare it with a disc (verification).
 */
export interface Sink {
  /** Byte position of the next byte, relative to the image's first block. */
  readonly pos: number;
  write(data: Buffer): void;
  zeros(count: number): void;
  /** Pads with zeros to the next multiple of `block`. */
  pad(block: number): void;
  /** Streams a source file; its size and modification time must still be what was planned. */
  copyFile(file: FileNode): Promise<void>;
  /** Lets the event loop run (progress, cancellation) now and then. */
  checkpoint(): Promise<void>;
}

export class ImageSink implements Sink {
  /** Absolute byte position of the next byte. */
  pos = 0;
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  /** File position of buf[0]. */
  private bufStart = 0;
  private lastYield = Date.now();

  constructor(private readonly fd: number, private readonly opts: SinkOptions = {}) {}

  private flush(): void {
    if (this.used === 0) return;
    const zero = this.opts.sparse && this.buf.compare(ZERO, 0, this.used, 0, this.used) === 0;
    if (!zero) {
      let off = 0;
      while (off < this.used) off += fs.writeSync(this.fd, this.buf, off, this.used - off, this.bufStart + off);
    }
    this.bufStart += this.used;
    this.used = 0;
  }

  /** Lets the event loop run (progress events, cancellation) now and then. */
  async checkpoint(): Promise<void> {
    if (this.opts.signal?.aborted) throw new CancelledError('the build was cancelled');
    const now = Date.now();
    if (now - this.lastYield < YIELD_EVERY_MS) return;
    this.lastYield = now;
    this.opts.onBytes?.(this.pos);
    await new Promise<void>((r) => setImmediate(r));
    if (this.opts.signal?.aborted) throw new CancelledError('the build was cancelled');
  }

  write(data: Buffer): void {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(CHUNK - this.used, data.length - off);
      data.copy(this.buf, this.used, off, off + n);
      this.used += n;
      off += n;
      if (this.used === CHUNK) this.flush();
    }
    this.pos += data.length;
  }

  zeros(count: number): void {
    while (count > 0) {
      const n = Math.min(CHUNK - this.used, count);
      this.buf.fill(0, this.used, this.used + n);
      this.used += n;
      count -= n;
      this.pos += n;
      if (this.used === CHUNK) this.flush();
    }
  }

  /** Pads with zeros to the next multiple of `block`. */
  pad(block: number): void {
    const r = this.pos % block;
    if (r) this.zeros(block - r);
  }

  /**
   * Streams a source file into the image. Its size and modification time must still be what was planned:
   * a file that changes during the build aborts it (never a silently inconsistent image).
   */
  async copyFile(file: FileNode): Promise<void> {
    let fd: number;
    try {
      fd = fs.openSync(file.source, 'r');
    } catch (err) {
      throw new InputError(`cannot read ${file.source}: ${(err as Error).message}`);
    }
    try {
      const before = fs.fstatSync(fd);
      if (before.size !== file.size || before.mtimeMs !== file.mtimeMs) {
        throw new InputError(`${file.source} changed during the build (size ${file.size} → ${before.size}); build again`);
      }
      let remaining = file.size;
      let filePos = 0;
      while (remaining > 0) {
        const want = Math.min(CHUNK - this.used, remaining);
        const n = fs.readSync(fd, this.buf, this.used, want, filePos);
        if (n === 0) throw new InputError(`${file.source} became shorter during the build; build again`);
        this.used += n;
        this.pos += n;
        filePos += n;
        remaining -= n;
        if (this.used === CHUNK) {
          this.flush();
          await this.checkpoint();
        }
      }
      const after = fs.fstatSync(fd);
      if (after.size !== file.size || after.mtimeMs !== file.mtimeMs) {
        throw new InputError(`${file.source} changed during the build; build again`);
      }
    } finally {
      fs.closeSync(fd);
    }
    await this.checkpoint();
  }

  /** Flushes and sets the file's length to exactly what was written (zero tails may have been skipped). */
  finish(truncate: boolean): void {
    this.flush();
    if (truncate) fs.ftruncateSync(this.fd, this.pos);
  }
}
