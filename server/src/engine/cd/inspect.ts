/**
 * `discforge inspect album.cue`: the table of contents of a BIN/CUE image — tracks with their modes, flags,
 * ISRCs, indexes (absolute MSF), lengths; the catalogue number; CD-TEXT from the cue sheet and from its binary
 * CDTEXTFILE (with the packs' CRCs checked); and, for data tracks, every sector's sync, header, EDC and ECC.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../util/errors';
import { parsePacks, TEXT_FIELDS, type TextField } from './cdtext';
import { readCue, type CueSheet } from './cue';
import { formatMsf, LEAD_PREGAP } from './msf';
import { computeEcc, edc, hasSync } from './sector';

export interface CueTrackReport {
  number: number;
  mode: string;
  flags: string[];
  isrc?: string;
  indexes: { number: number; lba: number; msf: string }[];
  lengthFrames: number;
  length: string;
  text: Partial<Record<TextField, string>>;
  dataSectors?: { checked: number; bad: number; firstBad?: number };
}

export interface CueReport {
  cue: string;
  sectorSize: number;
  catalog?: string;
  tracks: CueTrackReport[];
  leadOut: { lba: number; msf: string };
  totalLength: string;
  text: Partial<Record<TextField, string>>;
  cdTextFile?: { file: string; packs: number; badCrc: number; text: Partial<Record<TextField, string[]>> };
  problems: string[];
}

/** A length as MM:SS:FF (frames of 1/75 s). */
function duration(frames: number): string {
  return formatMsf(frames);
}

function checkDataTrack(t: CueSheet['tracks'][number]): CueTrackReport['dataSectors'] {
  const fd = fs.openSync(t.file, 'r');
  const size = t.sectorSize;
  const buf = Buffer.alloc(size * 256);
  const copy = Buffer.alloc(2352);
  let checked = 0;
  let bad = 0;
  let firstBad: number | undefined;
  try {
    for (let lba = t.start; lba < t.end; lba += 256) {
      const n = Math.min(256, t.end - lba);
      fs.readSync(fd, buf, 0, n * size, lba * size);
      for (let i = 0; i < n; i++) {
        const s = buf.subarray(i * size, i * size + 2352);
        s.copy(copy);
        let ok = hasSync(copy) && copy[15] === 1;
        if (ok) {
          const e = edc(copy, 0, 2064);
          ok = copy.readUInt32LE(2064) === e;
          computeEcc(copy);
          ok = ok && copy.equals(s);
          const abs = (((copy[12] >> 4) * 10 + (copy[12] & 15)) * 60 + (copy[13] >> 4) * 10 + (copy[13] & 15)) * 75 + (copy[14] >> 4) * 10 + (copy[14] & 15);
          ok = ok && abs - LEAD_PREGAP === lba + i;
        }
        checked++;
        if (!ok) {
          bad++;
          firstBad ??= lba + i;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return { checked, bad, firstBad };
}

export function inspectCue(cuePath: string): CueReport {
  if (!fs.existsSync(cuePath)) throw new InputError(`${cuePath}: no such file`);
  const sheet = readCue(cuePath);
  const problems = [...sheet.problems];
  const tracks: CueTrackReport[] = sheet.tracks.map((t) => {
    const r: CueTrackReport = {
      number: t.number,
      mode: t.mode,
      flags: t.flags,
      isrc: t.isrc,
      indexes: t.indexes.map((x) => ({ number: x.number, lba: x.lba, msf: formatMsf(x.lba + LEAD_PREGAP) })),
      lengthFrames: t.length,
      length: duration(t.length),
      text: t.text,
    };
    if (t.mode.startsWith('MODE1/2352')) {
      r.dataSectors = checkDataTrack(t);
      if (r.dataSectors!.bad) problems.push(`track ${t.number}: ${r.dataSectors!.bad} of ${r.dataSectors!.checked} data sectors fail their sync/header/EDC/ECC check (first at LBA ${r.dataSectors!.firstBad})`);
    }
    if (t.length < 4 * 75) problems.push(`track ${t.number} lasts ${r.length}: shorter than 4 s`);
    return r;
  });
  const report: CueReport = {
    cue: cuePath,
    sectorSize: sheet.sectorSize,
    catalog: sheet.catalog,
    tracks,
    leadOut: { lba: sheet.leadOut, msf: formatMsf(sheet.leadOut + LEAD_PREGAP) },
    totalLength: duration(sheet.leadOut + LEAD_PREGAP),
    text: sheet.text,
    problems,
  };
  if (sheet.cdTextFile) {
    const f = path.resolve(path.dirname(cuePath), sheet.cdTextFile);
    try {
      const raw = fs.readFileSync(f);
      // With or without the 4-byte header (length, reserved) of READ TOC format 0101b.
      const packsData = raw.length % 18 === 4 ? raw.subarray(4) : raw;
      const p = parsePacks(packsData);
      report.cdTextFile = { file: sheet.cdTextFile, packs: Math.floor(packsData.length / 18), badCrc: p.badCrc, text: p.fields };
      if (p.badCrc) problems.push(`${sheet.cdTextFile}: ${p.badCrc} CD-TEXT packs with a bad CRC`);
    } catch (e) {
      problems.push(`${sheet.cdTextFile}: cannot read (${(e as Error).message})`);
    }
  }
  return report;
}

export function formatCueText(r: CueReport): string {
  const out: string[] = [];
  out.push(`Cue sheet  ${r.cue}`);
  out.push(`Sectors    ${r.sectorSize} bytes${r.sectorSize === 2448 ? ' (2352 + 96 raw P–W sub-channel)' : r.sectorSize === 2368 ? ' (2352 + 16 P/Q sub-channel)' : ''}`);
  if (r.catalog) out.push(`Catalog    ${r.catalog} (MCN)`);
  for (const f of TEXT_FIELDS) if (r.text[f]) out.push(`${(f[0].toUpperCase() + f.slice(1)).padEnd(11)}${r.text[f]}`);
  out.push(`Length     ${r.totalLength} (lead-out at ${r.leadOut.msf}, LBA ${r.leadOut.lba})`);
  out.push('');
  out.push('Track  Mode        Start     Length    Flags     ISRC          Title / Performer');
  for (const t of r.tracks) {
    const i1 = t.indexes.find((x) => x.number === 1);
    out.push(
      `${String(t.number).padStart(5)}  ${t.mode.padEnd(10)}  ${(i1?.msf ?? '').padEnd(8)}  ${t.length.padEnd(8)}  ${(t.flags.join(' ') || '-').padEnd(8)}  ${(t.isrc ?? '-').padEnd(12)}  ${[t.text.title, t.text.performer].filter(Boolean).join(' / ')}`,
    );
    for (const x of t.indexes) if (x.number !== 1) out.push(`         index ${String(x.number).padStart(2, '0')} at ${x.msf} (LBA ${x.lba})`);
    if (t.dataSectors) out.push(`         ${t.dataSectors.checked} data sectors, ${t.dataSectors.bad} failing sync/header/EDC/ECC`);
  }
  if (r.cdTextFile) {
    out.push('');
    out.push(`CD-TEXT file ${r.cdTextFile.file}: ${r.cdTextFile.packs} packs, ${r.cdTextFile.badCrc} bad CRC`);
    for (const f of TEXT_FIELDS) {
      const v = r.cdTextFile.text[f];
      if (v) out.push(`  ${f.padEnd(10)} ${v.map((s) => JSON.stringify(s)).join(', ')}`);
    }
  }
  out.push('');
  out.push(r.problems.length ? `Problems (${r.problems.length})\n${r.problems.map((p) => `  ${p}`).join('\n')}` : 'No problems found.');
  return out.join('\n') + '\n';
}
