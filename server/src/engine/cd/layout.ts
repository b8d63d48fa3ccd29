/**
 * The table of contents of a CD as sectors: tracks with their pause (index 0), indexes, flags, ISRC; the lead-out;
 * the catalogue number; CD-TEXT. Addresses are LBAs (LBA 0 = absolute time 00:02:00, the start of track 1's
 * index 1). The image (BIN) holds LBA 0 up to the lead-out; track 1's 2-second pause (LBA -150..-1) is implied.
 */
import { LEAD_PREGAP } from './msf';
import { controlNibble, interleave, formattedQ, qIsrc, qMcn, qPosition, setQCrc, type TrackFlags } from './subcode';
import type { TextField } from './cdtext';

export type TrackMode = 'audio' | 'mode1' | 'mode2form1' | 'mode2form2';

export interface CdTrack {
  number: number;
  mode: TrackMode;
  flags: TrackFlags;
  isrc?: string;
  /** LBA of index 0 (the pause); equal to indexes[0] when the track has none. Track 1: -150. */
  pregap: number;
  /** LBAs of index 1, 2, … */
  indexes: number[];
  /** LBA one past the track's last sector (the next track's pregap, or the lead-out). */
  end: number;
  /** Data tracks: sectors at the end of the track that belong to its post-gap (part of `end`). */
  postgap?: number;
  text?: Partial<Record<TextField, string>>;
}

export interface CdLayout {
  tracks: CdTrack[];
  /** LBA of the lead-out. */
  leadOut: number;
  mcn?: string;
  text?: Partial<Record<TextField, string>> & { language?: string };
  /** Sector size of the image: 2352 (no sub-channel), 2368 (+16 bytes formatted P/Q), 2448 (+96 bytes raw P–W). */
  sectorSize: 2352 | 2368 | 2448;
}

export function subcodeBytes(sectorSize: CdLayout['sectorSize']): number {
  return sectorSize - 2352;
}

/** The track holding `lba` (and its position), by binary search. */
export function trackAt(layout: CdLayout, lba: number): CdTrack | undefined {
  const t = layout.tracks;
  let lo = 0;
  let hi = t.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lba < t[mid].pregap) hi = mid - 1;
    else if (lba >= t[mid].end) lo = mid + 1;
    else return t[mid];
  }
  return undefined;
}

/**
 * The sub-channel generator for a layout: P and Q for every sector from LBA -150 (track 1's pause) to the end of
 * the lead-out; R–W are zero in the program area.
 */
export class SubcodeGenerator {
  private readonly q = new Uint8Array(12);
  /** Sectors whose Q carries the MCN or the ISRC (mode 2 / mode 3): one of each in every 100. */
  constructor(private readonly layout: CdLayout) {}

  /** Q (12 bytes, valid until the next call) and P for `lba`. */
  qp(lba: number): { q: Uint8Array; p: boolean } {
    const L = this.layout;
    const q = this.q;
    if (lba >= L.leadOut) {
      // Lead-out: track AAh, index 1, relative time from the lead-out start; P toggles every 0.5 s.
      const last = L.tracks[L.tracks.length - 1];
      const control = controlNibble(last.flags, lba);
      qPosition(q, control, 0, 1, lba - L.leadOut, lba);
      q[1] = 0xaa;
      setQCrc(q); // again, after patching TNO
      return { q, p: Math.floor((lba - L.leadOut) / 38) % 2 === 0 };
    }
    const t = trackAt(L, lba) ?? L.tracks[0];
    const idx1 = t.indexes[0];
    const control = controlNibble(t.flags, lba);
    const inPause = lba < idx1;
    const firstOfIndex = lba === t.pregap || t.indexes.includes(lba);
    const phase = ((lba % 100) + 100) % 100;
    if (!firstOfIndex && lba >= 0 && L.mcn && phase === 25) {
      qMcn(q, control, L.mcn, lba);
    } else if (!firstOfIndex && !inPause && t.isrc && phase === 75) {
      qIsrc(q, control, t.isrc, lba);
    } else {
      let index = 0;
      if (!inPause) {
        index = 1;
        for (let i = 1; i < t.indexes.length; i++) if (lba >= t.indexes[i]) index = i + 1;
      }
      qPosition(q, control, t.number, index, lba - idx1, lba);
    }
    // P: on in the pause before each track (always in track 1's 2 s), off in the program.
    return { q, p: inPause };
  }

  /** Writes the sub-channel bytes of `lba` for the layout's sector size at out[off..]. */
  write(out: Uint8Array, off: number, lba: number): void {
    const { q, p } = this.qp(lba);
    if (this.layout.sectorSize === 2448) interleave(out, off, p, q);
    else if (this.layout.sectorSize === 2368) formattedQ(out, off, p, q);
  }
}

/** Absolute time of an LBA as frames (for MSF display). */
export function absoluteFrames(lba: number): number {
  return lba + LEAD_PREGAP;
}

/** Track lengths in frames from index 1 to the end (what players show). */
export function trackLength(t: CdTrack): number {
  return t.end - t.indexes[0];
}
