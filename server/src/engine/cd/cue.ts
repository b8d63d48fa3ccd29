/**
 * Cue sheets (the CDRWIN format that libcdio, cuetools, cdrdao and bchunk read) and cdrdao TOC files, written from
 * a CdLayout; and a cue/TOC reader (for `discforge inspect album.cue` and for burning a BIN/CUE).
 *
 * A cue sheet cannot describe sectors with sub-channel data (it has no such track mode): an image with 2368- or
 * 2448-byte sectors gets a `REM DISCFORGE-SECTOR-SIZE n` line that only DiscForge reads; the TOC file (cdrdao's
 * `TRACK AUDIO RW_RAW`) describes 2448-byte sectors for everyone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../util/errors';
import { TEXT_FIELDS, type TextField } from './cdtext';
import type { CdLayout, CdTrack, TrackMode } from './layout';
import { formatMsf, LEAD_PREGAP, msfToFrames } from './msf';

const CUE_MODE: Record<TrackMode, string> = { audio: 'AUDIO', mode1: 'MODE1/2352', mode2form1: 'MODE2/2352', mode2form2: 'MODE2/2352' };
const CUE_TEXT: Record<TextField, string> = {
  title: 'TITLE', performer: 'PERFORMER', songwriter: 'SONGWRITER', composer: 'COMPOSER', arranger: 'ARRANGER', message: 'MESSAGE',
};

/** A cue string: double quotes cannot be escaped in a cue sheet; they become single quotes. */
function q(s: string): string {
  return `"${s.replace(/"/g, "'").replace(/[\r\n]+/g, ' ')}"`;
}

export interface CueOptions {
  bin: string;
  /** The binary CD-TEXT file, when written. */
  cdTextFile?: string;
}

export function writeCue(L: CdLayout, opts: CueOptions): string {
  const out: string[] = [];
  out.push('REM Written by DiscForge');
  if (L.sectorSize !== 2352) out.push(`REM DISCFORGE-SECTOR-SIZE ${L.sectorSize}`);
  if (L.mcn) out.push(`CATALOG ${L.mcn}`);
  if (opts.cdTextFile) out.push(`CDTEXTFILE ${q(opts.cdTextFile)}`);
  for (const f of TEXT_FIELDS) {
    const v = L.text?.[f];
    if (v) out.push(`${CUE_TEXT[f]} ${q(v)}`);
  }
  out.push(`FILE ${q(opts.bin)} BINARY`);
  for (const t of L.tracks) {
    out.push(`  TRACK ${String(t.number).padStart(2, '0')} ${CUE_MODE[t.mode]}`);
    const flags = [t.flags.copy && !t.flags.copyOnce ? 'DCP' : '', t.flags.preEmphasis ? 'PRE' : ''].filter(Boolean);
    if (flags.length) out.push(`    FLAGS ${flags.join(' ')}`);
    if (t.isrc) out.push(`    ISRC ${t.isrc}`);
    for (const f of TEXT_FIELDS) {
      const v = t.text?.[f];
      if (v) out.push(`    ${CUE_TEXT[f]} ${q(v)}`);
    }
    if (t.pregap < t.indexes[0] && t.pregap >= 0) out.push(`    INDEX 00 ${formatMsf(t.pregap)}`);
    t.indexes.forEach((lba, i) => out.push(`    INDEX ${String(i + 1).padStart(2, '0')} ${formatMsf(lba)}`));
  }
  return out.join('\r\n') + '\r\n';
}

const TOC_MODE: Record<TrackMode, string> = { audio: 'AUDIO', mode1: 'MODE1_RAW', mode2form1: 'MODE2_RAW', mode2form2: 'MODE2_RAW' };
const TOC_TEXT: Record<TextField, string> = {
  title: 'TITLE', performer: 'PERFORMER', songwriter: 'SONGWRITER', composer: 'COMPOSER', arranger: 'ARRANGER', message: 'MESSAGE',
};

/** A cdrdao TOC file for the same BIN (`cdrdao show-toc`, `toc2cue`, `cd-info --toc-file`). */
export function writeToc(L: CdLayout, bin: string, language = 'EN'): string {
  const out: string[] = [];
  const data = L.tracks.some((t) => t.mode !== 'audio');
  const xa = L.tracks.some((t) => t.mode === 'mode2form1' || t.mode === 'mode2form2');
  out.push(xa ? 'CD_ROM_XA' : data ? 'CD_ROM' : 'CD_DA');
  if (L.mcn) out.push(`CATALOG "${L.mcn}"`);
  const hasText = TEXT_FIELDS.some((f) => L.text?.[f] || L.tracks.some((t) => t.text?.[f]));
  const textBlock = (vals: Partial<Record<TextField, string>> | undefined, indent: string): string[] => {
    const lines = TEXT_FIELDS.filter((f) => vals?.[f] !== undefined && vals[f] !== '').map((f) => `${indent}    ${TOC_TEXT[f]} ${q(vals![f]!)}`);
    return [`${indent}CD_TEXT {`, `${indent}  LANGUAGE 0 {`, ...lines, `${indent}  }`, `${indent}}`];
  };
  if (hasText) {
    const g = textBlock(L.text, '');
    out.push(g[0], `  LANGUAGE_MAP {`, `    0 : ${language.toUpperCase()}`, `  }`, ...g.slice(1));
  }
  const sub = L.sectorSize === 2448 ? ' RW_RAW' : '';
  for (const t of L.tracks) {
    out.push('', `// Track ${t.number}`, `TRACK ${TOC_MODE[t.mode]}${sub}`);
    if (t.mode === 'audio') {
      out.push(t.flags.copy ? 'COPY' : 'NO COPY', t.flags.preEmphasis ? 'PRE_EMPHASIS' : 'NO PRE_EMPHASIS', 'TWO_CHANNEL_AUDIO');
      if (t.isrc) out.push(`ISRC "${t.isrc}"`);
    }
    if (hasText) out.push(...textBlock(t.text, ''));
    const first = t.number === 1 ? 0 : t.pregap;
    const len = t.end - first;
    // Audio: FILE with SWAP (cdrdao takes raw audio as big-endian; a BIN holds little-endian samples), starting
    // at sample 0 of the byte offset; data: DATAFILE.
    // cdrdao allows only DATAFILE in tracks with a sub-channel mode: its samples are then taken as they are in
    // the file (little-endian here; `cdrdao write --swap` for such a TOC).
    if (t.mode === 'audio' && !sub) out.push(`FILE ${q(bin)} SWAP #${first * L.sectorSize} 0 ${formatMsf(len)}`);
    else out.push(`DATAFILE ${q(bin)} #${first * L.sectorSize} ${formatMsf(len)}`);
    if (t.number !== 1 && t.pregap < t.indexes[0]) out.push(`START ${formatMsf(t.indexes[0] - t.pregap)}`);
    for (let i = 1; i < t.indexes.length; i++) out.push(`INDEX ${formatMsf(t.indexes[i] - t.indexes[0])}`);
  }
  return out.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------------------
// Reading

export interface CueTrackInfo {
  number: number;
  mode: string;
  /** Sector size in the file (2352 for raw modes, 2048 for MODE1/2048, +16/+96 with sub-channel). */
  sectorSize: number;
  file: string;
  flags: string[];
  isrc?: string;
  text: Partial<Record<TextField, string>>;
  /** INDEX numbers → LBA (in the file's sectors, relative to the disc: the file starts at LBA 0). */
  indexes: { number: number; lba: number }[];
  pregap?: number;
  postgap?: number;
  /** Derived: first and one-past-last LBA, length from index 1 in frames. */
  start: number;
  end: number;
  length: number;
}

export interface CueSheet {
  path: string;
  catalog?: string;
  cdTextFile?: string;
  text: Partial<Record<TextField, string>>;
  tracks: CueTrackInfo[];
  leadOut: number;
  sectorSize: number;
  problems: string[];
}

const SECTOR_SIZE_OF: Record<string, number> = {
  AUDIO: 2352, 'MODE1/2352': 2352, 'MODE2/2352': 2352, 'MODE1/2048': 2048, 'MODE2/2336': 2336, 'CDI/2352': 2352, CDG: 2448,
};

function tokens(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] ?? m[2]);
  return out;
}

/** Reads a cue sheet and the sizes of the files it names. Syntax errors throw an InputError with file:line. */
export function readCue(cuePath: string, text?: string): CueSheet {
  const src = text ?? fs.readFileSync(cuePath, 'latin1');
  const dir = path.dirname(cuePath);
  const sheet: CueSheet = { path: cuePath, text: {}, tracks: [], leadOut: 0, sectorSize: 2352, problems: [] };
  let file: string | undefined;
  let fileSectorOverride: number | undefined;
  let cur: CueTrackInfo | undefined;
  const fail = (n: number, msg: string): never => {
    throw new InputError(`${cuePath}:${n}:1: error: ${msg}`);
  };
  src.split(/\r?\n/).forEach((raw, i) => {
    const n = i + 1;
    const line = raw.trim();
    if (!line) return;
    const t = tokens(line);
    const kw = t[0].toUpperCase();
    switch (kw) {
      case 'REM':
        if (t[1] === 'DISCFORGE-SECTOR-SIZE') fileSectorOverride = Number(t[2]);
        return;
      case 'CATALOG':
        if (!/^\d{13}$/.test(t[1] ?? '')) sheet.problems.push(`line ${n}: CATALOG "${t[1] ?? ''}" is not 13 digits`);
        sheet.catalog = t[1];
        return;
      case 'CDTEXTFILE':
        sheet.cdTextFile = t[1];
        return;
      case 'FILE':
        if (!t[1]) fail(n, 'FILE needs a file name');
        file = path.resolve(dir, t[1]);
        return;
      case 'TRACK': {
        if (!file) fail(n, 'TRACK before any FILE');
        const num = Number(t[1]);
        const mode = (t[2] ?? '').toUpperCase();
        if (!Number.isInteger(num) || num < 1 || num > 99) fail(n, `bad track number "${t[1]}"`);
        if (!(mode in SECTOR_SIZE_OF)) fail(n, `unknown track mode "${t[2] ?? ''}"`);
        cur = { number: num, mode, sectorSize: fileSectorOverride ?? SECTOR_SIZE_OF[mode], file: file!, flags: [], text: {}, indexes: [], start: 0, end: 0, length: 0 };
        sheet.tracks.push(cur);
        return;
      }
      case 'INDEX': {
        if (!cur) fail(n, 'INDEX outside a track');
        const m = /^(\d+):(\d\d):(\d\d)$/.exec(t[2] ?? '');
        if (!m || Number(m[3]) > 74 || Number(m[2]) > 59) fail(n, `bad INDEX time "${t[2] ?? ''}"`);
        cur!.indexes.push({ number: Number(t[1]), lba: msfToFrames(Number(m![1]), Number(m![2]), Number(m![3])) });
        return;
      }
      case 'FLAGS':
        if (!cur) fail(n, 'FLAGS outside a track');
        cur!.flags = t.slice(1).map((x) => x.toUpperCase());
        return;
      case 'ISRC':
        if (!cur) fail(n, 'ISRC outside a track');
        if (!/^[A-Z]{2}[A-Z0-9]{3}\d{7}$/.test(t[1] ?? '')) sheet.problems.push(`line ${n}: ISRC "${t[1] ?? ''}" is malformed`);
        cur!.isrc = t[1];
        return;
      case 'PREGAP':
      case 'POSTGAP': {
        if (!cur) fail(n, `${kw} outside a track`);
        const m = /^(\d+):(\d\d):(\d\d)$/.exec(t[1] ?? '');
        if (!m) fail(n, `bad ${kw} time`);
        const f = msfToFrames(Number(m![1]), Number(m![2]), Number(m![3]));
        if (kw === 'PREGAP') cur!.pregap = f;
        else cur!.postgap = f;
        return;
      }
      case 'TITLE': case 'PERFORMER': case 'SONGWRITER': case 'COMPOSER': case 'ARRANGER': case 'MESSAGE': {
        const field = kw.toLowerCase() as TextField;
        (cur ? cur.text : sheet.text)[field] = t[1] ?? '';
        return;
      }
      default:
        sheet.problems.push(`line ${n}: unknown keyword ${t[0]}`);
    }
  });
  if (sheet.tracks.length === 0) throw new InputError(`${cuePath}: the cue sheet has no tracks`);
  // Lengths: up to the next track's first index in the same file, the last one to the end of its file.
  const sizes = new Map<string, number>();
  for (const tr of sheet.tracks) {
    if (!sizes.has(tr.file)) {
      try {
        sizes.set(tr.file, fs.statSync(tr.file).size);
      } catch {
        throw new InputError(`${cuePath}: cannot read ${tr.file} (named by FILE)`);
      }
    }
  }
  sheet.tracks.forEach((tr, i) => {
    if (!tr.indexes.some((x) => x.number === 1)) throw new InputError(`${cuePath}: track ${tr.number} has no INDEX 01`);
    tr.start = tr.indexes[0].lba;
    const next = sheet.tracks[i + 1];
    if (next && next.file === tr.file) tr.end = next.indexes[0].lba;
    else tr.end = Math.floor(sizes.get(tr.file)! / tr.sectorSize);
    const i1 = tr.indexes.find((x) => x.number === 1)!.lba;
    tr.length = tr.end - i1;
    if (sizes.get(tr.file)! % tr.sectorSize !== 0 && !next) sheet.problems.push(`${path.basename(tr.file)}: ${sizes.get(tr.file)} bytes is not a multiple of the ${tr.sectorSize}-byte sector`);
  });
  const last = sheet.tracks[sheet.tracks.length - 1];
  sheet.leadOut = last.end;
  sheet.sectorSize = last.sectorSize;
  return sheet;
}

/** The absolute MSF of an LBA as a string (for reports). */
export function absoluteMsf(lba: number): string {
  return formatMsf(lba + LEAD_PREGAP);
}

export type { CdTrack };
