/**
 * What a burn writes: a planned image (IsoImage: its writers stream the sources straight to the drive) or an
 * existing image file. Either can be written any number of times (once to burn, once more to verify).
 */
import * as fs from 'node:fs';
import type { Sink } from '../image/sink';
import type { FileNode } from '../model';
import { InputError } from '../util/errors';
import { SECTOR } from './sinks';

export interface BurnSource {
  /** For messages: the manifest or the image file. */
  readonly name: string;
  readonly blocks: number;
  write(sink: Sink): Promise<void>;
  /**
   * Quick verification: stream byte ranges to compare (file system structures, the first and last data blocks
   * and a spread sample).
   */
  quickRanges(): [number, number][];
  /** A session that grows a volume in place on overwritable media (see ./multisession.ts planAppend). */
  grow?: GrowInfo;
}

/** What growing a volume in place rewrites once the new session is on the disc. */
export interface GrowInfo {
  /** Blocks of the session. */
  blocks: number;
  /** The new session's ISO 9660 volume descriptor set (primary … terminator), at its start + 16 (0: UDF alone). */
  newDescriptorBlocks: number;
  /** The UDF volume recognition sequence after that set (BEA01, NSR02/NSR03, TEA01), copied with it; 0 without UDF. */
  vrsBlocks: number;
  /**
   * Blocks rewritten from block 16: the new set and recognition sequence, then zeros over what is left of the old
   * ones.
   */
  descriptorArea: number;
  /** The old volume has a UDF anchor at block 256. */
  udfAnchor: boolean;
  /**
   * The new session has UDF: its anchor (start + 256, ECMA-167 3/8.4.2.1) is copied to block 256 (its tag
   * location rewritten, 3/7.2.8). Without it an old anchor at 256 is cleared: the grown disc has no UDF.
   */
  udf: boolean;
  /** Whether the descriptor set at block 16 held an El Torito boot record before, and will after. */
  bootable: { before: boolean; after: boolean };
}

const SAMPLES = 32;
const SAMPLE_BLOCKS = 16;

function spread(from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  if (to <= from) return out;
  const span = to - from;
  for (let i = 0; i < SAMPLES; i++) {
    const b = from + Math.floor((span * i) / SAMPLES);
    out.push([b * SECTOR, Math.min(to, b + SAMPLE_BLOCKS) * SECTOR]);
  }
  return out;
}

/** The planned image of a manifest (any DiscImage: ISO 9660, UDF, bridge); `layout` locates the file data. */
export function planSource(
  name: string,
  image: { readonly blocks: number; write(sink: Sink): Promise<void> },
  layout?: { readonly baseLba: number; readonly map: { name: string; lba: number; blocks: number }[] },
): BurnSource {
  return {
    name,
    blocks: image.blocks,
    write: (sink) => image.write(sink),
    quickRanges: () => {
      const data = layout?.map.find((w) => w.name === 'file data');
      if (!layout || !data) return genericRanges(image.blocks);
      const dataStart = data.lba - layout.baseLba;
      const dataEnd = dataStart + data.blocks;
      const ranges: [number, number][] = [[0, dataStart * SECTOR]]; // every structure before the file data
      if (dataEnd > dataStart) {
        ranges.push([dataStart * SECTOR, (dataStart + 1) * SECTOR], [(dataEnd - 1) * SECTOR, dataEnd * SECTOR]);
        ranges.push(...spread(dataStart, dataEnd));
      }
      if (dataEnd < image.blocks) ranges.push([dataEnd * SECTOR, image.blocks * SECTOR]); // structures after the data
      return ranges;
    },
  };
}

function genericRanges(blocks: number): [number, number][] {
  const meta = Math.min(blocks, 256); // system area, volume descriptors and (usually) the directories
  return [[0, meta * SECTOR], [(blocks - 1) * SECTOR, blocks * SECTOR], ...spread(meta, blocks)];
}

/** An existing image file (`discforge burn image.iso`): streamed as it is, padded to whole blocks. */
export function imageFileSource(file: string): BurnSource {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new InputError(`${file}: cannot read the image: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw new InputError(`${file}: not a regular file`);
  if (st.size === 0) throw new InputError(`${file}: the image is empty`);
  const blocks = Math.ceil(st.size / SECTOR);
  const node: FileNode = { kind: 'file', name: file, parent: undefined, mode: 0o644, mtimeMs: st.mtimeMs, origin: [], source: file, size: st.size };
  return {
    name: file,
    blocks,
    write: async (sink) => {
      await sink.copyFile(node);
      sink.pad(SECTOR);
    },
    quickRanges: () => genericRanges(blocks),
  };
}
