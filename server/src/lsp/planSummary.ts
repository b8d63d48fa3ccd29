/**
 * What the editor needs from a plan, small enough to cross a worker boundary: the engine's diagnostics, the image
 * size, and what each `files` entry resolved to.
 */
import { planProject, type Plan } from '../engine/build';
import { ScanCache } from '../engine/resolve/cache';
import { MEDIA } from '../engine/media';
import type { TreeNode } from '../engine/model';
import type { Diagnostic } from '../engine/util/errors';

export interface EntrySummary {
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
}

export interface PlanSummary {
  diagnostics: Diagnostic[];
  /** No errors: the image can be built. */
  ok: boolean;
  bytes?: number;
  blocks?: number;
  media?: { id: string; name: string; blocks: number };
  files?: number;
  directories?: number;
  symlinks?: number;
  dataBytes?: number;
  /** Absolute path of the image the manifest builds. */
  output?: string;
  /** Per `files[i]`: what that entry put on the disc (undefined when it resolved to nothing). */
  entries: (EntrySummary | undefined)[];
  /**
   * Bootable manifests: the disc's folders and what each holds (folder path without trailing slash, '' for the
   * root → names, folders with a trailing '/'), for completing `boot[].image`, which names a file on the disc.
   */
  discFolders?: Record<string, string[]>;
  /** Per `boot[i]`: what the El Torito entry loads (undefined when the boot entries have errors). */
  boot?: (BootEntrySummary | undefined)[];
  elapsedMs: number;
}

export interface BootEntrySummary {
  platform: string;
  emulation: string;
  /** The boot image's size in bytes, and where it is on the disc. */
  bytes: number;
  lba?: number;
  /** 512-byte sectors the firmware loads. */
  sectorCount: number;
  bootInfoTable: boolean;
  hidden: boolean;
  isDefault: boolean;
  /** A generated EFI system partition. */
  esp?: { fatType: number; clusterBytes: number };
}

export function summarize(plan: Plan, elapsedMs: number): PlanSummary {
  const entries: (EntrySummary | undefined)[] = [];
  if (plan.root) {
    const stack: TreeNode[] = [...plan.root.children.values()];
    while (stack.length) {
      const n = stack.pop()!;
      const [key, index] = n.origin;
      if (key === 'files' && typeof index === 'number') {
        const e = (entries[index] ??= { files: 0, directories: 0, symlinks: 0, bytes: 0 });
        if (n.kind === 'file') {
          e.files++;
          e.bytes += n.size;
        } else if (n.kind === 'dir') e.directories++;
        else e.symlinks++;
      }
      if (n.kind === 'dir') for (const c of n.children.values()) stack.push(c);
    }
  }
  const mediaId = plan.project?.media;
  const media = mediaId ? MEDIA[mediaId] : undefined;
  return {
    diagnostics: plan.diagnostics,
    ok: !plan.diagnostics.some((d) => d.severity === 'error'),
    bytes: plan.bytes,
    blocks: plan.image?.blocks,
    media: media && mediaId ? { id: mediaId, name: media.name, blocks: media.blocks } : undefined,
    files: plan.stats?.files,
    directories: plan.stats?.directories,
    symlinks: plan.stats?.symlinks,
    dataBytes: plan.stats?.bytes,
    output: plan.output,
    entries,
    boot: bootSummary(plan),
    discFolders: plan.project?.boot && plan.root ? discFolders(plan.root) : undefined,
    elapsedMs,
  };
}

/** At most this many names are sent for completion (a bootable disc's boot files sit near the root). */
const MAX_DISC_NAMES = 20_000;

function discFolders(root: TreeNode & { kind: 'dir' }): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let names = 0;
  const queue: [string, TreeNode & { kind: 'dir' }][] = [['', root]];
  while (queue.length && names < MAX_DISC_NAMES) {
    const [at, d] = queue.shift()!;
    const list: string[] = [];
    for (const c of d.children.values()) {
      list.push(c.kind === 'dir' ? c.name + '/' : c.name);
      if (c.kind === 'dir') queue.push([at + '/' + c.name, c]);
      if (++names >= MAX_DISC_NAMES) break;
    }
    out[at] = list.sort();
  }
  return out;
}

function bootSummary(plan: Plan): (BootEntrySummary | undefined)[] | undefined {
  const b = plan.boot;
  if (!b) return undefined;
  const out: (BootEntrySummary | undefined)[] = [];
  b.entries.forEach((e, k) => {
    out[e.index] = {
      platform: e.platform,
      emulation: e.emulation,
      bytes: e.node.size,
      lba: plan.iso?.extentsOf(e.node)?.lba,
      sectorCount: e.sectorCount,
      bootInfoTable: e.bootInfoTable,
      hidden: e.hidden,
      isDefault: k === 0,
      esp: e.esp ? { fatType: e.esp.fatType, clusterBytes: e.esp.clusterBytes } : undefined,
    };
  });
  return out;
}

/** The scan of the sources kept between edits (one per thread: the plan worker's, or the server's). */
const scanCache = new ScanCache();

/**
 * Plans a document's text. `sourcesGeneration` is bumped by the server when files change on disk, so that
 * an older scan is not reused.
 */
export function planSummary(file: string, text: string, sourcesGeneration = 0): PlanSummary {
  const t0 = performance.now();
  const plan = planProject(file, { text, scanCache, scanGeneration: sourcesGeneration });
  return summarize(plan, performance.now() - t0);
}
