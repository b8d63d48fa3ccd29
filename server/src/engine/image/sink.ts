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
/** Files from this size on are copied through the read/write pipeline. */
const PIPE_MIN = 16 * 1024 * 1024;
const PIPE_CHUNK = 4 * 1024 * 1024;
const ZERO_PIPE = Buffer.alloc(PIPE_CHUNK);

const readAsync = (fd: number, buf: Buffer, off: number, len: number, pos: number) =>
  new Promise<number>((resolve, reject) => fs.read(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
const writeAsync = (fd: number, buf: Buffer, off: number, len: number, pos: number) =>
  new Promise<number>((resolve, reject) => fs.write(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));

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
      if (remaining >= PIPE_MIN) {
        // Large files: whole chunks through the two-buffer pipeline, the tail through the buffer below.
        this.flush();
        const piped = remaining - (remaining % PIPE_CHUNK);
        await this.pipelined(fd, file.source, piped);
        filePos += piped;
        remaining -= piped;
      }
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

  private pipeBuffers: [Buffer, Buffer] | undefined;

  /**
   * Copies `length` bytes (whole PIPE_CHUNKs) from the start of `fd` to the current position with reading and
   * writing overlapped: while chunk k is written (one libuv worker), chunk k+1 is read (another). The buffer
   * is empty on entry (flushed) and stays so.
   */
  private async pipelined(fd: number, source: string, length: number): Promise<void> {
    const bufs = (this.pipeBuffers ??= [Buffer.allocUnsafe(PIPE_CHUNK), Buffer.allocUnsafe(PIPE_CHUNK)]);
    const readChunk = async (buf: Buffer, at: number): Promise<void> => {
      let got = 0;
      while (got < PIPE_CHUNK) {
        const n = await readAsync(fd, buf, got, PIPE_CHUNK - got, at + got);
        if (n === 0) throw new InputError(`${source} became shorter during the build; build again`);
        got += n;
      }
    };
    const writeChunk = async (buf: Buffer, at: number): Promise<void> => {
      if (this.opts.sparse && buf.equals(ZERO_PIPE)) return;
      let done = 0;
      while (done < PIPE_CHUNK) done += await writeAsync(this.fd, buf, done, PIPE_CHUNK - done, at + done);
    };
    const start = this.pos;
    await readChunk(bufs[0], 0);
    let writing: Promise<void> | undefined;
    for (let k = 0, off = 0; off < length; k++, off += PIPE_CHUNK) {
      if (writing) await writing; // write k-1 has released the buffer chunk k+1 is read into
      writing = writeChunk(bufs[k & 1], start + off);
      // Keep the pending write observed, so that a failure is never an unhandled rejection.
      writing.catch(() => undefined);
      if (off + PIPE_CHUNK < length) await readChunk(bufs[(k + 1) & 1], off + PIPE_CHUNK);
      this.pos = start + off + PIPE_CHUNK;
      await this.checkpoint();
    }
    await writing;
    this.pos = start + length;
    this.bufStart = this.pos;
  }

  /** Flushes and sets the file's length to exactly what was written (zero tails may have been skipped). */
  finish(truncate: boolean): void {
    this.flush();
    if (truncate) fs.ftruncateSync(this.fd, this.pos);
  }
}
