/**
 * Multisession on write-once media (CD-R, DVD±R, BD-R): the new session is a complete ISO 9660 (+ Joliet,
 * + Rock Ridge) volume at the disc's next writable address whose tree is the previous session's tree with the
 * manifest's changes applied. Files kept from earlier sessions are not written again: their directory records
 * point at their old extents (FileNode.recorded). Readers mount the last session (ECMA-119 volumes with absolute
 * addresses; the TOC / READ TRACK INFORMATION tell where it starts).
 *
 * The previous session is read through the drive: READ (10) behind an ImageReader, walked by the inspector's
 * tree walker (read only).
 *
 * Overwritable media (DVD+RW, DVD-RAM, BD-RE, DVD-RW restricted overwrite) have no sessions: the volume grows in
 * place, as growisofs -M does (dvd+rw-tools, growisofs.c: it "appends new data as it was added to a multisession
 * media and then copies the new volume descriptor(s) to the beginning of media"). The existing volume is read
 * from block 0, the new session is planned after its end (rounded up to the write unit), and once it is on the
 * disc the burn engine copies its volume descriptor set over block 16 (GrowInfo says how much). The old set may
 * be longer (a UDF bridge's volume recognition sequence follows the ISO terminator): what the new set does not
 * cover is zeroed, and so is the old UDF anchor at block 256 — UDF is not grown in place (its tree would need
 * new partition and file set descriptors pointing into the new session), so the grown disc is an ISO 9660 /
 * Joliet / Rock Ridge disc. A kept file whose data lies in the blocks to be rewritten (impossible with
 * DiscForge's layouts, possible with other tools') makes the growth refused before anything is written.
 */
import type { FileHandle } from 'node:fs/promises';
import { hasErrors, planProject } from '../build';
import { walkTree } from '../inspect/tree';
import { Problems } from '../inspect/problems';
import { ImageReader } from '../inspect/reader';
import { IsoImage } from '../iso9660/image';
import type { IsoLevel } from '../iso9660/names';
import type { DirNode, TreeNode } from '../model';
import { InputError } from '../util/errors';
import type { MmcDevice } from './device';
import type { MediaState } from './media';
import { SECTOR as SECTOR_BYTES } from './sinks';
import { planSource, type BurnSource, type GrowInfo } from './source';

/** A FileHandle look-alike whose reads are READ (10) commands (what ImageReader needs: read()). */
class DeviceFile {
  constructor(private readonly dev: MmcDevice) {}

  async read(buf: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    const first = Math.floor(position / SECTOR_BYTES);
    const last = Math.ceil((position + length) / SECTOR_BYTES);
    let done = 0;
    for (let lba = first; lba < last; ) {
      const n = Math.min(32, last - lba);
      const data = await this.dev.read(lba, n);
      const from = Math.max(position, lba * SECTOR_BYTES) - lba * SECTOR_BYTES;
      const to = Math.min(position + length, (lba + n) * SECTOR_BYTES) - lba * SECTOR_BYTES;
      done += data.copy(buf, offset + done, from, to);
      lba += n;
    }
    return { bytesRead: done };
  }
}

export interface ImportedSession {
  root: DirNode;
  volumeId: string;
  rockRidge: boolean;
  files: number;
}

/** Reads the file system of the session that starts at `start` (its PVD at start + 16, ECMA-119 8.4). */
export async function importSession(dev: MmcDevice, start: number): Promise<ImportedSession> {
  const pvd = await dev.read(start + 16, 1);
  if (pvd[0] !== 1 || pvd.toString('latin1', 1, 6) !== 'CD001') {
    throw new InputError(`${dev.name}: the last session (at block ${start}) holds no ISO 9660 volume: cannot add a session to it`);
  }
  const volumeId = pvd.toString('latin1', 40, 72).trim();
  const spaceSize = pvd.readUInt32LE(80); // 8.4.8: absolute, up to the end of that session
  const rootLba = pvd.readUInt32LE(156 + 2);
  const rootLen = pvd.readUInt32LE(156 + 10);
  // SUSP 5.3: Rock Ridge when the root's "." record starts its System Use field with SP (BE EF).
  const rootSector = await dev.read(rootLba, 1);
  const nameLen = rootSector[32];
  const su = 33 + nameLen + (nameLen % 2 === 0 ? 1 : 0);
  const rockRidge = rootSector.toString('latin1', su, su + 2) === 'SP' && rootSector[su + 4] === 0xbe && rootSector[su + 5] === 0xef;
  const skip = rockRidge ? rootSector[su + 6] : 0;
  const reader = new ImageReader(new DeviceFile(dev) as unknown as FileHandle, dev.name, spaceSize * SECTOR_BYTES);
  const problems = new Problems();
  const walk = await walkTree(reader, {
    view: rockRidge ? 'rockridge' : 'iso9660',
    blockSize: SECTOR_BYTES,
    root: { lba: rootLba, length: rootLen, recorded: null },
    maxEntries: 1_000_000,
    maxDepth: 64,
    suspSkip: skip,
  }, problems);
  if (!walk.complete) {
    throw new InputError(`${dev.name}: the previous session's file system could not be read completely: ${problems.toArray().slice(0, 3).join('; ')}`);
  }
  const now = Date.now();
  const root: DirNode = { kind: 'dir', name: '', parent: undefined, mode: 0o755, mtimeMs: now, origin: [], children: new Map() };
  const dirs = new Map<string, DirNode>([['/', root]]);
  let files = 0;
  const clean = (n: string) => (rockRidge ? n : n.replace(/;\d+$/, '').replace(/\.$/, ''));
  for (const e of walk.entries) {
    if (e.depth === 0) continue;
    const slash = e.path.lastIndexOf('/');
    const parentPath = slash <= 0 ? '/' : e.path.slice(0, slash);
    const parent = dirs.get(parentPath);
    if (!parent) continue; // below a directory that could not be placed
    const name = clean(e.name);
    const mtime = Date.parse(e.times?.modify ?? e.recorded ?? '') || now;
    const mode = e.mode !== undefined ? e.mode & 0o7777 : e.kind === 'dir' ? 0o755 : 0o644;
    let node: TreeNode;
    if (e.kind === 'dir') {
      node = { kind: 'dir', name, parent, mode, mtimeMs: mtime, origin: [], children: new Map() };
      dirs.set(e.path, node);
    } else if (e.kind === 'symlink') {
      node = { kind: 'symlink', name, parent, mode: 0o777, mtimeMs: mtime, origin: [], target: e.target ?? '' };
    } else {
      files++;
      node = { kind: 'file', name, parent, mode, mtimeMs: mtime, origin: [], source: `${dev.name}#${e.extents[0]?.lba ?? 0}`, size: e.size, recorded: e.extents.map((x) => ({ lba: x.lba, length: x.length })) };
    }
    parent.children.set(name, node);
  }
  return { root, volumeId, rockRidge, files };
}

export interface MergeReport {
  added: number;
  replaced: number;
  deleted: number;
  kept: number;
}

function countFiles(n: TreeNode): number {
  if (n.kind !== 'dir') return 1;
  let c = 0;
  for (const k of n.children.values()) c += countFiles(k);
  return c;
}

/**
 * The new session's tree: the previous tree, minus `deletes` (absolute paths), with the manifest's tree laid over
 * it (a manifest file replaces an old one at the same path; folders merge).
 */
export function mergeTrees(old: DirNode, manifest: DirNode, deletes: string[]): MergeReport {
  const report: MergeReport = { added: 0, replaced: 0, deleted: 0, kept: 0 };
  for (const d of deletes) {
    const parts = d.split('/').filter(Boolean);
    let dir: DirNode | undefined = old;
    for (const p of parts.slice(0, -1)) {
      const c: TreeNode | undefined = dir?.children.get(p);
      dir = c?.kind === 'dir' ? c : undefined;
    }
    const last = parts[parts.length - 1];
    const victim = last !== undefined ? dir?.children.get(last) : undefined;
    if (!dir || !victim) throw new InputError(`--delete ${d}: there is no such file or folder in the previous session`);
    report.deleted += countFiles(victim);
    dir.children.delete(last);
  }
  const total = countFiles(old);
  const overlay = (into: DirNode, from: DirNode) => {
    for (const [name, c] of from.children) {
      const existing = into.children.get(name);
      if (c.kind === 'dir' && existing?.kind === 'dir') {
        existing.mode = c.mode;
        overlay(existing, c);
        continue;
      }
      if (existing) report.replaced += existing.kind === 'dir' ? countFiles(existing) : 1;
      else report.added += c.kind === 'dir' ? 0 : 1;
      if (c.kind === 'dir' && !existing) report.added += countFiles(c);
      c.parent = into;
      into.children.set(name, c);
    }
  };
  overlay(old, manifest);
  report.kept = total - report.replaced;
  return report;
}

/**
 * Plans the next session of a multisession disc: previous tree + manifest, an ISO 9660 volume at
 * `target.startLba` (IsoImage baseLba: every address absolute).
 */
export async function planAppend(manifest: string, dev: MmcDevice, media: MediaState, startLba: number, deletes: string[], notes: string[]): Promise<BurnSource> {
  const plan = planProject(manifest);
  if (hasErrors(plan.diagnostics) || !plan.root || !plan.project) throw new InputError(`${manifest}: the manifest has errors`, plan.diagnostics);
  const project = plan.project;
  const fileSystems = project.fileSystems ?? ['iso9660', 'joliet', 'rockridge'];
  if (!fileSystems.includes('iso9660')) throw new InputError(`${manifest}: an appended session is an ISO 9660 volume: "iso9660" must be among the file systems`);
  if ((fileSystems as string[]).includes('udf')) notes.push('UDF is not written in an appended session (it would need a virtual allocation table): the new session has ISO 9660, Joliet and Rock Ridge');
  const grow = media.kind === 'overwrite';
  const prev = grow ? 0 : media.startOfPreviousSession;
  if (prev === undefined) throw new InputError(`${dev.name}: the disc has no closed session to add to`);
  const oldArea = grow ? await descriptorArea(dev) : undefined;
  const imported = await importSession(dev, prev);
  const report = mergeTrees(imported.root, plan.root, deletes);
  notes.push(`${grow ? `the volume on the disc (blocks 0–${Math.max(0, (media.volume?.blocks ?? startLba) - 1)}, ` : `previous session at block ${prev} (`}${imported.volumeId || 'no label'}, ${imported.files} files): ${report.kept} kept, ${report.added} added, ${report.replaced} replaced, ${report.deleted} deleted`);
  const created = project.volume?.created !== undefined ? Date.parse(project.volume.created) : undefined;
  const image = new IsoImage(imported.root, {
    level: (project.iso9660?.level ?? 3) as IsoLevel,
    joliet: fileSystems.includes('joliet'),
    jolietMaxName: project.joliet?.longNames ? 103 : 64,
    rockRidge: fileSystems.includes('rockridge'),
    nowMs: Date.now(),
    volume: {
      label: project.volume?.label ?? (imported.volumeId || 'DISC'),
      publisher: project.volume?.publisher,
      preparer: project.volume?.preparer,
      application: project.volume?.application,
      system: project.volume?.system,
      volumeSet: project.volume?.volumeSet,
      createdMs: created,
    },
    baseLba: startLba,
  });
  const errors = image.problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new InputError(`${manifest}: the merged tree cannot be written: ${errors.map((e) => e.message).slice(0, 5).join('; ')}`);
  const source = planSource(manifest, image, image.layout);
  if (oldArea) {
    const vds = image.layout.map.find((w) => w.name === 'volume descriptors');
    if (!vds || vds.lba !== startLba + 16) throw new Error('internal: the appended session has no volume descriptors at its start + 16');
    const grow: GrowInfo = { blocks: image.blocks, newDescriptorBlocks: vds.blocks, descriptorArea: Math.max(vds.blocks, oldArea.blocks), udfAnchor: oldArea.udfAnchor };
    const rewritten: [number, number][] = [[16, 16 + grow.descriptorArea], ...(grow.udfAnchor ? [[256, 257] as [number, number]] : [])];
    const clash = keptExtentIn(imported.root, rewritten);
    if (clash) {
      throw new InputError(`${dev.name}: the volume cannot grow in place: the data of ${clash.path} lies in blocks ${clash.lba}–${clash.lba + clash.blocks - 1}, where the volume descriptors must be rewritten; --force overwrites the disc instead`);
    }
    source.grow = grow;
  }
  return source;
}

/**
 * The existing volume's descriptor area from block 16: the ISO 9660 descriptors through the terminator (ECMA-119
 * 8.3), then any volume recognition sequence descriptors that follow (ECMA-167 2/8.3: BEA01, NSR02/NSR03, TEA01,
 * BOOT2, CDW02); and whether a UDF anchor volume descriptor pointer (tag 2, ECMA-167 3/10.2) is at block 256.
 */
export async function descriptorArea(dev: MmcDevice): Promise<{ blocks: number; udfAnchor: boolean }> {
  const b = await dev.read(16, 32);
  const VRS = new Set(['BEA01', 'NSR02', 'NSR03', 'TEA01', 'BOOT2', 'CDW02', 'CD001']);
  let n = 0;
  let terminated = false;
  for (; n < 32; n++) {
    const id = b.toString('latin1', n * SECTOR_BYTES + 1, n * SECTOR_BYTES + 6);
    if (!terminated) {
      if (id !== 'CD001') break;
      if (b[n * SECTOR_BYTES] === 255) terminated = true;
      continue;
    }
    if (!VRS.has(id)) break;
  }
  if (!terminated) throw new InputError(`${dev.name}: the ISO 9660 volume descriptors at block 16 have no terminator: the volume cannot grow in place`);
  let udfAnchor = false;
  const a = await dev.read(256, 1).catch(() => undefined);
  if (a && a.readUInt16LE(0) === 2 && a.readUInt32LE(12) === 256) {
    let sum = 0;
    for (let i = 0; i < 16; i++) if (i !== 4) sum += a[i];
    udfAnchor = (sum & 0xff) === a[4];
  }
  return { blocks: n, udfAnchor };
}

/** A file of the tree with recorded data (kept from the disc) in one of the block ranges. */
function keptExtentIn(dir: DirNode, ranges: [number, number][], prefix = ''): { path: string; lba: number; blocks: number } | undefined {
  for (const [name, c] of dir.children) {
    const p = `${prefix}/${name}`;
    if (c.kind === 'dir') {
      const hit = keptExtentIn(c, ranges, p);
      if (hit) return hit;
    } else if (c.kind === 'file' && c.recorded) {
      for (const x of c.recorded) {
        const blocks = Math.ceil(x.length / SECTOR_BYTES);
        if (blocks > 0 && ranges.some(([a, b]) => x.lba < b && x.lba + blocks > a)) return { path: p, lba: x.lba, blocks };
      }
    }
  }
  return undefined;
}
