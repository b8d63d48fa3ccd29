/**
 * Ordered writers (the libisofs `writer.h` / go-diskfs `Finalize` model): each writer first plans its blocks
 * at the address it is given, so the whole layout and the image size are known before any byte is written;
 * then each writes exactly what it planned, which is checked after every writer.
 */
import type { Sink } from './sink';

export const BLOCK = 2048;

export interface Writer {
  readonly name: string;
  /** Plans this writer's blocks starting at absolute block `lba`; returns how many blocks it takes. */
  plan(lba: number): number;
  /** Writes exactly the planned blocks. */
  write(sink: Sink): Promise<void> | void;
}

export class Layout {
  private readonly planned: { writer: Writer; lba: number; blocks: number }[] = [];
  /** Total blocks from `baseLba` to the end. */
  readonly blocks: number;

  /**
   * @param baseLba absolute address of the image's first block (0, or the start of a new session when a
   * session is appended after earlier ones: every address the writers record is absolute).
   */
  constructor(writers: Writer[], readonly baseLba = 0) {
    let lba = baseLba;
    for (const writer of writers) {
      const blocks = writer.plan(lba);
      if (!Number.isInteger(blocks) || blocks < 0) throw new Error(`internal: ${writer.name} planned ${blocks} blocks`);
      this.planned.push({ writer, lba, blocks });
      lba += blocks;
    }
    if (lba > 0xffffffff) throw new Error('the image would exceed 2^32 blocks (8 TiB)');
    this.blocks = lba - baseLba;
  }

  get bytes(): number {
    return this.blocks * BLOCK;
  }

  /** Where each writer's blocks start (for `inspect`-like reports and tests). */
  get map(): { name: string; lba: number; blocks: number }[] {
    return this.planned.map((p) => ({ name: p.writer.name, lba: p.lba, blocks: p.blocks }));
  }

  async write(sink: Sink): Promise<void> {
    for (const p of this.planned) {
      const start = sink.pos;
      if (start !== (p.lba - this.baseLba) * BLOCK) throw new Error(`internal: ${p.writer.name} starts at byte ${start}, planned block ${p.lba}`);
      await p.writer.write(sink);
      const written = sink.pos - start;
      if (written !== p.blocks * BLOCK) {
        throw new Error(`internal: ${p.writer.name} wrote ${written} bytes, planned ${p.blocks * BLOCK}`);
      }
    }
  }
}

/** A writer of zero blocks up to a fixed absolute address (e.g. the UDF anchor at 256, ECMA-167 3/8.4.2.1). */
export function padTo(name: string, target: number): Writer {
  let blocks = 0;
  return {
    name,
    plan: (lba) => (blocks = Math.max(target - lba, 0)),
    write: (s) => s.zeros(blocks * BLOCK),
  };
}
