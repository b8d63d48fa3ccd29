/**
 * The burn engine: validating media → formatting → initializing hardware → calibrating power → writing data →
 * finalizing → verifying → completed, per media family, over any ScsiTransport. Also erase (BLANK), format
 * (FORMAT UNIT) and eject (START STOP UNIT).
 *
 * Families (MMC-6 clause 4 "Multi-Media Device Models"):
 * - CD-R/RW: track at once (page 05h write type 1, data block type 8 = Mode 1), one data track per session;
 *   the Multi-session field says whether a next session is allowed, CLOSE TRACK/SESSION closes (or finalizes).
 *   Or session at once (write type 2, MMC-6 4.3 "CD Model", SEND CUE SHEET): a cue sheet with the lead-in, track 1
 *   (Mode 1) with its 2-second pregap at index 0 from 00:00:00 and index 1 at 00:02:00, and the lead-out; the host
 *   writes from LBA -150 (the pregap) through the track's last block, and SYNCHRONIZE CACHE makes the drive write
 *   the lead-out and close the disc. Used for closed single-session data CDs (cdrecord -dao, IMAPI's
 *   IDiscFormat2Data on a closed disc), or when asked (--mode sao).
 * - DVD-R/RW sequential: incremental recording (write type 0), closing the session writes the border (or the
 *   lead-out when no next session is allowed). Or disc at once (write type 2): RESERVE TRACK with the image's
 *   size first (mandatory), one track written from block 0 to the last reserved block, SYNCHRONIZE CACHE writes
 *   the lead-out; the disc is closed (no later session). Used for closed single-session DVD-R/RW, or --mode dao.
 * - DVD+R, DVD+R DL, BD-R (SRM): sequential; RESERVE TRACK for the image where the drive allows (optional),
 *   CLOSE SESSION (close function 010b) keeps the disc appendable, 110b finalizes.
 * - DVD+RW, DVD-RAM, BD-RE, DVD-RW restricted overwrite: random writes from block 0; FORMAT UNIT first when the
 *   disc is unformatted. --append grows the ISO 9660 volume in place as growisofs -M does ("appends new data as
 *   it was added to a multisession media and then copies the new volume descriptor(s) to the beginning of media
 *   thus effectively updating the root catalog reference", growisofs.c, dvd+rw-tools): the new tree is written
 *   after the existing volume (rounded up to the medium's write unit: 16 blocks on DVD, 32 on BD, and past block
 *   256), the old files stay where they are, and the new session's volume descriptors — with the UDF volume
 *   recognition sequence after them — are copied over blocks 16… once it is on the disc, and its UDF anchor over
 *   block 256 (a UDF bridge or a UDF-only volume grows as UDF too; see ./multisession.ts).
 * Optional commands that a drive refuses (SET STREAMING, SET CD SPEED, SEND OPC INFORMATION, RESERVE TRACK,
 * READ BUFFER CAPACITY, MODE SELECT on DVD+R/BD) never fail a burn: the standard lets a host go without them.
 */
import { CancelledError, InputError } from '../util/errors';
import { delay, MmcDevice, ScsiError, SK, TIMEOUT } from './device';
import { describeMedia, driveInfo, readMediaState, type MediaState } from './media';
import * as mmc from './mmc';
import { DriveSink, SECTOR, VerifyFailure, VerifySink, WriteFailure } from './sinks';
import type { BurnSource, GrowInfo } from './source';
import { isAnchor } from './multisession';
import { tagChecksum } from '../udf/encode';

export type BurnPhase =
  | 'validating-media' | 'formatting' | 'initializing-hardware' | 'calibrating-power' | 'writing' | 'finalizing'
  | 'verifying' | 'completed';

export const PHASE_TEXT: Record<BurnPhase, string> = {
  'validating-media': 'validating media',
  formatting: 'formatting',
  'initializing-hardware': 'initializing hardware',
  'calibrating-power': 'calibrating power',
  writing: 'writing data',
  finalizing: 'finalizing',
  verifying: 'verifying',
  completed: 'completed',
};

export interface BurnProgress {
  drive: string;
  phase: BurnPhase;
  sectorsDone: number;
  sectorsTotal: number;
  /** Current speed in kB/s (1000 bytes) and as a multiple of the medium's 1×; undefined outside data phases. */
  speedKBps?: number;
  speedX?: number;
  /** Drive buffer fill 0..1 (READ BUFFER CAPACITY), when the drive reports it. */
  bufferFill?: number;
  elapsedMs: number;
  etaMs?: number;
}

export type VerifyLevel = 'none' | 'quick' | 'full';

export interface BurnOptions {
  verify: VerifyLevel;
  /** Write speed as a multiple of 1× (e.g. 8), or undefined for the highest. */
  speedX?: number;
  /** Force the media to be closed (finalized): no later session. */
  close: boolean;
  /** Add a session to an appendable disc (multisession). */
  append: boolean;
  /** Overwrite a rewritable disc that holds data (blanking CD-RW / DVD-RW first). */
  force: boolean;
  eject: boolean;
  signal?: AbortSignal;
  onProgress?: (p: BurnProgress) => void;
  /** Bytes per WRITE command; default: the transport's maximum, at most 1 MiB, in whole write units. */
  chunkBytes?: number;
  /**
   * How to record on media that offer a choice: 'tao' (CD track at once, DVD-R/RW incremental) or 'sao' / 'dao'
   * (CD session at once with a cue sheet, DVD-R/RW disc at once with a reserved track; both close the disc).
   * Undefined: session / disc at once for a closed (`close`), single-session burn on a blank CD-R/RW or DVD-R/RW,
   * else track at once / incremental.
   */
  mode?: 'tao' | 'sao' | 'dao';
}

/** Where the image goes and what is on the disc before: given to the source maker (multisession needs it). */
export interface BurnTarget {
  media: MediaState;
  startLba: number;
  /** The drive (an appended session reads the previous one through it). */
  dev: MmcDevice;
  /** Notes for the result (what an appended session kept, added, replaced). */
  notes: string[];
}

export interface BurnResult {
  drive: string;
  before: MediaState;
  after?: MediaState;
  startLba: number;
  blocks: number;
  verified: VerifyLevel;
  writeMBps: number;
  verifyMBps?: number;
  elapsedMs: number;
  /** How the data was recorded (e.g. "session at once", "grown in place"). */
  writeMode: string;
  /** Things that went differently from the plan but did not fail the burn (refused optional commands, …). */
  notes: string[];
  summary: string;
}

/** A burn, erase or format failed; `discState` says what the disc holds now. */
export class BurnError extends Error {
  constructor(message: string, readonly discState?: string, readonly lba?: number) {
    super(discState ? `${message}\n${discState}` : message);
    this.name = 'BurnError';
  }
}

function unitOf(family: mmc.Family | undefined): number {
  return family === 'bd' ? 32 : family === 'dvd' ? 16 : 1;
}

/** Red Book / Yellow Book: a track lasts at least 4 seconds (300 sectors); a shorter data track is padded. */
const MIN_CD_TRACK = 300;
/** Track 1's pregap (index 0) of a session-at-once CD: 2 seconds, LBA -150 … -1. */
const CD_PREGAP = 150;

/** The cue sheet of a data CD written session at once: lead-in, track 1 (Mode 1) index 0 and 1, lead-out. */
function dataCueSheet(trackBlocks: number): Buffer {
  const entry = (ctlAdr: number, tno: number, index: number, dataForm: number, lba: number) => {
    const b = Buffer.alloc(8);
    const f = lba + CD_PREGAP;
    b[0] = ctlAdr;
    b[1] = tno === 0xaa ? 0xaa : ((Math.floor(tno / 10) << 4) | (tno % 10));
    b[2] = index;
    b[3] = dataForm;
    b[5] = Math.floor(f / 4500);
    b[6] = Math.floor(f / 75) % 60;
    b[7] = f % 75;
    return b;
  };
  // MMC-6 "SEND CUE SHEET": CTL 4 (data track), ADR 1; data forms 14h (Mode 1 lead-in/lead-out, generated by the
  // drive) and 10h (Mode 1, 2048 bytes of user data a sector from the host).
  return Buffer.concat([
    entry(0x41, 0, 0, 0x14, -CD_PREGAP),
    entry(0x41, 1, 0, 0x10, -CD_PREGAP),
    entry(0x41, 1, 1, 0x10, 0),
    entry(0x41, 0xaa, 1, 0x14, trackBlocks),
  ]);
}

class Reporter {
  private readonly started = Date.now();
  private phaseStart = Date.now();
  private window: { t: number; done: number }[] = [];
  phase: BurnPhase = 'validating-media';
  done = 0;
  total = 0;
  bufferFill?: number;
  private last = 0;

  oneX = 1385;

  constructor(private readonly drive: string, private readonly cb?: (p: BurnProgress) => void) {}

  set(phase: BurnPhase, done = 0, total = 0): void {
    this.phase = phase;
    this.done = done;
    this.total = total;
    this.phaseStart = Date.now();
    this.window = [{ t: Date.now(), done }];
    this.bufferFill = undefined;
    this.emit(true);
  }

  update(done: number): void {
    this.done = done;
    const now = Date.now();
    this.window.push({ t: now, done });
    while (this.window.length > 2 && now - this.window[0].t > 2000) this.window.shift();
    this.emit(false);
  }

  get elapsed(): number {
    return Date.now() - this.started;
  }

  phaseBytesPerMs(): number {
    const ms = Date.now() - this.phaseStart;
    return ms > 0 ? (this.done * SECTOR) / ms : 0;
  }

  emit(force: boolean): void {
    if (!this.cb) return;
    const now = Date.now();
    if (!force && now - this.last < 200 && this.done !== this.total) return;
    this.last = now;
    const p: BurnProgress = { drive: this.drive, phase: this.phase, sectorsDone: this.done, sectorsTotal: this.total, elapsedMs: now - this.started };
    if (this.phase === 'writing' || this.phase === 'verifying') {
      const a = this.window[0];
      const dt = now - a.t;
      if (dt > 0) {
        const kBps = ((this.done - a.done) * SECTOR) / dt; // bytes/ms = kB/s
        p.speedKBps = Math.round(kBps);
        p.speedX = Math.round((kBps / this.oneX) * 10) / 10;
        if (kBps > 0) p.etaMs = Math.round(((this.total - this.done) * SECTOR) / kBps);
      }
      if (this.bufferFill !== undefined) p.bufferFill = Math.round(this.bufferFill * 1000) / 1000;
    }
    this.cb(p);
  }
}

/**
 * Burns a source to the disc in `dev`. `makeSource` is called once the target address is known (a new
 * session's image is planned at the disc's next writable address); verification streams the same source again.
 */
export async function burn(dev: MmcDevice, opts: BurnOptions, makeSource: (t: BurnTarget) => Promise<BurnSource> | BurnSource): Promise<BurnResult> {
  const notes: string[] = [];
  const rep = new Reporter(dev.name, opts.onProgress);
  rep.set('validating-media');
  const drive = await driveInfo(dev);
  const before = await readMediaState(dev);
  if (before.family) rep.oneX = mmc.ONE_X_KBPS[before.family];
  checkCancel(opts.signal, 'nothing was written', before);

  // ---- validating media ----
  const m = before;
  if (m.status === 'no-media') throw new BurnError(`${dev.name}: no disc in the drive`);
  if (m.kind === 'rom') throw new BurnError(`${dev.name}: the disc is a ${m.physicalType}: it cannot be written`);
  if (m.status === 'unsupported' || !m.kind) throw new BurnError(`${dev.name}: the disc (${m.profileName}) is not supported for writing`);
  if (m.writeProtected) throw new BurnError(`${dev.name}: the disc is write-protected`);
  const sequential = m.kind === 'sequential';
  const dvdMinus = m.profile === mmc.PROFILE.DVD_R_SEQ || m.profile === mmc.PROFILE.DVD_RW_SEQ || m.profile === mmc.PROFILE.DVD_R_DL_SEQ;
  const cdMedia = m.family === 'cd';
  if (opts.mode && !(sequential && (cdMedia || dvdMinus))) {
    throw new InputError(`${dev.name}: --mode ${opts.mode} applies to CD-R/RW (tao: track at once, sao: session at once) and DVD-R/RW (tao: incremental, dao: disc at once); a ${m.physicalType} is written ${m.kind === 'overwrite' ? 'by random writes' : 'sequentially'}, without a choice`);
  }
  const atOnceName = cdMedia ? 'session at once' : 'disc at once';
  let needBlank = false;
  let needFormat = false;
  let startLba = 0;
  /** Overwritable media with --append: the volume grows in place. */
  let grow = false;
  if (sequential) {
    if (m.status === 'finalized') {
      if (m.erasable && opts.force && !opts.append) needBlank = true;
      else throw new BurnError(`${dev.name}: the disc is finalized (closed): nothing more can be written to it${m.erasable ? ' (erase it first, or use --force to blank it)' : ''}`);
    } else if (m.status === 'appendable') {
      if (opts.append) startLba = m.nextWritableAddress ?? 0;
      else if (m.erasable && opts.force) needBlank = true;
      else throw new BurnError(`${dev.name}: the disc already holds ${describeSessions(m)}: --append adds a session${m.erasable ? ', --force blanks it first' : ''}, or use a blank disc`);
    } else if (m.status === 'blank') {
      if (opts.append) notes.push('the disc is blank: --append writes the first session');
      startLba = m.nextWritableAddress ?? 0;
    }
  } else {
    if (!m.formatted) needFormat = true;
    if (opts.append && m.hasFileSystem) {
      // Growing in place: the new session starts after the existing volume, on a write-unit boundary.
      grow = true;
      const unit = unitOf(m.family);
      // Past block 256 too: UDF's anchor is copied there once the session is written, so the session must not
      // use it (only a volume smaller than 257 blocks ends before it).
      startLba = Math.ceil(Math.max(m.volume?.blocks ?? 0, 257) / unit) * unit;
    } else if (opts.append) {
      // Nothing to grow: but data that is neither an ISO 9660 nor a UDF volume (another file system) is not
      // overwritten without --force.
      const first = m.formatted && !opts.force ? await dev.read(0, 32).catch(() => undefined) : undefined;
      if (first?.some((x) => x !== 0)) {
        throw new BurnError(`${dev.name}: the ${m.physicalType} holds data that is neither an ISO 9660 nor a UDF volume (another file system): --append can only grow those; --force overwrites the disc`);
      }
      notes.push(`the ${m.physicalType} holds no ISO 9660 file system: --append writes the first one`);
    }
    if (m.hasFileSystem && !opts.force && !opts.append) {
      throw new BurnError(`${dev.name}: the ${m.physicalType} holds a file system: --force overwrites it, --append adds to it (or erase it first)`);
    }
  }
  // Session / disc at once: asked for, or the default for a closed single-session burn on a blank CD-R/RW, DVD-R/RW.
  let atOnce = false;
  if (sequential && (cdMedia || dvdMinus)) {
    const blankNow = m.status === 'blank' || needBlank;
    if (opts.mode === 'sao' || opts.mode === 'dao') {
      if (!blankNow) throw new BurnError(`${dev.name}: ${atOnceName} writes the whole disc in one go: the disc must be blank, and it holds ${describeSessions(m)}${m.erasable ? ' (--force blanks it first)' : ''}; --mode tao adds a session`);
      atOnce = true;
      if (!opts.close) notes.push(`${atOnceName} closes the disc: no session can be added later`);
    } else if (opts.mode === undefined) atOnce = opts.close && !opts.append && blankNow;
  }
  const close = opts.close || atOnce;
  const source = await makeSource({ media: m, startLba, dev, notes });
  const total = source.blocks;
  if (grow && !source.grow) throw new InputError(`${source.name}: growing a volume in place needs a manifest (its tree is merged with the disc's)`);
  const free = needBlank ? m.totalSectors : needFormat ? m.totalSectors : grow ? m.totalSectors - startLba : m.freeSectors;
  if (total > free) {
    throw new BurnError(`${dev.name}: the image needs ${total} blocks (${fmtMB(total)}) but the disc has ${free} free (${fmtMB(free)}): ${total - free} blocks too many`);
  }
  checkCancel(opts.signal, 'nothing was written', m);

  // ---- formatting (FORMAT UNIT on unformatted overwritable media; BLANK on a CD-RW / DVD-RW to overwrite) ----
  if (needFormat || needBlank) {
    rep.set('formatting', 0, 1);
    if (needFormat) await formatDisc(dev, m, false, (f) => rep.update(Math.round(f * 100) / 100));
    else await blankDisc(dev, m, false, () => undefined);
    rep.update(1);
  }

  await dev.exec(mmc.preventAllowMediumRemoval(true)).catch(() => notes.push('the drive does not lock the tray (PREVENT ALLOW MEDIUM REMOVAL refused)'));
  let wroteAnything = false;
  let trackNumber = 0;
  let descriptorsRewritten = false;
  let writeMode = sequential ? (cdMedia ? 'track at once' : dvdMinus ? 'incremental' : 'sequential') : grow ? 'grown in place' : 'random write';
  try {
    // ---- initializing hardware: write parameters, speed, track reservation ----
    rep.set('initializing-hardware');
    const profile = (await dev.configuration(1, 0)).currentProfile;
    const family = m.family!;
    if (sequential) {
      const cd = family === 'cd';
      const dvdMinus = profile === mmc.PROFILE.DVD_R_SEQ || profile === mmc.PROFILE.DVD_RW_SEQ || profile === mmc.PROFILE.DVD_R_DL_SEQ;
      const params: mmc.WriteParameters = {
        bufe: drive.burnProof,
        testWrite: false,
        // CD: track at once (1) or session at once (2); DVD-R/RW: incremental (0) or disc at once (2).
        writeType: atOnce ? 2 : cd ? 1 : 0,
        multiSession: close ? 0 : 3,
        fixedPacket: false,
        trackMode: cd ? 4 : 5,
        dataBlockType: 8,
        linkSize: 0,
        sessionFormat: 0,
        packetSize: 0,
      };
      const page = mmc.encodeWriteParametersPage(params);
      try {
        await dev.exec(mmc.modeSelect10(8 + page.length), 'out', mmc.modeParameterList(page));
      } catch (e) {
        // DVD+R and BD-R do not use the write parameters page; CD and DVD-R/RW need it.
        if (cd || dvdMinus || !(e instanceof ScsiError)) throw e;
        notes.push('the drive refused the write parameters page (not needed for this medium)');
      }
    }
    await setSpeed(dev, family, m, opts.speedX, notes);
    // Back to track at once / incremental when the drive refuses what session / disc at once needs (only when
    // the mode was not asked for).
    const fallBack = async (why: string) => {
      if (opts.mode) throw new BurnError(`${dev.name}: ${why}, which ${atOnceName} recording needs`);
      atOnce = false;
      notes.push(`${why}: writing ${cdMedia ? 'track at once' : 'incrementally'} instead (the disc is closed all the same)`);
      const page = mmc.encodeWriteParametersPage({ bufe: drive.burnProof, testWrite: false, writeType: cdMedia ? 1 : 0, multiSession: 0, fixedPacket: false, trackMode: cdMedia ? 4 : 5, dataBlockType: 8, linkSize: 0, sessionFormat: 0, packetSize: 0 });
      await dev.exec(mmc.modeSelect10(8 + page.length), 'out', mmc.modeParameterList(page));
    };
    let trackBlocks = total;
    if (atOnce && cdMedia) {
      // SEND CUE SHEET: one Mode 1 track, padded to the 4-second minimum.
      trackBlocks = Math.max(total, MIN_CD_TRACK);
      const cue = dataCueSheet(trackBlocks);
      const r = await dev.optional(mmc.sendCueSheet(cue.length), 'out', cue);
      if (!r) await fallBack('the drive refused SEND CUE SHEET');
    }
    // RESERVE TRACK where the medium has it: the image gets a track of exactly its size (DVD+R, BD-R, DVD-R);
    // disc at once cannot go without it.
    if (sequential && family !== 'cd') {
      const r = await dev.optional(mmc.reserveTrack(total));
      if (!r && atOnce) await fallBack('the drive refused RESERVE TRACK');
      if (!r && !atOnce) notes.push('the drive refused RESERVE TRACK: writing into the open (invisible) track instead');
    }
    if (atOnce) writeMode = atOnceName;
    if (sequential && !(atOnce && cdMedia)) {
      const ti = await dev.trackInformation(1, 0xff).catch(async () => {
        const di = await dev.discInformation();
        return dev.trackInformation(1, di.lastTrackInLastSession);
      });
      // After a reservation the reserved track comes first; find the track whose NWA is ours.
      trackNumber = ti.track;
      const di = await dev.discInformation();
      for (let t = di.firstTrackInLastSession; t <= di.lastTrackInLastSession; t++) {
        const info = await dev.trackInformation(1, t);
        if (info.nwaValid && info.nextWritable === startLba) {
          trackNumber = info.track;
          break;
        }
      }
      const info = await dev.trackInformation(1, trackNumber);
      const nwa = info.nextWritable;
      if (nwa !== startLba) throw new BurnError(`${dev.name}: the drive's next writable address is ${nwa}, the image was planned for ${startLba}`);
      // Disc at once: the reserved size is rounded up to whole ECC blocks, and every reserved block is written.
      if (atOnce) trackBlocks = info.size;
    }
    const padBlocks = trackBlocks - total;

    // ---- calibrating power (SEND OPC INFORMATION, optional) ----
    rep.set('calibrating-power');
    const opc = await dev.optional(mmc.sendOpcInformation(), 'none', 0, TIMEOUT.long);
    if (!opc) notes.push('the drive does not calibrate on request (SEND OPC INFORMATION refused): it calibrates by itself');

    // ---- writing data ----
    checkCancel(opts.signal, 'nothing was written', m);
    rep.set('writing', 0, total);
    const unit = unitOf(family) * SECTOR;
    const chunk = opts.chunkBytes ?? Math.max(unit, Math.floor(Math.min(dev.transport.maxTransferBytes, 1024 * 1024) / unit) * unit);
    let lastPoll = 0;
    let bufferReported = true;
    const sink = new DriveSink(dev, {
      startLba,
      chunkBytes: chunk,
      signal: opts.signal,
      onChunk: async (done) => {
        wroteAnything = true;
        rep.update(Math.min(total, done / SECTOR));
        const now = Date.now();
        if (bufferReported && now - lastPoll > 500) {
          lastPoll = now;
          const b = await dev.bufferCapacity();
          if (b && b.length > 0) rep.bufferFill = (b.length - b.available) / b.length;
          else bufferReported = false;
        }
      },
    });
    const writeStart = Date.now();
    if (atOnce && cdMedia) {
      // Track 1's pregap (index 0, LBA -150 … -1): empty Mode 1 sectors, where the cue sheet starts.
      for (let lba = -CD_PREGAP; lba < 0;) {
        const n = Math.min(chunk / SECTOR, -lba);
        await dev.write(lba, Buffer.alloc(n * SECTOR));
        wroteAnything = true;
        lba += n;
      }
    }
    await source.write(sink);
    if (padBlocks > 0) sink.zeros(padBlocks * SECTOR); // up to the track's end (cue sheet / reservation)
    await sink.finish();
    if (sink.done / SECTOR !== total + padBlocks) throw new Error(`internal: wrote ${sink.done / SECTOR} blocks, planned ${total + padBlocks}`);
    const writeMs = Date.now() - writeStart;
    rep.update(total);

    // ---- finalizing: SYNCHRONIZE CACHE (Immed, polling 04/08), CLOSE TRACK, CLOSE SESSION / finalize ----
    rep.set('finalizing', 0, 1);
    await flush(dev);
    if (atOnce) {
      // Session / disc at once: SYNCHRONIZE CACHE after the last block made the drive write the lead-out.
      const di = await dev.discInformation();
      if (di.discStatus !== 2) throw new BurnError(`${dev.name}: the drive did not close the disc after the ${atOnceName} recording (disc status ${di.discStatus})`);
    } else if (sequential) await closeSession(dev, profile, trackNumber, close);
    let descriptors: { lba: number; data: Buffer }[] | undefined;
    if (grow && source.grow) {
      // The new session is on the disc: now its volume descriptors replace those at block 16 (growisofs -M).
      descriptors = await rewriteDescriptors(dev, startLba, source.grow, notes);
      descriptorsRewritten = true;
      await flush(dev);
    }
    rep.update(1);

    // ---- verifying ----
    let verifyMBps: number | undefined;
    if (opts.verify !== 'none') {
      // The same planned image streams again (same timestamps, same layout); the sources are checked again.
      const vsource = source;
      rep.set('verifying', 0, total);
      const vstart = Date.now();
      const vsink = new VerifySink(dev, { startLba, chunkBytes: chunk, signal: opts.signal, onChunk: (done) => rep.update(done / SECTOR) },
        opts.verify === 'quick' ? vsource.quickRanges() : undefined);
      await vsource.write(vsink);
      await vsink.finish();
      for (const d of descriptors ?? []) {
        const got = await dev.read(d.lba, d.data.length / SECTOR);
        if (!got.equals(d.data)) {
          let i = 0;
          while (got[i] === d.data[i]) i++;
          const bad = d.lba + Math.floor(i / SECTOR);
          throw new VerifyFailure(`verification failed: the ${d.lba === 256 ? 'UDF anchor copied to block 256' : 'volume descriptors copied to block 16'} differ at block ${bad}`, bad);
        }
      }
      const vms = Date.now() - vstart;
      verifyMBps = vms > 0 ? vsink.bytesRead / 1e6 / (vms / 1000) : undefined;
      rep.update(total);
    }
    await dev.exec(mmc.preventAllowMediumRemoval(false)).catch(() => undefined);
    const after = await readMediaState(dev).catch(() => undefined);
    if (opts.eject) await ejectDisc(dev);
    rep.set('completed', total, total);
    const writeMBps = writeMs > 0 ? (total * SECTOR) / 1e6 / (writeMs / 1000) : 0;
    return {
      drive: dev.name,
      before,
      after,
      startLba,
      blocks: total,
      verified: opts.verify,
      writeMBps,
      verifyMBps,
      elapsedMs: rep.elapsed,
      writeMode,
      notes,
      summary: `${dev.name}: wrote ${total} blocks (${fmtMB(total)}) at block ${startLba} (${writeMode}) in ${(rep.elapsed / 1000).toFixed(1)} s` +
        ` (write ${writeMBps.toFixed(0)} MB/s)` +
        `${opts.verify !== 'none' ? `, verified (${opts.verify}${verifyMBps !== undefined ? `, read back ${verifyMBps.toFixed(0)} MB/s` : ''})` : ''}; the disc is now ${after ? describeMedia(after) : 'unknown'}`,
    };
  } catch (err) {
    const state = await recover(dev, sequential, wroteAnything, trackNumber, err, { atOnce: atOnce ? atOnceName : undefined, grow: grow ? { startLba, descriptorsRewritten } : undefined });
    if (err instanceof CancelledError) throw new CancelledError(`${dev.name}: the burn was cancelled. ${state}`);
    if (err instanceof InputError) throw new InputError(`${err.message}\n${dev.name}: ${state}`, err.diagnostics);
    if (err instanceof WriteFailure) throw new BurnError(`${dev.name}: ${err.message}`, state, err.lba);
    if (err instanceof VerifyFailure) throw new BurnError(`${dev.name}: ${err.message}`, state, err.lba);
    if (err instanceof BurnError) throw new BurnError(err.message.split('\n')[0], state, err.lba);
    throw new BurnError(`${dev.name}: ${(err as Error).message}`, state);
  }
}

function checkCancel(signal: AbortSignal | undefined, what: string, m: MediaState): void {
  if (signal?.aborted) throw new CancelledError(`the burn was cancelled; ${what}: the disc is as it was (${describeMedia(m)})`);
}

function describeSessions(m: MediaState): string {
  const n = m.sessions.length;
  return `${n} session${n === 1 ? '' : 's'}`;
}

function fmtMB(blocks: number): string {
  return `${((blocks * SECTOR) / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * After a failure or cancellation: bring the disc to a defined state and say what it holds. Write-once media
 * keep what was written: the track and session are closed (not finalized) so the disc stays appendable.
 */
async function recover(dev: MmcDevice, sequential: boolean, wrote: boolean, track: number, err: unknown,
  how: { atOnce?: string; grow?: { startLba: number; descriptorsRewritten: boolean } } = {}): Promise<string> {
  try {
    const ready = await dev.testUnitReady();
    if (ready && ready.key === SK.NOT_READY && ready.asc === 0x3a) {
      return 'The disc was removed from the drive: it holds whatever was written up to then, in a session that was never closed.';
    }
    if (wrote) {
      await flush(dev).catch(() => undefined);
      if (sequential && !how.atOnce) {
        const profile = (await dev.configuration(1, 0)).currentProfile;
        await closeSession(dev, profile, track, false).catch(() => undefined);
      }
    }
    await dev.exec(mmc.preventAllowMediumRemoval(false)).catch(() => undefined);
    const m = await readMediaState(dev);
    if (how.grow && !how.grow.descriptorsRewritten && !(err instanceof VerifyFailure)) {
      return `The new session was ${wrote ? 'written only in part' : 'not written'}, after the existing volume (from block ${how.grow.startLba}); the volume descriptors at block 16 were not changed, so the disc still holds its previous file system, intact: it is ${describeMedia(m)}.`;
    }
    if (!wrote && !(err instanceof VerifyFailure)) return `Nothing was written: the disc is as it was (${describeMedia(m)}).`;
    if (err instanceof VerifyFailure) return `The data was written but does not read back correctly: the disc is now ${describeMedia(m)}.`;
    if (how.atOnce) {
      return `A ${how.atOnce} recording that stops before its end leaves the disc unusable${m.erasable ? ' until it is erased (discforge erase)' : ''}: it is ${describeMedia(m)}.`;
    }
    if (sequential) {
      const last = m.sessions[m.sessions.length - 1];
      return `The disc now holds an incomplete session${last ? ` (blocks ${last.start}–${last.lastRecorded})` : ''} whose file system is unusable, closed so that the disc stays usable: it is ${describeMedia(m)}${m.status === 'appendable' ? `, ${m.freeSectors} blocks free` : ''}.`;
    }
    return `Part of the new image was written over the disc: its old contents are damaged. Burn again (with --force) or erase it; it is ${describeMedia(m)}.`;
  } catch (e) {
    return `The disc's state could not be read afterwards (${(e as Error).message}).`;
  }
}

/**
 * Growing in place, the last step: the new session's volume descriptor set (read back from the disc at
 * startLba + 16, through its terminator) and the UDF volume recognition sequence that follows it are copied over
 * blocks 16…; blocks of the old set and sequence that the new ones do not cover are zeroed. With UDF in the new
 * session, its anchor volume descriptor pointer (startLba + 256) is copied to block 256 with its tag location
 * made 256 (ECMA-167 3/7.2.8: a reader checks it); it points at the new session's volume descriptor sequences,
 * whose partition runs up to the closing anchor in the new volume's last block. Without UDF in the new session an
 * old anchor at 256 is zeroed, so that no reader finds the old UDF tree. The anchor is written last: until then a
 * UDF reader still finds the previous volume, intact. Returns what was written where (for verification).
 */
async function rewriteDescriptors(dev: MmcDevice, startLba: number, g: GrowInfo, notes: string[]): Promise<{ lba: number; data: Buffer }[]> {
  const copied = g.newDescriptorBlocks + g.vrsBlocks;
  const vds = await dev.read(startLba + 16, copied);
  const idAt = (i: number) => vds.toString('latin1', i * SECTOR + 1, i * SECTOR + 6);
  const typeAt = (i: number) => (idAt(i) === 'CD001' ? vds[i * SECTOR] : -1);
  if (g.newDescriptorBlocks > 0 && (typeAt(0) !== 1 || typeAt(g.newDescriptorBlocks - 1) !== 255)) {
    throw new BurnError(`${dev.name}: the new session's volume descriptors at block ${startLba + 16} do not read back as a primary volume descriptor … terminator: the descriptors at block 16 were left as they were`);
  }
  if (g.vrsBlocks > 0) {
    const ids = Array.from({ length: g.vrsBlocks }, (_, i) => idAt(g.newDescriptorBlocks + i));
    if (ids[0] !== 'BEA01' || !/^NSR0[23]$/.test(ids[1] ?? '') || ids[ids.length - 1] !== 'TEA01') {
      throw new BurnError(`${dev.name}: the new session's UDF volume recognition sequence at block ${startLba + 16 + g.newDescriptorBlocks} reads back as ${ids.join(', ')}: the descriptors at block 16 were left as they were`);
    }
  }
  let anchor: Buffer | undefined;
  let udfNote = '';
  if (g.udf) {
    const a = await dev.read(startLba + 256, 1);
    if (!isAnchor(a, startLba + 256)) {
      throw new BurnError(`${dev.name}: the new session's UDF anchor at block ${startLba + 256} does not read back: the descriptors at block 16 were left as they were`);
    }
    // The partition (from the main volume descriptor sequence the anchor points at) must end where the closing
    // anchor, the grown volume's last block, begins.
    const mvds = a.readUInt32LE(20);
    const seq = await dev.read(mvds, Math.min(16, Math.max(1, Math.floor(a.readUInt32LE(16) / SECTOR))));
    let part: { start: number; length: number } | undefined;
    for (let i = 0; i * SECTOR < seq.length; i++) {
      if (seq.readUInt16LE(i * SECTOR) === 5) part = { start: seq.readUInt32LE(i * SECTOR + 188), length: seq.readUInt32LE(i * SECTOR + 192) };
    }
    const last = startLba + g.blocks - 1;
    const closing = await dev.read(last, 1);
    if (!part || part.start + part.length !== last || !isAnchor(closing, last)) {
      throw new BurnError(`${dev.name}: the new session's UDF volume does not end in its last block ${last} (partition ${part ? `${part.start}+${part.length}` : 'missing'}): the descriptors at block 16 were left as they were`);
    }
    anchor = Buffer.from(a);
    anchor.writeUInt32LE(256, 12);
    anchor[4] = tagChecksum(anchor, 0);
    udfNote = `UDF grew too: the anchor at block 256 is a copy of the new session's (block ${startLba + 256}), pointing at its volume descriptor sequences (blocks ${mvds} and ${a.readUInt32LE(28)}); the partition runs from block ${part.start} (the earliest kept file data) to ${last - 1}, the closing anchor is the volume's last block, ${last}`;
  }
  const out = Buffer.alloc(g.descriptorArea * SECTOR);
  vds.copy(out);
  await dev.write(16, out);
  const written: { lba: number; data: Buffer }[] = [{ lba: 16, data: out }];
  if (anchor) {
    await dev.write(256, anchor);
    written.push({ lba: 256, data: anchor });
  } else if (g.udfAnchor) {
    const zero = Buffer.alloc(SECTOR);
    await dev.write(256, zero);
    written.push({ lba: 256, data: zero });
    notes.push('the new session has no UDF (not among the manifest\'s file systems): the old UDF volume recognition sequence and anchor at block 256 were cleared, so every reader sees the grown ISO 9660 tree');
  }
  const what = g.vrsBlocks ? `${g.newDescriptorBlocks ? `${g.newDescriptorBlocks} ISO 9660 volume descriptors and ` : ''}the ${g.vrsBlocks}-block UDF volume recognition sequence` : `${g.newDescriptorBlocks} blocks`;
  notes.push(`the volume grew in place: the new tree is at blocks ${startLba}–${startLba + g.blocks - 1}, its volume descriptors were copied to block 16 (${what}${g.descriptorArea > copied ? `; ${g.descriptorArea - copied} old blocks cleared` : ''})`);
  if (udfNote) notes.push(udfNote);
  if (g.bootable.after) {
    const br = vds.subarray(SECTOR, 2 * SECTOR);
    notes.push(`still bootable: the El Torito boot record at block 17 points at the new session's boot catalog (block ${br.readUInt32LE(0x47)})`);
  } else if (g.bootable.before) {
    notes.push('the disc is no longer bootable: the manifest has no "boot" entries, so the descriptors copied to block 16 have no El Torito boot record (the old boot images stay on the disc, unreferenced)');
  }
  return written;
}

async function flush(dev: MmcDevice): Promise<void> {
  // SYNCHRONIZE CACHE with Immed, then TEST UNIT READY until the drive stops reporting 04/08 (long write in progress).
  try {
    await dev.exec(mmc.synchronizeCache(true), 'none', 0, TIMEOUT.long);
  } catch (e) {
    if (!(e instanceof ScsiError && e.unsupported)) throw e;
    await dev.exec(mmc.synchronizeCache(false), 'none', 0, TIMEOUT.long); // drives without Immed
  }
  await dev.waitReady('writing the drive buffer to the disc', TIMEOUT.long);
}

async function closeSession(dev: MmcDevice, profile: number, track: number, finalize: boolean): Promise<void> {
  const plus = profile === mmc.PROFILE.DVD_PLUS_R || profile === mmc.PROFILE.DVD_PLUS_R_DL || profile === mmc.PROFILE.BD_R_SRM;
  if (track > 0) {
    await dev.exec(mmc.closeTrackSession(1, track, true), 'none', 0, TIMEOUT.long);
    await dev.waitReady('closing the track', TIMEOUT.long);
  }
  // CD and DVD-R/RW: page 05h's Multi-session field decided whether this closes or finalizes. DVD+R, BD-R:
  // close function 110b finalizes the disc, 010b closes the session only.
  await dev.exec(mmc.closeTrackSession(plus && finalize ? 6 : 2, 0, true), 'none', 0, TIMEOUT.long);
  await dev.waitReady(finalize ? 'finalizing the disc' : 'closing the session', TIMEOUT.format);
}

async function setSpeed(dev: MmcDevice, family: mmc.Family, m: MediaState, speedX: number | undefined, notes: string[]): Promise<void> {
  const offered = m.writeSpeeds;
  let kBps = offered[0]?.kBps ?? 0xffff;
  if (speedX !== undefined) {
    const want = speedX * mmc.ONE_X_KBPS[family];
    // The highest offered speed not above the request (or the lowest offered).
    const fit = offered.filter((s) => s.kBps <= want + 1).sort((a, b) => b.kBps - a.kBps)[0] ?? offered[offered.length - 1];
    kBps = fit ? fit.kBps : Math.round(want);
    if (fit && Math.abs(fit.x - speedX) > 0.05) notes.push(`${speedX}× is not offered for this disc: writing at ${fit.x}×`);
  }
  // SET STREAMING (DVD, BD; MMC-6 Real Time Streaming feature) or SET CD SPEED.
  if (family !== 'cd') {
    const end = Math.max(0, m.totalSectors - 1);
    const r = await dev.optional(mmc.setStreaming(28), 'out', mmc.performanceDescriptor(end, kBps));
    if (r) return;
  }
  const r = await dev.optional(mmc.setCdSpeed(0xffff, speedX === undefined ? 0xffff : kBps));
  if (!r) notes.push('the drive does not take a speed (SET STREAMING / SET CD SPEED refused): it writes at its own speed');
}

// ------------------------------------------------------------------------------------------------
// Erase, format, eject

export interface LongOpOptions {
  full: boolean;
  onProgress?: (fraction: number) => void;
}

/** BLANK (CD-RW, DVD-RW sequential): quick (minimal) or full. */
async function blankDisc(dev: MmcDevice, m: MediaState, full: boolean, onProgress: (f: number) => void): Promise<void> {
  await dev.exec(mmc.blank(full ? 0 : 1, true), 'none', 0, TIMEOUT.long);
  await dev.waitReady(full ? 'blanking the disc' : 'quick-blanking the disc', TIMEOUT.format, (p) => onProgress(p.fraction ?? 0));
  void m;
}

/** FORMAT UNIT with the format type the drive offers for this medium (READ FORMAT CAPACITIES). */
async function formatDisc(dev: MmcDevice, m: MediaState, full: boolean, onProgress: (f: number) => void): Promise<void> {
  const caps = await dev.formatCapacities();
  const offered = caps?.formattable ?? [];
  const profile = m.profile;
  // Preferred format types per medium (MMC-6 "Format Types"): DVD+RW 26h, DVD-RW 10h (full) / 15h (quick),
  // DVD-RAM 00h, BD-RE 30h with full (10b) or quick (11b) certification, 31h without spare areas as a fallback.
  const prefs: { type: number; sub: number }[] =
    profile === mmc.PROFILE.DVD_PLUS_RW ? [{ type: 0x26, sub: 0 }]
      : profile === mmc.PROFILE.DVD_RW_SEQ || profile === mmc.PROFILE.DVD_RW_RO ? [{ type: full ? 0x10 : 0x15, sub: 0 }, { type: 0x10, sub: 0 }]
        : profile === mmc.PROFILE.BD_RE ? [{ type: 0x30, sub: full ? 2 : 3 }, { type: 0x00, sub: 0 }, { type: 0x31, sub: 0 }]
          : [{ type: 0x00, sub: 0 }];
  let pick = prefs.map((p) => ({ p, d: offered.find((d) => d.formatType === p.type) })).find((x) => x.d);
  if (!pick) {
    if (offered.length === 0 && profile !== mmc.PROFILE.DVD_RAM) throw new BurnError(`${dev.name}: the drive offers no format for this ${m.physicalType}`);
    pick = { p: prefs[0], d: offered[0] ?? { blocks: 0xffffffff, formatType: prefs[0].type, param: 0 } };
  }
  const d = pick.d!;
  const param = pick.p.type === 0x30 || pick.p.type === 0x00 && profile === mmc.PROFILE.BD_RE ? (d.param & 0xfffffc) | pick.p.sub : d.param;
  const params = mmc.formatUnitParams(d.blocks, d.formatType, param, true);
  if (pick.p.type === 0x30) params[8] = (0x30 << 2) | pick.p.sub; // format subtype in the low bits of byte 4
  await dev.exec(mmc.formatUnit(), 'out', params, TIMEOUT.long);
  await dev.waitReady('formatting the disc', TIMEOUT.format, (p) => onProgress(p.fraction ?? 0));
}

export async function eraseDisc(dev: MmcDevice, opts: LongOpOptions): Promise<string> {
  const m = await readMediaState(dev);
  if (m.status === 'no-media') throw new BurnError(`${dev.name}: no disc in the drive`);
  if (m.writeProtected) throw new BurnError(`${dev.name}: the disc is write-protected`);
  if (!m.erasable) throw new BurnError(`${dev.name}: a ${m.physicalType} cannot be erased (only rewritable discs: CD-RW, DVD-RW, DVD+RW, DVD-RAM, BD-RE)`);
  await dev.exec(mmc.preventAllowMediumRemoval(true)).catch(() => undefined);
  try {
    if (m.kind === 'sequential' || m.profile === mmc.PROFILE.DVD_RW_RO) {
      await blankDisc(dev, m, opts.full, opts.onProgress ?? (() => undefined));
    } else if (opts.full) {
      await formatDisc(dev, m, true, opts.onProgress ?? (() => undefined));
    } else {
      // Overwritable media have no BLANK: invalidate the file system's volume descriptors (the first 64 KiB after
      // the system area), as xorriso's blank does for DVD+RW and BD-RE.
      if (!m.formatted) return `${dev.name}: the ${m.physicalType} is unformatted: nothing to erase`;
      await dev.write(0, Buffer.alloc(32 * SECTOR), TIMEOUT.write);
      await flush(dev);
    }
  } finally {
    await dev.exec(mmc.preventAllowMediumRemoval(false)).catch(() => undefined);
  }
  const after = await readMediaState(dev);
  return `${dev.name}: erased (${opts.full ? 'full' : 'quick'}); the disc is now ${describeMedia(after)}`;
}

export async function formatMedia(dev: MmcDevice, opts: LongOpOptions): Promise<string> {
  const m = await readMediaState(dev);
  if (m.status === 'no-media') throw new BurnError(`${dev.name}: no disc in the drive`);
  if (m.writeProtected) throw new BurnError(`${dev.name}: the disc is write-protected`);
  const formattable = [mmc.PROFILE.DVD_PLUS_RW, mmc.PROFILE.DVD_RAM, mmc.PROFILE.BD_RE, mmc.PROFILE.DVD_RW_SEQ, mmc.PROFILE.DVD_RW_RO] as number[];
  if (!formattable.includes(m.profile)) throw new BurnError(`${dev.name}: a ${m.physicalType} cannot be formatted (DVD+RW, DVD-RW, DVD-RAM and BD-RE can)`);
  await dev.exec(mmc.preventAllowMediumRemoval(true)).catch(() => undefined);
  try {
    await formatDisc(dev, m, opts.full, opts.onProgress ?? (() => undefined));
  } finally {
    await dev.exec(mmc.preventAllowMediumRemoval(false)).catch(() => undefined);
  }
  const after = await readMediaState(dev);
  return `${dev.name}: formatted (${opts.full ? 'full' : 'quick'}); the disc is now ${describeMedia(after)}`;
}

export async function ejectDisc(dev: MmcDevice): Promise<void> {
  await dev.exec(mmc.preventAllowMediumRemoval(false)).catch(() => undefined);
  for (let i = 0; i < 3; i++) {
    try {
      await dev.exec(mmc.startStopUnit(true, false), 'none', 0, TIMEOUT.long);
      return;
    } catch (e) {
      if (e instanceof ScsiError && e.is(SK.NOT_READY, 0x04)) {
        await delay(200);
        continue;
      }
      throw e;
    }
  }
}
