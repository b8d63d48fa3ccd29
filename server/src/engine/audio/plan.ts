/**
 * Planning an audio (`kind: "audio"`) or mixed-mode (`kind: "mixed"`: a data track from `files`, then audio) CD:
 * sources probed (never decoded), times converted to frames (1/75 s) and samples, the layout of every track,
 * pause and index in sectors, CD-TEXT packs, and the checks, each on its manifest node: an undecodable source, a
 * malformed time, ISRC or MCN, a track shorter than 4 s, a disc longer than the CD (74/80/90/99 min).
 *
 * Layout rules (IEC 60908 / ECMA-130):
 * - LBA 0 is track 1's index 1; its 2-second pause (LBA -150..-1) is implied and not in the BIN.
 * - Tracks 2.. start with their pause (index 0) of `pregap` seconds (default 2 s, or 0 with `gapless`). A track
 *   with a pause starts on a sector boundary: the previous track is padded with silence to the next sector.
 *   Without a pause, the audio runs on: the track boundary is the sector holding the track's first sample, and
 *   the concatenated BIN audio equals the concatenated sources (no sample dropped or added).
 * - Mixed mode: the data track (Mode 1) ends with a 2-second post-gap, and the first audio track's pause is at
 *   least 2 s (a change of track type).
 */
import * as path from 'node:path';
import type { ManifestDocument, JsonPath } from '../manifest/load';
import type { Diagnostic } from '../util/errors';
import { buildPacks, LANGUAGE_CODES, nonLatin1, TEXT_FIELDS, type TextField } from '../cd/cdtext';
import type { AudioTrack } from '../manifest/types.generated';
import type { CdLayout, CdTrack } from '../cd/layout';
import { FRAMES_PER_SECOND, LEAD_PREGAP, parseTime, SAMPLES_PER_FRAME, type TimeValue } from '../cd/msf';
import { conversionFor, describeConversion } from './convert';
import { AudioDiscImage, type DataImage, type Segment } from './image';
import { probeAudio, ProbeError, type AudioInfo } from './probe';

/** A `tracks` entry as the manifest schema defines it. */
export type AudioTrackEntry = AudioTrack;

export interface AudioManifest {
  kind: string;
  media?: string;
  catalog?: string;
  cdText?: Partial<Record<TextField, string>> & { language?: string };
  gapless?: boolean;
  tracks?: AudioTrackEntry[];
  subcode?: 'none' | 'pq' | 'rw';
  output?: string;
}

/** Minutes of each CD medium (audio capacity incl. the 2 s before track 1). */
export const CD_MINUTES: Record<string, number> = { 'cd-r': 80, 'cd-r-74': 74, 'cd-r-80': 80, 'cd-r-90': 90, 'cd-r-99': 99, 'cd-rw': 80 };

export interface AudioTrackPlan {
  number: number;
  source: string;
  info: AudioInfo;
  /** Output frames (44.1 kHz) used after trimming. */
  frames: number;
  conversion?: string;
}

export interface AudioPlan {
  layout: CdLayout;
  image: AudioDiscImage;
  tracks: AudioTrackPlan[];
  /** CD-TEXT packs (block 0), when the disc has text. */
  cdText?: Buffer;
  files: { bin: string; cue: string; toc: string; cdt?: string };
  /** The descriptor named by `output` (.cue or .toc). */
  output: string;
  /** Total playing time in frames from 00:00:00 (incl. the 2 s before track 1) to the lead-out. */
  totalFrames: number;
}

const ISRC_RE = /^[A-Z]{2}[A-Z0-9]{3}\d{7}$/;

/** EAN-13 / UPC-A check digit of a 13-digit MCN. */
export function mcnCheckDigitOk(mcn: string): boolean {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (mcn.charCodeAt(i) - 48) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10 === mcn.charCodeAt(12) - 48;
}

export function formatDuration(frames: number): string {
  const s = frames / FRAMES_PER_SECOND;
  return `${Math.floor(s / 60)}:${(s % 60).toFixed(2).padStart(5, '0')}`;
}

export interface DataTrackInput {
  image: DataImage;
  /** Diagnostics of the data part (already positioned on the manifest). */
  diagnostics: Diagnostic[];
}

/**
 * Plans the disc. `output` is the resolved path of the descriptor (.cue or .toc); `data` the mixed-mode data image.
 * Returns the diagnostics and, when there are no errors, the plan.
 */
export function planAudio(
  doc: ManifestDocument,
  m: AudioManifest,
  manifestPath: string,
  output: string,
  data?: DataImage,
): { plan?: AudioPlan; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const err = (p: JsonPath, code: string, msg: string, sev: Diagnostic['severity'] = 'error') => diags.push(doc.diagnostic(p, code, msg, sev));
  const dir = path.dirname(path.resolve(manifestPath));
  const entries = m.tracks ?? [];
  const mixed = m.kind === 'mixed';

  if (!/\.(cue|toc)$/i.test(output)) err(['output'], 'audio-output', 'an audio CD is written as a BIN with a cue sheet or TOC file: "output" must end in .cue or .toc (e.g. "out/album.cue")');
  if (entries.length === 0) err(['tracks'], 'audio-no-tracks', `an ${m.kind} disc needs at least one audio track in "tracks"`);
  const firstAudio = mixed ? 2 : 1;
  if (entries.length + firstAudio - 1 > 99) err(['tracks'], 'audio-too-many-tracks', `a CD holds at most 99 tracks; this one has ${entries.length + firstAudio - 1}`);
  if (m.media && !(m.media in CD_MINUTES)) err(['media'], 'audio-media', `an ${m.kind} CD needs CD media (cd-r, cd-r-74, cd-r-80, cd-r-90, cd-r-99, cd-rw), not "${m.media}"`);
  if (m.catalog !== undefined) {
    if (!/^\d{13}$/.test(m.catalog)) err(['catalog'], 'audio-mcn', `the catalogue number (MCN) must be 13 digits (EAN-13/UPC), not "${m.catalog}"`);
    else if (!mcnCheckDigitOk(m.catalog)) err(['catalog'], 'audio-mcn-check', `the catalogue number ${m.catalog} has a wrong EAN-13 check digit (expected ${(10 - ([...m.catalog.slice(0, 12)].reduce((s, c, i) => s + Number(c) * (i % 2 ? 3 : 1), 0) % 10)) % 10})`, 'warning');
  }
  const language = m.cdText?.language ?? 'en';
  if (m.cdText?.language !== undefined && !(language in LANGUAGE_CODES)) {
    err(['cdText', 'language'], 'audio-cdtext-language', `unknown CD-TEXT language "${language}" (known: ${Object.keys(LANGUAGE_CODES).join(', ')})`);
  }
  const checkText = (p: JsonPath, v: string | undefined) => {
    if (v === undefined) return;
    const bad = nonLatin1(v);
    if (bad.length) err(p, 'audio-cdtext-charset', `CD-TEXT is written in ISO 8859-1: ${bad.map((c) => `"${c}"`).join(', ')} cannot be written`);
  };
  for (const f of TEXT_FIELDS) checkText(['cdText', f], m.cdText?.[f]);

  // ---- the sources ----
  const planned: { entry: AudioTrackEntry; info?: AudioInfo; frames: number; skip: number; pregap?: number; indexes: number[] }[] = [];
  entries.forEach((e, i) => {
    const at = (k: string | number): JsonPath => ['tracks', i, k];
    let info: AudioInfo | undefined;
    const abs = path.resolve(dir, e.source);
    try {
      info = probeAudio(abs);
      if (info.frames === 0) throw new ProbeError('it holds no audio');
      if (info.channels > 8) throw new ProbeError(`${info.channels} channels are not supported (at most 8)`);
    } catch (x) {
      if (!(x instanceof ProbeError)) throw x;
      err(at('source'), 'audio-source', `${e.source}: not decodable: ${x.message}`);
      info = undefined;
    }
    const time = (k: 'start' | 'end' | 'pregap', v: TimeValue | undefined) => {
      if (v === undefined) return undefined;
      const t = parseTime(v);
      if (!t) err(at(k), 'audio-time', `"${k}" must be seconds (a number ≥ 0) or "MM:SS:FF", not ${JSON.stringify(v)}`);
      return t;
    };
    const start = time('start', e.start);
    const end = time('end', e.end);
    const pregap = time('pregap', e.pregap);
    if (pregap?.rounded) err(at('pregap'), 'audio-time-rounded', `the pause of ${String(e.pregap)} s is ${pregap.frames} frames (rounded to 1/75 s)`, 'info');
    let frames = 0;
    let skip = 0;
    if (info) {
      const conv = conversionFor(info);
      const total = conv.frames;
      skip = start?.samples ?? 0;
      const stop = end?.samples ?? total;
      if (end && stop > total) err(at('end'), 'audio-trim', `"end" is ${formatDuration(stop / SAMPLES_PER_FRAME)} but ${e.source} lasts ${formatDuration(total / SAMPLES_PER_FRAME)}`);
      else if (stop <= skip) err(at(start ? 'start' : 'end'), 'audio-trim', `"start" must be before "end" (and before the end of ${e.source})`);
      frames = Math.max(0, Math.min(stop, total) - skip);
      const what = describeConversion(info, conv);
      if (what) err(at('source'), 'audio-converted', `${e.source} (${info.format}, ${info.sampleRate} Hz, ${info.channels} ch, ${info.lossy ? 'lossy' : `${info.bitDepth}-bit${info.float ? ' float' : ''}`}): ${what}`, 'info');
      if (frames > 0 && frames < 4 * 44_100) {
        err(e.start !== undefined || e.end !== undefined ? ['tracks', i] : at('source'), 'audio-track-short', `track ${i + firstAudio} lasts ${(frames / 44_100).toFixed(2)} s: a CD track must last at least 4 s (IEC 60908)`);
      }
    }
    if (e.isrc !== undefined && !ISRC_RE.test(e.isrc)) {
      err(at('isrc'), 'audio-isrc', `an ISRC is 12 characters CCOOOYYNNNNN (country, owner: letters or digits; year, serial: digits), not "${e.isrc}"`);
    }
    for (const f of TEXT_FIELDS) checkText(['tracks', i, f], e[f]);
    // Indexes: times from the track's start (index 1 at 0).
    const idx: number[] = [];
    (e.indexes ?? []).forEach((v, k) => {
      const t = parseTime(v);
      if (!t) err(['tracks', i, 'indexes', k], 'audio-time', `an index is seconds or "MM:SS:FF", not ${JSON.stringify(v)}`);
      else idx.push(t.frames);
    });
    if (e.indexes) {
      if (idx.length && idx[0] !== 0) err(['tracks', i, 'indexes', 0], 'audio-index', 'the first index (index 1) is the start of the track: 0');
      for (let k = 1; k < idx.length; k++) if (idx[k] <= idx[k - 1]) err(['tracks', i, 'indexes', k], 'audio-index', 'indexes must increase');
      if (idx.length > 99) err(['tracks', i, 'indexes'], 'audio-index', 'a track has at most 99 indexes');
      if (info && idx.length && idx[idx.length - 1] >= Math.floor(frames / SAMPLES_PER_FRAME)) {
        err(['tracks', i, 'indexes', idx.length - 1], 'audio-index', `index ${idx.length} is beyond the end of the track (${formatDuration(frames / SAMPLES_PER_FRAME)})`);
      }
    }
    if (i + firstAudio === 1 && pregap && pregap.frames !== LEAD_PREGAP) {
      err(at('pregap'), 'audio-pregap', 'track 1 always has a 2-second pause (IEC 60908): its "pregap" can only be 2');
    }
    planned.push({ entry: e, info, frames, skip, pregap: pregap?.frames, indexes: idx.length ? idx : [0] });
  });
  if (diags.some((d) => d.severity === 'error')) return { diagnostics: diags };

  // ---- layout ----
  const sectorSize = m.subcode === 'rw' ? 2448 : m.subcode === 'pq' ? 2368 : 2352;
  if (sectorSize !== 2352 && /\.cue$/i.test(output)) {
    err(['subcode'], 'audio-subcode-cue', `a cue sheet has no track mode for ${sectorSize}-byte sectors: the .cue is marked for DiscForge${sectorSize === 2448 ? '; cdrdao and libcdio read the .toc written beside it (TRACK … RW_RAW)' : ''}`, 'warning');
  }
  const tracks: CdTrack[] = [];
  const segments: Segment[] = [];
  let cursor = 0; // sample frames from LBA 0
  let dataSectors = 0;
  if (mixed && data) {
    dataSectors = data.blocks + LEAD_PREGAP; // + 2 s post-gap
    tracks.push({ number: 1, mode: 'mode1', flags: { data: true, copy: false, preEmphasis: false }, pregap: -LEAD_PREGAP, indexes: [0], end: dataSectors, postgap: LEAD_PREGAP });
    cursor = dataSectors * SAMPLES_PER_FRAME;
  }
  planned.forEach((p, i) => {
    const number = i + firstAudio;
    const e = p.entry;
    let pause: number;
    if (number === 1) pause = 0; // implied, not in the BIN
    else if (mixed && number === 2) pause = Math.max(p.pregap ?? 2 * FRAMES_PER_SECOND, 2 * FRAMES_PER_SECOND);
    else pause = p.pregap ?? (m.gapless ? 0 : 2 * FRAMES_PER_SECOND);
    if (mixed && number === 2 && p.pregap !== undefined && p.pregap < 2 * FRAMES_PER_SECOND) {
      err(['tracks', i, 'pregap'], 'audio-pregap', 'the first audio track after the data track has a pause of at least 2 s (a change of track mode): using 2 s', 'warning');
    }
    let pregapLba: number;
    let index1: number;
    if (number === 1) {
      pregapLba = -LEAD_PREGAP;
      index1 = 0;
    } else if (pause > 0) {
      pregapLba = Math.ceil(cursor / SAMPLES_PER_FRAME);
      index1 = pregapLba + pause;
      cursor = index1 * SAMPLES_PER_FRAME;
    } else {
      index1 = Math.floor(cursor / SAMPLES_PER_FRAME);
      pregapLba = index1;
    }
    if (tracks.length) tracks[tracks.length - 1].end = pregapLba;
    segments.push({ at: cursor, frames: p.frames, source: { info: p.info!, skip: p.skip, seed: number * 7919, track: number } });
    cursor += p.frames;
    const text: Partial<Record<TextField, string>> = {};
    for (const f of TEXT_FIELDS) if (e[f] !== undefined) text[f] = e[f];
    tracks.push({
      number,
      mode: 'audio',
      flags: { data: false, copy: e.copy === 'permitted', copyOnce: e.copy === 'once', preEmphasis: e.preEmphasis ?? false },
      isrc: e.isrc,
      pregap: pregapLba,
      indexes: p.indexes.map((f) => index1 + f),
      end: 0,
      text,
    });
  });
  const leadOut = Math.ceil(cursor / SAMPLES_PER_FRAME);
  tracks[tracks.length - 1].end = leadOut;
  // Indexes must stay inside their track (with run-on tracks the end moves to the next track's first sector).
  tracks.forEach((t, k) => {
    if (t.indexes.length > 1 && t.indexes[t.indexes.length - 1] >= t.end) {
      err(['tracks', k - (firstAudio - 1), 'indexes', t.indexes.length - 1], 'audio-index', `index ${t.indexes.length} is beyond the end of track ${t.number}`);
    }
  });
  const layout: CdLayout = {
    tracks,
    leadOut,
    mcn: m.catalog,
    sectorSize,
    text: m.cdText ? { ...m.cdText } : undefined,
  };

  // ---- capacity ----
  const totalFrames = leadOut + LEAD_PREGAP;
  const minutes = m.media ? CD_MINUTES[m.media] : undefined;
  const length = formatDuration(totalFrames);
  if (minutes !== undefined && totalFrames > minutes * 60 * FRAMES_PER_SECOND) {
    err(['media'], 'capacity', `the disc plays ${length} but a ${minutes}-minute CD holds ${minutes}:00.00: ${formatDuration(totalFrames - minutes * 4500)} too long`);
  } else if (minutes === undefined && totalFrames > 99 * 4500) {
    err(['tracks'], 'capacity', `the disc plays ${length}: longer than any CD (99 minutes)`);
  } else if (minutes === undefined && totalFrames > 80 * 4500) {
    err(['tracks'], 'capacity', `the disc plays ${length}: longer than an 80-minute CD-R (set "media" to cd-r-90 or cd-r-99 for those)`, 'warning');
  }

  // ---- CD-TEXT ----
  let cdText: Buffer | undefined;
  const hasText = TEXT_FIELDS.some((f) => m.cdText?.[f] || entries.some((e) => e[f]));
  if (hasText) {
    const fields: Partial<Record<TextField, string[]>> = {};
    for (const f of TEXT_FIELDS) {
      const vals = [m.cdText?.[f] ?? '', ...tracks.map((t) => t.text?.[f] ?? '')];
      if (vals.some((v) => v)) fields[f] = vals;
    }
    try {
      cdText = buildPacks({ fields, firstTrack: 1, lastTrack: tracks.length, language: LANGUAGE_CODES[language] ?? 0x09 });
    } catch (x) {
      err(['cdText'], 'audio-cdtext-size', (x as Error).message);
    }
  }
  if (diags.some((d) => d.severity === 'error')) return { diagnostics: diags };

  const stem = output.replace(/\.(cue|toc)$/i, '');
  const files = { bin: stem + '.bin', cue: stem + '.cue', toc: stem + '.toc', cdt: cdText ? stem + '.cdt' : undefined };
  const image = new AudioDiscImage(layout, segments, mixed && data ? { image: data, sectors: dataSectors } : undefined);
  return {
    diagnostics: diags,
    plan: {
      layout,
      image,
      tracks: planned.map((p, i) => ({ number: i + firstAudio, source: p.entry.source, info: p.info!, frames: p.frames, conversion: p.info ? describeConversion(p.info, conversionFor(p.info)) : undefined })),
      cdText,
      files,
      output,
      totalFrames,
    },
  };
}
