/**
 * The BIN image of an audio or mixed-mode CD: every sector from LBA 0 to the lead-out, 2352 bytes of audio or raw
 * data sector, followed by 16 bytes of formatted P/Q or 96 bytes of raw P–W when the image carries sub-channels.
 * Audio streams from the decoders into the sectors (flat memory); a mixed-mode disc's data track is the data
 * image's 2048-byte blocks encoded as Mode 1 sectors with EDC/ECC.
 */
import * as fs from 'node:fs';
import type { FileNode } from '../model';
import type { Sink } from '../image/sink';
import { CancelledError, InputError } from '../util/errors';
import { SubcodeGenerator, type CdLayout } from '../cd/layout';
import { encodeMode1, SECTOR_RAW } from '../cd/sector';
import { SAMPLES_PER_FRAME } from '../cd/msf';
import { cdAudio } from './convert';
import { workerAudio } from './parallel';
import type { AudioInfo } from './probe';

/** A piece of the program's sample timeline: a source (trimmed) or silence. Positions are in 44.1 kHz frames. */
export interface Segment {
  /** First sample frame of the segment on the disc (LBA × 588 + offset). */
  at: number;
  frames: number;
  source?: { info: AudioInfo; skip: number; seed: number; track: number };
}

/** The 2048-byte image of a data track (any DiscImage: the ISO 9660/UDF writers). */
export interface DataImage {
  readonly blocks: number;
  write(sink: Sink): Promise<void>;
}

const BATCH = 588; // sectors per batch (~1.3 MiB of audio)
/** Tracks decoded ahead of the one being written (each on its own worker, each with a bounded read-ahead). */
const PREFETCH = 1;

/**
 * Wraps a sink: takes the 2048-byte blocks a data image writes and emits raw Mode 1 sectors (+ sub-channel) at
 * consecutive LBAs.
 */
class Mode1Sink implements Sink {
  pos = 0;
  private readonly block = Buffer.alloc(2048);
  private used = 0;
  private readonly sector: Buffer;
  constructor(private readonly out: Sink, private lba: number, private readonly sub: SubcodeGenerator, private readonly sectorSize: number) {
    this.sector = Buffer.alloc(sectorSize);
  }
  private emit(): void {
    encodeMode1(this.sector, this.lba, this.block, 0);
    if (this.sectorSize > SECTOR_RAW) this.sub.write(this.sector, SECTOR_RAW, this.lba);
    this.out.write(this.sector);
    this.lba++;
    this.used = 0;
  }
  write(data: Buffer): void {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(2048 - this.used, data.length - off);
      data.copy(this.block, this.used, off, off + n);
      this.used += n;
      off += n;
      if (this.used === 2048) this.emit();
    }
    this.pos += data.length;
  }
  zeros(count: number): void {
    while (count > 0) {
      const n = Math.min(2048 - this.used, count);
      this.block.fill(0, this.used, this.used + n);
      this.used += n;
      count -= n;
      this.pos += n;
      if (this.used === 2048) this.emit();
    }
  }
  pad(block: number): void {
    const r = this.pos % block;
    if (r) this.zeros(block - r);
  }
  async copyFile(file: FileNode): Promise<void> {
    const fd = fs.openSync(file.source, 'r');
    try {
      const st = fs.fstatSync(fd);
      if (st.size !== file.size || st.mtimeMs !== file.mtimeMs) throw new InputError(`${file.source} changed during the build; build again`);
      const buf = Buffer.allocUnsafe(1024 * 1024);
      let pos = 0;
      while (pos < file.size) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, file.size - pos), pos);
        if (n === 0) throw new InputError(`${file.source} became shorter during the build; build again`);
        this.write(buf.subarray(0, n));
        pos += n;
        await this.checkpoint();
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  checkpoint(): Promise<void> {
    return this.out.checkpoint();
  }
}

export class AudioDiscImage {
  readonly blocks: number;
  readonly bytes: number;
  constructor(
    readonly layout: CdLayout,
    readonly segments: Segment[],
    readonly data?: { image: DataImage; sectors: number },
  ) {
    this.blocks = layout.leadOut;
    this.bytes = layout.leadOut * layout.sectorSize;
  }

  /** Writes the whole BIN (LBA 0 to the lead-out). */
  async write(sink: Sink): Promise<void> {
    const L = this.layout;
    const size = L.sectorSize;
    const sub = new SubcodeGenerator(L);
    let lba = 0;
    if (this.data) {
      const ds = new Mode1Sink(sink, 0, sub, size);
      await this.data.image.write(ds);
      ds.pad(2048);
      // The rest of the data track (post-gap): Mode 1 sectors of zeros.
      const written = ds.pos / 2048;
      if (written > this.data.sectors) throw new Error(`internal: the data image wrote ${written} blocks, planned ${this.data.sectors}`);
      ds.zeros((this.data.sectors - written) * 2048);
      lba = this.data.sectors;
    }
    // Audio: fill batches of sectors from the segment timeline.
    const timeline = new Timeline(this.segments);
    try {
      await this.writeAudio(sink, timeline, lba, sub);
    } catch (e) {
      await timeline.abort();
      throw e;
    }
  }

  private async writeAudio(sink: Sink, timeline: Timeline, start: number, sub: SubcodeGenerator): Promise<void> {
    const L = this.layout;
    const size = L.sectorSize;
    const batch = Buffer.alloc(BATCH * SECTOR_RAW);
    const out = size === SECTOR_RAW ? undefined : Buffer.alloc(BATCH * size);
    let lba = start;
    while (lba < L.leadOut) {
      const n = Math.min(BATCH, L.leadOut - lba);
      const bytes = n * SECTOR_RAW;
      await timeline.fill(batch, lba * SAMPLES_PER_FRAME, n * SAMPLES_PER_FRAME);
      if (!out) sink.write(n === BATCH ? batch : batch.subarray(0, bytes));
      else {
        for (let i = 0; i < n; i++) {
          batch.copy(out, i * size, i * SECTOR_RAW, (i + 1) * SECTOR_RAW);
          sub.write(out, i * size + SECTOR_RAW, lba + i);
        }
        sink.write(out.subarray(0, n * size));
      }
      lba += n;
      await sink.checkpoint();
    }
    await timeline.finish();
  }
}

/** Pulls samples from the segments in disc order; gaps between segments are silence. */
class Timeline {
  private i = 0;
  private gen: AsyncGenerator<Buffer> | undefined;
  private pending: Buffer | undefined;
  /** Frames of the current segment still to skip (trim start) and already delivered. */
  private skip = 0;
  private delivered = 0;
  /** The next segments' decoders, started early (workers decode them while this one is written). */
  private prefetched = new Map<number, AsyncGenerator<Buffer> & { stop(): Promise<void> }>();

  constructor(private readonly segments: Segment[]) {}

  private async nextChunk(): Promise<Buffer | undefined> {
    if (this.pending?.length) {
      const p = this.pending;
      this.pending = undefined;
      return p;
    }
    const r = await this.gen!.next();
    return r.done ? undefined : r.value;
  }

  /** Fills buf with `frames` frames of the timeline starting at frame `at`. */
  async fill(buf: Buffer, at: number, frames: number): Promise<void> {
    let done = 0;
    while (done < frames) {
      const pos = at + done;
      const seg = this.segments[this.i];
      if (!seg || pos < seg.at) {
        // Silence until the next segment (or the end).
        const until = seg ? Math.min(seg.at, at + frames) : at + frames;
        buf.fill(0, done * 4, (until - at) * 4);
        done = until - at;
        continue;
      }
      if (pos >= seg.at + seg.frames) {
        await this.closeSegment();
        continue;
      }
      if (!seg.source) {
        const until = Math.min(seg.at + seg.frames, at + frames);
        buf.fill(0, done * 4, (until - at) * 4);
        done = until - at;
        continue;
      }
      if (!this.gen) {
        const pre = this.prefetched.get(this.i);
        this.prefetched.delete(this.i);
        this.gen = pre ?? workerAudio(seg.source.info) ?? cdAudio(seg.source.info, seg.source.seed);
        this.skip = seg.source.skip;
        this.delivered = 0;
        for (let k = this.i + 1; k <= this.i + PREFETCH && k < this.segments.length; k++) {
          const next = this.segments[k].source;
          if (!next || this.prefetched.has(k)) continue;
          const g = workerAudio(next.info);
          if (g) this.prefetched.set(k, g);
        }
      }
      const chunk = await this.nextChunk();
      if (!chunk) throw new InputError(`${seg.source.info.path}: the audio ended early (${this.delivered} of ${seg.frames} sample frames)`);
      let c = chunk;
      if (this.skip > 0) {
        const s = Math.min(this.skip, c.length / 4);
        this.skip -= s;
        c = c.subarray(s * 4);
        if (c.length === 0) continue;
      }
      const want = Math.min(seg.frames - this.delivered, at + frames - pos);
      const take = Math.min(want, c.length / 4);
      c.copy(buf, done * 4, 0, take * 4);
      done += take;
      this.delivered += take;
      if (take * 4 < c.length) this.pending = c.subarray(take * 4);
    }
  }

  private async closeSegment(): Promise<void> {
    if (this.gen) {
      // A trimmed segment stops early: end its decoder (runs its cleanup).
      await this.gen.return(undefined);
      this.gen = undefined;
      this.pending = undefined;
    }
    this.i++;
  }

  async finish(): Promise<void> {
    const last = this.segments[this.segments.length - 1];
    if (this.i < this.segments.length - 1 || (last?.source && this.i === this.segments.length - 1 && this.delivered < last.frames)) {
      throw new Error('internal: the timeline ended before its last segment');
    }
    if (this.gen) await this.gen.return(undefined);
    this.gen = undefined;
    await this.abort();
  }

  /** Ends every decoder (workers included), after a failure or at the end. */
  async abort(): Promise<void> {
    const g = this.gen;
    this.gen = undefined;
    if (g) await g.return(undefined).catch(() => undefined);
    const pending = [...this.prefetched.values()];
    this.prefetched.clear();
    await Promise.all(pending.map((g) => g.stop()));
  }
}

export function checkCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError('the build was cancelled');
}
