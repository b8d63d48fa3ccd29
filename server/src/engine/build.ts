/**
 * The mastering pipeline, as one API for the CLI, the language server and tasks:
 * load (syntax + schema) → resolve (sources → disc tree) → plan (every extent, the exact size) → write.
 * Planning never reads file data, so it is cheap enough to run on every edit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IsoImage } from './iso9660/image';
import type { IsoLevel } from './iso9660/names';
import { loadManifest, parseManifest, type LoadedManifest } from './manifest/load';
import type { DiscProject, FileSystem } from './manifest/types.generated';
import { formatBytes, MEDIA } from './media';
import { treeStats, type DirNode, type TreeNode, type TreeStats } from './model';
import { ImageSink, type Sink } from './image/sink';
import type { ScanCache } from './resolve/cache';
import { resolveTree } from './resolve/resolve';
import { InputError, type Diagnostic } from './util/errors';
import { SECTOR } from './iso9660/encode';
import { attachIso, bridgeHooks, UdfImage } from './udf/image';
import { UdfFileSystem, type UdfRevision } from './udf/volume';
import { planAudioInto, writeAudioDisc, type AudioPlan } from './audio';
import { planBoot, type BootPlan } from './boot/eltorito';

export type Phase = 'load' | 'scan' | 'plan' | 'write' | 'done';

export interface Progress {
  phase: Phase;
  done: number;
  total: number;
}

export interface PlanOptions {
  /** Manifest text to use instead of the file's (an editor's unsaved buffer). */
  text?: string;
  /** Overrides the manifest's `output` (relative to the current directory). */
  output?: string;
  onProgress?: (p: Progress) => void;
  /** "Now" for images without `volume.created` (tests fix it). */
  nowMs?: number;
  /** Reuse an unchanged scan of the sources (editors; never for builds). */
  scanCache?: ScanCache;
  /** Bumped by the caller whenever it learns that sources changed on disk: older scans are not reused. */
  scanGeneration?: number;
  /** Internal: plan only the data track (`files`) of a mixed-mode audio manifest. */
  dataTrackOnly?: boolean;
}

/** What every planned image offers: its exact size, and the writing of it. */
export interface DiscImage {
  readonly blocks: number;
  readonly bytes: number;
  write(sink: Sink): Promise<void>;
}

export interface Plan {
  loaded: LoadedManifest;
  project?: DiscProject;
  root?: DirNode;
  stats?: TreeStats;
  image?: DiscImage;
  /** The ISO 9660 (+ Joliet, Rock Ridge) writer, when the image has ISO 9660. */
  iso?: IsoImage;
  /** The UDF file system, when the image has UDF. */
  udf?: UdfFileSystem;
  /** Size of the planned image in bytes. */
  bytes?: number;
  /** Bootable discs: the El Torito entries, catalog and hybrid system area. */
  boot?: BootPlan;
  /** Audio and mixed-mode CDs (`kind: "audio" | "mixed"`): the BIN/CUE plan. */
  audio?: AudioPlan;
  output?: string;
  diagnostics: Diagnostic[];
}

const droppedOutputs = new WeakMap<object, TreeNode[]>();

export const DEFAULT_FILE_SYSTEMS: FileSystem[] = ['iso9660', 'joliet', 'rockridge', 'udf'];
export const DEFAULT_UDF_REVISION: UdfRevision = '2.01';

export function hasErrors(diags: Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}

/** Loads, resolves and plans a manifest. Never throws for bad input: problems come back as diagnostics. */
export function planProject(manifestPath: string, opts: PlanOptions = {}): Plan {
  opts.onProgress?.({ phase: 'load', done: 0, total: 1 });
  const loaded = opts.text !== undefined ? parseManifest(manifestPath, opts.text) : loadManifest(manifestPath);
  const plan: Plan = { loaded, diagnostics: [...loaded.diagnostics] };
  const project = loaded.project;
  if (!project) return plan;
  plan.project = project;
  const doc = loaded.doc;
  const kind = (project as { kind: string }).kind;
  if ((kind === 'audio' || kind === 'mixed') && !opts.dataTrackOnly) {
    planAudioInto(plan, manifestPath, opts.output, () => planProject(manifestPath, { ...opts, onProgress: undefined, output: undefined, dataTrackOnly: true }));
    return plan;
  }

  const fileSystems = project.fileSystems ?? DEFAULT_FILE_SYSTEMS;
  const iso9660 = fileSystems.includes('iso9660');
  const udf = fileSystems.includes('udf');
  if (!iso9660 && !udf) {
    plan.diagnostics.push(doc.diagnostic(['fileSystems'], 'filesystems', 'add "iso9660" or "udf": Joliet and Rock Ridge extend an ISO 9660 tree'));
    return plan;
  }
  if (!iso9660) {
    const extra = fileSystems.filter((f) => f === 'joliet' || f === 'rockridge');
    if (extra.length) {
      plan.diagnostics.push(doc.diagnostic(['fileSystems', fileSystems.indexOf(extra[0])], 'filesystems', `"${extra[0]}" needs "iso9660": it extends the ISO 9660 tree (a UDF-only image has none)`));
      return plan;
    }
  }
  if (project.udf && !udf) {
    plan.diagnostics.push(doc.diagnostic(['udf'], 'udf-unused', '"udf" options are ignored: "udf" is not in fileSystems', 'warning'));
  }
  const udfRevision = (project.udf?.revision ?? DEFAULT_UDF_REVISION) as UdfRevision;
  if (udf && project.udf?.redundantMetadata && udfRevision < '2.50') {
    plan.diagnostics.push(doc.diagnostic(['udf', 'redundantMetadata'], 'udf-redundant-metadata', `"redundantMetadata" needs UDF 2.50 or later (the metadata partition); this disc uses UDF ${udfRevision}`));
    return plan;
  }
  const rockRidge = iso9660 && fileSystems.includes('rockridge');
  const level = (project.iso9660?.level ?? 3) as IsoLevel;
  let createdMs: number | undefined;
  if (project.volume?.created !== undefined) createdMs = Date.parse(project.volume.created);

  const output = opts.output !== undefined
    ? path.resolve(opts.output)
    : path.resolve(path.dirname(path.resolve(manifestPath)), project.output ?? defaultOutput(manifestPath));
  plan.output = output;

  opts.onProgress?.({ phase: 'scan', done: 0, total: 0 });
  // Links stay links where a file system records them: Rock Ridge, or UDF on a UDF-only disc (a bridge without
  // Rock Ridge stores what they point to, so that ISO 9660 and UDF show the same files).
  const keepSymlinks = rockRidge || (udf && !iso9660);
  const scanKey = JSON.stringify([path.resolve(manifestPath), keepSymlinks, project.files, output]);
  let resolved = opts.scanCache?.get(scanKey, opts.scanGeneration ?? 0);
  if (resolved) {
    // The same entries: their problems sit on the same JSON paths, placed again in the edited text.
    plan.diagnostics.push(...resolved.problems.map((p) => doc.diagnostic(p.path, p.code, p.message, p.severity)));
  } else {
    resolved = resolveTree(doc, project, {
      keepSymlinks,
      onProgress: (n) => opts.onProgress?.({ phase: 'scan', done: n, total: 0 }),
    });
    opts.scanCache?.set(scanKey, opts.scanGeneration ?? 0, resolved);
    plan.diagnostics.push(...resolved.diagnostics);
  }
  // An image written inside one of its own source folders is left out of the tree (once: a reused scan keeps
  // the list, so the warning stays).
  let dropped = droppedOutputs.get(resolved);
  if (!dropped) {
    const list: TreeNode[] = [];
    dropOutputFromTree(resolved.root, output, (node) => list.push(node));
    droppedOutputs.set(resolved, (dropped = list));
  }
  for (const node of dropped) {
    plan.diagnostics.push(doc.diagnostic(node.origin, 'output-in-source', `left out ${(node as { source: string }).source}: it is the image being built`, 'warning'));
  }
  plan.root = resolved.root;
  plan.stats = treeStats(resolved.root);
  opts.onProgress?.({ phase: 'scan', done: plan.stats.files, total: plan.stats.files });
  if (hasErrors(plan.diagnostics)) return plan;

  opts.onProgress?.({ phase: 'plan', done: 0, total: 1 });
  const nowMs = opts.nowMs ?? Date.now();
  let root = resolved.root;
  let boot: BootPlan | undefined;
  if (project.boot || project.hybrid) {
    if (!iso9660) {
      plan.diagnostics.push(doc.diagnostic([project.boot ? 'boot' : 'hybrid'], 'boot-needs-iso9660',
        'El Torito boot entries live in ISO 9660 (a boot record volume descriptor): add "iso9660" to fileSystems'));
      return plan;
    }
    boot = planBoot({ doc, project, root, timeMs: createdMs ?? nowMs, label: project.volume?.label ?? defaultLabel(manifestPath) }, plan.diagnostics);
    if (hasErrors(plan.diagnostics)) return plan;
    if (boot) {
      root = boot.root;
      plan.boot = boot;
      plan.root = root;
      plan.stats = treeStats(root);
    }
  }
  const volume = {
    label: project.volume?.label ?? defaultLabel(manifestPath),
    publisher: project.volume?.publisher,
    preparer: project.volume?.preparer,
    application: project.volume?.application,
    system: project.volume?.system,
    volumeSet: project.volume?.volumeSet,
    createdMs,
  };
  const udfFs = udf
    ? new UdfFileSystem(root, {
      revision: udfRevision,
      redundantMetadata: project.udf?.redundantMetadata ?? false,
      volume,
      nowMs,
      // Only a UDF-only image keeps small files inside their file entries: a bridge shares every file's data.
      embedSmallFiles: !iso9660,
    })
    : undefined;
  let image: DiscImage;
  if (iso9660) {
    const iso = new IsoImage(root, {
      level,
      joliet: fileSystems.includes('joliet'),
      jolietMaxName: project.joliet?.longNames ? 103 : 64,
      rockRidge,
      nowMs,
      volume,
      hooks: udfFs ? bridgeHooks(udfFs) : undefined,
      boot: boot?.hooks,
    });
    boot?.attach(iso);
    if (udfFs) attachIso(udfFs, iso);
    for (const p of iso.problems) plan.diagnostics.push(doc.diagnostic(p.node.origin, p.code, p.message, p.severity));
    plan.iso = iso;
    image = iso;
  } else {
    image = new UdfImage(resolved.root, udfFs!);
  }
  if (udfFs) {
    for (const p of udfFs.problems) plan.diagnostics.push(doc.diagnostic(p.node.origin, p.code, p.message, p.severity));
    plan.udf = udfFs;
  }
  plan.image = image;
  plan.bytes = image.bytes;
  opts.onProgress?.({ phase: 'plan', done: 1, total: 1 });

  if (project.media) {
    const media = MEDIA[project.media];
    if (image.blocks > media.blocks) {
      const over = (image.blocks - media.blocks) * SECTOR;
      plan.diagnostics.push(doc.diagnostic(['media'], 'capacity',
        `the image needs ${formatBytes(image.bytes)} (${image.blocks} blocks) but ${media.name} holds ${formatBytes(media.blocks * SECTOR)} (${media.blocks} blocks): ${formatBytes(over)} (${over} bytes) too much`));
    }
  }
  return plan;
}

function defaultOutput(manifestPath: string): string {
  return path.basename(manifestPath).replace(/(\.disc)?\.json$/i, '') + '.iso';
}

function defaultLabel(manifestPath: string): string {
  return path.basename(manifestPath).replace(/(\.disc)?\.json$/i, '').toUpperCase().slice(0, 32) || 'DISC';
}

/** An image written inside one of its own source folders must not contain itself (or its .partial). */
function dropOutputFromTree(root: DirNode, output: string, report: (n: TreeNode) => void): void {
  const stack: DirNode[] = [root];
  while (stack.length) {
    const d = stack.pop()!;
    for (const [name, c] of d.children) {
      if (c.kind === 'dir') stack.push(c);
      else if (c.kind === 'file' && (c.source === output || c.source === output + '.partial')) {
        d.children.delete(name);
        report(c);
      }
    }
  }
}

export interface BuildOptions extends PlanOptions {
  signal?: AbortSignal;
}

export interface BuildResult {
  plan: Plan;
  output: string;
  bytes: number;
}

/**
 * Plans and writes the image. Bad input throws InputError (with the diagnostics); the image is written to
 * OUT.partial and renamed only when complete, so an interrupted build never leaves a half image under OUT.
 */
export async function buildImage(manifestPath: string, opts: BuildOptions = {}): Promise<BuildResult> {
  const plan = planProject(manifestPath, { ...opts, scanCache: undefined }); // a build always scans afresh
  if (hasErrors(plan.diagnostics) || !plan.image || !plan.output) {
    throw new InputError(`${manifestPath}: the manifest has errors`, plan.diagnostics);
  }
  if (plan.audio) {
    const r = await writeAudioDisc(plan.audio, opts);
    return { plan, output: plan.output, bytes: r.bytes };
  }
  const image = plan.image;
  const output = plan.output;
  // An existing device or pipe as output (`--output /dev/sdX` for a USB stick, `/dev/null`): written in place. A
  // `.partial` renamed over it would replace the device node with a regular file.
  let special = false;
  try {
    const st = fs.statSync(output);
    special = st.isBlockDevice() || st.isCharacterDevice();
    if (!special && !st.isFile()) throw new InputError(`${output}: not a file or a device (a folder, pipe or socket): choose another output`);
  } catch (err) {
    if (err instanceof InputError) throw err;
    /* does not exist yet */
  }
  const partial = special ? output : output + '.partial';
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const fd = fs.openSync(partial, special ? 'r+' : 'w');
  const total = image.bytes;
  let lastReport = 0;
  const report = (done: number) => {
    const now = Date.now();
    if (now - lastReport >= 100 || done === total) {
      lastReport = now;
      opts.onProgress?.({ phase: 'write', done, total });
    }
  };
  try {
    const regular = fs.fstatSync(fd).isFile();
    const sink = new ImageSink(fd, { signal: opts.signal, onBytes: report, sparse: regular });
    report(0);
    await image.write(sink);
    sink.finish(regular);
    report(total);
    fs.closeSync(fd);
    if (!special) fs.renameSync(partial, output);
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    if (!special) fs.rmSync(partial, { force: true });
    throw err;
  }
  opts.onProgress?.({ phase: 'done', done: total, total });
  return { plan, output, bytes: total };
}
