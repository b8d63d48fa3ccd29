/**
 * How the UDF writers join an image:
 * - a bridge (ISO 9660 [+ Joliet, Rock Ridge] + UDF): `bridgeHooks()` gives the ISO writer's hooks — the UDF
 *   volume structures after the ISO volume descriptor set, the UDF metadata before the shared file data, the
 *   closing anchor after the tail padding — and `attachIso()` points UDF at the ISO writer's data extents;
 * - UDF alone: `UdfImage` — 32 KiB of zeros (the volume recognition sequence starts at byte 32768, ECMA-167 2/8.3,
 *   as after an ISO 9660 system area), the UDF volume structures, the partition with its metadata, the file data
 *   (files small enough to live in their file entry are not stored again), padding and the closing anchor.
 */
import { TAIL_PADDING, type ImageHooks, type IsoImage } from '../iso9660/image';
import { BLOCK, Layout, type Writer } from '../image/layout';
import type { Sink } from '../image/sink';
import { sortedChildren, type DirNode, type FileNode } from '../model';
import { UdfFileSystem } from './volume';

export function bridgeHooks(udf: UdfFileSystem): ImageHooks {
  return { afterDescriptors: udf.headWriters(), beforeData: udf.partitionWriters(), afterData: udf.tailWriters() };
}

/** After the ISO image is planned: UDF refers to each file's data where the ISO writer put it. */
export function attachIso(udf: UdfFileSystem, iso: IsoImage): void {
  udf.setDataSource({ extentsOf: (file) => iso.extentsOf(file)?.extents });
}

/** The file data of a UDF-only image: each file once, contiguous, in a stable order. */
class DataArea implements Writer {
  readonly name = 'file data';
  private readonly order: FileNode[] = [];
  private readonly at = new Map<FileNode, number>();

  constructor(root: DirNode, skip: (f: FileNode) => boolean) {
    // Depth first, names in code unit order (as the ISO writer orders its data).
    const stack: DirNode[] = [root];
    while (stack.length) {
      const d = stack.pop()!;
      const kids = sortedChildren(d);
      // (Files imported from an earlier session already have their data on the disc.)
      for (const k of kids) if (k.kind === 'file' && k.size > 0 && !k.recorded && !skip(k)) this.order.push(k);
      const dirs = kids.filter((k): k is DirNode => k.kind === 'dir');
      for (let i = dirs.length - 1; i >= 0; i--) stack.push(dirs[i]);
    }
  }

  plan(lba: number): number {
    const start = lba;
    for (const f of this.order) {
      this.at.set(f, lba);
      lba += Math.ceil(f.size / BLOCK);
    }
    return lba - start;
  }

  lbaOf(f: FileNode): number | undefined {
    return this.at.get(f);
  }

  get files(): readonly FileNode[] {
    return this.order;
  }

  async write(sink: Sink): Promise<void> {
    for (const f of this.order) {
      await sink.copyFile(f);
      sink.pad(BLOCK);
    }
  }
}

/** A UDF-only image (no ISO 9660 structures besides the empty system area). */
export class UdfImage {
  readonly layout: Layout;
  readonly blocks: number;
  private readonly data: DataArea;

  constructor(root: DirNode, readonly udf: UdfFileSystem, baseLba = 0) {
    if (baseLba !== (udf.baseLba)) throw new Error('internal: the UDF file system and its image disagree on the base block');
    this.data = new DataArea(root, (f) => udf.isEmbedded(f));
    udf.setDataSource({
      extentsOf: (f) => {
        if (f.recorded) return f.recorded;
        const lba = this.data.lbaOf(f);
        return lba === undefined ? undefined : [{ lba, length: f.size }];
      },
    });
    const writers: Writer[] = [
      { name: 'system area', plan: () => 16, write: (s) => s.zeros(16 * BLOCK) },
      ...udf.headWriters(),
      ...udf.partitionWriters(),
      this.data,
      // As the ISO writer: 150 zero blocks after the data (drives read ahead), then the closing anchor.
      { name: 'padding', plan: () => TAIL_PADDING, write: (s) => s.zeros(TAIL_PADDING * BLOCK) },
      ...udf.tailWriters(),
    ];
    this.layout = new Layout(writers, baseLba);
    this.blocks = this.layout.blocks;
  }

  get bytes(): number {
    return this.blocks * BLOCK;
  }

  /** Files in data order (embedded ones are not in the data area). */
  get files(): readonly FileNode[] {
    return this.data.files;
  }

  lbaOf(f: FileNode): number | undefined {
    return this.data.lbaOf(f);
  }

  async write(sink: Sink): Promise<void> {
    await this.layout.write(sink);
  }
}
