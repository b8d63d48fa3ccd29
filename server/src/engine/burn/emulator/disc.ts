/**
 * The emulated disc on the host's file system.
 *
 *   <file>              the disc's user data area as a plain image: byte offset = LBA × 2048. A single-session
 *                       disc is therefore an ordinary ISO image (xorriso -indev, discforge inspect, mount -o loop
 *                       read it directly); later sessions sit at their absolute addresses (read them with
 *                       `xorriso -load sbsector <start> -indev <file>`). Unrecorded areas are holes (sparse).
 *   <file>.state.json   what a real disc keeps in its lead-in / PMA / RMA / DMA: the media type, tracks and
 *                       sessions, finalization, formatting, the tray (see DiscState).
 *   <file>.lock         present while a process has the recorder open exclusively ({pid, holder, since}).
 *
 * A missing <file> is a blank disc of the spec's profile. A <file> without state is a closed single-session disc
 * holding that image (a pressed disc for dvd-rom / bd-rom).
 */
import * as fs from 'node:fs';
import type { VirtualProfile } from '../transport';
import { PROFILE, type Family } from '../mmc';

export const BLOCK = 2048;

export interface TrackState {
  number: number;
  session: number;
  start: number;
  /** Reserved size in blocks (RESERVE TRACK); undefined for an invisible (unreserved) track. */
  reservedSize?: number;
  /** Blocks recorded from `start`. */
  recorded: number;
  closed: boolean;
  damaged?: boolean;
  /** DVD-R/RW disc at once (page 05h write type 2): the only track; every reserved block must be written. */
  dao?: boolean;
}

export interface DiscState {
  format: 'discforge-emulated-disc';
  version: 1;
  profile: VirtualProfile;
  /** The MMC profile the medium presents now (DVD-RW switches between sequential and restricted overwrite). */
  currentProfile: number;
  /** Blocks of the user data area. */
  capacity: number;
  /** Overwritable media: formatted, and how many blocks. */
  formatted: boolean;
  formattedBlocks: number;
  finalized: boolean;
  /** Sessions closed so far (sequential media). */
  closedSessions: number;
  tracks: TrackState[];
  /** Overwritable media: one past the highest block ever written. */
  highWater: number;
  trayOpen: boolean;
}

export interface MediaModel {
  profile: VirtualProfile;
  family: Family;
  initialProfile: number;
  kind: 'sequential' | 'overwrite' | 'rom';
  capacity: number;
  /** Nominal highest write speed (×). */
  maxSpeedX: number;
  /** Supported write speeds (×) reported by GET PERFORMANCE and page 2Ah. */
  speedsX: number[];
  /** Smallest writable unit and session alignment: CD 1 block, DVD 16 (ECC block), BD 32 (cluster). */
  unit: number;
  /** Blocks between the end of a closed session and the next session's first NWA (lead-out + lead-in). */
  sessionGap: (closedSessions: number) => number;
  maxSessions: number;
  /** RESERVE TRACK is meaningful on this medium. */
  reservable: boolean;
  /** BLANK applies (CD-RW, DVD-RW). */
  blankable: boolean;
  /** FORMAT UNIT applies, and the formatted capacity of the quick format. */
  formattable: boolean;
  formattedCapacity: number;
}

/** Capacities as in ../../media.ts; speeds as common media of each kind are rated. */
export function mediaModel(profile: VirtualProfile, capacityOverride?: number): MediaModel {
  const cdGap = (closed: number) => (closed === 0 ? 11_400 : 6_900); // first lead-out/lead-in 11 400, later 6 900 (Orange Book)
  const base = (m: Omit<MediaModel, 'profile' | 'formattedCapacity'> & { formattedCapacity?: number }): MediaModel => {
    const capacity = capacityOverride ?? m.capacity;
    const ratio = capacity / m.capacity;
    return { ...m, profile, capacity, formattedCapacity: Math.floor(((m.formattedCapacity ?? m.capacity) * ratio) / m.unit) * m.unit };
  };
  switch (profile) {
    case 'cd-r':
      return base({ family: 'cd', initialProfile: PROFILE.CD_R, kind: 'sequential', capacity: 360_000, maxSpeedX: 48, speedsX: [8, 16, 24, 32, 40, 48], unit: 1, sessionGap: cdGap, maxSessions: 99, reservable: true, blankable: false, formattable: false });
    case 'cd-rw':
      return base({ family: 'cd', initialProfile: PROFILE.CD_RW, kind: 'sequential', capacity: 359_847, maxSpeedX: 24, speedsX: [4, 10, 16, 24], unit: 1, sessionGap: cdGap, maxSessions: 99, reservable: true, blankable: true, formattable: false });
    case 'dvd-r':
      return base({ family: 'dvd', initialProfile: PROFILE.DVD_R_SEQ, kind: 'sequential', capacity: 2_298_496, maxSpeedX: 16, speedsX: [4, 8, 12, 16], unit: 16, sessionGap: (c) => (c === 0 ? 0x3000 : 0xc00), maxSessions: 254, reservable: true, blankable: false, formattable: false });
    case 'dvd-rw':
      return base({ family: 'dvd', initialProfile: PROFILE.DVD_RW_SEQ, kind: 'sequential', capacity: 2_297_888, maxSpeedX: 6, speedsX: [2, 4, 6], unit: 16, sessionGap: (c) => (c === 0 ? 0x3000 : 0xc00), maxSessions: 254, reservable: true, blankable: true, formattable: true });
    case 'dvd+r':
      return base({ family: 'dvd', initialProfile: PROFILE.DVD_PLUS_R, kind: 'sequential', capacity: 2_295_104, maxSpeedX: 16, speedsX: [4, 8, 12, 16], unit: 16, sessionGap: () => 0x800, maxSessions: 153, reservable: true, blankable: false, formattable: false });
    case 'dvd+r-dl':
      return base({ family: 'dvd', initialProfile: PROFILE.DVD_PLUS_R_DL, kind: 'sequential', capacity: 4_173_824, maxSpeedX: 8, speedsX: [2.4, 4, 6, 8], unit: 16, sessionGap: () => 0x800, maxSessions: 153, reservable: true, blankable: false, formattable: false });
    case 'dvd+rw':
      return base({ family: 'dvd', initialProfile: PROFILE.DVD_PLUS_RW, kind: 'overwrite', capacity: 2_295_104, maxSpeedX: 8, speedsX: [2.4, 4, 8], unit: 16, sessionGap: () => 0, maxSessions: 1, reservable: false, blankable: false, formattable: true });
    case 'dvd-ram':
      return base({ family: 'dvd', initialProfile: PROFILE.DVD_RAM, kind: 'overwrite', capacity: 2_236_704, maxSpeedX: 5, speedsX: [2, 3, 5], unit: 16, sessionGap: () => 0, maxSessions: 1, reservable: false, blankable: false, formattable: true });
    case 'bd-r':
      return base({ family: 'bd', initialProfile: PROFILE.BD_R_SRM, kind: 'sequential', capacity: 12_219_392, maxSpeedX: 16, speedsX: [2, 4, 6, 8, 12, 16], unit: 32, sessionGap: () => 0, maxSessions: 4000, reservable: true, blankable: false, formattable: false });
    case 'bd-re':
      return base({ family: 'bd', initialProfile: PROFILE.BD_RE, kind: 'overwrite', capacity: 12_219_392, formattedCapacity: 11_826_176, maxSpeedX: 2, speedsX: [1, 2], unit: 32, sessionGap: () => 0, maxSessions: 1, reservable: false, blankable: false, formattable: true });
    case 'dvd-rom':
      return base({ family: 'dvd', initialProfile: PROFILE.DVD_ROM, kind: 'rom', capacity: 2_295_104, maxSpeedX: 16, speedsX: [], unit: 16, sessionGap: () => 0, maxSessions: 1, reservable: false, blankable: false, formattable: false });
    case 'bd-rom':
      return base({ family: 'bd', initialProfile: PROFILE.BD_ROM, kind: 'rom', capacity: 12_219_392, maxSpeedX: 8, speedsX: [], unit: 32, sessionGap: () => 0, maxSessions: 1, reservable: false, blankable: false, formattable: false });
  }
}

export function statePath(file: string): string {
  return file + '.state.json';
}

export function lockPath(file: string): string {
  return file + '.lock';
}

export function blankState(model: MediaModel): DiscState {
  const preformatted = model.profile === 'dvd-ram';
  return {
    format: 'discforge-emulated-disc',
    version: 1,
    profile: model.profile,
    currentProfile: model.initialProfile,
    capacity: model.capacity,
    formatted: preformatted,
    formattedBlocks: preformatted ? model.formattedCapacity : 0,
    finalized: false,
    closedSessions: 0,
    tracks: [],
    highWater: 0,
    trayOpen: false,
  };
}

/** Loads the disc's state, or makes one: blank (no file), or a closed single session holding an existing image. */
export function loadState(file: string, model: MediaModel): DiscState {
  const sp = statePath(file);
  if (fs.existsSync(sp)) {
    let s: DiscState;
    try {
      s = JSON.parse(fs.readFileSync(sp, 'utf8')) as DiscState;
    } catch (e) {
      throw new Error(`${sp}: unreadable disc state: ${(e as Error).message}`);
    }
    if (s.format !== 'discforge-emulated-disc' || s.version !== 1) throw new Error(`${sp}: not a DiscForge emulated disc state`);
    return s;
  }
  const s = blankState(model);
  const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
  const blocks = Math.ceil(size / BLOCK);
  if (blocks > 0) {
    if (model.kind === 'overwrite') {
      s.formatted = true;
      s.formattedBlocks = model.formattedCapacity;
      s.highWater = blocks;
    } else {
      s.tracks.push({ number: 1, session: 1, start: 0, recorded: blocks, closed: true });
      s.closedSessions = 1;
      s.finalized = model.kind === 'rom';
    }
  }
  return s;
}

export function saveState(file: string, s: DiscState): void {
  const sp = statePath(file);
  const tmp = sp + '.tmp';
  fs.writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  fs.renameSync(tmp, sp);
}
