/**
 * Sinks that take the planned image's byte stream (the same `Sink` the image writers write a file through) and
 * send it to a recorder instead of a file: DriveSink issues WRITE (10) commands of whole blocks at the disc
 * address the image starts at; VerifySink reads the same addresses back and compares. No temporary image:
 * file data goes from the sources through one staging buffer to the drive.
 */
import * as fs from 'node:fs';
import type { FileNode } from '../model';
import type { Sink } from '../image/sink';
import { CancelledError, InputError } from '../util/errors';
import { MmcDevice, ScsiError } from './device';

export const SECTOR = 2048;

function readAsync(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
}
const YIELD_EVERY_MS = 50;

export interface StreamSinkOptions {
  /** Disc address of the stream's first block. */
  startLba: number;
  /** Bytes per command (a multiple of the medium's write unit). */
  chunkBytes: number;
  signal?: AbortSignal;
  /** Called after each chunk reached the drive (bytes of the stream done). */
  onChunk?: (done: number) => Promise<void> | void;
}

/** Stages the stream in chunk-aligned buffers and hands each full chunk to `consume`. */
export abstract class StreamSink implements Sink {
  pos = 0;
  /** Bytes handed to `consume` so far. */
  done = 0;
  private stage: Buffer;
  /** The second staging buffer of copyFile's read-ahead (allocated on first use). */
  private other: Buffer | undefined;
  private used = 0;
  private readonly pending: Buffer[] = [];
  private lastYield = Date.now();

  constructor(protected readonly opts: StreamSinkOptions) {
    if (opts.chunkBytes % SECTOR !== 0 || opts.chunkBytes <= 0) throw new Error(`internal: chunk of ${opts.chunkBytes} bytes`);
    this.stage = Buffer.allocUnsafe(opts.chunkBytes);
  }

  /** Handles one chunk that starts at stream byte `offset` (a multiple of 2048). */
  protected abstract consume(offset: number, data: Buffer): Promise<void>;

  private queueFull(): void {
    // Called from synchronous write()/zeros(): keep a copy, send it at the next await point.
    this.pending.push(Buffer.from(this.stage));
    this.used = 0;
  }

  private async drain(): Promise<void> {
    while (this.pending.length) {
      const chunk = this.pending.shift()!;
      await this.send(chunk);
    }
  }

  private async send(chunk: Buffer): Promise<void> {
    const offset = this.done;
    await this.consume(offset, chunk);
    this.done += chunk.length;
    await this.opts.onChunk?.(this.done);
  }

  write(data: Buffer): void {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(this.stage.length - this.used, data.length - off);
      data.copy(this.stage, this.used, off, off + n);
      this.used += n;
      off += n;
      if (this.used === this.stage.length) this.queueFull();
    }
    this.pos += data.length;
  }

  zeros(count: number): void {
    while (count > 0) {
      const n = Math.min(this.stage.length - this.used, count);
      this.stage.fill(0, this.used, this.used + n);
      this.used += n;
      count -= n;
      this.pos += n;
      if (this.used === this.stage.length) this.queueFull();
    }
  }

  pad(block: number): void {
    const r = this.pos % block;
    if (r) this.zeros(block - r);
  }

  async checkpoint(): Promise<void> {
    if (this.opts.signal?.aborted) throw new CancelledError('the burn was cancelled');
    await this.drain();
    const now = Date.now();
    if (now - this.lastYield < YIELD_EVERY_MS) return;
    this.lastYield = now;
    await new Promise<void>((r) => setImmediate(r));
    if (this.opts.signal?.aborted) throw new CancelledError('the burn was cancelled');
  }

  /**
   * Streams a source file. It must still have the planned size and modification time: a file that changed
   * since planning aborts before any of its bytes are sent.
   */
  async copyFile(file: FileNode): Promise<void> {
    await this.checkpoint();
    let fd: number;
    try {
      fd = fs.openSync(file.source, 'r');
    } catch (err) {
      throw new InputError(`cannot read ${file.source}: ${(err as Error).message}`);
    }
    try {
      const before = fs.fstatSync(fd);
      if (before.size !== file.size || before.mtimeMs !== file.mtimeMs) {
        throw new InputError(`${file.source} changed since the image was planned (size ${file.size} → ${before.size}); nothing of it was written: plan again`);
      }
      // Two staging buffers: the next chunk is read on the libuv pool while the drive takes the full one (the
      // source's reads overlap the drive's writes or, when verifying, its reads).
      let remaining = file.size;
      let filePos = 0;
      const readAt = (buf: Buffer, off: number) => readAsync(fd, buf, off, Math.min(buf.length - off, remaining), filePos);
      let reading: Promise<number> | undefined = remaining > 0 ? readAt(this.stage, this.used) : undefined;
      while (reading) {
        const n = await reading;
        reading = undefined;
        if (n === 0) throw new InputError(`${file.source} became shorter while it was being written`);
        this.used += n;
        this.pos += n;
        filePos += n;
        remaining -= n;
        if (this.used === this.stage.length) {
          const full = this.stage;
          this.other ??= Buffer.allocUnsafe(full.length);
          this.stage = this.other;
          this.other = full;
          this.used = 0;
          if (remaining > 0) reading = readAt(this.stage, 0);
          try {
            await this.send(full);
          } catch (e) {
            await reading?.catch(() => undefined); // no read left writing into a buffer after the error
            throw e;
          }
          if (this.opts.signal?.aborted) {
            await reading?.catch(() => undefined);
            throw new CancelledError('the burn was cancelled');
          }
        } else if (remaining > 0) reading = readAt(this.stage, this.used);
      }
      const after = fs.fstatSync(fd);
      if (after.size !== file.size || after.mtimeMs !== file.mtimeMs) throw new InputError(`${file.source} changed while it was being written`);
    } finally {
      fs.closeSync(fd);
    }
    await this.checkpoint();
  }

  /** Sends what is left (the stream ends on a block boundary; a partial block is padded). */
  async finish(): Promise<void> {
    await this.drain();
    if (this.used > 0) {
      const rest = Math.ceil(this.used / SECTOR) * SECTOR;
      this.stage.fill(0, this.used, rest);
      const last = this.stage.subarray(0, rest);
      this.used = 0;
      await this.send(last);
    }
  }
}

/** A WRITE failed at a disc address. */
export class WriteFailure extends Error {
  constructor(message: string, readonly lba: number, readonly scsi: ScsiError) {
    super(message);
    this.name = 'WriteFailure';
  }
}

/** Sends the stream to the drive: WRITE (10) at startLba + offset / 2048 (MMC-6 "WRITE (10)"). */
export class DriveSink extends StreamSink {
  constructor(private readonly dev: MmcDevice, opts: StreamSinkOptions) {
    super(opts);
  }

  protected async consume(offset: number, data: Buffer): Promise<void> {
    const lba = this.opts.startLba + offset / SECTOR;
    try {
      await this.dev.write(lba, data);
    } catch (e) {
      if (e instanceof ScsiError) {
        const at = e.sense?.information ?? lba;
        throw new WriteFailure(`writing blocks ${lba}–${lba + data.length / SECTOR - 1} failed at block ${at}: ${e.message}`, at, e);
      }
      throw e;
    }
  }
}

/** Verification found a difference, or could not read a block. */
export class VerifyFailure extends Error {
  constructor(message: string, readonly lba: number) {
    super(message);
    this.name = 'VerifyFailure';
  }
}

/**
 * Reads back the disc where the stream says what must be there and compares. `ranges` (stream byte ranges)
 * limits the comparison (quick verification); without it everything is compared (full verification).
 */
export class VerifySink extends StreamSink {
  bytesRead = 0;

  constructor(private readonly dev: MmcDevice, opts: StreamSinkOptions, private readonly ranges?: [number, number][]) {
    super(opts);
  }

  protected async consume(offset: number, data: Buffer): Promise<void> {
    const end = offset + data.length;
    const parts: [number, number][] = [];
    if (!this.ranges) parts.push([offset, end]);
    else {
      for (const [a, b] of this.ranges) {
        const s = Math.max(a, offset);
        const e = Math.min(b, end);
        if (s < e) parts.push([s, e]);
      }
    }
    for (const [s, e] of parts) {
      const firstBlock = Math.floor(s / SECTOR);
      const lastBlock = Math.ceil(e / SECTOR);
      const lba = this.opts.startLba + firstBlock;
      let disc: Buffer;
      try {
        disc = await this.dev.read(lba, lastBlock - firstBlock);
      } catch (err) {
        if (err instanceof ScsiError) {
          const at = err.sense?.information ?? lba;
          throw new VerifyFailure(`verification failed: block ${at} cannot be read back: ${err.message}`, at);
        }
        throw err;
      }
      this.bytesRead += disc.length;
      const want = data.subarray(s - offset, e - offset);
      const got = disc.subarray(s - firstBlock * SECTOR, s - firstBlock * SECTOR + want.length);
      if (!want.equals(got)) {
        let i = 0;
        while (i < want.length && want[i] === got[i]) i++;
        const bad = this.opts.startLba + Math.floor((s + i) / SECTOR);
        throw new VerifyFailure(`verification failed: block ${bad} on the disc differs from the image (first difference at byte ${(s + i) % SECTOR} of the block)`, bad);
      }
    }
  }
}
