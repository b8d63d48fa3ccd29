/**
 * Burning audio and mixed-mode CDs (MMC-6 4.3 "CD Model") from a manifest's plan or from a BIN/CUE:
 *
 *   tao  track at once (write type 1): one track per WRITE run at the invisible track's next writable address,
 *        CLOSE TRACK after each, CLOSE SESSION at the end; the drive writes a 2-second pause before every track
 *        (so the plan's pauses must be 2 s: no gapless run-on tracks). MCN and ISRC go in page 05h.
 *   sao  session at once (write type 2): SEND CUE SHEET (indexes, pauses as written, MCN, ISRCs, CD-TEXT in the
 *        lead-in), then the lead-in's R–W (CD-TEXT packs) when there is text, then every sector from LBA -150 in its
 *        track's data form (audio 2352, Mode 1 2048); the drive writes the lead-out.
 *   raw  raw disc at once (write type 3, data block type 3: 2352 + 96 bytes of raw P–W): every sector from the
 *        ATIP lead-in start: the lead-in with the TOC in Q and CD-TEXT in R–W, the program with our P/Q
 *        sub-channel and scrambled data sectors, and the lead-out.
 * Verification reads the disc back with READ CD (audio samples and raw data sectors compared with the program,
 * sector by sector), READ TOC (the track starts and control bits) and READ TOC format 0101b (the CD-TEXT packs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Sink } from '../image/sink';
import { CancelledError, InputError } from '../util/errors';
import type { MmcDevice } from '../burn/device';
import { ScsiError, TIMEOUT } from '../burn/device';
import * as mmc from '../burn/mmc';
import { SubcodeGenerator, type CdLayout, type CdTrack } from '../cd/layout';
import { cdWriteParametersPage, cueSheet, LEAD_IN_START, leadInQ, leadInRw, RAW_LEAD_OUT, readCd } from '../cd/mmc';
import { LEAD_PREGAP } from '../cd/msf';
import { encodeMode1, scramble } from '../cd/sector';
import { interleave } from '../cd/subcode';
import { parsePacks } from '../cd/cdtext';
import { readCue } from '../cd/cue';
import type { AudioPlan } from './plan';

export type CdWriteMode = 'tao' | 'sao' | 'raw';

/** What to burn: the layout, CD-TEXT packs, and a stream of the program's 2352-byte sectors (LBA 0 to the lead-out). */
export interface CdProgram {
  name: string;
  layout: CdLayout;
  cdText?: Buffer;
  write(sink: Sink): Promise<void>;
}

export function programFromPlan(name: string, plan: AudioPlan): CdProgram {
  const layout: CdLayout = { ...plan.layout, sectorSize: 2352 };
  // The plan's image writes sectors of the plan's size; burning needs the main channel only.
  return {
    name,
    layout,
    cdText: plan.cdText,
    write: async (sink) => {
      if (plan.layout.sectorSize === 2352) return plan.image.write(sink);
      return plan.image.write(new StripSink(sink, plan.layout.sectorSize));
    },
  };
}

/** A BIN/CUE (any of our sector sizes) as a program: the TOC from the cue sheet, CD-TEXT from its CDTEXTFILE. */
export function programFromCue(cuePath: string): CdProgram {
  const sheet = readCue(cuePath);
  const tracks: CdTrack[] = sheet.tracks.map((t, i) => {
    const i1 = t.indexes.find((x) => x.number === 1)!.lba;
    const i0 = t.indexes.find((x) => x.number === 0)?.lba;
    return {
      number: t.number,
      mode: t.mode === 'AUDIO' ? 'audio' : 'mode1',
      flags: { data: t.mode !== 'AUDIO', copy: t.flags.includes('DCP'), preEmphasis: t.flags.includes('PRE') },
      isrc: t.isrc,
      pregap: i === 0 ? -LEAD_PREGAP : i0 ?? i1,
      indexes: t.indexes.filter((x) => x.number >= 1).sort((a, b) => a.number - b.number).map((x) => x.lba),
      end: 0,
      text: t.text,
    };
  });
  tracks.forEach((t, i) => (t.end = tracks[i + 1]?.pregap ?? sheet.leadOut));
  if (new Set(sheet.tracks.map((t) => t.file)).size !== 1) throw new InputError(`${cuePath}: burning needs all tracks in one BIN file`);
  for (const t of tracks) if (t.mode === 'mode1' && !sheet.tracks.find((x) => x.number === t.number)!.mode.startsWith('MODE1/2352')) {
    throw new InputError(`${cuePath}: track ${t.number}: only AUDIO and MODE1/2352 tracks can be burned`);
  }
  let cdText: Buffer | undefined;
  if (sheet.cdTextFile) {
    const raw = fs.readFileSync(path.resolve(path.dirname(cuePath), sheet.cdTextFile));
    cdText = raw.length % 18 === 4 ? raw.subarray(4) : raw;
  }
  const bin = sheet.tracks[0].file;
  const size = sheet.sectorSize;
  return {
    name: cuePath,
    layout: { tracks, leadOut: sheet.leadOut, mcn: sheet.catalog, sectorSize: 2352, text: sheet.text },
    cdText,
    write: async (sink) => {
      const fd = fs.openSync(bin, 'r');
      try {
        const n = 256;
        const buf = Buffer.alloc(n * size);
        for (let lba = 0; lba < sheet.leadOut; lba += n) {
          const k = Math.min(n, sheet.leadOut - lba);
          fs.readSync(fd, buf, 0, k * size, lba * size);
          if (size === 2352) sink.write(buf.subarray(0, k * 2352));
          else for (let i = 0; i < k; i++) sink.write(buf.subarray(i * size, i * size + 2352));
          await sink.checkpoint();
        }
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}

/** Passes on the first 2352 bytes of each `size`-byte sector. */
class StripSink implements Sink {
  pos = 0;
  private carry = Buffer.alloc(0);
  constructor(private readonly out: Sink, private readonly size: number) {}
  write(data: Buffer): void {
    let buf = this.carry.length ? Buffer.concat([this.carry, data]) : data;
    let off = 0;
    while (buf.length - off >= this.size) {
      this.out.write(buf.subarray(off, off + 2352));
      off += this.size;
    }
    this.carry = Buffer.from(buf.subarray(off));
    buf = Buffer.alloc(0);
    this.pos += data.length;
  }
  zeros(count: number): void {
    this.write(Buffer.alloc(count));
  }
  pad(block: number): void {
    const r = this.pos % block;
    if (r) this.zeros(block - r);
  }
  copyFile(): Promise<void> {
    throw new Error('internal: StripSink.copyFile');
  }
  checkpoint(): Promise<void> {
    return this.out.checkpoint();
  }
}

/**
 * Collects the program's sectors as they stream and hands them, in order, to an async consumer at every
 * checkpoint (and at the end): the writers' push model meets the drive's command round trips.
 */
class SectorSink implements Sink {
  pos = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lba = 0;
  constructor(private readonly consume: (lba: number, sectors: Buffer) => Promise<void>, private readonly signal?: AbortSignal) {}
  write(data: Buffer): void {
    this.pending.push(Buffer.from(data));
    this.pendingBytes += data.length;
    this.pos += data.length;
  }
  zeros(count: number): void {
    this.write(Buffer.alloc(count));
  }
  pad(block: number): void {
    const r = this.pos % block;
    if (r) this.zeros(block - r);
  }
  copyFile(): Promise<void> {
    throw new Error('internal: SectorSink.copyFile');
  }
  async checkpoint(): Promise<void> {
    if (this.signal?.aborted) throw new CancelledError('the burn was cancelled');
    const whole = Math.floor(this.pendingBytes / 2352);
    if (whole === 0) return;
    const all = Buffer.concat(this.pending);
    const take = all.subarray(0, whole * 2352);
    this.pending = all.length > take.length ? [Buffer.from(all.subarray(take.length))] : [];
    this.pendingBytes = all.length - take.length;
    const at = this.lba;
    this.lba += whole;
    await this.consume(at, take);
  }
  async finish(): Promise<number> {
    await this.checkpoint();
    if (this.pendingBytes) throw new Error(`internal: the program ended inside a sector (${this.pendingBytes} bytes)`);
    return this.lba;
  }
}

export interface CdBurnOptions {
  mode: CdWriteMode;
  verify: boolean;
  signal?: AbortSignal;
  onProgress?: (p: { phase: 'writing' | 'verifying'; done: number; total: number }) => void;
  /** Sectors per WRITE (default: as many as fit the transport's maximum transfer). */
  chunkSectors?: number;
}

export interface CdBurnResult {
  mode: CdWriteMode;
  sectors: number;
  verified: boolean;
  summary: string;
}

function write10(lba: number, blocks: number): Buffer {
  const c = Buffer.alloc(10);
  c[0] = mmc.OP.WRITE_10;
  c.writeInt32BE(lba, 2); // negative in the lead-in
  c.writeUInt16BE(blocks, 7);
  return c;
}

function controlOf(t: CdTrack): number {
  return (t.flags.data ? 4 : 0) | (t.flags.copy ? 2 : 0) | (t.flags.preEmphasis ? 1 : 0);
}

/** The track holding `lba` (by pause start), from a sorted track list. */
function trackOf(L: CdLayout, lba: number): CdTrack {
  let t = L.tracks[0];
  for (const x of L.tracks) if (lba >= x.pregap) t = x;
  return t;
}

export class CdBurnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CdBurnError';
  }
}

export async function burnCd(dev: MmcDevice, program: CdProgram, opts: CdBurnOptions): Promise<CdBurnResult> {
  const L = program.layout;
  // ---- the medium ----
  const profile = (await dev.configuration(1, 0)).currentProfile;
  if (profile !== mmc.PROFILE.CD_R && profile !== mmc.PROFILE.CD_RW) throw new CdBurnError(`${dev.name}: an audio CD needs a CD-R or CD-RW (the drive has ${mmc.profileName(profile)})`);
  const di = await dev.discInformation();
  if (di.discStatus !== 0) throw new CdBurnError(`${dev.name}: the disc is not blank: an audio CD is written in one session on a blank CD-R/RW`);
  const atip = await dev.exec(mmc.readToc(4, 0, 28), 'in', 28);
  const lastLeadOut = (atip[13] * 60 + atip[14]) * 75 + atip[15] - LEAD_PREGAP;
  if (L.leadOut > lastLeadOut) throw new CdBurnError(`${dev.name}: the disc holds ${lastLeadOut} sectors, the program needs ${L.leadOut}`);
  if (opts.mode === 'tao') {
    for (const t of L.tracks.slice(1)) {
      if (t.indexes[0] - t.pregap !== LEAD_PREGAP) {
        throw new CdBurnError(`${program.name}: track ${t.number} has a ${t.indexes[0] - t.pregap}-sector pause; track at once always writes 2 s (150 sectors): burn it session at once (sao)`);
      }
    }
  }
  const chunk = opts.chunkSectors ?? Math.max(1, Math.floor(Math.min(dev.transport.maxTransferBytes, 256 * 1024) / 2448));
  // The sectors this burn sends: raw, from the lead-in start through the lead-out; SAO, the lead-in's R–W when
  // there is CD-TEXT (else from track 1's pause) through the program; TAO, the tracks without the pauses the drive writes.
  const total = opts.mode === 'raw' ? L.leadOut - LEAD_IN_START + RAW_LEAD_OUT
    : opts.mode === 'sao' ? L.leadOut + (program.cdText ? -LEAD_IN_START : LEAD_PREGAP)
    : L.tracks.reduce((n, t, i) => n + (L.tracks[i + 1]?.pregap ?? L.leadOut) - t.indexes[0], 0);
  let done = 0;
  const progress = (phase: 'writing' | 'verifying', n: number) => {
    done += n;
    opts.onProgress?.({ phase, done, total });
  };
  const send = async (lba: number, n: number, data: Buffer) => {
    try {
      await dev.exec(write10(lba, n), 'out', data, TIMEOUT.write);
    } catch (e) {
      if (e instanceof ScsiError) throw new CdBurnError(`${dev.name}: writing sectors ${lba}–${lba + n - 1} failed: ${e.message}`);
      throw e;
    }
    progress('writing', n);
  };
  const modeSelect = async (page: Buffer) => {
    const list = mmc.modeParameterList(page);
    await dev.exec(mmc.modeSelect10(list.length), 'out', list);
  };
  await dev.exec(mmc.preventAllowMediumRemoval(true)).catch(() => undefined);
  try {
    if (opts.mode === 'tao') await writeTao(dev, program, chunk, send, modeSelect, opts.signal);
    else if (opts.mode === 'sao') await writeSao(dev, program, chunk, send, modeSelect, opts.signal);
    else await writeRaw(dev, program, chunk, send, modeSelect, opts.signal);
  } finally {
    await dev.exec(mmc.preventAllowMediumRemoval(false)).catch(() => undefined);
  }
  if (opts.verify) await verifyCd(dev, program, opts.mode, chunk, (n) => opts.onProgress?.({ phase: 'verifying', done: n, total: L.leadOut }));
  return {
    mode: opts.mode,
    sectors: L.leadOut,
    verified: opts.verify,
    summary: `${dev.name}: wrote ${L.tracks.length} tracks (${L.leadOut} sectors) ${opts.mode === 'tao' ? 'track at once' : opts.mode === 'sao' ? 'session at once' : 'raw disc at once (96-byte sub-channel)'}${opts.verify ? ', verified with READ CD' : ''}`,
  };
}

type Send = (lba: number, n: number, data: Buffer) => Promise<void>;
type ModeSelect = (page: Buffer) => Promise<void>;

async function flush(dev: MmcDevice): Promise<void> {
  await dev.exec(mmc.synchronizeCache(false), 'none', 0, TIMEOUT.long);
}

async function writeTao(dev: MmcDevice, p: CdProgram, chunk: number, send: Send, modeSelect: ModeSelect, signal?: AbortSignal): Promise<void> {
  const L = p.layout;
  let current: CdTrack | undefined;
  const endOf = (t: CdTrack) => L.tracks[L.tracks.indexOf(t) + 1]?.pregap ?? L.leadOut;
  const open = async (t: CdTrack) => {
    await modeSelect(cdWriteParametersPage({ writeType: 1, trackMode: controlOf(t), dataBlockType: t.mode === 'audio' ? 0 : 8, multiSession: 0, bufe: true, mcn: L.mcn, isrc: t.isrc }));
    const info = await dev.trackInformation(1, 0xff);
    if (info.nextWritable !== t.indexes[0]) throw new CdBurnError(`${dev.name}: track ${t.number}: the drive's next writable address is ${info.nextWritable}, the program has the track at ${t.indexes[0]}`);
    current = t;
  };
  const close = async () => {
    await flush(dev);
    await dev.exec(mmc.closeTrackSession(1, current!.number, false), 'none', 0, TIMEOUT.long);
    current = undefined;
  };
  const sink = new SectorSink(async (lba, sectors) => {
    let i = 0;
    const n = sectors.length / 2352;
    while (i < n) {
      const at = lba + i;
      const t = trackOf(L, at);
      if (current && current !== t) await close();
      if (at < t.indexes[0]) {
        i++; // the pause: the drive writes it
        continue;
      }
      if (!current) await open(t);
      const k = Math.min(chunk, n - i, endOf(t) - at);
      const data = sectors.subarray(i * 2352, (i + k) * 2352);
      await send(at, k, t.mode === 'audio' ? data : userData(data, k));
      i += k;
    }
  }, signal);
  await p.write(sink);
  await sink.finish();
  if (current) await close();
  await dev.exec(mmc.closeTrackSession(2, 0, false), 'none', 0, TIMEOUT.long);
}

/** The 2048 user bytes of each raw Mode 1 sector. */
function userData(raw: Buffer, n: number): Buffer {
  const out = Buffer.alloc(n * 2048);
  for (let i = 0; i < n; i++) raw.copy(out, i * 2048, i * 2352 + 16, i * 2352 + 2064);
  return out;
}

async function writeSao(dev: MmcDevice, p: CdProgram, chunk: number, send: Send, modeSelect: ModeSelect, signal?: AbortSignal): Promise<void> {
  const L = p.layout;
  const first = L.tracks[0];
  await modeSelect(cdWriteParametersPage({ writeType: 2, trackMode: controlOf(first), dataBlockType: first.mode === 'audio' ? 0 : 8, multiSession: 0, bufe: true }));
  const cue = cueSheet(L, !!p.cdText);
  await dev.exec(Buffer.from([mmc.OP.SEND_CUE_SHEET, 0, 0, 0, 0, 0, (cue.length >> 16) & 0xff, (cue.length >> 8) & 0xff, cue.length & 0xff, 0]), 'out', cue);
  if (p.cdText) {
    // The lead-in's R–W: the CD-TEXT packs, four a sector, over and over (96 bytes a sector).
    const rw = new Uint8Array(96);
    for (let lba = LEAD_IN_START; lba < -LEAD_PREGAP; lba += chunk * 4) {
      const n = Math.min(chunk * 4, -LEAD_PREGAP - lba);
      const buf = Buffer.alloc(n * 96);
      for (let i = 0; i < n; i++) {
        leadInRw(rw, p.cdText, lba - LEAD_IN_START + i);
        buf.set(rw, i * 96);
      }
      await send(lba, n, buf);
    }
  }
  // Track 1's pause (LBA -150..-1) in track 1's data form.
  await send(-LEAD_PREGAP, LEAD_PREGAP, Buffer.alloc(LEAD_PREGAP * (first.mode === 'audio' ? 2352 : 2048)));
  const sink = new SectorSink(async (lba, sectors) => {
    const n = sectors.length / 2352;
    let i = 0;
    while (i < n) {
      const at = lba + i;
      const t = trackOf(L, at);
      const end = L.tracks[L.tracks.indexOf(t) + 1]?.pregap ?? L.leadOut;
      const k = Math.min(chunk, n - i, end - at);
      const data = sectors.subarray(i * 2352, (i + k) * 2352);
      await send(at, k, t.mode === 'audio' ? data : userData(data, k));
      i += k;
    }
  }, signal);
  await p.write(sink);
  await sink.finish();
  await flush(dev);
}

async function writeRaw(dev: MmcDevice, p: CdProgram, chunk: number, send: Send, modeSelect: ModeSelect, signal?: AbortSignal): Promise<void> {
  const L = p.layout;
  const first = L.tracks[0];
  const last = L.tracks[L.tracks.length - 1];
  await modeSelect(cdWriteParametersPage({ writeType: 3, trackMode: controlOf(first), dataBlockType: 3, multiSession: 0, bufe: true }));
  const gen = new SubcodeGenerator({ ...L, sectorSize: 2448 });
  const q = new Uint8Array(12);
  const rw = new Uint8Array(96);
  const empty = (lba: number, data: boolean, out: Buffer, off: number) => {
    if (!data) return out.fill(0, off, off + 2352);
    encodeMode1(out.subarray(off, off + 2352), lba, Buffer.alloc(2048));
    scramble(out, off);
  };
  // Lead-in: the TOC in Q, CD-TEXT in R–W, empty main data of the first track's kind.
  for (let lba = LEAD_IN_START; lba < -LEAD_PREGAP; lba += chunk) {
    const n = Math.min(chunk, -LEAD_PREGAP - lba);
    const buf = Buffer.alloc(n * 2448);
    for (let i = 0; i < n; i++) {
      const k = lba - LEAD_IN_START + i;
      empty(lba + i, first.flags.data, buf, i * 2448);
      leadInQ(q, L, k);
      leadInRw(rw, p.cdText, k);
      interleave(buf, i * 2448 + 2352, false, q, rw);
    }
    await send(lba, n, buf);
  }
  // Track 1's pause.
  {
    const buf = Buffer.alloc(LEAD_PREGAP * 2448);
    for (let i = 0; i < LEAD_PREGAP; i++) {
      empty(-LEAD_PREGAP + i, first.flags.data, buf, i * 2448);
      gen.write(buf, i * 2448 + 2352, -LEAD_PREGAP + i);
    }
    await send(-LEAD_PREGAP, LEAD_PREGAP, buf);
  }
  const sink = new SectorSink(async (lba, sectors) => {
    const n = sectors.length / 2352;
    for (let i = 0; i < n; i += chunk) {
      const k = Math.min(chunk, n - i);
      const buf = Buffer.alloc(k * 2448);
      for (let j = 0; j < k; j++) {
        const at = lba + i + j;
        sectors.copy(buf, j * 2448, (i + j) * 2352, (i + j + 1) * 2352);
        if (trackOf(L, at).flags.data) scramble(buf, j * 2448);
        gen.write(buf, j * 2448 + 2352, at);
      }
      await send(lba + i, k, buf);
    }
  }, signal);
  await p.write(sink);
  await sink.finish();
  // Lead-out.
  for (let lba = L.leadOut; lba < L.leadOut + RAW_LEAD_OUT; lba += chunk) {
    const n = Math.min(chunk, L.leadOut + RAW_LEAD_OUT - lba);
    const buf = Buffer.alloc(n * 2448);
    for (let i = 0; i < n; i++) {
      empty(lba + i, last.flags.data, buf, i * 2448);
      gen.write(buf, i * 2448 + 2352, lba + i);
    }
    await send(lba, n, buf);
  }
  await flush(dev);
}

/** Reads the disc back and compares it with the program: TOC, CD-TEXT, and every sector (READ CD). */
export async function verifyCd(dev: MmcDevice, p: CdProgram, mode: CdWriteMode, chunk: number, onSectors?: (done: number) => void): Promise<void> {
  const L = p.layout;
  const toc = mmc.decodeToc(await dev.exec(mmc.readToc(0, 0, 804), 'in', 804));
  const tracks = toc.entries.filter((e) => e.track !== 0xaa);
  if (tracks.length !== L.tracks.length) throw new CdBurnError(`verify: the disc has ${tracks.length} tracks, the program ${L.tracks.length}`);
  for (const t of L.tracks) {
    const e = tracks.find((x) => x.track === t.number);
    if (!e || e.start !== t.indexes[0]) throw new CdBurnError(`verify: track ${t.number} starts at ${e?.start} on the disc, ${t.indexes[0]} in the program`);
    if (((e.control ?? 0) & 0x4) !== (t.flags.data ? 4 : 0)) throw new CdBurnError(`verify: track ${t.number}'s type (control ${e.control}) differs`);
  }
  const leadOut = toc.entries.find((x) => x.track === 0xaa);
  if (leadOut?.start !== L.leadOut) throw new CdBurnError(`verify: the lead-out is at ${leadOut?.start}, the program ends at ${L.leadOut}`);
  if (p.cdText && mode !== 'tao') {
    const cdb = mmc.readToc(0, 0, 4 + p.cdText.length);
    cdb[2] = 0x05; // format 0101b: CD-TEXT
    const r = await dev.exec(cdb, 'in', 4 + p.cdText.length);
    const got = r.subarray(4);
    const a = parsePacks(got);
    const b = parsePacks(p.cdText);
    if (a.badCrc || JSON.stringify(a.fields) !== JSON.stringify(b.fields)) throw new CdBurnError('verify: the CD-TEXT on the disc differs from the program');
  }
  let verified = 0;
  const sink = new SectorSink(async (lba, sectors) => {
    const n = sectors.length / 2352;
    for (let i = 0; i < n; ) {
      const at = lba + i;
      const t = trackOf(L, at);
      const end = L.tracks[L.tracks.indexOf(t) + 1]?.pregap ?? L.leadOut;
      const k = Math.min(chunk, n - i, end - at);
      const audio = t.mode === 'audio';
      const got = await dev.exec(readCd(at, k, audio ? 1 : 2, audio ? 0x10 : 0xf8, 0), 'in', k * 2352, TIMEOUT.write);
      const want = sectors.subarray(i * 2352, (i + k) * 2352);
      if (!got.equals(want)) {
        let s = 0;
        while (s < k && got.subarray(s * 2352, (s + 1) * 2352).equals(want.subarray(s * 2352, (s + 1) * 2352))) s++;
        const g = got.subarray(s * 2352, (s + 1) * 2352);
        const w = want.subarray(s * 2352, (s + 1) * 2352);
        let b = 0;
        while (b < 2352 && g[b] === w[b]) b++;
        throw new CdBurnError(`verify: sector ${at + s} (track ${t.number}) differs from the program at byte ${b}${audio ? ` (sample ${Math.floor(b / 4)})` : ''}`);
      }
      i += k;
      verified += k;
      onSectors?.(verified);
    }
  });
  await p.write(sink);
  await sink.finish();
}
