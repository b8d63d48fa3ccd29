/**
 * CD mastering on the emulated CD-R/RW: what ./recorder.ts leaves out (it writes data tracks of 2048-byte
 * blocks only): audio and raw writing, as a ScsiTransport that wraps the emulated recorder and answers the CD
 * commands itself.
 *
 *   MODE SELECT page 05h   write type 1 (TAO) with any data block type, 2 (SAO), 3 (raw, data block type 1/3);
 *                          MCN and ISRC fields
 *   SEND CUE SHEET         SAO: the track/index layout, MCN, ISRCs, the lead-in's data form (+40h: CD-TEXT follows)
 *   WRITE(10/12)           TAO: at the invisible track's NWA (the drive writes the 2-second pause before each
 *                          track); SAO: from the lead-in (CD-TEXT R–W, 96 bytes a sector) or LBA -150, sequentially,
 *                          each sector in its cue sheet data form; raw: every sector from the ATIP lead-in start
 *                          with 96 bytes of raw P–W (or 16 of P/Q): the lead-in's Q is the TOC, its R–W CD-TEXT;
 *                          data sectors arrive scrambled and are checked (sync, header, EDC, ECC)
 *   CLOSE TRACK/SESSION, SYNCHRONIZE CACHE   TAO tracks, the end of a SAO/raw session (lead-out)
 *   READ CD (BEh)          main channel by sector type and flags, sub-channel raw P–W (01b) or formatted Q (10b)
 *   READ TOC               formats 0 (TOC with each track's control), 1, 4 (ATIP), 5 (CD-TEXT)
 *   READ DISC/TRACK INFORMATION, READ CAPACITY, READ(10/12) of data tracks
 * Everything else (inquiry, configuration, speeds, tray, buffer …) goes to the wrapped recorder, and so does a
 * multisession data burn (page 05h track at once with multi-session 11b, the burn engine's data CDs) on a disc
 * this layer has not written: the registry puts this layer on every virtual cd-r / cd-rw.
 *
 * The disc: <file> holds data tracks' user data at LBA × 2048 (as a data disc, so xorriso reads a mixed-mode
 * disc's file system from it); <file>.cd.raw every sector's 2352 bytes from LBA -150; <file>.cd.sub the raw P–W of
 * sectors written raw; <file>.cd.json the TOC, CD-TEXT and state.
 */
import * as fs from 'node:fs';
import { STATUS_CHECK_CONDITION, STATUS_GOOD, type Direction, type DriveSpec, type ExecuteResult, type OpenOptions, type ScsiTransport } from '../transport';
import { buildSense, SK } from '../sense';
import { OP, PROFILE } from '../mmc';
import { EmulatedRecorder } from './recorder';
import { parsePacks } from '../../cd/cdtext';
import { SubcodeGenerator, trackAt, type CdLayout, type CdTrack } from '../../cd/layout';
import { blockSize, decodeCdWriteParameters, LEAD_IN_START, OP_READ_CD, packsFromRw, parseCueSheet, type CueEntry } from '../../cd/mmc';
import { fromBcd, LEAD_PREGAP } from '../../cd/msf';
import { computeEcc, edc, encodeMode1, hasSync, scramble } from '../../cd/sector';
import { crc16, deinterleaveQ, formattedQ, interleave } from '../../cd/subcode';

type VirtualSpec = Extract<DriveSpec, { kind: 'virtual' }>;

class Check {
  constructor(readonly key: number, readonly asc: number, readonly ascq: number) {}
}

interface CdState {
  format: 'discforge-emulated-cd';
  version: 1;
  /** How the disc was written. */
  mode?: 'tao' | 'sao' | 'raw';
  finalized: boolean;
  tracks: { number: number; control: number; mode: 'audio' | 'mode1'; pregap: number; indexes: number[]; end: number; isrc?: string }[];
  leadOut: number;
  mcn?: string;
  /** CD-TEXT packs (base64) from the lead-in. */
  cdText?: string;
  /** Sub-channel stored per sector (raw writing). */
  rawSub: boolean;
  /** Problems found while the disc was written (bad EDC/ECC, Q CRC, TOC mismatches): a real disc would not read. */
  problems: string[];
}

const FREE_STATE = (): CdState => ({ format: 'discforge-emulated-cd', version: 1, finalized: false, tracks: [], leadOut: 0, rawSub: false, problems: [] });

/** The write session in progress (not persisted: a session is written in one go). */
interface Session {
  params: ReturnType<typeof decodeCdWriteParameters>;
  nwa: number;
  /** TAO: the track being written. */
  tao?: { number: number; start: number; recorded: number; control: number; mode: 'audio' | 'mode1'; isrc?: string };
  cue?: CueEntry[];
  /** SAO/raw: lead-in sectors received (R–W) and the TOC gathered from the lead-in's Q. */
  leadInPacks: Map<string, Buffer>;
  leadInToc: Map<number, number>;
  leadInLeadOut?: number;
  /** Raw: index changes seen in the program area's Q. */
  qTracks: Map<number, { control: number; indexes: Map<number, number>; isrc?: string }>;
  qMcn?: string;
}

export class CdMasteringRecorder implements ScsiTransport {
  readonly path: string;
  readonly maxTransferBytes: number;
  readonly inner: EmulatedRecorder;
  private st: CdState = FREE_STATE();
  private session: Session | undefined;
  private page05: Buffer | undefined;
  private rawFd = -1;
  private subFd = -1;
  private dataFd = -1;
  /** Commands this layer handled (tests look at them). */
  readonly handled: number[] = [];

  constructor(private readonly spec: VirtualSpec) {
    if (spec.profile !== 'cd-r' && spec.profile !== 'cd-rw') throw new Error(`${spec.spec}: CD mastering needs a cd-r or cd-rw recorder`);
    this.inner = new EmulatedRecorder(spec);
    this.path = spec.spec;
    this.maxTransferBytes = this.inner.maxTransferBytes;
  }

  private get file(): string {
    return this.spec.file;
  }

  async open(opts: OpenOptions): Promise<void> {
    await this.inner.open(opts);
    const sp = this.file + '.cd.json';
    if (fs.existsSync(sp)) this.st = JSON.parse(fs.readFileSync(sp, 'utf8')) as CdState;
    this.rawFd = fs.openSync(this.file + '.cd.raw', fs.existsSync(this.file + '.cd.raw') ? 'r+' : 'w+');
    this.subFd = fs.openSync(this.file + '.cd.sub', fs.existsSync(this.file + '.cd.sub') ? 'r+' : 'w+');
    this.dataFd = fs.openSync(this.file, fs.existsSync(this.file) ? 'r+' : 'w+');
  }

  async close(): Promise<void> {
    const s = this.session;
    if (s?.cue && this.st.mode === 'sao' && s.nwa < this.st.leadOut) {
      // A session at once that stopped before its end: the drive runs dry and the disc is left unusable.
      this.problem(`the session-at-once recording stopped at LBA ${s.nwa}, before the lead-out at ${this.st.leadOut}`);
      this.st.finalized = true;
      this.session = undefined;
    }
    this.save();
    for (const fd of [this.rawFd, this.subFd, this.dataFd]) if (fd >= 0) fs.closeSync(fd);
    this.rawFd = this.subFd = this.dataFd = -1;
    await this.inner.close();
  }

  /** The disc's TOC and CD-TEXT as written (tests). */
  get disc(): Readonly<CdState> {
    return this.st;
  }

  private save(): void {
    const sp = this.file + '.cd.json';
    fs.writeFileSync(sp + '.tmp', JSON.stringify(this.st, null, 2));
    fs.renameSync(sp + '.tmp', sp);
  }

  private written(): boolean {
    return this.st.tracks.length > 0 || this.session !== undefined;
  }

  /** The wrapped recorder holds data sessions (track at once, multisession): the disc is not blank. */
  private innerWritten(): boolean {
    const d = this.inner.disc;
    return d.closedSessions > 0 || d.tracks.some((t) => t.recorded > 0 || t.reservedSize !== undefined);
  }

  async execute(cdb: Buffer, direction: Direction, data: Buffer | number, timeoutMs: number): Promise<ExecuteResult> {
    const op = cdb[0];
    const alloc = direction === 'in' ? (typeof data === 'number' ? data : data.length) : 0;
    const out = direction === 'out' && Buffer.isBuffer(data) ? data : Buffer.alloc(0);
    let mine: (() => Buffer | undefined) | undefined;
    switch (op) {
      case OP.MODE_SELECT_10: {
        const off = 8 + (out.length >= 8 ? out.readUInt16BE(6) : 0);
        const page = out.subarray(off);
        if (page.length >= 16 && (page[0] & 0x3f) === 0x05) {
          // A data burn that leaves the next session open (track at once, multi-session 11b: the burn engine's
          // data CDs) is the wrapped recorder's, which models multisession data discs; audio, mixed-mode, SAO and
          // raw writing (always multi-session 00b here) are this layer's.
          if ((page[2] & 0x0f) === 1 && ((page[3] >> 6) & 3) !== 0 && !this.written()) this.page05 = undefined;
          else mine = () => this.modeSelect(page);
        }
        break;
      }
      case OP.MODE_SENSE_10:
        if ((cdb[2] & 0x3f) === 0x05 && this.page05) mine = () => this.modeSense();
        break;
      case OP.SEND_CUE_SHEET: mine = () => this.sendCueSheet(out); break;
      case OP.WRITE_10: if (this.page05 || this.written()) mine = () => this.write(cdb.readInt32BE(2), cdb.readUInt16BE(7), out); break;
      case OP.WRITE_12: if (this.page05 || this.written()) mine = () => this.write(cdb.readInt32BE(2), cdb.readUInt32BE(6), out); break;
      case OP_READ_CD: mine = () => this.readCd(cdb); break;
      case OP.CLOSE_TRACK_SESSION: if (this.written()) mine = () => this.closeTrackSession(cdb); break;
      case OP.SYNCHRONIZE_CACHE: if (this.session) mine = () => this.synchronize(); break;
      case OP.READ_TOC_PMA_ATIP: if ((cdb[2] & 0x0f) === 4 || this.written()) mine = () => this.readToc(cdb); break;
      case OP.READ_DISC_INFORMATION: if (this.written() || (this.page05 && !this.innerWritten())) mine = () => this.discInformation(); break;
      case OP.READ_TRACK_INFORMATION: if (this.written() || (this.page05 && !this.innerWritten())) mine = () => this.trackInformation(cdb); break;
      case OP.READ_CAPACITY: if (this.written()) mine = () => this.readCapacity(); break;
      case OP.READ_10: if (this.written()) mine = () => this.readData(cdb.readUInt32BE(2), cdb.readUInt16BE(7)); break;
      case OP.READ_12: if (this.written()) mine = () => this.readData(cdb.readUInt32BE(2), cdb.readUInt32BE(6)); break;
      case OP.BLANK:
        if (this.spec.profile === 'cd-rw') {
          this.st = FREE_STATE();
          this.session = undefined;
          this.page05 = undefined;
          fs.ftruncateSync(this.rawFd, 0);
          fs.ftruncateSync(this.subFd, 0);
          this.save();
        }
        break;
      default:
        break;
    }
    if (!mine) return this.inner.execute(cdb, direction, data, timeoutMs);
    if (this.spec.options.unsupported.includes(op)) {
      return { status: STATUS_CHECK_CONDITION, sense: buildSense(SK.ILLEGAL_REQUEST, 0x20, 0x00), data: Buffer.alloc(0), residual: alloc };
    }
    // The wrapped recorder reports unit attentions and "no medium" first.
    const probe = await this.inner.execute(Buffer.from([0, 0, 0, 0, 0, 0]), 'none', 0, timeoutMs);
    if (probe.status !== STATUS_GOOD) return { ...probe, data: Buffer.alloc(0), residual: alloc };
    this.handled.push(op);
    try {
      const r = mine();
      const bytes = r ? r.subarray(0, alloc) : Buffer.alloc(0);
      return { status: STATUS_GOOD, sense: Buffer.alloc(0), data: bytes, residual: Math.max(0, alloc - bytes.length) };
    } catch (e) {
      if (e instanceof Check) return { status: STATUS_CHECK_CONDITION, sense: buildSense(e.key, e.asc, e.ascq), data: Buffer.alloc(0), residual: alloc };
      throw e;
    }
  }

  // ---- writing ----

  private modeSelect(page: Buffer): undefined {
    const p = decodeCdWriteParameters(Buffer.from(page));
    if (p.writeType < 1 || p.writeType > 3) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
    if (p.writeType === 3 && p.dataBlockType !== 1 && p.dataBlockType !== 3) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
    if (p.writeType !== 3 && blockSize(p.dataBlockType) === 0) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
    this.page05 = Buffer.from(page);
    if (this.session) this.session.params = p;
    return undefined;
  }

  private modeSense(): Buffer {
    const h = Buffer.alloc(8);
    h.writeUInt16BE(6 + this.page05!.length, 0);
    return Buffer.concat([h, this.page05!]);
  }

  private params(): ReturnType<typeof decodeCdWriteParameters> {
    if (!this.page05) throw new Check(SK.ILLEGAL_REQUEST, 0x2c, 0x00); // command sequence error: no write parameters
    return decodeCdWriteParameters(this.page05);
  }

  private startSession(nwa: number): Session {
    if (this.st.finalized) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x02);
    if (this.st.tracks.length && !this.session && this.st.mode !== 'tao') throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x02);
    this.session ??= { params: this.params(), nwa, leadInPacks: new Map(), leadInToc: new Map(), qTracks: new Map() };
    return this.session;
  }

  private sendCueSheet(out: Buffer): undefined {
    const p = this.params();
    if (p.writeType !== 2) throw new Check(SK.ILLEGAL_REQUEST, 0x2c, 0x00);
    if (out.length === 0 || out.length % 8) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
    // SAO needs a blank disc: no tracks of this layer's, no data sessions of the wrapped recorder's.
    if (this.st.tracks.length || this.st.finalized || this.innerWritten()) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x02);
    const cue = parseCueSheet(out);
    const leadIn = cue[0];
    if (!leadIn || leadIn.tno !== 0 || leadIn.index !== 0) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
    this.checkCue(cue);
    const s = this.startSession(leadIn.dataForm & 0x40 ? LEAD_IN_START : -LEAD_PREGAP);
    s.cue = cue;
    // The TOC follows from the cue sheet.
    this.st.tracks = [];
    let isrcs = new Map<number, string>();
    for (let i = 0; i < cue.length; i++) {
      const e = cue[i];
      const adr = e.ctlAdr & 15;
      if (adr === 2 && e.text) {
        // Two ADR 2 entries: 7 + 6 ASCII digits of the catalogue number.
        this.st.mcn = (e.text.toString('latin1') + (cue[i + 1]?.text?.toString('latin1') ?? '')).replace(/\0/g, '').slice(0, 13);
        i++;
      } else if (adr === 3 && e.text) {
        const tno = fromBcd(e.text[0]);
        isrcs.set(tno, (isrcs.get(tno) ?? '') + e.text.toString('latin1', 1, 7));
      } else if (adr === 1 && e.tno >= 1 && e.tno <= 99) {
        let t = this.st.tracks.find((x) => x.number === e.tno);
        if (!t) {
          t = { number: e.tno, control: e.ctlAdr >> 4, mode: e.dataForm === 0x10 ? 'mode1' : 'audio', pregap: e.lba, indexes: [], end: 0, isrc: isrcs.get(e.tno) };
          this.st.tracks.push(t);
        }
        if (e.index >= 1) t.indexes.push(e.lba);
      } else if (adr === 1 && e.tno === 0xaa) this.st.leadOut = e.lba;
    }
    isrcs = new Map();
    this.st.tracks.forEach((t, i) => (t.end = this.st.tracks[i + 1]?.pregap ?? this.st.leadOut));
    this.st.mode = 'sao';
    return undefined;
  }

  /**
   * What a drive checks in a cue sheet before it accepts it (MMC-6 "SEND CUE SHEET"; Red Book / Yellow Book
   * session layout): the lead-in entry first (data form 01h audio / 14h Mode 1, +40h when the host sends R–W);
   * track 1 begins with index 0 at 00:00:00 (LBA -150) and its index 1 at 00:02:00 or later; tracks numbered
   * 1, 2, 3 … with index 1 each; addresses ascending; a data track (CTL 4) has data form 10h, an audio track
   * 00h, in every entry; a track lasts at least 4 seconds (300 sectors from index 1); the lead-out entry (AAh)
   * after the last track, within the disc's capacity. Anything else: ILLEGAL REQUEST, INVALID FIELD IN PARAMETER
   * LIST (26/00), or LOGICAL BLOCK ADDRESS OUT OF RANGE (21/00) for a lead-out beyond the disc.
   */
  private checkCue(cue: CueEntry[]): void {
    const bad = () => new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
    const leadIn = cue[0];
    if (![0x01, 0x14, 0x41, 0x54].includes(leadIn.dataForm)) throw bad();
    const points = cue.filter((e, i) => i > 0 && (e.ctlAdr & 15) === 1);
    const leadOut = points[points.length - 1];
    if (!leadOut || leadOut.tno !== 0xaa) throw bad();
    const program = points.slice(0, -1);
    if (program.length === 0 || program.some((e) => e.tno === 0 || e.tno === 0xaa)) throw bad();
    if (program[0].tno !== 1 || program[0].index !== 0 || program[0].lba !== -LEAD_PREGAP) throw bad();
    let lastLba = -Infinity;
    let expect = 1;
    const index1 = new Map<number, number>();
    for (const e of program) {
      if (e.lba < lastLba || (e.lba === lastLba && e !== program[0])) throw bad();
      lastLba = e.lba;
      if (e.tno !== expect && e.tno !== expect + 1) throw bad();
      if (e.tno === expect + 1) {
        if (!index1.has(expect)) throw bad();
        expect++;
      }
      const data = ((e.ctlAdr >> 4) & 4) !== 0;
      if (e.dataForm !== (data ? 0x10 : 0x00)) throw bad();
      if (e.index === 1 && !index1.has(e.tno)) index1.set(e.tno, e.lba);
    }
    if (!index1.has(expect)) throw bad();
    if ((index1.get(1) ?? -1) < 0) throw bad();
    if (leadOut.lba <= lastLba) throw bad();
    // Each track from its index 1 to the next track's first entry (or the lead-out).
    for (const [tno, start] of index1) {
      const next = program.find((e) => e.tno === tno + 1)?.lba ?? leadOut.lba;
      if (next - start < 300) throw bad();
    }
    if (leadOut.lba > this.capacity()) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x00);
  }

  /** The cue sheet entry (data form) in force at `lba`. */
  private cueAt(lba: number): CueEntry {
    const cue = this.session!.cue!;
    let cur = cue[0];
    for (const e of cue) if ((e.ctlAdr & 15) === 1 && e.tno !== 0 && e.lba <= lba) cur = e;
    return lba < -LEAD_PREGAP ? cue[0] : cur;
  }

  private write(lba: number, n: number, out: Buffer): undefined {
    if (n === 0) return undefined;
    const p = this.params();
    if (p.writeType === 1) return this.writeTao(lba, n, out, p);
    if (p.writeType === 2) return this.writeSao(lba, n, out);
    return this.writeRaw(lba, n, out, p);
  }

  private storeRaw(lba: number, sec: Buffer): void {
    fs.writeSync(this.rawFd, sec, 0, 2352, (lba + LEAD_PREGAP) * 2352);
  }

  private storeData(lba: number, user: Buffer): void {
    if (lba >= 0) fs.writeSync(this.dataFd, user, 0, 2048, lba * 2048);
  }

  private writeTao(lba: number, n: number, out: Buffer, p: Session['params']): undefined {
    const size = blockSize(p.dataBlockType);
    if (size !== 2352 && size !== 2048) throw new Check(SK.ILLEGAL_REQUEST, 0x64, 0x00);
    if (out.length !== n * size) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    const s = this.startSession(this.taoNwa());
    this.st.mode = 'tao';
    if (!s.tao) {
      if (lba !== this.taoNwa()) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x02);
      const number = this.st.tracks.length + 1;
      s.tao = { number, start: lba, recorded: 0, control: p.trackMode, mode: size === 2048 ? 'mode1' : 'audio', isrc: p.isrc };
      if (p.mcn) this.st.mcn = p.mcn;
      // The drive writes the 2-second pause before the track (silence / empty Mode 1 sectors).
      for (let k = lba - LEAD_PREGAP; k < lba; k++) {
        const sec = Buffer.alloc(2352);
        if (s.tao.mode === 'mode1') encodeMode1(sec, k, Buffer.alloc(2048));
        this.storeRaw(k, sec);
      }
    }
    const t = s.tao;
    if (lba !== t.start + t.recorded) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x02);
    for (let i = 0; i < n; i++) {
      const sec = Buffer.alloc(2352);
      if (size === 2048) {
        encodeMode1(sec, lba + i, out, i * 2048);
        this.storeData(lba + i, out.subarray(i * 2048, (i + 1) * 2048));
      } else out.copy(sec, 0, i * 2352, (i + 1) * 2352);
      this.storeRaw(lba + i, sec);
    }
    t.recorded += n;
    return undefined;
  }

  private taoNwa(): number {
    const last = this.st.tracks[this.st.tracks.length - 1];
    return last ? last.end + LEAD_PREGAP : 0;
  }

  private writeSao(lba: number, n: number, out: Buffer): undefined {
    const s = this.session;
    if (!s?.cue) throw new Check(SK.ILLEGAL_REQUEST, 0x2c, 0x00); // no cue sheet
    if (lba !== s.nwa) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x02);
    if (lba < -LEAD_PREGAP) {
      // Lead-in R–W (CD-TEXT), 96 bytes a sector.
      if (lba + n > -LEAD_PREGAP || out.length !== n * 96) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
      for (let i = 0; i < n; i++) this.collectPacks(s, out.subarray(i * 96, i * 96 + 96));
      s.nwa += n;
      return undefined;
    }
    if (lba + n > this.st.leadOut) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x00);
    const form = this.cueAt(lba).dataForm;
    const size = form === 0x10 ? 2048 : 2352;
    for (let i = 1; i < n; i++) {
      const f = this.cueAt(lba + i).dataForm;
      if ((f === 0x10 ? 2048 : 2352) !== size) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00); // one data form per command
    }
    if (out.length !== n * size) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    for (let i = 0; i < n; i++) {
      const sec = Buffer.alloc(2352);
      if (size === 2048) {
        encodeMode1(sec, lba + i, out, i * 2048);
        this.storeData(lba + i, out.subarray(i * 2048, (i + 1) * 2048));
      } else out.copy(sec, 0, i * 2352, (i + 1) * 2352);
      this.storeRaw(lba + i, sec);
    }
    s.nwa += n;
    return undefined;
  }

  private collectPacks(s: Session, rw: Uint8Array): void {
    for (const p of packsFromRw(rw)) {
      const c = crc16(p, 0, 16) ^ 0xffff;
      if (p[16] !== c >> 8 || p[17] !== (c & 0xff)) {
        if (p.some((x) => x !== 0)) this.problem(`a CD-TEXT pack with a bad CRC in the lead-in`);
        continue;
      }
      s.leadInPacks.set(String(p[2]).padStart(3, '0'), p);
    }
  }

  private problem(msg: string): void {
    if (this.st.problems.length < 20 && !this.st.problems.includes(msg)) this.st.problems.push(msg);
  }

  private writeRaw(lba: number, n: number, out: Buffer, p: Session['params']): undefined {
    const size = p.dataBlockType === 1 ? 2368 : 2448;
    if (out.length !== n * size) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    const s = this.startSession(LEAD_IN_START);
    this.st.mode = 'raw';
    if (lba !== s.nwa) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x02);
    for (let i = 0; i < n; i++) {
      const at = lba + i;
      const sec = Buffer.from(out.subarray(i * size, i * size + 2352));
      const subBytes = out.subarray(i * size + 2352, (i + 1) * size);
      let q: Uint8Array;
      let rw: Uint8Array | undefined;
      if (size === 2448) {
        const d = deinterleaveQ(subBytes, 0);
        q = d.q;
        rw = d.rw;
      } else q = Uint8Array.from(subBytes.subarray(0, 12));
      const c = crc16(q, 0, 10) ^ 0xffff;
      if (q[10] !== c >> 8 || q[11] !== (c & 0xff)) this.problem(`Q CRC error at LBA ${at}`);
      if (at < -LEAD_PREGAP) {
        // Lead-in: the TOC in Q (TNO 00), CD-TEXT in R–W.
        if (q[1] !== 0) this.problem(`lead-in sector ${at} has TNO ${q[1]}`);
        const point = q[2];
        const pmsf = (fromBcd(q[7]) * 60 + fromBcd(q[8])) * 75 + fromBcd(q[9]) - LEAD_PREGAP;
        if (point >= 1 && point <= 0x99) s.leadInToc.set(fromBcd(point), pmsf);
        if (point === 0xa2) s.leadInLeadOut = pmsf;
        if (rw) this.collectPacks(s, rw);
        s.nwa++;
        continue;
      }
      // Program area and lead-out: Q tells the track, index and type.
      const adr = q[0] & 15;
      const control = q[0] >> 4;
      if (adr === 1 && q[1] !== 0xaa) {
        const tno = fromBcd(q[1]);
        const idx = fromBcd(q[2]);
        let t = s.qTracks.get(tno);
        if (!t) s.qTracks.set(tno, (t = { control, indexes: new Map() }));
        if (!t.indexes.has(idx)) t.indexes.set(idx, at);
        const abs = (fromBcd(q[7]) * 60 + fromBcd(q[8])) * 75 + fromBcd(q[9]) - LEAD_PREGAP;
        if (abs !== at) this.problem(`Q absolute time ${abs} at LBA ${at}`);
      } else if (adr === 1 && q[1] === 0xaa) {
        if (this.st.leadOut === 0 || at < this.st.leadOut) this.st.leadOut = at;
      } else if (adr === 2) {
        let digits = '';
        for (let k = 0; k < 13; k++) digits += String((q[1 + (k >> 1)] >> (k & 1 ? 0 : 4)) & 15);
        s.qMcn = digits;
      } else if (adr === 3) {
        let bits = 0n;
        for (let k = 1; k <= 8; k++) bits = (bits << 8n) | BigInt(q[k]);
        let isrc = '';
        for (let k = 0; k < 5; k++) {
          const v = Number((bits >> BigInt(58 - 6 * k)) & 0x3fn);
          isrc += v <= 9 ? String(v) : String.fromCharCode(65 + v - 0x11);
        }
        for (let k = 0; k < 7; k++) isrc += String(Number((bits >> BigInt(28 - 4 * k)) & 0xfn));
        const cur = [...s.qTracks.entries()].pop();
        if (cur) cur[1].isrc = isrc;
      }
      if (this.st.leadOut && at >= this.st.leadOut) {
        s.nwa++;
        continue;
      }
      // A data sector arrives scrambled: descramble and check it, keep its user data.
      const isData = (control & 4) !== 0;
      if (isData) {
        scramble(sec);
        if (!hasSync(sec) || sec[15] !== 1) this.problem(`LBA ${at}: not a Mode 1 sector after descrambling`);
        else {
          const copy = Buffer.from(sec);
          const okEdc = copy.readUInt32LE(2064) === edc(copy, 0, 2064);
          computeEcc(copy);
          if (!okEdc || !copy.equals(sec)) this.problem(`LBA ${at}: EDC/ECC mismatch`);
          this.storeData(at, sec.subarray(16, 2064));
        }
      }
      this.storeRaw(at, sec);
      const full = Buffer.alloc(96);
      if (size === 2448) subBytes.copy(full, 0, 0, 96);
      else interleave(full, 0, (subBytes[15] & 0x80) !== 0, q);
      fs.writeSync(this.subFd, full, 0, 96, (at + LEAD_PREGAP) * 96);
      s.nwa++;
    }
    return undefined;
  }

  private synchronize(): undefined {
    const s = this.session!;
    if (this.st.mode === 'raw') {
      // The TOC: from the program area's Q, checked against the lead-in's.
      const tracks = [...s.qTracks.entries()].sort((a, b) => a[0] - b[0]);
      this.st.tracks = tracks.map(([number, t]) => {
        const idx = [...t.indexes.entries()].sort((a, b) => a[0] - b[0]);
        const index1 = t.indexes.get(1) ?? idx[0][1];
        return { number, control: t.control, mode: t.control & 4 ? 'mode1' : 'audio', pregap: t.indexes.get(0) ?? index1, indexes: idx.filter(([k]) => k >= 1).map(([, v]) => v), end: 0, isrc: t.isrc };
      });
      this.st.tracks.forEach((t, i) => (t.end = this.st.tracks[i + 1]?.pregap ?? this.st.leadOut));
      for (const t of this.st.tracks) {
        if (s.leadInToc.get(t.number) !== t.indexes[0]) this.problem(`track ${t.number}: the lead-in TOC says ${s.leadInToc.get(t.number)}, the program area ${t.indexes[0]}`);
      }
      if (s.leadInLeadOut !== undefined && s.leadInLeadOut !== this.st.leadOut) this.problem(`lead-out: the lead-in TOC says ${s.leadInLeadOut}, the disc ${this.st.leadOut}`);
      this.st.mcn = s.qMcn;
      this.st.rawSub = true;
    } else if (this.st.mode === 'sao') {
      if (s.nwa < this.st.leadOut) return undefined; // not finished yet
    } else if (s.tao) {
      return undefined; // TAO: CLOSE TRACK ends a track
    }
    if (s.leadInPacks.size) this.st.cdText = Buffer.concat([...s.leadInPacks.entries()].sort().map(([, p]) => p)).toString('base64');
    if (this.st.mode !== 'tao') {
      this.st.finalized = true;
      this.session = undefined;
    }
    this.save();
    return undefined;
  }

  private closeTrackSession(cdb: Buffer): undefined {
    const fn = cdb[2] & 7;
    const s = this.session;
    // SAO: the drive writes the lead-out once the last sector of the cue sheet arrived (SYNCHRONIZE CACHE); a
    // session whose sectors have not all been sent cannot be closed.
    if (this.st.mode === 'sao' && s?.cue && s.nwa < this.st.leadOut) throw new Check(SK.ILLEGAL_REQUEST, 0x2c, 0x00);
    if (this.st.mode !== 'tao') return undefined; // SAO/raw: the session was closed by SYNCHRONIZE CACHE
    if (fn === 1) {
      if (!s?.tao) throw new Check(SK.ILLEGAL_REQUEST, 0x2c, 0x00);
      const t = s.tao;
      this.st.tracks.push({ number: t.number, control: t.control, mode: t.mode, pregap: t.start - LEAD_PREGAP, indexes: [t.start], end: t.start + t.recorded, isrc: t.isrc });
      this.st.leadOut = t.start + t.recorded;
      s.tao = undefined;
      this.save();
      return undefined;
    }
    if (fn === 2) {
      if (s?.tao) throw new Check(SK.ILLEGAL_REQUEST, 0x2c, 0x00);
      this.st.finalized = true;
      this.session = undefined;
      this.save();
      return undefined;
    }
    throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
  }

  // ---- reading ----

  private layout(): CdLayout {
    const tracks: CdTrack[] = this.st.tracks.map((t) => ({
      number: t.number,
      mode: t.mode,
      flags: { data: (t.control & 4) !== 0, copy: (t.control & 2) !== 0, preEmphasis: (t.control & 1) !== 0 },
      isrc: t.isrc,
      pregap: t.pregap,
      indexes: t.indexes,
      end: t.end,
    }));
    return { tracks, leadOut: this.st.leadOut, mcn: this.st.mcn, sectorSize: 2448 };
  }

  private readCd(cdb: Buffer): Buffer {
    if (!this.st.finalized && !this.st.tracks.length) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x00);
    const type = (cdb[1] >> 2) & 7;
    const lba = cdb.readInt32BE(2);
    const n = cdb.readUIntBE(6, 3);
    const flags = cdb[9];
    const subSel = cdb[10] & 7;
    const L = this.layout();
    const gen = new SubcodeGenerator(L);
    const parts: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const at = lba + i;
      const t = trackAt(L, at);
      if (!t || at >= L.leadOut) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x00);
      if (type === 1 && t.mode !== 'audio') throw new Check(SK.ILLEGAL_REQUEST, 0x64, 0x00);
      if (type === 2 && t.mode !== 'mode1') throw new Check(SK.ILLEGAL_REQUEST, 0x64, 0x00);
      const sec = Buffer.alloc(2352);
      fs.readSync(this.rawFd, sec, 0, 2352, (at + LEAD_PREGAP) * 2352);
      if (t.mode === 'audio') {
        if (flags & 0x10) parts.push(sec);
      } else {
        if (flags & 0x80) parts.push(sec.subarray(0, 12));
        if (flags & 0x20) parts.push(sec.subarray(12, 16));
        if (flags & 0x10) parts.push(sec.subarray(16, 2064));
        if (flags & 0x08) parts.push(sec.subarray(2064, 2352));
      }
      if (subSel === 1 || subSel === 2) {
        const raw = Buffer.alloc(96);
        if (this.st.rawSub) fs.readSync(this.subFd, raw, 0, 96, (at + LEAD_PREGAP) * 96);
        else gen.write(raw, 0, at);
        if (subSel === 1) parts.push(raw);
        else {
          const d = deinterleaveQ(raw, 0);
          const f = Buffer.alloc(16);
          formattedQ(f, 0, d.p, d.q);
          parts.push(f);
        }
      }
    }
    return Buffer.concat(parts);
  }

  private readData(lba: number, n: number): Buffer {
    const t = trackAt(this.layout(), lba);
    if (!t || t.mode !== 'mode1' || lba + n > t.end) throw new Check(SK.ILLEGAL_REQUEST, 0x64, 0x00);
    const b = Buffer.alloc(n * 2048);
    fs.readSync(this.dataFd, b, 0, b.length, lba * 2048);
    return b;
  }

  private readToc(cdb: Buffer): Buffer {
    const format = cdb[2] & 0x0f;
    if (format === 4) {
      // ATIP: lead-in start and last possible lead-out start (MSF, binary).
      const b = Buffer.alloc(28);
      b.writeUInt16BE(26, 0);
      b[6] = this.spec.profile === 'cd-rw' ? 0x40 : 0;
      const msf = (lba: number, o: number) => {
        const f = lba < 0 ? lba + 450_150 : lba + LEAD_PREGAP;
        b[o + 1] = Math.floor(f / 4500);
        b[o + 2] = Math.floor(f / 75) % 60;
        b[o + 3] = f % 75;
      };
      msf(LEAD_IN_START, 8);
      msf(this.capacity(), 12);
      return b;
    }
    if (!this.st.finalized && this.st.tracks.length === 0) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    if (format === 0) {
      const entries = [...this.st.tracks.map((t) => ({ n: t.number, control: t.control, lba: t.indexes[0] })), { n: 0xaa, control: this.st.tracks[this.st.tracks.length - 1].control, lba: this.st.leadOut }];
      const b = Buffer.alloc(4 + entries.length * 8);
      b.writeUInt16BE(2 + entries.length * 8, 0);
      b[2] = this.st.tracks[0].number;
      b[3] = this.st.tracks[this.st.tracks.length - 1].number;
      entries.forEach((e, i) => {
        const o = 4 + i * 8;
        b[o + 1] = 0x10 | e.control; // ADR 1, CONTROL
        b[o + 2] = e.n;
        if (cdb[1] & 0x02) {
          const f = e.lba + LEAD_PREGAP;
          b[o + 5] = Math.floor(f / 4500);
          b[o + 6] = Math.floor(f / 75) % 60;
          b[o + 7] = f % 75;
        } else b.writeInt32BE(e.lba, o + 4);
      });
      return b;
    }
    if (format === 1) {
      const b = Buffer.alloc(12);
      b.writeUInt16BE(10, 0);
      b[2] = 1;
      b[3] = 1;
      b[5] = 0x10 | this.st.tracks[0].control;
      b[6] = this.st.tracks[0].number;
      b.writeInt32BE(this.st.tracks[0].indexes[0], 8);
      return b;
    }
    if (format === 5) {
      const packs = this.st.cdText ? Buffer.from(this.st.cdText, 'base64') : Buffer.alloc(0);
      const h = Buffer.alloc(4);
      h.writeUInt16BE(packs.length + 2, 0);
      return Buffer.concat([h, packs]);
    }
    throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
  }

  private capacity(): number {
    return this.spec.options.capacity ?? (this.spec.profile === 'cd-rw' ? 359_847 : 360_000);
  }

  private discInformation(): Buffer {
    const b = Buffer.alloc(34);
    b.writeUInt16BE(32, 0);
    const status = this.st.finalized ? 2 : this.st.tracks.length || this.session ? 1 : 0;
    const last = this.st.finalized ? 3 : this.session ? 1 : 0;
    b[2] = (this.spec.profile === 'cd-rw' ? 0x10 : 0) | (last << 2) | status;
    b[3] = 1;
    b[4] = 1;
    b[5] = 1;
    b[6] = Math.max(1, this.st.tracks.length + (this.st.finalized ? 0 : 1));
    b[7] = 0x20;
    b[8] = 0x00;
    const lo = this.capacity();
    b[20] = 0;
    b[21] = Math.floor((lo + 150) / 4500);
    b[22] = Math.floor((lo + 150) / 75) % 60;
    b[23] = (lo + 150) % 75;
    b.writeUInt32BE(this.st.finalized ? 0xffffffff : 0, 16);
    return b;
  }

  private trackInformation(cdb: Buffer): Buffer {
    const value = cdb.readUInt32BE(2);
    const b = Buffer.alloc(48);
    b.writeUInt16BE(46, 0);
    const t = this.st.tracks.find((x) => x.number === value);
    if (t) {
      b[2] = t.number;
      b[3] = 1;
      b[5] = t.control;
      b[6] = t.mode === 'audio' ? 0x00 : 0x01;
      b.writeInt32BE(t.indexes[0], 8);
      b.writeUInt32BE(t.end - t.indexes[0], 24);
      b.writeInt32BE(t.end - 1, 28);
      return b;
    }
    if (value !== 0xff && value !== this.st.tracks.length + 1) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    if (this.st.finalized) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    // The invisible track: its next writable address (TAO: after the 2-second pause the drive writes).
    const nwa = this.session?.tao ? this.session.tao.start + this.session.tao.recorded : this.taoNwa();
    b[2] = this.st.tracks.length + 1;
    b[3] = 1;
    b[6] = 0x40 | 0x20 | 0x0f; // blank, packet/invisible, data mode unknown
    b[7] = 0x01; // NWA valid
    b.writeInt32BE(nwa, 8);
    b.writeInt32BE(nwa, 12);
    b.writeUInt32BE(Math.max(0, this.capacity() - nwa), 16);
    b.writeUInt32BE(Math.max(0, this.capacity() - nwa), 24);
    return b;
  }

  private readCapacity(): Buffer {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(Math.max(0, this.st.leadOut - 1), 0);
    b.writeUInt32BE(2048, 4);
    return b;
  }

  /** CD-TEXT of the disc (tests; READ TOC format 5 gives the same). */
  cdText(): ReturnType<typeof parsePacks> | undefined {
    return this.st.cdText ? parsePacks(Buffer.from(this.st.cdText, 'base64')) : undefined;
  }
}

export function isCdMasteringProfile(spec: DriveSpec): spec is VirtualSpec {
  return spec.kind === 'virtual' && (spec.profile === 'cd-r' || spec.profile === 'cd-rw');
}

export { PROFILE };
