/**
 * Multisession on write-once media (CD-R, DVD±R, BD-R): the new session is a complete ISO 9660 (+ Joliet,
 * + Rock Ridge) volume at the disc's next writable address whose tree is the previous session's tree with the
 * manifest's changes applied. Files kept from earlier sessions are not written again: their directory records
 * point at their old extents (FileNode.recorded). Readers mount the last session (ECMA-119 volumes with absolute
 * addresses; the TOC / READ TRACK INFORMATION tell where it starts).
 *
 * With "udf" among the manifest's file systems (the default when the previous session has UDF) the session is a
 * whole UDF bridge, self-contained in the session S: recognition sequence right after its ISO 9660 set (S + 16…),
 * descriptor sequences at S + 32 and S + 48, integrity sequence at S + 64, anchor at S + 256, one partition
 * (read-only access, ECMA-167 3/10.5.7; no space bitmaps) from the earliest kept file data through the session's
 * last block but one, closing anchor in the session's last block (zeros before it make the session a whole
 * number of the medium's writable units, so that the drive pads nothing after it). Every address in it is
 * absolute, as ISO 9660's are, so kept files are the earlier sessions' extents. This is growth in place (below) minus the copy to blocks
 * 16 and 256, which a write-once disc cannot take.
 *
 * What the specifications say of such a volume. ECMA-167 puts the recognition sequence 32768 bytes into the
 * volume space (2/8.3) and anchors at 256 and N − 256 / N (3/8.4.2.1), N the volume's last block. OSTA's CD-R
 * rules ("Using OSTA UDF on CD-R and CD-RW media", integrated into UDF 1.50 by DCNs 2-025…2-032 and kept in
 * the appendix on CD media of later revisions) have a section "Multisession and Mixed Mode" — volume recognition sequence, anchor
 * volume descriptor pointer, "UDF Bridge format", with the layouts "Multisession UDF disc" and "ISO 9660 converted
 * to UDF" (a later session whose UDF describes files an earlier ISO 9660 session recorded): a multisession disc's
 * volume is taken from its last session, the recognition sequence from the session's 16th block and the anchor 256
 * blocks after its start, every other address absolute. The Linux kernel reads it that way (fs/udf, commit
 * f4bcbbd92ebd "udf: Fix handling of multisession media": "only anchor blocks and primary volume descriptors are
 * placed on media relative to the last session. All other block numbers are absolute"). The virtual allocation
 * table (UDF 2.2.11, a type 2 virtual partition map; the "sequential file system" of those CD-R rules) is how a
 * volume is *updated* on write-once media: an open session written in packets, whose file entries are superseded
 * through the VAT's remapping, the VAT found at the last recorded block. A session recorded whole and closed is
 * never updated: its partition is read-only (access type 1, UDF 2.2.14.2, as on pressed media), nothing in it
 * needs remapping, and the next session brings a new, complete volume. No rule found asks a VAT of such a volume
 * (the stored copies of UDF 2.60 could not be read past their opening pages here: the clause numbers above are
 * from the documents' tables of contents, the rest from the kernel's reading and from the readers below).
 * Proven (test/engine/burn-append-udf.test.ts, for CD-R, DVD+R, DVD-R, BD-R): the Linux kernel mounts each
 * appended session (mount -t udf -o session=START) and reads every file; udfinfo --startblock START reads the
 * volume (anchors at START + 256 and the session's last block); xorriso reads the ISO 9660 side; our inspector
 * and 7-Zip read it when handed the session's descriptors at 16 and 256. A reader with no notion of sessions
 * (7-Zip, our inspector on the disc file as it is) finds the first session's anchor at 256 and shows the first
 * session's tree, as ISO 9660 readers without sessions show the first ISO tree.
 *
 * The previous session is read through the drive: READ (10) behind an ImageReader, walked by the inspector's
 * tree walker (read only).
 *
 * Overwritable media (DVD+RW, DVD-RAM, BD-RE, DVD-RW restricted overwrite) have no sessions: the volume grows in
 * place, as growisofs -M does (dvd+rw-tools, growisofs.c: it "appends new data as it was added to a multisession
 * media and then copies the new volume descriptor(s) to the beginning of media"). The existing volume is read
 * from block 0, the new session is planned after its end (rounded up to the write unit), and once it is on the
 * disc the burn engine copies its volume descriptor set over block 16 (GrowInfo says how much). A UDF bridge
 * grows as a bridge: the new session carries its own UDF volume (recognition sequence right after its ISO set,
 * descriptor sequences at its start + 32 and + 48, integrity sequence at + 64, anchor at + 256, a partition from
 * the earliest kept file data through its last block but one, closing anchor in its last block); the engine
 * copies the recognition sequence along with the ISO set and the anchor to block 256, so UDF readers find the new
 * volume (ECMA-167 3/8.4.2.1: anchors at 256 and N − 1, N the grown volume's end). A UDF-only volume grows the
 * same way (planUdfGrowth). What the new set does not cover of the old one is zeroed, and an old anchor at 256
 * too when the new session has no UDF (its manifest leaves UDF out). A kept file whose data lies in the blocks to
 * be rewritten (impossible with DiscForge's layouts, possible with other tools') makes the growth refused before
 * anything is written (or, when only UDF's anchor at 256 is in the way, grown without UDF).
 */
import * as fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_FILE_SYSTEMS, DEFAULT_UDF_REVISION, hasErrors, planProject } from '../build';
import { walkTree } from '../inspect/tree';
import { Problems } from '../inspect/problems';
import { ImageReader } from '../inspect/reader';
import { IsoImage } from '../iso9660/image';
import type { Writer } from '../image/layout';
import type { IsoLevel } from '../iso9660/names';
import type { DiscProject } from '../manifest/types.generated';
import type { DirNode, FileNode, TreeNode } from '../model';
import { inspectUdf, type UdfEntry } from '../inspect/udf';
import { tagChecksum } from '../udf/encode';
import { attachIso, bridgeHooks, UdfImage } from '../udf/image';
import { UdfFileSystem, type UdfRevision } from '../udf/volume';
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
 *
 * Growing in place (overwritable media) writes the session as the manifest's first session would be written: a
 * UDF bridge (the default file systems) gets its UDF too, and El Torito boot entries their boot record and
 * catalog. UDF's volume (ECMA-167 3/8.4.2) is found through the anchor at block 256: the new session's anchor
 * (at its start + 256) points at its own main and reserve volume descriptor sequences (start + 32, + 48), whose
 * partition descriptor starts the partition at the lowest block of kept data (so the files of earlier sessions
 * stay addressable, as in a later session of a write-once disc: ../udf/volume.ts) and ends it before the closing
 * anchor in the session's last block, the last block of the grown volume. The burn engine then copies the ISO
 * descriptor set with the volume recognition sequence that follows it to block 16 and the anchor to block 256.
 *
 * A later session on a write-once disc is built the same way (the UDF writer with baseLba = the session's start),
 * with nothing copied: readers take the volume from the last session (see the head of this file).
 */
export async function planAppend(manifest: string, dev: MmcDevice, media: MediaState, startLba: number, deletes: string[], notes: string[]): Promise<BurnSource> {
  const plan = planProject(manifest);
  if (hasErrors(plan.diagnostics) || !plan.root || !plan.project) throw new InputError(`${manifest}: the manifest has errors`, plan.diagnostics);
  const project = plan.project;
  const grow = media.kind === 'overwrite';
  const prev = grow ? 0 : media.startOfPreviousSession;
  if (prev === undefined) throw new InputError(`${dev.name}: the disc has no closed session to add to`);
  // A later session on a write-once disc has the manifest's file systems; without "fileSystems" in the manifest,
  // the UDF bridge when the previous session has UDF (its anchor at its start + 256), else ISO 9660 + Joliet + Rock
  // Ridge as before. Growing a volume in place: the manifest's, by default the UDF bridge.
  const prevUdf = !grow && (await previousSessionHasUdf(dev, prev));
  const fileSystems = (project.fileSystems ?? (grow || prevUdf ? DEFAULT_FILE_SYSTEMS : ['iso9660', 'joliet', 'rockridge'])) as string[];
  if (!grow && !fileSystems.includes('iso9660')) throw new InputError(`${manifest}: an appended session is an ISO 9660 volume (UDF goes with it, as a bridge): "iso9660" must be among the file systems`);
  const oldArea = grow ? await descriptorArea(dev) : undefined;
  if (grow && !fileSystems.includes('iso9660')) {
    if (oldArea?.iso) throw new InputError(`${manifest}: the disc holds an ISO 9660 volume: growing it in place needs "iso9660" among the file systems (the new tree replaces the one at block 16)`);
    return planUdfGrowth(manifest, project, plan.root, dev, media, startLba, deletes, notes);
  }
  if (grow && !oldArea?.iso) throw new InputError(`${dev.name}: the disc holds a UDF volume without ISO 9660: growing it in place needs a manifest with "fileSystems": ["udf"]`);
  const imported = await importSession(dev, prev);
  const report = mergeTrees(imported.root, plan.root, deletes);
  notes.push(`${grow ? `the volume on the disc (blocks 0–${Math.max(0, (media.volume?.blocks ?? startLba) - 1)}, ` : `previous session at block ${prev} (`}${imported.volumeId || 'no label'}, ${imported.files} files): ${report.kept} kept, ${report.added} added, ${report.replaced} replaced, ${report.deleted} deleted`);
  const created = project.volume?.created !== undefined ? Date.parse(project.volume.created) : undefined;
  const volume = {
    label: project.volume?.label ?? (imported.volumeId || 'DISC'),
    publisher: project.volume?.publisher,
    preparer: project.volume?.preparer,
    application: project.volume?.application,
    system: project.volume?.system,
    volumeSet: project.volume?.volumeSet,
    createdMs: created,
  };
  const nowMs = Date.now();
  // El Torito (growing only: firmware reads the boot record at block 17, which the growth rewrites; on a
  // write-once disc it stays the first session's). The manifest's plan already holds the boot entries, planned on
  // its own tree, which was merged above: its nodes are the merged tree's. The hybrid system area (MBR, GPT)
  // lives in blocks 0–15 with addresses from block 0: a grown session does not rewrite it.
  const boot = grow ? plan.boot : undefined;
  const bootHooks = boot ? { catalogLba: boot.hooks.catalogLba, hiddenFiles: boot.hooks.hiddenFiles } : undefined;
  for (const e of boot?.entries ?? []) {
    // The boot info table's bi_pvd (byte 8) names the primary volume descriptor: the grown disc's is the copy at
    // block 16 (the session's own, at its start + 16, is identical; a reader of the table may use either).
    const patch = e.bootInfoTable ? e.node.patch : undefined;
    if (patch) {
      e.node.patch = (data) => {
        patch(data);
        data.writeUInt32LE(16, 8);
      };
    }
  }
  if (boot?.hybrid) notes.push('"hybrid": the system area (MBR/GPT in blocks 0–15) is not rewritten when a volume grows in place: a copy of the disc on a USB stick still starts what the first session put there');
  const makeImage = (withUdf: boolean) => {
    const udf = withUdf
      ? new UdfFileSystem(imported.root, {
        revision: (project.udf?.revision ?? DEFAULT_UDF_REVISION) as UdfRevision,
        redundantMetadata: project.udf?.redundantMetadata ?? false,
        volume,
        nowMs,
        baseLba: startLba,
        embedSmallFiles: false, // a bridge shares every file's data with ISO 9660
      })
      : undefined;
    const image = new IsoImage(imported.root, {
      level: (project.iso9660?.level ?? 3) as IsoLevel,
      joliet: fileSystems.includes('joliet'),
      jolietMaxName: project.joliet?.longNames ? 103 : 64,
      rockRidge: fileSystems.includes('rockridge'),
      nowMs,
      volume,
      baseLba: startLba,
      hooks: udf ? (grow ? bridgeHooks(udf) : sessionHooks(udf, startLba, media)) : undefined,
      boot: bootHooks,
    });
    if (udf) attachIso(udf, image);
    boot?.attach(image);
    const errors = [...image.problems, ...(udf?.problems ?? [])].filter((p) => p.severity === 'error');
    if (errors.length) throw new InputError(`${manifest}: the merged tree cannot be written: ${errors.map((e) => e.message).slice(0, 5).join('; ')}`);
    return { image, udf };
  };
  let { image, udf } = makeImage(fileSystems.includes('udf'));
  if (!oldArea) {
    if (udf) notes.push(sessionUdfNote(image, imported.root, startLba));
    else if (prevUdf) notes.push('the new session has no UDF (not among the manifest\'s file systems): UDF readers, which read the last session, find no UDF volume on the disc any more; ISO 9660 readers see the new tree');
    else if (!project.fileSystems) notes.push('the previous session has no UDF: the new session has ISO 9660, Joliet and Rock Ridge ("fileSystems" with "udf" adds a UDF volume)');
    return planSource(manifest, image, image.layout);
  }

  const growInfo = (): GrowInfo => {
    const vds = image.layout.map.find((w) => w.name === 'volume descriptors');
    if (!vds || vds.lba !== startLba + 16) throw new Error('internal: the appended session has no volume descriptors at its start + 16');
    const vrs = image.layout.map.find((w) => w.name === 'UDF volume recognition sequence');
    if (udf && (!vrs || vrs.lba !== vds.lba + vds.blocks)) throw new Error('internal: the UDF volume recognition sequence does not follow the volume descriptors');
    const copied = vds.blocks + (udf && vrs ? vrs.blocks : 0);
    return {
      blocks: image.blocks,
      newDescriptorBlocks: vds.blocks,
      vrsBlocks: udf && vrs ? vrs.blocks : 0,
      descriptorArea: Math.max(copied, oldArea.blocks),
      udfAnchor: oldArea.udfAnchor,
      udf: udf !== undefined,
      bootable: { before: oldArea.bootRecord, after: bootHooks !== undefined },
    };
  };
  let grow1 = growInfo();
  const rewritten = (g: GrowInfo): [number, number][] => [[16, 16 + g.descriptorArea], ...(g.udfAnchor || g.udf ? [[256, 257] as [number, number]] : [])];
  let clash = keptExtentIn(imported.root, rewritten(grow1));
  if (clash && udf && !keptExtentIn(imported.root, [[16, 16 + grow1.descriptorArea]])) {
    // Only UDF's anchor is in the way (an ISO 9660 volume by another tool with file data at block 256): the
    // volume grows without UDF.
    notes.push(`UDF is not written: ${clash.path} lies at blocks ${clash.lba}–${clash.lba + clash.blocks - 1}, where UDF's anchor (block 256) must be; the grown volume has ISO 9660${fileSystems.includes('joliet') ? ', Joliet' : ''}${fileSystems.includes('rockridge') ? ', Rock Ridge' : ''}`);
    ({ image, udf } = makeImage(false));
    grow1 = growInfo();
    clash = keptExtentIn(imported.root, rewritten(grow1));
  }
  if (clash) {
    throw new InputError(`${dev.name}: the volume cannot grow in place: the data of ${clash.path} lies in blocks ${clash.lba}–${clash.lba + clash.blocks - 1}, where the volume descriptors must be rewritten; --force overwrites the disc instead`);
  }
  const source = planSource(manifest, image, image.layout);
  source.grow = grow1;
  return source;
}

/**
 * The existing volume's descriptor area from block 16: the ISO 9660 descriptors through the terminator (ECMA-119
 * 8.3), then any volume recognition sequence descriptors that follow (ECMA-167 2/8.3: BEA01, NSR02/NSR03, TEA01,
 * BOOT2, CDW02); whether a UDF anchor volume descriptor pointer (tag 2, ECMA-167 3/10.2) is at block 256; and
 * whether the set holds an El Torito boot record (type 0, "EL TORITO SPECIFICATION"). A UDF-only volume (no ISO
 * 9660 set: the recognition sequence from block 16) has `iso` false.
 */
export async function descriptorArea(dev: MmcDevice): Promise<{ blocks: number; udfAnchor: boolean; iso: boolean; bootRecord: boolean }> {
  const b = await dev.read(16, 32);
  const VRS = new Set(['BEA01', 'NSR02', 'NSR03', 'TEA01', 'BOOT2', 'CDW02', 'CD001']);
  const iso = b.toString('latin1', 1, 6) === 'CD001';
  let n = 0;
  let terminated = !iso;
  let bootRecord = false;
  for (; n < 32; n++) {
    const at = n * SECTOR_BYTES;
    const id = b.toString('latin1', at + 1, at + 6);
    if (!terminated) {
      if (id !== 'CD001') break;
      if (b[at] === 255) terminated = true;
      if (b[at] === 0 && b.toString('latin1', at + 7, at + 30) === 'EL TORITO SPECIFICATION') bootRecord = true;
      continue;
    }
    if (!VRS.has(id)) break;
  }
  if (!terminated) throw new InputError(`${dev.name}: the ISO 9660 volume descriptors at block 16 have no terminator: the volume cannot grow in place`);
  const a = await dev.read(256, 1).catch(() => undefined);
  const udfAnchor = a !== undefined && isAnchor(a, 256);
  return { blocks: n, udfAnchor, iso, bootRecord };
}

/**
 * The bridge hooks of a session on a write-once disc, with the session made a whole number of the medium's
 * writable units (DVD: 16-block ECC blocks, BD: 32-block clusters; MMC-6 RESERVE TRACK rounds a track up to them
 * and the drive pads what the host leaves short when it closes the track): zeros go before UDF's closing anchor,
 * so that the anchor is the session's last recorded block, where a reader that takes the last written address
 * (READ TRACK INFORMATION / READ CAPACITY) for N looks for it (ECMA-167 3/8.4.2.1).
 */
function sessionHooks(udf: UdfFileSystem, startLba: number, media: MediaState) {
  const hooks = bridgeHooks(udf);
  const unit = media.family === 'bd' ? 32 : media.family === 'dvd' ? 16 : 1;
  let pad = 0;
  const align: Writer = {
    name: 'padding to the writable unit',
    plan: (lba) => {
      pad = (unit - ((lba + 1 - startLba) % unit)) % unit;
      return pad;
    },
    write: (sink) => sink.zeros(pad * SECTOR_BYTES),
  };
  return { ...hooks, afterData: [...(hooks.afterData ?? []).slice(0, -1), align, ...(hooks.afterData ?? []).slice(-1)] };
}

/**
 * Does the session that starts at `start` hold a UDF volume? Its anchor volume descriptor pointer at start + 256
 * (the UDF anchor of a session, as readers look for it on a multisession disc).
 */
async function previousSessionHasUdf(dev: MmcDevice, start: number): Promise<boolean> {
  const a = await dev.read(start + 256, 1).catch(() => undefined);
  return a !== undefined && isAnchor(a, start + 256);
}

/** What the new session's UDF volume is and where (for the burn's notes). */
function sessionUdfNote(image: IsoImage, root: DirNode, startLba: number): string {
  const at = (name: string) => image.layout.map.find((w) => w.name === name);
  const vrs = at('UDF volume recognition sequence');
  const first = at('UDF anchor (256)');
  const last = at('UDF anchor (end)');
  if (!vrs || !first || !last) throw new Error('internal: the appended session\'s UDF structures are missing from its layout');
  // The anchor writer pads up to start + 256: its structure is the writer's last block.
  const anchor = first.lba + first.blocks - 1;
  const closing = last.lba + last.blocks - 1;
  if (anchor !== startLba + 256) throw new Error(`internal: the appended session's UDF anchor is at block ${anchor}, not at its start + 256 (${startLba + 256})`);
  const low = lowestKept(root);
  return `the new session carries its own UDF volume: recognition sequence at block ${vrs.lba}, anchor at block ${anchor} (its start + 256), closing anchor at block ${closing} (its last block)` +
    `${low !== undefined && low < startLba ? `, partition reaching down to block ${low} (the earliest kept file data)` : ''}; UDF readers find it at the start of the last session`;
}

/** The lowest block of recorded (kept) file data in the tree. */
function lowestKept(dir: DirNode): number | undefined {
  let low: number | undefined;
  for (const c of dir.children.values()) {
    const l = c.kind === 'dir' ? lowestKept(c) : c.kind === 'file' && c.recorded ? Math.min(...c.recorded.filter((x) => x.length > 0).map((x) => x.lba)) : undefined;
    if (l !== undefined && Number.isFinite(l)) low = Math.min(low ?? l, l);
  }
  return low;
}

/** An anchor volume descriptor pointer (ECMA-167 3/10.2) recorded at `lba`: tag identifier 2, its location, checksum. */
export function isAnchor(a: Buffer, lba: number): boolean {
  return a.length >= 512 && a.readUInt16LE(0) === 2 && a.readUInt32LE(12) === lba && tagChecksum(a, 0) === a[4];
}

/**
 * Growing a UDF-only volume (no ISO 9660) in place: its tree is read through the anchor at block 256 (our
 * inspector's UDF reader, over READ (10)), merged with the manifest, and written as a UDF-only session at
 * `startLba` (its recognition sequence at start + 16, anchor at start + 256, partition down to the earliest kept
 * data, closing anchor in its last block); the engine copies the recognition sequence to block 16 and the anchor
 * to block 256. Files recorded inside their file entries (ECMA-167 4/14.6.8 allocation type 3) have no extent
 * to point at: their bytes are read from the entry and written again, in the new session's entries.
 */
async function planUdfGrowth(manifest: string, project: DiscProject, manifestRoot: DirNode, dev: MmcDevice, media: MediaState, startLba: number, deletes: string[], notes: string[]): Promise<BurnSource> {
  const oldArea = await descriptorArea(dev);
  const blocks = media.volume?.blocks ?? startLba;
  const reader = new ImageReader(new DeviceFile(dev) as unknown as FileHandle, dev.name, blocks * SECTOR_BYTES);
  const report = await inspectUdf(reader, { maxEntries: 1_000_000, maxDepth: 64 });
  if (!report || !report.complete || report.entries.length === 0) {
    throw new InputError(`${dev.name}: the UDF volume on the disc could not be read completely: ${(report?.problems ?? ['no UDF volume']).slice(0, 3).join('; ')}`);
  }
  const now = Date.now();
  const root: DirNode = { kind: 'dir', name: '', parent: undefined, mode: 0o755, mtimeMs: now, origin: [], children: new Map() };
  const dirs = new Map<string, DirNode>([['/', root]]);
  let files = 0;
  let embeddedDir: string | undefined;
  for (const e of report.entries as UdfEntry[]) {
    if (e.depth === 0) {
      if (e.mode !== undefined) root.mode = e.mode & 0o7777;
      continue;
    }
    const slash = e.path.lastIndexOf('/');
    const parent = dirs.get(slash <= 0 ? '/' : e.path.slice(0, slash));
    if (!parent) continue;
    const mtime = Date.parse(e.recorded ?? '') || now;
    const mode = e.mode !== undefined ? e.mode & 0o7777 : e.kind === 'dir' ? 0o755 : 0o644;
    let node: TreeNode;
    if (e.kind === 'dir') {
      node = { kind: 'dir', name: e.name, parent, mode, mtimeMs: mtime, origin: [], children: new Map() };
      dirs.set(e.path, node);
    } else if (e.kind === 'symlink') {
      node = { kind: 'symlink', name: e.name, parent, mode: 0o777, mtimeMs: mtime, origin: [], target: e.target ?? '' };
    } else {
      files++;
      const f: FileNode = { kind: 'file', name: e.name, parent, mode, mtimeMs: mtime, origin: [], source: `${dev.name}#${e.icb}`, size: e.size };
      if (e.embedded && e.size > 0) {
        // The bytes after the entry's header and extended attributes (4/14.9: FE, 4/14.17: EFE).
        const fe = await dev.read(e.icb, 1);
        const efe = fe.readUInt16LE(0) === 266;
        const at = (efe ? 216 : 176) + fe.readUInt32LE(efe ? 208 : 168);
        embeddedDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'discforge-grow-'));
        const tmp = path.join(embeddedDir, String(files));
        fs.writeFileSync(tmp, fe.subarray(at, at + e.size));
        fs.utimesSync(tmp, mtime / 1000, mtime / 1000);
        f.source = tmp;
        f.mtimeMs = fs.statSync(tmp).mtimeMs;
      } else if (e.size > 0) {
        f.recorded = e.extents.map((x) => ({ lba: x.lba, length: x.length }));
      }
      node = f;
    }
    parent.children.set(e.name, node);
  }
  if (embeddedDir) {
    const d = embeddedDir;
    process.once('exit', () => fs.rmSync(d, { recursive: true, force: true }));
  }
  const merged = mergeTrees(root, manifestRoot, deletes);
  const label = report.udf?.logicalVolumeId || report.udf?.volumeId || '';
  notes.push(`the UDF volume on the disc (blocks 0–${Math.max(0, blocks - 1)}, ${label || 'no label'}, ${files} files): ${merged.kept} kept, ${merged.added} added, ${merged.replaced} replaced, ${merged.deleted} deleted`);
  const created = project.volume?.created !== undefined ? Date.parse(project.volume.created) : undefined;
  const udf = new UdfFileSystem(root, {
    revision: (project.udf?.revision ?? DEFAULT_UDF_REVISION) as UdfRevision,
    redundantMetadata: project.udf?.redundantMetadata ?? false,
    volume: {
      label: project.volume?.label ?? (label || 'DISC'),
      publisher: project.volume?.publisher,
      preparer: project.volume?.preparer,
      application: project.volume?.application,
      system: project.volume?.system,
      volumeSet: project.volume?.volumeSet,
      createdMs: created,
    },
    nowMs: now,
    baseLba: startLba,
    embedSmallFiles: true,
  });
  const errors = udf.problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new InputError(`${manifest}: the merged tree cannot be written: ${errors.map((e) => e.message).slice(0, 5).join('; ')}`);
  const image = new UdfImage(root, udf, startLba);
  const vrs = image.layout.map.find((w) => w.name === 'UDF volume recognition sequence');
  if (!vrs || vrs.lba !== startLba + 16) throw new Error('internal: the UDF session has no recognition sequence at its start + 16');
  const g: GrowInfo = {
    blocks: image.blocks, newDescriptorBlocks: 0, vrsBlocks: vrs.blocks, descriptorArea: Math.max(vrs.blocks, oldArea.blocks),
    udfAnchor: oldArea.udfAnchor, udf: true, bootable: { before: false, after: false },
  };
  const clash = keptExtentIn(root, [[16, 16 + g.descriptorArea], [256, 257]]);
  if (clash) {
    throw new InputError(`${dev.name}: the volume cannot grow in place: the data of ${clash.path} lies in blocks ${clash.lba}–${clash.lba + clash.blocks - 1}, where the recognition sequence or the anchor must be rewritten; --force overwrites the disc instead`);
  }
  const source = planSource(manifest, image, image.layout);
  source.grow = g;
  return source;
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
