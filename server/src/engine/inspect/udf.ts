/**
 * `discforge inspect` for UDF (ECMA-167 3rd edition / OSTA UDF 1.02–2.60): the volume recognition sequence, the
 * anchors, the volume descriptor sequence (main, else reserve), partitions and partition maps (type 1 and the
 * UDF 2.50 metadata partition, through its metadata file or else its mirror), the integrity sequence, the file
 * set and the directory tree with every file's extents.
 *
 * Hostile images: every descriptor's tag checksum and CRC (3/7.2) are verified, every length is bounded before
 * it is used, loops (a directory reached twice, allocation extent chains that come back) are cut, and the work is
 * bounded by maxEntries / maxDepth and fixed byte budgets, whatever the image claims. What is wrong is reported
 * in `problems` with where it was found; nothing here throws for a malformed image.
 */
import { crcItu, decodeCs0, readDstring, readRegid, readTimestamp, tagChecksum, TAG } from '../udf/encode';
import { isAllZero } from './bytes';
import { Problems } from './problems';
import { SECTOR, type ImageReader } from './reader';
import { modeString } from './tree';
import type { FileSystemReport, InspectEntry } from './types';

/** What `inspect` reports about a UDF volume besides its tree (in FileSystemReport.udf). */
export interface UdfDetails {
  /** The UDF revision the volume is written to (LVID maximum write revision, else the domain identifier). */
  revision: string | null;
  /** LVID implementation use (UDF 2.2.6.4). */
  minReadRevision: string | null;
  minWriteRevision: string | null;
  maxWriteRevision: string | null;
  /** Volume recognition sequence: identifiers and their sectors (ECMA-167 2/9). */
  recognition: { lba: number; id: string }[];
  /** Sectors holding a valid anchor volume descriptor pointer (3/10.2). */
  anchors: number[];
  mainVds: { lba: number; length: number } | null;
  reserveVds: { lba: number; length: number } | null;
  /** Which sequence the volume was read from. */
  vdsUsed: 'main' | 'reserve' | null;
  volumeId: string;
  volumeSetId: string;
  logicalVolumeId: string;
  fileSetId: string;
  domainId: string;
  implementationId: string;
  applicationId: string;
  recorded: string | null;
  blockSize: number;
  partitions: { number: number; start: number; length: number; accessType: string; contents: string }[];
  partitionMaps: UdfPartitionMap[];
  integrity: { type: string; recorded: string | null; files: number | null; directories: number | null; nextUniqueId: number } | null;
  /** The file set descriptor: partition reference and block. */
  fileSet: { partitionRef: number; block: number } | null;
}

export type UdfPartitionMap =
  | { type: 1; partition: number }
  | {
    type: 2;
    kind: 'metadata';
    partition: number;
    metadataFile: number;
    mirrorFile: number;
    bitmapFile: number;
    allocationUnit: number;
    alignmentUnit: number;
    duplicated: boolean;
    /** Where the metadata partition's blocks are (absolute sectors), from the metadata file (else the mirror). */
    extents: { lba: number; blocks: number }[];
    readFrom: 'metadata file' | 'mirror file' | null;
  }
  | { type: 2; kind: string; partition: number };

/** A UDF tree entry: the common fields plus where its ICB is and whether its data is inside the ICB. */
export interface UdfEntry extends InspectEntry {
  /** Absolute sector of the (extended) file entry. */
  icb: number;
  /** Data recorded inside the file entry (ECMA-167 4/14.6.8 allocation type 3). */
  embedded: boolean;
  uniqueId: number;
}

const VRS_IDS = new Set(['BEA01', 'NSR02', 'NSR03', 'TEA01', 'BOOT2', 'CDW02', 'CD001']);
/** Bounds: a hostile image may claim anything. */
const MAX_VDS_SECTORS = 64;
const MAX_VDS_HOPS = 8;
const MAX_LVID_HOPS = 64;
const MAX_PARTITION_MAPS = 16;
const MAX_METADATA_EXTENTS = 4096;
const MAX_AED_CHAIN = 4096;
const MAX_ADS_PER_FILE = 1_000_000;
const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;
const MAX_SYMLINK_BYTES = 64 * 1024;
const DIRECTORY_BUDGET = 1024 * 1024 * 1024;
/** Allocation extent descriptors read for the whole volume. */
const AED_BUDGET = 65536;

export interface UdfLimits {
  maxEntries: number;
  maxDepth: number;
}

interface PhysPart {
  number: number;
  start: number;
  length: number;
}

interface Map1 {
  kind: 'physical';
  part: PhysPart;
}
interface MapMeta {
  kind: 'metadata';
  part: PhysPart;
  extents: { block: number; blocks: number }[];
  blocks: number;
}
type PartMap = Map1 | MapMeta | { kind: 'unsupported'; name: string };

interface LongAd {
  length: number;
  type: number;
  block: number;
  ref: number;
}

const revisionString = (n: number): string | null => (n > 0 ? `${(n >> 8).toString(16)}.${(n & 0xff).toString(16).padStart(2, '0')}` : null);
const isoTime = (ms: number | undefined): string | null => (ms === undefined || Number.isNaN(ms) ? null : new Date(ms).toISOString().replace('.000Z', 'Z'));

/**
 * Is there a UDF volume recognition sequence (an NSR descriptor within the extended area) from sector 16 (of the
 * session that starts at `sessionStart`)?
 */
export async function probeUdf(reader: ImageReader, sessionStart = 0): Promise<{ recognition: { lba: number; id: string }[]; nsr: boolean }> {
  const recognition: { lba: number; id: string }[] = [];
  let nsr = false;
  let inExtended = false;
  for (let lba = sessionStart + 16; lba < sessionStart + 16 + 64; lba++) {
    const s = await reader.sector(lba);
    if (s.length < SECTOR) break;
    const id = s.toString('latin1', 1, 6);
    if (!VRS_IDS.has(id)) break;
    recognition.push({ lba, id });
    if (id === 'BEA01') inExtended = true;
    else if (id === 'TEA01') {
      if (nsr) break;
      inExtended = false;
    } else if ((id === 'NSR02' || id === 'NSR03') && inExtended) nsr = true;
  }
  return { recognition, nsr };
}

/** A UDF-only image: the recognition sequence at sector 16 starts with BEA01 (no ISO 9660 descriptors). */
export async function isUdfWithoutIso(reader: ImageReader, sessionStart = 0): Promise<boolean> {
  const s = await reader.sector(sessionStart + 16);
  if (s.length < SECTOR || s.toString('latin1', 1, 6) === 'CD001') return false;
  return (await probeUdf(reader, sessionStart)).nsr;
}

/**
 * The session whose UDF volume is read: its recognition sequence is at start + 16, its anchor at start + 256,
 * its closing anchors at end and end − 256 (end: the image's last block unless given). Everything else absolute.
 */
export interface UdfSession {
  start: number;
  end?: number;
}

/** Reads the UDF volume and tree; null when the image has no UDF recognition sequence. */
export async function inspectUdf(reader: ImageReader, limits: UdfLimits, session: UdfSession = { start: 0 }): Promise<FileSystemReport | null> {
  const probe = await probeUdf(reader, session.start);
  if (!probe.nsr) return null;
  const u = new UdfReader(reader, limits, session);
  return u.run(probe.recognition);
}

class UdfReader {
  readonly problems = new Problems();
  private readonly details: UdfDetails;
  private maps: PartMap[] = [];
  private directoryBytes = 0;
  private aeds = 0;
  private readonly entries: UdfEntry[] = [];
  private complete = true;
  private tagVersion = 0;

  constructor(private readonly r: ImageReader, private readonly limits: UdfLimits, private readonly session: UdfSession = { start: 0 }) {
    this.details = {
      revision: null, minReadRevision: null, minWriteRevision: null, maxWriteRevision: null, recognition: [], anchors: [],
      mainVds: null, reserveVds: null, vdsUsed: null, volumeId: '', volumeSetId: '', logicalVolumeId: '', fileSetId: '',
      domainId: '', implementationId: '', applicationId: '', recorded: null, blockSize: 0, partitions: [], partitionMaps: [],
      integrity: null, fileSet: null,
    };
  }

  private get sectors(): number {
    return Math.floor(this.r.size / SECTOR);
  }

  /**
   * Verifies a descriptor tag (3/7.2): identifier, checksum, CRC over the CRC length, and the recorded location.
   * Returns the tag identifier, or undefined (with a problem) when the descriptor must not be used.
   */
  private tag(b: Buffer, off: number, what: string, expect: number | number[] | undefined, location: number | undefined, quiet = false): number | undefined {
    if (b.length < off + 16) {
      if (!quiet) this.problems.add(`${what}: truncated descriptor tag`);
      return undefined;
    }
    const id = b.readUInt16LE(off);
    if (id === 0 && b.readUInt32LE(off) === 0 && b.readUInt32LE(off + 12) === 0) {
      // An unrecorded (zero) block: no descriptor here.
      if (!quiet) this.problems.add(`${what}: no descriptor (zeros)`);
      return undefined;
    }
    if (tagChecksum(b, off) !== b[off + 4]) {
      if (!quiet) this.problems.add(`${what}: descriptor tag checksum ${b[off + 4]} is wrong (computed ${tagChecksum(b, off)}; ECMA-167 3/7.2.3)`);
      return undefined;
    }
    if (expect !== undefined && !(Array.isArray(expect) ? expect.includes(id) : id === expect)) {
      if (!quiet) this.problems.add(`${what}: tag identifier ${id}, expected ${Array.isArray(expect) ? expect.join(' or ') : expect}`);
      return undefined;
    }
    const version = b.readUInt16LE(off + 2);
    if (version !== 2 && version !== 3) this.problems.add(`${what}: descriptor version ${version} (2 or 3 expected, ECMA-167 3/7.2.2)`);
    const crcLen = b.readUInt16LE(off + 10);
    if (off + 16 + crcLen > b.length) {
      this.problems.add(`${what}: descriptor CRC length ${crcLen} runs past the descriptor (ECMA-167 3/7.2.5)`);
      return undefined;
    }
    const crc = crcItu(b, off + 16, off + 16 + crcLen);
    if (crc !== b.readUInt16LE(off + 8)) {
      this.problems.add(`${what}: descriptor CRC 0x${b.readUInt16LE(off + 8).toString(16)} is wrong (computed 0x${crc.toString(16)} over ${crcLen} bytes; ECMA-167 3/7.2.6)`);
      return undefined;
    }
    const loc = b.readUInt32LE(off + 12);
    if (location !== undefined && loc !== location) {
      this.problems.add(`${what}: tag location ${loc}, but the descriptor is at block ${location} (ECMA-167 3/7.2.8)`);
    }
    if (!this.tagVersion) this.tagVersion = version;
    return id;
  }

  async run(recognition: { lba: number; id: string }[]): Promise<FileSystemReport> {
    const d = this.details;
    d.recognition = recognition;
    const fs: FileSystemReport & { udf: UdfDetails } = {
      type: 'udf', label: 'UDF', descriptorLba: 0, blockSize: SECTOR, root: { lba: 0, length: 0 },
      directories: 0, files: 0, symlinks: 0, totalFileBytes: 0, complete: false, entries: this.entries, problems: [], udf: d,
    };
    try {
      await this.readVolume(fs);
    } finally {
      fs.complete = this.complete && this.entries.length > 0;
      for (const e of this.entries) {
        if (e.kind === 'dir') fs.directories++;
        else if (e.kind === 'symlink') fs.symlinks++;
        else {
          fs.files++;
          fs.totalFileBytes += e.size;
        }
      }
      fs.label = `UDF ${d.revision ?? '(revision unknown)'}${d.logicalVolumeId ? ` "${d.logicalVolumeId}"` : ''}`;
      fs.problems = this.problems.toArray();
    }
    return fs;
  }

  private async readVolume(fs: FileSystemReport): Promise<void> {
    const d = this.details;
    // Anchors (3/8.4.2.1): 256, N − 256, N (N = last sector); N − 1 and N − 150 for images of discs read with run-out.
    // In a later session: its start + 256, and N the session's last block when known.
    const last = this.sectors - 1;
    const s0 = this.session.start;
    const first = s0 + 256;
    const end = this.session.end;
    let n = last;
    if (end !== undefined && end >= first && end <= last) {
      n = end;
      // A session padded to the medium's writing unit (a BD cluster is 32 blocks, a DVD ECC block 16) ends in
      // zero blocks: its closing anchor is in the last block written before them.
      for (let k = 0; k < 32 && n > first && isAllZero(await this.r.sector(n)); k++) n--;
    }
    let avdp: Buffer | undefined;
    for (const lba of [...new Set([first, n, n - 256, n - 150, n - 152])].filter((x) => x >= first && x <= last)) {
      const s = await this.r.sector(lba);
      if (s.length < 512) continue;
      if (this.tag(s, 0, `anchor at sector ${lba}`, TAG.AVDP, lba, lba !== first) === TAG.AVDP) {
        d.anchors.push(lba);
        avdp ??= s;
      }
    }
    const at256 = s0 ? `${first} (session start ${s0} + 256)` : '256';
    if (!avdp) {
      this.problems.add(`no anchor volume descriptor pointer at sector ${at256}, N − 256 or N (ECMA-167 3/8.4.2.1): UDF structures not read`);
      return;
    }
    if (d.anchors.length < 2) this.problems.add(`only one anchor (sector ${d.anchors[0]}); UDF 2.2.3 wants at least two of ${at256}, N − 256 and N`);
    d.mainVds = { length: avdp.readUInt32LE(16), lba: avdp.readUInt32LE(20) };
    d.reserveVds = { length: avdp.readUInt32LE(24), lba: avdp.readUInt32LE(28) };

    let vds = await this.readVds(d.mainVds, 'main');
    if (!vds.pvd || !vds.lvd || vds.pds.length === 0) {
      this.problems.add('the main volume descriptor sequence lacks a primary, logical volume or partition descriptor; trying the reserve sequence');
      vds = await this.readVds(d.reserveVds, 'reserve');
      if (!vds.pvd || !vds.lvd || vds.pds.length === 0) {
        this.problems.add('no usable volume descriptor sequence (ECMA-167 3/8.4.2): UDF tree not read');
        return;
      }
      d.vdsUsed = 'reserve';
    } else d.vdsUsed = 'main';

    const pvd = vds.pvd;
    d.volumeId = readDstring(pvd, 24, 32);
    d.volumeSetId = readDstring(pvd, 72, 128);
    d.applicationId = readRegid(pvd, 344).id;
    d.recorded = isoTime(readTimestamp(pvd, 376));
    d.implementationId = readRegid(pvd, 388).id;

    for (const pd of vds.pds) {
      const access = ['pseudo-overwritable', 'read-only', 'write-once', 'rewritable', 'overwritable'][pd.readUInt32LE(184)] ?? `type ${pd.readUInt32LE(184)}`;
      d.partitions.push({
        number: pd.readUInt16LE(22), start: pd.readUInt32LE(188), length: pd.readUInt32LE(192), accessType: access, contents: readRegid(pd, 24).id,
      });
    }
    for (const p of d.partitions) {
      if (p.contents !== '+NSR02' && p.contents !== '+NSR03') this.problems.add(`partition ${p.number}: contents "${p.contents}", not +NSR02/+NSR03 (ECMA-167 3/10.5.5)`);
      if (p.start + p.length > this.sectors) this.problems.add(`partition ${p.number} (sectors ${p.start}–${p.start + p.length - 1}) runs past the end of the image (${this.sectors} sectors)`);
    }

    const lvd = vds.lvd;
    d.logicalVolumeId = readDstring(lvd, 84, 128);
    d.blockSize = lvd.readUInt32LE(212);
    const domain = readRegid(lvd, 216);
    d.domainId = domain.id;
    const domainRevision = domain.suffix.readUInt16LE(0);
    if (domain.id !== '*OSTA UDF Compliant') this.problems.add(`logical volume domain "${domain.id}", not "*OSTA UDF Compliant" (UDF 2.1.5.2)`);
    if (d.blockSize !== SECTOR) {
      this.problems.add(`logical block size ${d.blockSize}: only ${SECTOR}-byte blocks are read here`);
      return;
    }
    await this.readPartitionMaps(lvd, d);
    await this.readIntegrity(lvd.readUInt32LE(436), lvd.readUInt32LE(432));
    d.revision = d.maxWriteRevision ?? revisionString(domainRevision);

    // File set (4/14.1), from the logical volume contents use (a long_ad).
    const fsdAd = parseLongAd(lvd, 248);
    d.fileSet = { partitionRef: fsdAd.ref, block: fsdAd.block };
    const fsd = await this.readBlock(fsdAd.ref, fsdAd.block, 'file set descriptor');
    if (!fsd || this.tag(fsd, 0, 'file set descriptor', TAG.FSD, fsdAd.block) !== TAG.FSD) {
      this.problems.add('no usable file set descriptor: UDF tree not read');
      return;
    }
    d.fileSetId = readDstring(fsd, 304, 32);
    const root = parseLongAd(fsd, 400);
    const rootLba = this.resolve(root.ref, root.block);
    fs.descriptorLba = this.resolve(fsdAd.ref, fsdAd.block) ?? 0;
    fs.root = { lba: rootLba ?? 0, length: root.length };
    await this.walk(root);
  }

  private async readVds(ext: { lba: number; length: number }, which: string): Promise<{ pvd?: Buffer; lvd?: Buffer; pds: Buffer[] }> {
    const best = new Map<number, { seq: number; b: Buffer }>();
    const pds = new Map<number, { seq: number; b: Buffer }>();
    let lba = ext.lba;
    let left = Math.min(Math.floor(ext.length / SECTOR), MAX_VDS_SECTORS);
    if (ext.length < 16 * SECTOR) this.problems.add(`${which} volume descriptor sequence extent is ${ext.length} bytes (UDF 2.2.3: at least 16 blocks)`);
    let hops = 0;
    const seen = new Set<number>();
    while (left > 0 && lba < this.sectors) {
      if (seen.has(lba)) {
        this.problems.add(`${which} volume descriptor sequence loops back to sector ${lba}`);
        break;
      }
      seen.add(lba);
      const s = await this.r.sector(lba);
      const what = `${which} volume descriptor sequence, sector ${lba}`;
      const id = this.tag(s, 0, what, undefined, lba);
      if (id === undefined || id === TAG.TD) break;
      if (id === TAG.VDP) {
        // 3/10.3 volume descriptor pointer: the sequence continues elsewhere.
        if (++hops > MAX_VDS_HOPS) {
          this.problems.add(`${what}: more than ${MAX_VDS_HOPS} volume descriptor pointers`);
          break;
        }
        lba = s.readUInt32LE(24);
        left = Math.min(Math.floor(s.readUInt32LE(20) / SECTOR), MAX_VDS_SECTORS);
        continue;
      }
      const seq = s.readUInt32LE(16);
      if (id === TAG.PD) {
        const num = s.readUInt16LE(22);
        const prev = pds.get(num);
        if (!prev || prev.seq < seq) pds.set(num, { seq, b: s });
      } else if (id === TAG.PVD || id === TAG.LVD) {
        const prev = best.get(id);
        if (!prev || prev.seq < seq) best.set(id, { seq, b: s });
      } else if (![TAG.IUVD, TAG.USD].includes(id as 4 | 7)) {
        this.problems.add(`${what}: unexpected descriptor (tag ${id})`);
      }
      lba++;
      left--;
    }
    return { pvd: best.get(TAG.PVD)?.b, lvd: best.get(TAG.LVD)?.b, pds: [...pds.values()].map((p) => p.b) };
  }

  private async readPartitionMaps(lvd: Buffer, d: UdfDetails): Promise<void> {
    const mtl = lvd.readUInt32LE(264);
    const count = lvd.readUInt32LE(268);
    if (440 + mtl > lvd.length) this.problems.add(`logical volume descriptor: map table length ${mtl} runs past the descriptor`);
    if (count > MAX_PARTITION_MAPS) this.problems.add(`logical volume descriptor: ${count} partition maps; reading ${MAX_PARTITION_MAPS}`);
    const end = Math.min(440 + mtl, lvd.length);
    let off = 440;
    const physical = (num: number): PhysPart | undefined => {
      const p = d.partitions.find((x) => x.number === num);
      if (!p) this.problems.add(`partition map refers to partition ${num}, which has no partition descriptor`);
      return p ? { number: p.number, start: p.start, length: p.length } : undefined;
    };
    for (let i = 0; i < Math.min(count, MAX_PARTITION_MAPS); i++) {
      if (off + 2 > end) {
        this.problems.add(`partition map ${i} lies outside the map table`);
        break;
      }
      const type = lvd[off];
      const len = lvd[off + 1];
      if (len < 2 || off + len > end) {
        this.problems.add(`partition map ${i}: length ${len} does not fit the map table`);
        break;
      }
      if (type === 1 && len === 6) {
        const num = lvd.readUInt16LE(off + 4);
        d.partitionMaps.push({ type: 1, partition: num });
        const part = physical(num);
        this.maps.push(part ? { kind: 'physical', part } : { kind: 'unsupported', name: 'missing partition' });
      } else if (type === 2 && len === 64) {
        const ident = readRegid(lvd, off + 4).id;
        const num = lvd.readUInt16LE(off + 38);
        if (ident === '*UDF Metadata Partition') {
          const m: UdfPartitionMap & { kind: 'metadata' } = {
            type: 2, kind: 'metadata', partition: num, metadataFile: lvd.readUInt32LE(off + 40), mirrorFile: lvd.readUInt32LE(off + 44),
            bitmapFile: lvd.readUInt32LE(off + 48), allocationUnit: lvd.readUInt32LE(off + 52), alignmentUnit: lvd.readUInt16LE(off + 56),
            duplicated: (lvd[off + 58] & 1) === 1, extents: [], readFrom: null,
          };
          d.partitionMaps.push(m);
          const part = physical(num);
          if (!part) this.maps.push({ kind: 'unsupported', name: 'missing partition' });
          else {
            let meta = await this.metadataFile(part, m.metadataFile, 'metadata file');
            if (meta) m.readFrom = 'metadata file';
            else {
              meta = await this.metadataFile(part, m.mirrorFile, 'metadata mirror file');
              if (meta) m.readFrom = 'mirror file';
            }
            if (meta) {
              m.extents = meta.extents.map((x) => ({ lba: part.start + x.block, blocks: x.blocks }));
              this.maps.push(meta);
            } else {
              this.problems.add('neither the metadata file nor its mirror is readable (UDF 2.2.13): the metadata partition is unusable');
              this.maps.push({ kind: 'unsupported', name: 'unreadable metadata partition' });
            }
          }
        } else {
          d.partitionMaps.push({ type: 2, kind: ident, partition: num });
          this.problems.add(`partition map ${i}: "${ident}" partitions are not read here`);
          this.maps.push({ kind: 'unsupported', name: ident });
        }
      } else {
        this.problems.add(`partition map ${i}: type ${type} of ${len} bytes is not a valid map (ECMA-167 3/10.7)`);
        this.maps.push({ kind: 'unsupported', name: `type ${type}` });
      }
      off += len;
    }
  }

  /** The metadata (or mirror) file: an entry in the physical partition whose extents make the metadata partition. */
  private async metadataFile(part: PhysPart, block: number, what: string): Promise<MapMeta | undefined> {
    if (block === 0xffffffff || block >= part.length) {
      this.problems.add(`${what} at partition block ${block}: outside partition ${part.number}`);
      return undefined;
    }
    const lba = part.start + block;
    const s = await this.r.sector(lba);
    const id = this.tag(s, 0, `${what} entry (sector ${lba})`, [TAG.FE, TAG.EFE], block);
    if (id === undefined) return undefined;
    const fileType = s[16 + 11];
    if (fileType !== 250 && fileType !== 251) this.problems.add(`${what} entry has ICB file type ${fileType} (UDF 2.2.13: 250 or 251)`);
    const ref = this.maps.findIndex((m) => m.kind === 'physical' && m.part.number === part.number);
    const ads = await this.allocationDescriptors(s, id === TAG.EFE, ref, what);
    if (!ads) return undefined;
    const extents: { block: number; blocks: number }[] = [];
    let total = 0;
    for (const a of ads.list) {
      if (a.type !== 0) continue;
      if (a.ref !== 0 && ads.long) this.problems.add(`${what}: a long_ad refers to partition ${a.ref}`);
      const blocks = Math.ceil(a.length / SECTOR);
      if (a.block + blocks > part.length) {
        this.problems.add(`${what}: extent at block ${a.block} (${blocks} blocks) runs past partition ${part.number}`);
        return undefined;
      }
      extents.push({ block: a.block, blocks });
      total += blocks;
      if (extents.length > MAX_METADATA_EXTENTS) {
        this.problems.add(`${what}: more than ${MAX_METADATA_EXTENTS} extents`);
        return undefined;
      }
    }
    if (extents.length === 0) {
      this.problems.add(`${what}: no recorded extents`);
      return undefined;
    }
    return { kind: 'metadata', part, extents, blocks: total };
  }

  private async readIntegrity(lba: number, length: number): Promise<void> {
    let last: Buffer | undefined;
    let hops = 0;
    const seen = new Set<number>();
    while (length >= SECTOR && lba > 0 && lba < this.sectors && hops++ < MAX_LVID_HOPS) {
      let found = false;
      for (let i = 0; i < Math.min(Math.floor(length / SECTOR), MAX_VDS_SECTORS); i++) {
        if (seen.has(lba + i)) break;
        seen.add(lba + i);
        const s = await this.r.sector(lba + i);
        const id = this.tag(s, 0, `integrity sequence, sector ${lba + i}`, undefined, lba + i, true);
        if (id !== TAG.LVID) break;
        last = s;
        found = true;
        const next = { length: s.readUInt32LE(32), lba: s.readUInt32LE(36) };
        if (next.length > 0) {
          lba = next.lba;
          length = next.length;
          found = false;
          break;
        }
      }
      if (found || !last) break;
      if (seen.has(lba)) {
        this.problems.add(`logical volume integrity sequence loops back to sector ${lba}`);
        break;
      }
    }
    if (!last) {
      this.problems.add('no logical volume integrity descriptor (ECMA-167 3/10.10; UDF 2.2.6 requires one)');
      return;
    }
    const type = last.readUInt32LE(28);
    const np = last.readUInt32LE(72);
    const lIu = last.readUInt32LE(76);
    const iuOff = 80 + 8 * np;
    let files: number | null = null;
    let dirs: number | null = null;
    if (np <= 64 && iuOff + 46 <= last.length && lIu >= 46) {
      files = last.readUInt32LE(iuOff + 32);
      dirs = last.readUInt32LE(iuOff + 36);
      this.details.minReadRevision = revisionString(last.readUInt16LE(iuOff + 40));
      this.details.minWriteRevision = revisionString(last.readUInt16LE(iuOff + 42));
      this.details.maxWriteRevision = revisionString(last.readUInt16LE(iuOff + 44));
    } else this.problems.add('logical volume integrity descriptor: no UDF implementation use (UDF 2.2.6.4)');
    const typeName = type === 0 ? 'open' : type === 1 ? 'close' : `type ${type}`;
    if (type !== 1) this.problems.add(`logical volume integrity is "${typeName}", not closed: the volume may be inconsistent`);
    this.details.integrity = {
      type: typeName, recorded: isoTime(readTimestamp(last, 16)), files, directories: dirs,
      nextUniqueId: last.readUInt32LE(40) + last.readUInt32LE(44) * 0x100000000,
    };
  }

  /** Absolute sector of a block in a partition reference, or undefined. */
  private resolve(ref: number, block: number): number | undefined {
    const m = this.maps[ref];
    if (!m || m.kind === 'unsupported') return undefined;
    if (m.kind === 'physical') return block < m.part.length ? m.part.start + block : undefined;
    let b = block;
    for (const x of m.extents) {
      if (b < x.blocks) return m.part.start + x.block + b;
      b -= x.blocks;
    }
    return undefined;
  }

  private async readBlock(ref: number, block: number, what: string): Promise<Buffer | undefined> {
    const lba = this.resolve(ref, block);
    if (lba === undefined) {
      this.problems.add(`${what}: block ${block} of partition reference ${ref} is outside its partition`);
      return undefined;
    }
    const s = await this.r.sector(lba);
    if (s.length < SECTOR) {
      this.problems.add(`${what}: sector ${lba} is past the end of the image`);
      return undefined;
    }
    return s;
  }

  /** Bytes of an extent in a partition reference (block by block: metadata partitions may be fragmented). */
  private async readExtent(ref: number, block: number, length: number, what: string): Promise<Buffer | undefined> {
    const out = Buffer.alloc(length);
    for (let i = 0; i * SECTOR < length; i++) {
      const s = await this.readBlock(ref, block + i, what);
      if (!s) return undefined;
      s.copy(out, i * SECTOR, 0, Math.min(SECTOR, length - i * SECTOR));
    }
    return out;
  }

  /**
   * The allocation descriptors of an entry (4/14.14), following allocation extent descriptors (4/14.5), or the
   * embedded data (allocation type 3).
   */
  private async allocationDescriptors(
    fe: Buffer, efe: boolean, icbRef: number, what: string,
  ): Promise<{ list: LongAd[]; long: boolean; embedded?: Buffer } | undefined> {
    const h = efe ? 216 : 176;
    const lEa = fe.readUInt32LE(h - 8);
    const lAd = fe.readUInt32LE(h - 4);
    if (lEa > SECTOR - h || lAd > SECTOR - h - lEa) {
      this.problems.add(`${what}: extended attributes (${lEa}) and allocation descriptors (${lAd}) do not fit the entry`);
      return undefined;
    }
    const flags = fe.readUInt16LE(16 + 18);
    const adType = flags & 7;
    const start = h + lEa;
    if (adType === 3) return { list: [], long: false, embedded: Buffer.from(fe.subarray(start, start + lAd)) };
    if (adType !== 0 && adType !== 1) {
      this.problems.add(`${what}: allocation descriptor type ${adType} is not supported (ECMA-167 4/14.6.8)`);
      return undefined;
    }
    const long = adType === 1;
    const size = long ? 16 : 8;
    const list: LongAd[] = [];
    let buf = fe;
    let off = start;
    let end = start + lAd;
    let chain = 0;
    const seen = new Set<string>();
    for (;;) {
      if ((end - off) % size !== 0) this.problems.add(`${what}: ${end - off} bytes of allocation descriptors is not a multiple of ${size}`);
      let next: LongAd | undefined;
      for (; off + size <= end; off += size) {
        const raw = buf.readUInt32LE(off);
        const ad: LongAd = long
          ? { length: raw & 0x3fffffff, type: raw >>> 30, block: buf.readUInt32LE(off + 4), ref: buf.readUInt16LE(off + 8) }
          : { length: raw & 0x3fffffff, type: raw >>> 30, block: buf.readUInt32LE(off + 4), ref: icbRef };
        if (ad.length === 0 && ad.type === 0) break; // 4/12.1: a zero length ends the descriptors
        if (ad.type === 3) {
          next = ad;
          break;
        }
        list.push(ad);
        if (list.length > MAX_ADS_PER_FILE) {
          this.problems.add(`${what}: more than ${MAX_ADS_PER_FILE} allocation descriptors`);
          return undefined;
        }
      }
      if (!next) break;
      if (++this.aeds > AED_BUDGET) {
        this.problems.add(`${what}: the budget of ${AED_BUDGET} allocation extent descriptors for the volume is spent`);
        this.complete = false;
        return undefined;
      }
      if (++chain > MAX_AED_CHAIN) {
        this.problems.add(`${what}: more than ${MAX_AED_CHAIN} allocation extent descriptors`);
        return undefined;
      }
      const key = `${next.ref}:${next.block}`;
      if (seen.has(key)) {
        this.problems.add(`${what}: the allocation extent descriptors loop back to block ${next.block}`);
        return undefined;
      }
      seen.add(key);
      const aedRef = long ? next.ref : icbRef;
      const a = await this.readBlock(aedRef, next.block, `${what}: allocation extent descriptor`);
      if (!a || this.tag(a, 0, `${what}: allocation extent descriptor at block ${next.block}`, TAG.AED, next.block) !== TAG.AED) return undefined;
      const len = a.readUInt32LE(20);
      if (len > SECTOR - 24) {
        this.problems.add(`${what}: allocation extent descriptor at block ${next.block} claims ${len} bytes of descriptors`);
        return undefined;
      }
      buf = a;
      off = 24;
      end = 24 + len;
    }
    return { list, long };
  }

  // ------------------------------------------------------------------------------------------------
  // The tree

  private async walk(rootAd: LongAd): Promise<void> {
    interface Pending {
      ad: LongAd;
      path: string;
      name: string;
      depth: number;
      isDirFid: boolean;
    }
    const stack: Pending[] = [{ ad: rootAd, path: '/', name: '', depth: 0, isDirFid: true }];
    const visitedDirs = new Set<string>();
    while (stack.length) {
      const p = stack.pop()!;
      if (this.entries.length >= this.limits.maxEntries) {
        this.problems.add(`listing stopped after ${this.limits.maxEntries} entries (maxEntries)`);
        this.complete = false;
        return;
      }
      const entry = await this.readEntry(p.ad, p.path, p.name, p.depth);
      if (!entry) {
        this.complete = false;
        continue;
      }
      if (p.isDirFid !== (entry.e.kind === 'dir')) {
        this.problems.add(`${p.path}: the directory bit of its FID (${p.isDirFid}) disagrees with its ICB file type`);
      }
      this.entries.push(entry.e);
      if (entry.e.kind !== 'dir') continue;
      const key = `${p.ad.ref}:${p.ad.block}`;
      if (visitedDirs.has(key)) {
        this.problems.add(`${p.path}: directory already listed (a loop: its ICB at block ${p.ad.block} is reached twice)`);
        this.complete = false;
        continue;
      }
      visitedDirs.add(key);
      if (p.depth >= this.limits.maxDepth) {
        this.problems.add(`${p.path}: contents not listed, deeper than ${this.limits.maxDepth} levels (maxDepth)`);
        this.complete = false;
        continue;
      }
      const data = entry.data;
      if (!data) continue;
      const kids = this.parseFids(data, p.path, entry.dataBlock);
      for (let i = kids.length - 1; i >= 0; i--) {
        const k = kids[i];
        const path = `${p.path === '/' ? '' : p.path}/${k.name}`;
        stack.push({ ad: k.icb, path, name: k.name, depth: p.depth + 1, isDirFid: k.dir });
      }
    }
  }

  /** Reads an (extended) file entry and, for directories and symlinks, its data. */
  private async readEntry(ad: LongAd, path: string, name: string, depth: number): Promise<{ e: UdfEntry; data?: Buffer; dataBlock: number } | undefined> {
    const lba = this.resolve(ad.ref, ad.block);
    const what = `${path}: file entry`;
    const fe = await this.readBlock(ad.ref, ad.block, what);
    if (!fe || lba === undefined) return undefined;
    const id = this.tag(fe, 0, `${what} (sector ${lba})`, [TAG.FE, TAG.EFE], ad.block);
    if (id === undefined) return undefined;
    const efe = id === TAG.EFE;
    const fileType = fe[16 + 11];
    const icbFlags = fe.readUInt16LE(16 + 18);
    const kind: UdfEntry['kind'] | undefined = fileType === 4 ? 'dir' : fileType === 5 ? 'file' : fileType === 12 ? 'symlink' : undefined;
    if (!kind) {
      this.problems.add(`${what}: ICB file type ${fileType} is not a directory, file or symbolic link`);
      return undefined;
    }
    const infoLength = fe.readUInt32LE(56) + fe.readUInt32LE(60) * 0x100000000;
    const perms = fe.readUInt32LE(44);
    let mode = (perms & 7) | (((perms >> 5) & 7) << 3) | (((perms >> 10) & 7) << 6);
    if (icbFlags & 0x40) mode |= 0o4000;
    if (icbFlags & 0x80) mode |= 0o2000;
    if (icbFlags & 0x100) mode |= 0o1000;
    mode |= kind === 'dir' ? 0o040000 : kind === 'symlink' ? 0o120000 : 0o100000;
    const mtime = readTimestamp(fe, efe ? 92 : 84);
    const ads = await this.allocationDescriptors(fe, efe, ad.ref, what);
    if (!ads) return undefined;
    const e: UdfEntry = {
      path, name, kind, depth, size: infoLength, extents: [], recorded: isoTime(mtime), flags: icbFlags,
      mode, modeString: modeString(mode), nlink: fe.readUInt16LE(48), uid: fe.readUInt32LE(36), gid: fe.readUInt32LE(40),
      icb: lba, embedded: !!ads.embedded, uniqueId: fe.readUInt32LE(efe ? 200 : 160) + fe.readUInt32LE(efe ? 204 : 164) * 0x100000000,
    };
    if (!Number.isSafeInteger(infoLength)) {
      this.problems.add(`${what}: information length beyond 2^53`);
      return undefined;
    }
    let recordedBytes = 0;
    if (ads.embedded) {
      recordedBytes = ads.embedded.length;
      if (ads.embedded.length !== infoLength) this.problems.add(`${what}: ${ads.embedded.length} bytes embedded, information length ${infoLength}`);
    } else {
      for (const a of ads.list) {
        if (a.type !== 0) {
          // Allocated but not recorded (1) or neither (2): reads as zeros; not an extent of the image.
          recordedBytes += a.length;
          continue;
        }
        const abs = this.resolve(a.ref, a.block);
        const blocks = Math.ceil(a.length / SECTOR);
        if (abs === undefined || this.resolve(a.ref, a.block + Math.max(blocks - 1, 0)) === undefined) {
          this.problems.add(`${what}: extent at block ${a.block} (${a.length} bytes) lies outside partition reference ${a.ref}`);
          return undefined;
        }
        if (abs + blocks > this.sectors) this.problems.add(`${what}: extent at sector ${abs} runs past the end of the image`);
        e.extents.push({ lba: abs, length: a.length });
        recordedBytes += a.length;
      }
      if (recordedBytes < infoLength) this.problems.add(`${what}: allocation descriptors cover ${recordedBytes} bytes, information length ${infoLength}`);
    }
    if (kind === 'file') return { e, dataBlock: 0 };
    // Directory or symlink: read the data (bounded).
    const limit = kind === 'dir' ? MAX_DIRECTORY_BYTES : MAX_SYMLINK_BYTES;
    if (infoLength > limit) {
      this.problems.add(`${what}: ${infoLength} bytes of ${kind === 'dir' ? 'directory' : 'symbolic link'} data, more than the ${limit} read here`);
      return { e, dataBlock: 0 };
    }
    let data: Buffer;
    let dataBlock = ad.block;
    if (ads.embedded) data = ads.embedded.subarray(0, infoLength);
    else {
      this.directoryBytes += infoLength;
      if (this.directoryBytes > DIRECTORY_BUDGET) {
        this.problems.add(`${what}: directory data budget of ${DIRECTORY_BUDGET} bytes exhausted`);
        this.complete = false;
        return { e, dataBlock: 0 };
      }
      const parts: Buffer[] = [];
      let left = infoLength;
      for (const a of ads.list) {
        if (left <= 0) break;
        const n = Math.min(a.length, left);
        if (a.type !== 0) parts.push(Buffer.alloc(n));
        else {
          const b = await this.readExtent(a.ref, a.block, n, what);
          if (!b) return { e, dataBlock: 0 };
          parts.push(b);
        }
        left -= n;
      }
      data = Buffer.concat(parts);
      dataBlock = ads.list[0]?.block ?? 0;
    }
    if (kind === 'symlink') {
      e.target = this.pathFromComponents(data, what);
      return { e, dataBlock };
    }
    return { e, data, dataBlock };
  }

  /** 4/14.4: the FIDs of a directory (parent and deleted ones are skipped). */
  private parseFids(data: Buffer, dirPath: string, dataBlock: number): { name: string; icb: LongAd; dir: boolean }[] {
    const out: { name: string; icb: LongAd; dir: boolean }[] = [];
    const names = new Set<string>();
    let off = 0;
    let parents = 0;
    while (off + 38 <= data.length) {
      const what = `${dirPath}: file identifier descriptor at offset ${off}`;
      if (data.readUInt32LE(off) === 0 && data.readUInt32LE(off + 4) === 0) {
        this.problems.add(`${what}: zeros inside the directory's information length`);
        break;
      }
      const lFi = data[off + 19];
      const lIu = data.readUInt16LE(off + 36);
      const len = (38 + lFi + lIu + 3) & ~3;
      if (off + len > data.length + 3) {
        this.problems.add(`${what}: ${len} bytes run past the directory (${data.length} bytes)`);
        break;
      }
      const fid = data.subarray(off, Math.min(off + len, data.length));
      if (this.tag(fid, 0, what, TAG.FID, undefined) === undefined) break;
      const location = fid.readUInt32LE(12);
      if (location < dataBlock || location > dataBlock + Math.floor(data.length / SECTOR) + 1) {
        this.problems.add(`${what}: tag location ${location} is not a block of the directory`);
      }
      const chars = fid[18];
      const icb = parseLongAd(fid, 20);
      off += len;
      if (chars & 0x04) continue; // deleted
      if (chars & 0x08) {
        if (++parents > 1) this.problems.add(`${what}: a second parent FID`);
        continue;
      }
      const raw = fid.subarray(38 + lIu, 38 + lIu + lFi);
      let name = decodeCs0(raw);
      if (name === undefined) {
        this.problems.add(`${what}: file identifier with unknown compression ID ${raw[0]} (UDF 2.1.1: 8 or 16)`);
        name = `?${raw.toString('hex')}`;
      }
      if (name === '' || name.includes('/') || name.includes('\0')) {
        this.problems.add(`${what}: invalid file identifier ${JSON.stringify(name)}`);
        name = name.replace(/[/\0]/g, '_') || '?';
      }
      if (names.has(name)) this.problems.add(`${what}: duplicate name "${name}" (ECMA-167 4/8.6)`);
      names.add(name);
      if (icb.length === 0) {
        this.problems.add(`${what}: "${name}" has no ICB`);
        continue;
      }
      out.push({ name, icb, dir: (chars & 0x02) !== 0 });
    }
    if (parents === 0) this.problems.add(`${dirPath}: no parent FID (UDF 2.3.4: every directory has one)`);
    return out;
  }

  /** 4/14.16: a symbolic link's path components as a path. */
  private pathFromComponents(b: Buffer, what: string): string {
    const parts: string[] = [];
    let absolute = false;
    let off = 0;
    while (off + 4 <= b.length) {
      const type = b[off];
      const len = b[off + 1];
      if (off + 4 + len > b.length) {
        this.problems.add(`${what}: path component runs past the link's data`);
        break;
      }
      const id = b.subarray(off + 4, off + 4 + len);
      off += 4 + len;
      if (type === 1 || type === 2) {
        parts.length = 0;
        absolute = true;
      } else if (type === 3) parts.push('..');
      else if (type === 4) parts.push('.');
      else if (type === 5) parts.push(decodeCs0(id) ?? '?');
      else this.problems.add(`${what}: path component type ${type} (ECMA-167 4/14.16.1.1)`);
    }
    return (absolute ? '/' : '') + parts.join('/');
  }
}

function parseLongAd(b: Buffer, off: number): LongAd {
  const raw = b.readUInt32LE(off);
  return { length: raw & 0x3fffffff, type: raw >>> 30, block: b.readUInt32LE(off + 4), ref: b.readUInt16LE(off + 8) };
}
