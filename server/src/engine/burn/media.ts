/**
 * Discovery: what drive this is and what disc is in it, reported the way IMAPI2 reports media
 * (IDiscFormat2Data: CurrentPhysicalMediaType, CurrentMediaStatus, MediaHeuristicallyBlank, StartAddressOfPreviousSession,
 * LastWrittenAddressOfPreviousSession, NextWritableAddress, FreeSectorsOnMedia, TotalSectorsOnMedia, write speeds).
 * Built from INQUIRY, GET CONFIGURATION, READ DISC INFORMATION, READ TRACK INFORMATION, READ FORMAT CAPACITIES,
 * READ CAPACITY, GET PERFORMANCE, MODE SENSE page 2Ah; everything optional is optional.
 */
import { MmcDevice, ScsiError, SK, TIMEOUT } from './device';
import * as mmc from './mmc';
import { readDstring, tagChecksum } from '../udf/encode';

export type MediaStatus = 'no-media' | 'blank' | 'appendable' | 'finalized' | 'overwrite-only' | 'unsupported';

export interface SessionInfo {
  number: number;
  /** First block of the session's first track. */
  start: number;
  /** Blocks recorded in the session (up to its last recorded block). */
  blocks: number;
  /** Last recorded block. */
  lastRecorded: number;
  tracks: number;
  closed: boolean;
}

export interface DriveInfo {
  device: string;
  vendor: string;
  product: string;
  revision: string;
  /** Profiles the drive supports (GET CONFIGURATION Profile List). */
  profiles: string[];
  /** Burn-proof: buffer underrun protection (BUF bit of the CD TAO / DVD-R Write features, page 2Ah). */
  burnProof: boolean;
  bufferBytes?: number;
  /** GET EVENT STATUS NOTIFICATION (media class) / MECHANISM STATUS, when the drive answers them. */
  mediaPresent?: boolean;
  trayOpen?: boolean;
}

export interface MediaState {
  status: MediaStatus;
  profile: number;
  profileName: string;
  physicalType: string;
  family?: mmc.Family;
  kind?: 'sequential' | 'overwrite' | 'rom';
  erasable: boolean;
  writeProtected: boolean;
  /** Overwritable media: formatted or not (undefined for others). */
  formatted?: boolean;
  /** Sequential media: no earlier session (IMAPI MediaHeuristicallyBlank / first data session). */
  firstDataSession: boolean;
  sessions: SessionInfo[];
  startOfPreviousSession?: number;
  lastWrittenAddress?: number;
  nextWritableAddress?: number;
  freeSectors: number;
  totalSectors: number;
  /** Write speeds the drive offers for this disc, kB/s and as multiples of 1×. */
  writeSpeeds: { kBps: number; x: number }[];
  /** For overwritable media: an ISO 9660 volume is present at block 16, or a UDF volume (anchor at 256) alone. */
  hasFileSystem?: boolean;
  /**
   * For overwritable media with an ISO 9660 volume: its label and size (blocks from 0), and where its latest tree
   * was written when the volume was grown in place (--append: the volume descriptors at block 16 are a copy of
   * those at grownAt + 16); undefined when the tree is the one written from block 0.
   */
  volume?: { label: string; blocks: number; grownAt?: number; udfOnly?: boolean };
  /** READ TOC/PMA/ATIP format 0 (closed tracks; drives fabricate one for DVD and BD), when the drive answers. */
  toc?: { track: number; start: number }[];
  /** CDs with audio tracks (audio and mixed-mode CDs): each track's type from its TOC control nibble. */
  cdTracks?: { track: number; start: number; type: 'audio' | 'data'; control: number }[];
}

/** Makes the drive ready: consumes unit attentions, closes an open tray, waits while it becomes ready. */
export async function ensureReady(dev: MmcDevice): Promise<'ready' | 'no-media'> {
  let loaded = false;
  for (let i = 0; i < 100; i++) {
    const s = await dev.testUnitReady();
    if (!s) return 'ready';
    if (s.key === SK.UNIT_ATTENTION) continue;
    if (s.key === SK.NOT_READY && s.asc === 0x3a) {
      // Tray open: load it (START STOP UNIT LoEj = 1, Start = 1), as burning programs do; otherwise no disc.
      if (s.ascq === 0x02 && !loaded) {
        loaded = true;
        try {
          await dev.exec(mmc.startStopUnit(true, true), 'none', 0, TIMEOUT.long);
        } catch {
          return 'no-media';
        }
        continue;
      }
      return 'no-media';
    }
    if (s.key === SK.NOT_READY && s.asc === 0x04) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    throw new ScsiError(mmc.OP.TEST_UNIT_READY, s, 2, dev.name);
  }
  throw new Error(`${dev.name}: the drive did not become ready`);
}

export async function driveInfo(dev: MmcDevice): Promise<DriveInfo> {
  const inq = await dev.inquiry();
  let profiles: string[] = [];
  let burnProof = false;
  try {
    const conf = await dev.configuration(0, 0);
    const list = conf.features.find((f) => f.code === mmc.FEATURE.PROFILE_LIST);
    if (list) profiles = mmc.decodeProfileList(list).map((p) => mmc.profileName(p.profile));
    for (const f of conf.features) {
      if ((f.code === mmc.FEATURE.CD_TRACK_AT_ONCE || f.code === mmc.FEATURE.DVD_R_RW_WRITE) && f.data.length > 0 && f.data[0] & 0x40) burnProof = true;
    }
  } catch (e) {
    if (!(e instanceof ScsiError)) throw e;
  }
  const page = await dev.modePage(0x2a).catch(() => undefined);
  const caps = page ? mmc.decodeCapabilitiesPage(page) : undefined;
  if (caps?.burnProof) burnProof = true;
  const event = await dev.optional(mmc.getEventStatusNotification(8), 'in', 8).then((b) => (b ? mmc.decodeMediaEvent(b) : undefined)).catch(() => undefined);
  const mech = await dev.optional(mmc.mechanismStatus(8), 'in', 8).catch(() => undefined);
  return {
    mediaPresent: event?.present,
    trayOpen: event?.trayOpen ?? (mech && mech.length >= 2 ? !!(mech[1] & 0x10) : undefined),
    device: dev.name,
    vendor: inq.vendor,
    product: inq.product,
    revision: inq.revision,
    profiles,
    burnProof,
    bufferBytes: caps && caps.bufferKB > 0 ? caps.bufferKB * 1024 : undefined,
  };
}

/** The disc as IMAPI would describe it. */
export async function readMediaState(dev: MmcDevice): Promise<MediaState> {
  const none: MediaState = {
    status: 'no-media', profile: 0, profileName: 'no medium', physicalType: 'none', erasable: false, writeProtected: false,
    firstDataSession: true, sessions: [], freeSectors: 0, totalSectors: 0, writeSpeeds: [],
  };
  if ((await ensureReady(dev)) === 'no-media') return none;
  const conf = await dev.configuration(1, 0);
  const profile = conf.currentProfile;
  if (profile === 0) return none;
  const info = mmc.profileInfo(profile);
  const state: MediaState = {
    ...none,
    status: 'unsupported',
    profile,
    profileName: mmc.profileName(profile),
    physicalType: info?.physical ?? mmc.profileName(profile),
    family: info?.family,
    kind: info?.kind,
    erasable: info?.erasable ?? false,
  };
  const wp = conf.features.find((f) => f.code === mmc.FEATURE.WRITE_PROTECT && f.current);
  state.writeProtected = !!wp && wp.data.length > 0 && (wp.data[0] & 0x0f) !== 0;
  if (!info) return state;

  const speeds = await dev.writeSpeeds().catch(() => []);
  const oneX = mmc.ONE_X_KBPS[info.family];
  state.writeSpeeds = [...new Set(speeds.map((s) => s.writeKBps))].sort((a, b) => b - a).map((k) => ({ kBps: k, x: Math.round((k / oneX) * 10) / 10 }));

  if (info.kind === 'overwrite') {
    const caps = await dev.formatCapacities();
    state.formatted = caps ? caps.current.type === 'formatted' : true;
    const cap = caps?.current.blocks ?? (await dev.capacity()).lastLba + 1;
    state.status = state.formatted ? 'overwrite-only' : 'blank';
    state.totalSectors = cap;
    state.freeSectors = cap;
    state.nextWritableAddress = 0;
    if (state.formatted) {
      state.hasFileSystem = await hasIsoVolume(dev, 0);
      const udf = state.hasFileSystem ? undefined : await udfVolume(dev);
      if (udf) state.hasFileSystem = true;
      state.sessions = state.hasFileSystem ? [{ number: 1, start: 0, blocks: 0, lastRecorded: 0, tracks: 1, closed: true }] : [];
      if (state.hasFileSystem) {
        const vd = udf ? undefined : await dev.read(16, 1).catch(() => undefined);
        const size = udf ? udf.blocks : vd ? vd.readUInt32LE(80) : 0;
        state.sessions[0].blocks = size;
        state.sessions[0].lastRecorded = Math.max(0, size - 1);
        state.lastWrittenAddress = Math.max(0, size - 1);
        if (vd) state.volume = { label: vd.toString('latin1', 40, 72).trim(), blocks: size, grownAt: await grownAt(dev, vd, size) };
        if (udf) state.volume = { label: udf.label, blocks: size, grownAt: udf.grownAt, udfOnly: true };
      }
    }
    return state;
  }

  const di = await dev.discInformation();
  state.erasable = di.erasable || state.erasable;
  // Sessions and tracks from READ TRACK INFORMATION, track by track.
  const tracks: mmc.TrackInformation[] = [];
  for (let t = di.firstTrack || 1; t <= di.lastTrackInLastSession && t < 10_000; t++) {
    try {
      tracks.push(await dev.trackInformation(1, t));
    } catch (e) {
      if (e instanceof ScsiError && e.unsupported) break;
      throw e;
    }
  }
  const bySession = new Map<number, mmc.TrackInformation[]>();
  for (const t of tracks) {
    const list = bySession.get(t.session) ?? [];
    list.push(t);
    bySession.set(t.session, list);
  }
  for (const [n, list] of [...bySession].sort((a, b) => a[0] - b[0])) {
    const recorded = list.filter((t) => !t.blank);
    if (recorded.length === 0) continue;
    const first = recorded[0];
    const lastT = recorded[recorded.length - 1];
    const lastRecorded = lastT.lraValid ? lastT.lastRecorded : lastT.start + lastT.size - 1;
    const closed = di.discStatus === 2 || n < di.sessions || (n === di.sessions && di.lastSessionState === 3);
    state.sessions.push({ number: n, start: first.start, lastRecorded, blocks: lastRecorded - first.start + 1, tracks: recorded.length, closed });
  }
  // The TOC as the drive reports it (optional: blank discs and some drives have none).
  const tocData = await dev.optional(mmc.readToc(0, 0, 4 + 100 * 8), 'in', 4 + 100 * 8).catch(() => undefined);
  if (tocData) {
    const entries = mmc.decodeToc(tocData).entries;
    state.toc = entries.map((e) => ({ track: e.track, start: e.start }));
    const cdTracks = entries.filter((e) => e.track !== 0xaa).map((e) => ({ track: e.track, start: e.start, type: (e.control & 4 ? 'data' : 'audio') as 'audio' | 'data', control: e.control }));
    if (info.family === 'cd' && cdTracks.some((t) => t.type === 'audio')) state.cdTracks = cdTracks;
  }
  // Drives that refuse READ TRACK INFORMATION (QEMU's scsi-cd, some read-only drives): the session from the TOC.
  const leadOut = state.toc?.find((e) => e.track === 0xaa);
  const tocTracks = state.toc?.filter((e) => e.track !== 0xaa) ?? [];
  if (state.sessions.length === 0 && tracks.length === 0 && leadOut && tocTracks.length && leadOut.start > tocTracks[0].start) {
    state.sessions.push({ number: 1, start: tocTracks[0].start, lastRecorded: leadOut.start - 1, blocks: leadOut.start - tocTracks[0].start, tracks: tocTracks.length, closed: true });
  }
  const invisible = [...tracks].reverse().find((t) => t.nwaValid);
  if (info.kind === 'rom' || di.discStatus === 2) state.status = 'finalized';
  else if (di.discStatus === 0) state.status = 'blank';
  else if (di.discStatus === 1) state.status = 'appendable';
  else state.status = 'unsupported';
  const closedSessions = state.sessions.filter((s) => s.closed);
  state.firstDataSession = closedSessions.length === 0;
  const prev = closedSessions[closedSessions.length - 1];
  if (prev) {
    state.startOfPreviousSession = prev.start;
    state.lastWrittenAddress = prev.lastRecorded;
  }
  if (invisible && state.status !== 'finalized') {
    state.nextWritableAddress = invisible.nextWritable;
    state.freeSectors = invisible.freeBlocks;
    state.totalSectors = invisible.nextWritable + invisible.freeBlocks;
  } else {
    const last = state.sessions[state.sessions.length - 1];
    state.freeSectors = 0;
    state.totalSectors = last ? last.lastRecorded + 1 : di.lastPossibleLeadOut;
  }
  return state;
}

/**
 * A volume grown in place keeps, at block 16, a copy of the descriptors of the session that holds its latest
 * tree; that session's own copy sits at its start + 16, just before its path tables and root directory (ECMA-119
 * 6.8.1 order as every mastering tool lays it out). Found by comparing a few candidate blocks (16-block steps
 * below the lowest of the path table and the root directory) with block 16. A UDF bridge's session has its UDF
 * volume structures between the descriptors and the path tables (up to its start + 256): there the anchor at
 * block 256, a copy of that session's, names it (its main volume descriptor sequence is at its start + 32).
 */
async function grownAt(dev: MmcDevice, pvd: Buffer, size: number): Promise<number | undefined> {
  const pathTable = pvd.readUInt32LE(140);
  const root = pvd.readUInt32LE(156 + 2);
  const lowest = Math.min(pathTable || root, root);
  if (lowest < 48 || lowest >= size) return undefined;
  const candidates: number[] = [];
  const anchor = await dev.read(256, 1).catch(() => undefined);
  if (anchor && anchor.readUInt16LE(0) === 2 && anchor.readUInt32LE(12) === 256) {
    const s = anchor.readUInt32LE(20) - 32;
    if (s >= 32 && s < lowest) candidates.push(s);
  }
  for (let s = Math.floor((lowest - 17) / 16) * 16, n = 0; s >= 32 && n < 8; s -= 16, n++) candidates.push(s);
  for (const s of candidates) {
    const b = await dev.read(s + 16, 1).catch(() => undefined);
    if (b?.equals(pvd)) return s;
  }
  return undefined;
}

/**
 * A UDF volume without ISO 9660 (a UDF-only disc): an NSR descriptor in the recognition sequence from block 16
 * (ECMA-167 2/9.1) and an anchor at block 256 (3/10.2). Its size: through the end of the partition of the
 * partition descriptor in the main volume descriptor sequence the anchor points at (3/10.5), plus the closing
 * anchor when it follows the partition (as DiscForge and mkudffs lay it out). `grownAt`: the anchor names a
 * descriptor sequence at S + 32 of a session written at S > 0 (the volume was grown in place).
 */
async function udfVolume(dev: MmcDevice): Promise<{ label: string; blocks: number; grownAt?: number } | undefined> {
  const vrs = await dev.read(16, 3).catch(() => undefined);
  if (!vrs || ![0, 1, 2].some((i) => /^NSR0[23]$/.test(vrs.toString('latin1', i * 2048 + 1, i * 2048 + 6)))) return undefined;
  const a = await dev.read(256, 1).catch(() => undefined);
  if (!a || a.readUInt16LE(0) !== 2 || a.readUInt32LE(12) !== 256 || tagChecksum(a, 0) !== a[4]) return undefined;
  const mvds = a.readUInt32LE(20);
  const seq = await dev.read(mvds, Math.min(16, Math.max(1, Math.floor(a.readUInt32LE(16) / 2048)))).catch(() => undefined);
  if (!seq) return undefined;
  let end = 257;
  let label = '';
  for (let i = 0; (i + 1) * 2048 <= seq.length; i++) {
    const id = seq.readUInt16LE(i * 2048);
    if (id === 5) end = Math.max(end, seq.readUInt32LE(i * 2048 + 188) + seq.readUInt32LE(i * 2048 + 192));
    if (id === 6) label = readDstring(seq, i * 2048 + 84, 128);
  }
  const closing = await dev.read(end, 1).catch(() => undefined);
  if (closing && closing.readUInt16LE(0) === 2 && closing.readUInt32LE(12) === end) end++;
  return { label, blocks: end, grownAt: mvds - 32 > 0 ? mvds - 32 : undefined };
}

/** ECMA-119 8.1: a volume descriptor set starts at block base + 16 with "CD001". */
export async function hasIsoVolume(dev: MmcDevice, base: number): Promise<boolean> {
  try {
    const b = await dev.read(base + 16, 1);
    return b.toString('latin1', 1, 6) === 'CD001';
  } catch (e) {
    if (e instanceof ScsiError) return false;
    throw e;
  }
}

export function describeMedia(m: MediaState): string {
  if (m.status === 'no-media') return 'no disc';
  const parts = [`${m.physicalType} (${m.profileName})`, m.status];
  if (m.writeProtected) parts.push('write-protected');
  if (m.formatted === false) parts.push('unformatted');
  const sessions = m.sessions.length;
  if (sessions) parts.push(`${sessions} session${sessions === 1 ? '' : 's'}`);
  return parts.join(', ');
}
