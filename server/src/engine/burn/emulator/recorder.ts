/**
 * The emulated recorder: a ScsiTransport that answers real MMC-6 CDBs from a state machine per media profile
 * (write-once enforcement, next writable address, tracks and sessions, finalization, formatting, erasing,
 * capacity), with a drive buffer drained at the selected write speed, long operations reported the way drives
 * report them (NOT READY 04/04 format, 04/07 operation, 04/08 long write in progress, with progress
 * indication), unit attentions, and faults injected by the drive spec (see ../transport.ts). The disc lives in
 * a plain image file plus a JSON state (./disc.ts).
 *
 * One command at a time, like a real drive behind the OS's per-device queue.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  STATUS_CHECK_CONDITION, STATUS_GOOD, TransportError, type Direction, type DriveSpec, type ExecuteResult, type OpenOptions,
  type ScsiTransport,
} from '../transport';
import { buildSense, SK } from '../sense';
import { decodeWriteParametersPage, encodeWriteParametersPage, FEATURE, ONE_X_KBPS, OP, PROFILE, type WriteParameters } from '../mmc';
import { BLOCK, blankState, loadState, lockPath, mediaModel, saveState, type DiscState, type MediaModel, type TrackState } from './disc';

type VirtualSpec = Extract<DriveSpec, { kind: 'virtual' }>;

/** A command ends in CHECK CONDITION with this sense. */
class Check {
  constructor(readonly key: number, readonly asc: number, readonly ascq: number, readonly information?: number) {}
}

const FLUSH_MS = 15; // SYNCHRONIZE CACHE: the last buffer fill reaching the disc, when not throttled
const CLOSE_MS = 20;
const QUICK_MS = 40;
const FULL_MS = 300;

interface LongOp {
  asc: number;
  ascq: number;
  start: number;
  until: number;
}

/** Commands that report no unit attention and need no medium (SPC-4 5.9; MMC-6 4.1.6). */
const NO_ATTENTION = new Set<number>([OP.INQUIRY, OP.REQUEST_SENSE, OP.GET_CONFIGURATION, OP.GET_EVENT_STATUS_NOTIFICATION]);
const NO_MEDIUM_OK = new Set<number>([
  OP.INQUIRY, OP.REQUEST_SENSE, OP.GET_CONFIGURATION, OP.GET_EVENT_STATUS_NOTIFICATION, OP.MECHANISM_STATUS,
  OP.START_STOP_UNIT, OP.PREVENT_ALLOW_MEDIUM_REMOVAL, OP.MODE_SENSE_10, OP.MODE_SELECT_10, OP.READ_BUFFER_CAPACITY,
  OP.SET_CD_SPEED, OP.SET_STREAMING, OP.READ_FORMAT_CAPACITIES,
]);
/** Commands a drive still answers while a long operation runs. */
const DURING_LONG_OP = new Set<number>([
  OP.INQUIRY, OP.REQUEST_SENSE, OP.GET_CONFIGURATION, OP.GET_EVENT_STATUS_NOTIFICATION, OP.MECHANISM_STATUS,
  OP.READ_BUFFER_CAPACITY,
]);

export class EmulatedRecorder implements ScsiTransport {
  readonly path: string;
  readonly maxTransferBytes = 512 * 1024;
  private readonly model: MediaModel;
  private state!: DiscState;
  private fd = -1;
  private opened = false;
  private ownsLock = false;
  private queue: Promise<unknown> = Promise.resolve();
  private unitAttention: [number, number] | undefined;
  private mediaEvent = 0;
  private preventRemoval = false;
  private longOp: LongOp | undefined;
  private writeParams: WriteParameters;
  private selectedKBps = 0;
  private readonly bufferBytes: number;
  private bufferFill = 0;
  private bufferTime = 0;
  private streaming = false;
  private lastWriteBytes = 0;
  /** Buffer underruns the drive recovered from (BUFE). */
  underrunsRecovered = 0;
  /** Commands received, by opcode (tests look at them). */
  readonly commandLog: number[] = [];

  constructor(private readonly spec: VirtualSpec) {
    this.path = spec.spec;
    this.model = mediaModel(spec.profile, spec.options.capacity);
    this.bufferBytes = spec.options.bufferBytes ?? (this.model.family === 'bd' ? 4 : 2) * 1024 * 1024;
    this.writeParams = this.defaultWriteParams();
  }

  private defaultWriteParams(): WriteParameters {
    const cd = this.model.family === 'cd';
    return { bufe: false, testWrite: false, writeType: cd ? 1 : 0, multiSession: 0, fixedPacket: false, trackMode: cd ? 4 : 5, dataBlockType: 8, linkSize: 0, sessionFormat: 0, packetSize: 0 };
  }

  // ---- ScsiTransport ----

  async open(opts: OpenOptions): Promise<void> {
    if (this.opened) throw new TransportError(`${this.path} is already open`, 'busy');
    this.takeLock(opts);
    try {
      const file = this.spec.file;
      if ((this.model.kind === 'rom') && !fs.existsSync(file)) {
        throw new TransportError(`${this.path}: a ${this.spec.profile} is a pressed disc: ${file} must hold its image`, 'unavailable');
      }
      this.state = loadState(file, this.model);
      if (this.state.profile !== this.spec.profile) {
        throw new TransportError(`${this.path}: the disc in ${file} is a ${this.state.profile}, not a ${this.spec.profile}`, 'unavailable');
      }
      this.fd = fs.openSync(file, fs.existsSync(file) ? (this.model.kind === 'rom' ? 'r' : 'r+') : 'w+');
    } catch (e) {
      this.releaseLock();
      if (e instanceof TransportError) throw e;
      throw new TransportError(`${this.path}: ${(e as Error).message}`, 'io');
    }
    this.opened = true;
    // A freshly opened drive reports the medium as changed once (SPC-4 unit attention 28/00).
    this.unitAttention = [0x28, 0x00];
    this.mediaEvent = this.present() ? 2 : 0;
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    await this.queue.catch(() => undefined);
    this.opened = false;
    try {
      if (this.model.kind !== 'rom') saveState(this.spec.file, this.state);
    } finally {
      fs.closeSync(this.fd);
      this.fd = -1;
      this.releaseLock();
    }
  }

  execute(cdb: Buffer, direction: Direction, data: Buffer | number, timeoutMs: number): Promise<ExecuteResult> {
    const run = () => this.run(cdb, direction, data, timeoutMs);
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** The disc's state (tests and `discforge media` on virtual drives). */
  get disc(): Readonly<DiscState> {
    return this.state;
  }

  // ---- lock file (exclusive use across processes) ----

  private takeLock(opts: OpenOptions): void {
    const lp = lockPath(this.spec.file);
    const holderText = (l: { pid: number; holder?: string; since?: string }) =>
      `${l.holder ?? 'another process'} (pid ${l.pid}${l.since ? `, since ${l.since}` : ''})`;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (fs.existsSync(lp)) {
        let l: { pid: number; holder?: string; since?: string } | undefined;
        try {
          l = JSON.parse(fs.readFileSync(lp, 'utf8'));
        } catch {
          l = undefined;
        }
        if (l && l.pid !== process.pid && pidAlive(l.pid)) {
          throw new TransportError(`${this.path} is busy: in use by ${holderText(l)}`, 'busy');
        }
        fs.rmSync(lp, { force: true }); // stale (its process is gone)
      }
      if (!opts.exclusive) return;
      try {
        fs.writeFileSync(lp, JSON.stringify({ pid: process.pid, holder: opts.holder, since: new Date().toISOString() }), { flag: 'wx' });
        this.ownsLock = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new TransportError(`${this.path}: cannot lock ${lp}: ${(e as Error).message}`, 'io');
      }
    }
    throw new TransportError(`${this.path} is busy`, 'busy');
  }

  private releaseLock(): void {
    if (this.ownsLock) fs.rmSync(lockPath(this.spec.file), { force: true });
    this.ownsLock = false;
  }

  // ---- command dispatch ----

  private async run(cdb: Buffer, direction: Direction, data: Buffer | number, timeoutMs: number): Promise<ExecuteResult> {
    if (!this.opened) throw new TransportError(`${this.path} is not open`, 'not-open');
    const alloc = direction === 'in' ? (typeof data === 'number' ? data : data.length) : 0;
    const out = direction === 'out' && Buffer.isBuffer(data) ? data : Buffer.alloc(0);
    const op = cdb[0];
    this.commandLog.push(op);
    try {
      const result = await this.dispatch(op, cdb, out, timeoutMs);
      const bytes = result ? result.subarray(0, alloc) : Buffer.alloc(0);
      return { status: STATUS_GOOD, sense: Buffer.alloc(0), data: bytes, residual: Math.max(0, alloc - bytes.length) };
    } catch (e) {
      if (e instanceof Check) {
        return {
          status: STATUS_CHECK_CONDITION,
          sense: buildSense(e.key, e.asc, e.ascq, { information: e.information }),
          data: Buffer.alloc(0),
          residual: alloc,
        };
      }
      throw e;
    }
  }

  private present(): boolean {
    return !this.spec.options.empty && !this.state.trayOpen;
  }

  private longOpCheck(): Check | undefined {
    const l = this.longOp;
    if (!l) return undefined;
    const now = performance.now();
    if (now >= l.until) {
      this.longOp = undefined;
      return undefined;
    }
    return new Check(SK.NOT_READY, l.asc, l.ascq);
  }

  private longOpProgress(): number {
    const l = this.longOp!;
    return ((performance.now() - l.start) / Math.max(1, l.until - l.start)) * 65536;
  }

  private async dispatch(op: number, cdb: Buffer, out: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
    if (op === OP.REQUEST_SENSE) return this.requestSense();
    if (this.spec.options.unsupported.includes(op)) throw new Check(SK.ILLEGAL_REQUEST, 0x20, 0x00);
    if (!DURING_LONG_OP.has(op)) {
      const busy = this.longOpCheck();
      if (busy) throw busy;
    }
    if (this.unitAttention && !NO_ATTENTION.has(op)) {
      const [asc, ascq] = this.unitAttention;
      this.unitAttention = undefined;
      throw new Check(SK.UNIT_ATTENTION, asc, ascq);
    }
    if (!this.present() && !NO_MEDIUM_OK.has(op)) throw new Check(SK.NOT_READY, 0x3a, this.state.trayOpen ? 0x02 : 0x01);
    switch (op) {
      case OP.TEST_UNIT_READY: return undefined;
      case OP.INQUIRY: return this.inquiry(cdb);
      case OP.GET_CONFIGURATION: return this.getConfiguration(cdb);
      case OP.GET_EVENT_STATUS_NOTIFICATION: return this.eventStatus(cdb);
      case OP.MECHANISM_STATUS: return this.mechanismStatus();
      case OP.MODE_SENSE_10: return this.modeSense(cdb);
      case OP.MODE_SELECT_10: return this.modeSelect(out);
      case OP.GET_PERFORMANCE: return this.getPerformance(cdb);
      case OP.READ_DISC_INFORMATION: return this.discInformation(cdb);
      case OP.READ_TRACK_INFORMATION: return this.trackInformation(cdb);
      case OP.READ_TOC_PMA_ATIP: return this.readToc(cdb);
      case OP.READ_FORMAT_CAPACITIES: return this.formatCapacities();
      case OP.READ_CAPACITY: return this.readCapacity();
      case OP.READ_BUFFER_CAPACITY: return this.bufferCapacity(cdb);
      case OP.SET_CD_SPEED: return this.setCdSpeed(cdb);
      case OP.SET_STREAMING: return this.setStreaming(cdb, out);
      case OP.SEND_OPC_INFORMATION: return this.sendOpc(timeoutMs);
      case OP.START_STOP_UNIT: return this.startStop(cdb);
      case OP.PREVENT_ALLOW_MEDIUM_REMOVAL:
        this.preventRemoval = !!(cdb[4] & 1);
        return undefined;
      case OP.READ_10: return this.read(cdb.readUInt32BE(2), cdb.readUInt16BE(7));
      case OP.READ_12: return this.read(cdb.readUInt32BE(2), cdb.readUInt32BE(6));
      case OP.WRITE_10: return this.write(cdb.readUInt32BE(2), cdb.readUInt16BE(7), out, timeoutMs);
      case OP.WRITE_12: return this.write(cdb.readUInt32BE(2), cdb.readUInt32BE(6), out, timeoutMs);
      case OP.SYNCHRONIZE_CACHE: return this.synchronizeCache(cdb, timeoutMs);
      case OP.RESERVE_TRACK: return this.reserveTrack(cdb);
      case OP.CLOSE_TRACK_SESSION: return this.closeTrackSession(cdb, timeoutMs);
      case OP.SEND_CUE_SHEET: return this.sendCueSheet(out);
      case OP.BLANK: return this.blank(cdb, timeoutMs);
      case OP.FORMAT_UNIT: return this.formatUnit(cdb, out, timeoutMs);
      default:
        throw new Check(SK.ILLEGAL_REQUEST, 0x20, 0x00);
    }
  }

  private async sleep(ms: number, timeoutMs: number): Promise<void> {
    if (ms <= 0) return;
    if (ms > timeoutMs) {
      await new Promise((r) => setTimeout(r, timeoutMs));
      throw new TransportError(`${this.path}: the command timed out after ${timeoutMs} ms`, 'timeout');
    }
    await new Promise((r) => setTimeout(r, ms));
  }

  private startLongOp(asc: number, ascq: number, ms: number): void {
    const now = performance.now();
    this.longOp = { asc, ascq, start: now, until: now + ms };
  }

  // ---- SPC ----

  private requestSense(): Buffer {
    if (this.longOp) {
      const busy = this.longOpCheck();
      if (busy) return buildSense(SK.NOT_READY, busy.asc, busy.ascq, { progress: this.longOpProgress() });
    }
    return buildSense(SK.NO_SENSE, 0, 0);
  }

  private inquiry(cdb: Buffer): Buffer {
    if (cdb[1] & 1) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00); // no VPD pages
    const b = Buffer.alloc(36);
    b[0] = 0x05; // CD/DVD device (SPC-4 peripheral device type 05h)
    b[1] = 0x80; // RMB
    b[2] = 0x05; // SPC-3
    b[3] = 0x02; // response data format
    b[4] = 31;
    b.write('DISCFORG', 8, 'latin1');
    b.write(`Virtual ${this.model.family === 'cd' ? 'CD-RW' : this.model.family === 'dvd' ? 'DVD-RW' : 'BD-RE'}`.padEnd(16), 16, 'latin1');
    b.write('1.00', 32, 'latin1');
    return b;
  }

  // ---- GET CONFIGURATION (MMC-6 clause 5) ----

  private profileNow(): number {
    return this.present() ? this.state.currentProfile : PROFILE.NONE;
  }

  private features(): { code: number; current: boolean; persistent?: boolean; version?: number; data: Buffer }[] {
    const p = this.profileNow();
    const fam = this.model.family;
    const kind = this.model.kind;
    const present = this.present();
    const ow = present && (kind === 'overwrite' || p === PROFILE.DVD_RW_RO);
    const bufBit = this.spec.options.noBufe ? 0 : 0x40;
    // The drive: a combo writer that supports every profile of its family and reads the lower ones.
    const profiles = fam === 'bd'
      ? [PROFILE.BD_RE, PROFILE.BD_R_SRM, PROFILE.BD_ROM, PROFILE.DVD_PLUS_R_DL, PROFILE.DVD_PLUS_R, PROFILE.DVD_PLUS_RW, PROFILE.DVD_RW_SEQ, PROFILE.DVD_RW_RO, PROFILE.DVD_R_SEQ, PROFILE.DVD_RAM, PROFILE.DVD_ROM, PROFILE.CD_RW, PROFILE.CD_R, PROFILE.CD_ROM]
      : fam === 'dvd'
        ? [PROFILE.DVD_PLUS_R_DL, PROFILE.DVD_PLUS_R, PROFILE.DVD_PLUS_RW, PROFILE.DVD_RW_SEQ, PROFILE.DVD_RW_RO, PROFILE.DVD_R_SEQ, PROFILE.DVD_RAM, PROFILE.DVD_ROM, PROFILE.CD_RW, PROFILE.CD_R, PROFILE.CD_ROM]
        : [PROFILE.CD_RW, PROFILE.CD_R, PROFILE.CD_ROM];
    const list = Buffer.alloc(profiles.length * 4);
    profiles.forEach((pr, i) => {
      list.writeUInt16BE(pr, i * 4);
      if (pr === p) list[i * 4 + 2] = 1;
    });
    const u32 = (...v: number[]) => {
      const b = Buffer.alloc(v.length * 4);
      v.forEach((x, i) => b.writeUInt32BE(x >>> 0, i * 4));
      return b;
    };
    const blocking = this.model.unit;
    const lastLba = Math.max(0, (this.state.formatted ? this.state.formattedBlocks : this.model.capacity) - 1);
    const is = (...ps: number[]) => present && ps.includes(p);
    return [
      { code: FEATURE.PROFILE_LIST, current: true, persistent: true, data: list },
      { code: FEATURE.CORE, current: true, persistent: true, version: 2, data: Buffer.from([0, 0, 0, 2, 0x01, 0, 0, 0]) }, // ATAPI, DBE
      { code: FEATURE.MORPHING, current: true, persistent: true, version: 1, data: Buffer.from([0x02, 0, 0, 0]) }, // OCEvent
      { code: FEATURE.REMOVABLE_MEDIUM, current: true, persistent: true, data: Buffer.from([0x29, 0, 0, 0]) }, // tray, eject, lock
      ...(this.spec.options.writeProtected ? [{ code: FEATURE.WRITE_PROTECT, current: present, data: Buffer.from([0x08, 0, 0, 0]) }] : []), // DWP
      { code: FEATURE.RANDOM_READABLE, current: present, data: Buffer.concat([u32(BLOCK), Buffer.from([0, blocking, 0, 0])]) },
      { code: FEATURE.MULTI_READ, current: present && fam === 'cd', data: Buffer.alloc(0) },
      { code: FEATURE.CD_READ, current: present && fam === 'cd', data: Buffer.alloc(4) },
      ...(fam !== 'cd' ? [{ code: FEATURE.DVD_READ, current: present && fam === 'dvd', version: 1, data: Buffer.alloc(4) }] : []),
      { code: FEATURE.RANDOM_WRITABLE, current: ow && this.state.formatted, data: Buffer.concat([u32(lastLba, BLOCK), Buffer.from([0, blocking, 0, 0])]) },
      { code: FEATURE.INCREMENTAL_STREAMING_WRITABLE, current: is(PROFILE.CD_R, PROFILE.CD_RW, PROFILE.DVD_R_SEQ, PROFILE.DVD_RW_SEQ), data: Buffer.from([0x01, 0x00, 0x01 | 0x02, 1, 0, 0, 0, 0]) },
      { code: FEATURE.FORMATTABLE, current: is(PROFILE.DVD_PLUS_RW, PROFILE.DVD_RW_SEQ, PROFILE.DVD_RW_RO, PROFILE.DVD_RAM, PROFILE.BD_RE), data: Buffer.alloc(8) },
      ...(fam !== 'cd' ? [{ code: FEATURE.HARDWARE_DEFECT_MANAGEMENT, current: is(PROFILE.DVD_RAM, PROFILE.BD_RE), data: Buffer.alloc(4) }] : []),
      { code: FEATURE.WRITE_ONCE, current: is(PROFILE.BD_R_SRM) && false, data: Buffer.concat([u32(BLOCK), Buffer.from([0, blocking, 0, 0])]) },
      ...(fam !== 'cd' ? [
        { code: FEATURE.RESTRICTED_OVERWRITE, current: is(PROFILE.DVD_RW_RO), data: Buffer.alloc(0) },
        { code: FEATURE.DVD_PLUS_RW, current: is(PROFILE.DVD_PLUS_RW), data: Buffer.from([1, 0, 0, 0]) },
        { code: FEATURE.DVD_PLUS_R, current: is(PROFILE.DVD_PLUS_R, PROFILE.DVD_PLUS_R_DL), data: Buffer.from([1, 0, 0, 0]) },
        { code: FEATURE.DVD_R_RW_WRITE, current: is(PROFILE.DVD_R_SEQ, PROFILE.DVD_RW_SEQ), version: 1, data: Buffer.from([bufBit | 0x04 | 0x02, 0, 0, 0]) },
        { code: FEATURE.DVD_PLUS_R_DL, current: is(PROFILE.DVD_PLUS_R_DL), data: Buffer.from([1, 0, 0, 0]) },
      ] : []),
      { code: FEATURE.CD_TRACK_AT_ONCE, current: is(PROFILE.CD_R, PROFILE.CD_RW), version: 2, data: Buffer.from([bufBit | 0x04 | 0x02, 0, 0x00, 0x01 | 0x02]) },
      { code: FEATURE.CD_MASTERING, current: is(PROFILE.CD_R, PROFILE.CD_RW), data: Buffer.from([bufBit | 0x20 | 0x04 | 0x02, 0, 0x10, 0]) },
      ...(fam === 'bd' ? [
        { code: FEATURE.BD_READ, current: present, data: Buffer.alloc(28) },
        { code: FEATURE.BD_WRITE, current: is(PROFILE.BD_R_SRM, PROFILE.BD_RE), data: Buffer.alloc(28) },
      ] : []),
      { code: FEATURE.POWER_MANAGEMENT, current: true, persistent: true, data: Buffer.alloc(0) },
      { code: FEATURE.TIMEOUT, current: true, persistent: true, data: Buffer.alloc(4) },
      { code: FEATURE.REAL_TIME_STREAMING, current: present, version: 4, data: Buffer.from([0x1f, 0, 0, 0]) }, // RBCB SCS MP2A WSPD SW
    ];
  }

  private getConfiguration(cdb: Buffer): Buffer {
    const rt = cdb[1] & 3;
    const start = cdb.readUInt16BE(2);
    const parts: Buffer[] = [];
    for (const f of this.features()) {
      if (rt === 0 && f.code < start) continue;
      if (rt === 1 && (f.code < start || !f.current)) continue;
      if (rt === 2 && f.code !== start) continue;
      const h = Buffer.alloc(4);
      h.writeUInt16BE(f.code, 0);
      h[2] = ((f.version ?? 0) << 2) | (f.persistent ? 2 : 0) | (f.current ? 1 : 0);
      h[3] = f.data.length;
      parts.push(h, f.data);
    }
    const header = Buffer.alloc(8);
    const body = Buffer.concat(parts);
    header.writeUInt32BE(4 + body.length, 0);
    header.writeUInt16BE(this.profileNow(), 6);
    return Buffer.concat([header, body]);
  }

  private eventStatus(cdb: Buffer): Buffer {
    if (!(cdb[1] & 1)) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00); // only polled operation
    if (!(cdb[4] & 0x10)) {
      const b = Buffer.alloc(4);
      b.writeUInt16BE(2, 0);
      b[2] = 0x80; // NEA
      b[3] = 0x10;
      return b;
    }
    const b = Buffer.alloc(8);
    b.writeUInt16BE(6, 0);
    b[2] = 0x04; // media class
    b[3] = 0x10; // supported: media
    b[4] = this.mediaEvent;
    b[5] = (this.present() ? 0x02 : 0) | (this.state.trayOpen ? 0x01 : 0);
    this.mediaEvent = 0;
    return b;
  }

  private mechanismStatus(): Buffer {
    const b = Buffer.alloc(8);
    b[1] = (this.streaming ? 3 << 5 : 0) | (this.state.trayOpen ? 0x10 : 0);
    return b;
  }

  // ---- mode pages (MMC-6 clause 7) ----

  private capabilitiesPage(): Buffer {
    const speeds = [...this.model.speedsX].sort((a, b) => b - a);
    const b = Buffer.alloc(32 + speeds.length * 4);
    b[0] = 0x2a;
    b[1] = b.length - 2;
    const dvd = this.model.family !== 'cd';
    b[2] = 0x03 | (dvd ? 0x38 : 0); // reads CD-R, CD-RW (+ DVD-ROM, DVD-R, DVD-RAM)
    b[3] = 0x03 | (dvd ? 0x30 : 0); // writes CD-R, CD-RW (+ DVD-R, DVD-RAM)
    b[4] = (this.spec.options.noBufe ? 0 : 0x80) | 0x40; // BUF, multi-session
    b[6] = 0x29 | (this.preventRemoval ? 0x02 : 0); // tray loading, eject, lock (+ locked)
    b.writeUInt16BE(Math.min(0xffff, this.bufferBytes / 1024), 12);
    b.writeUInt16BE(Math.round(this.currentWriteKBps()), 28);
    b.writeUInt16BE(speeds.length, 30);
    speeds.forEach((x, i) => b.writeUInt16BE(Math.round(x * ONE_X_KBPS[this.model.family]), 32 + i * 4 + 2));
    return b;
  }

  private modeSense(cdb: Buffer): Buffer {
    const page = cdb[2] & 0x3f;
    const pc = cdb[2] >> 6;
    const pages: Buffer[] = [];
    const wp = encodeWriteParametersPage(this.writeParams);
    if (pc === 1) wp.fill(0xff, 2); // changeable values
    if (page === 0x05 || page === 0x3f) pages.push(wp);
    if (page === 0x2a || page === 0x3f) pages.push(this.capabilitiesPage());
    if (pages.length === 0) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    const body = Buffer.concat(pages);
    const h = Buffer.alloc(8);
    h.writeUInt16BE(6 + body.length, 0);
    return Buffer.concat([h, body]);
  }

  private modeSelect(out: Buffer): undefined {
    if (out.length < 10) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
    const off = 8 + out.readUInt16BE(6);
    const page = out.subarray(off);
    if (page.length < 2 || (page[0] & 0x3f) !== 0x05 || page.length < 2 + Math.min(page[1], 0x32) || page[1] < 0x0e) {
      throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
    }
    const p = decodeWriteParametersPage(page);
    const fam = this.model.family;
    if (fam === 'cd') {
      if (p.writeType > 2) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00); // no raw writing
      if (p.dataBlockType !== 8) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00); // data tracks: Mode 1 only
    } else if (this.dvdMinus()) {
      if (p.writeType !== 0 && p.writeType !== 2) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00); // incremental or DAO
      if (p.writeType === 2 && p.multiSession !== 0) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00); // DAO: one session, closed
    }
    if (this.spec.options.noBufe) p.bufe = false; // not changeable on this drive
    this.writeParams = p;
    return undefined;
  }

  // ---- speeds ----

  private currentWriteKBps(): number {
    const max = (this.spec.options.speedX ?? this.model.maxSpeedX) * ONE_X_KBPS[this.model.family];
    return this.selectedKBps > 0 ? Math.min(this.selectedKBps, max) : max;
  }

  /** Bytes per millisecond the drive writes at now; Infinity when the emulation is not throttled. */
  private drainRate(): number {
    if (this.spec.options.speedX === undefined) return Infinity;
    return this.currentWriteKBps(); // kB/s = bytes/ms
  }

  private getPerformance(cdb: Buffer): Buffer {
    const type = cdb[10];
    const end = Math.max(0, this.model.capacity - 1);
    if (type === 0x03) {
      const speeds = [...this.model.speedsX].filter((x) => x <= (this.spec.options.speedX ?? Infinity) || x === this.model.speedsX[0]).sort((a, b) => b - a);
      const max = cdb.readUInt16BE(8);
      const n = Math.min(max, speeds.length);
      const b = Buffer.alloc(8 + n * 16);
      b.writeUInt32BE(4 + n * 16, 0);
      for (let i = 0; i < n; i++) {
        const o = 8 + i * 16;
        const kbps = Math.round(speeds[i] * ONE_X_KBPS[this.model.family]);
        b[o] = 0x00;
        b.writeUInt32BE(end, o + 4);
        b.writeUInt32BE(Math.round(this.model.maxSpeedX * ONE_X_KBPS[this.model.family]), o + 8);
        b.writeUInt32BE(kbps, o + 12);
      }
      return b;
    }
    if (type === 0x00) {
      const b = Buffer.alloc(8 + 16);
      b.writeUInt32BE(4 + 16, 0);
      b[4] = cdb[1] & 0x04 ? 0x02 : 0;
      const kbps = Math.round(this.currentWriteKBps());
      b.writeUInt32BE(0, 8);
      b.writeUInt32BE(kbps, 12);
      b.writeUInt32BE(end, 16);
      b.writeUInt32BE(kbps, 20);
      return b;
    }
    throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
  }

  private setCdSpeed(cdb: Buffer): undefined {
    const w = cdb.readUInt16BE(4);
    this.selectedKBps = w === 0xffff ? 0 : w;
    return undefined;
  }

  private setStreaming(cdb: Buffer, out: Buffer): undefined {
    if (cdb[8] !== 0) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    if (out.length < 28) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
    const size = out.readUInt32BE(20);
    const time = out.readUInt32BE(24);
    if (time === 0) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
    this.selectedKBps = Math.round((size * 1000) / time);
    return undefined;
  }

  private async sendOpc(timeoutMs: number): Promise<undefined> {
    this.requireWritable();
    await this.sleep(2, timeoutMs);
    return undefined;
  }

  // ---- medium ----

  private startStop(cdb: Buffer): undefined {
    const loej = !!(cdb[4] & 2);
    const start = !!(cdb[4] & 1);
    if (!loej) return undefined;
    if (!start) {
      if (this.preventRemoval) throw new Check(SK.ILLEGAL_REQUEST, 0x53, 0x02);
      this.state.trayOpen = true;
      this.mediaEvent = 3;
      this.streaming = false;
      this.bufferFill = 0;
    } else if (this.state.trayOpen) {
      this.state.trayOpen = false;
      this.mediaEvent = 2;
      this.unitAttention = [0x28, 0x00];
    }
    this.save();
    return undefined;
  }

  private save(): void {
    if (this.model.kind !== 'rom') saveState(this.spec.file, this.state);
  }

  private requireWritable(): void {
    if (this.model.kind === 'rom') throw new Check(SK.ILLEGAL_REQUEST, 0x30, 0x00);
    if (this.spec.options.writeProtected) throw new Check(SK.DATA_PROTECT, 0x27, 0x00);
  }

  private dvdMinus(): boolean {
    return this.state.currentProfile === PROFILE.DVD_R_SEQ || this.state.currentProfile === PROFILE.DVD_RW_SEQ;
  }

  /** DVD-R/RW disc at once selected in page 05h. */
  private daoMode(): boolean {
    return this.dvdMinus() && this.writeParams.writeType === 2;
  }

  /** The open disc-at-once track, if any. */
  private daoTrack(): TrackState | undefined {
    return this.state.tracks.find((t) => t.dao && !t.closed);
  }

  /**
   * Disc at once ends when the last reserved block is in and the cache is flushed: the drive writes the lead-out
   * and the disc is complete (one track, one session, finalized).
   */
  private finishDao(t: TrackState): void {
    t.closed = true;
    this.state.closedSessions = Math.max(this.state.closedSessions, t.session);
    this.state.finalized = true;
  }

  private isOverwrite(): boolean {
    return this.model.kind === 'overwrite' || this.state.currentProfile === PROFILE.DVD_RW_RO;
  }

  // ---- tracks and sessions (sequential media) ----

  private openSession(): number {
    return this.state.closedSessions + 1;
  }

  /** Where the open session's next track starts when it has none yet. */
  private nextSessionStart(): number {
    const s = this.state;
    if (s.tracks.length === 0) return 0;
    const last = s.tracks[s.tracks.length - 1];
    const end = last.start + (last.reservedSize ?? last.recorded);
    if (last.session <= s.closedSessions) return align(end + this.model.sessionGap(s.closedSessions - 1), this.model.unit);
    return align(end, this.model.unit);
  }

  /** The tracks as a drive reports them: recorded ones plus the invisible track of an appendable disc. */
  private allTracks(): TrackState[] {
    const s = this.state;
    const tracks = [...s.tracks];
    if (!s.finalized && this.model.kind === 'sequential' && !this.isOverwrite()) {
      const last = tracks[tracks.length - 1];
      const hasInvisible = last && !last.closed && last.reservedSize === undefined;
      if (!hasInvisible) tracks.push({ number: (last?.number ?? 0) + 1, session: this.openSession(), start: this.nextSessionStart(), recorded: 0, closed: false });
    }
    return tracks;
  }

  private trackNwa(t: TrackState): number {
    return t.start + t.recorded;
  }

  private writableTrack(lba: number): TrackState | undefined {
    for (const t of this.allTracks()) {
      if (t.closed || t.session !== this.openSession()) continue;
      if (t.reservedSize !== undefined && t.recorded >= t.reservedSize) continue;
      if (this.trackNwa(t) === lba) return t;
    }
    return undefined;
  }

  private materialize(t: TrackState): TrackState {
    if (!this.state.tracks.includes(t)) this.state.tracks.push(t);
    return t;
  }

  private reserveTrack(cdb: Buffer): undefined {
    this.requireWritable();
    if (!this.model.reservable || this.isOverwrite()) throw new Check(SK.ILLEGAL_REQUEST, 0x20, 0x00);
    if (this.state.finalized) throw new Check(SK.ILLEGAL_REQUEST, 0x72, 0x05);
    if (cdb[1] & 1) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00); // ARSV (by address) not supported
    const tracks = this.allTracks();
    const inv = tracks[tracks.length - 1];
    if (inv.recorded > 0 || inv.reservedSize !== undefined) throw new Check(SK.ILLEGAL_REQUEST, 0x2c, 0x00);
    // Disc at once records one track on a blank disc (no appending to a disc that holds anything).
    const dao = this.daoMode();
    if (dao && (this.state.tracks.some((t) => t !== inv) || this.state.closedSessions > 0)) throw new Check(SK.ILLEGAL_REQUEST, 0x64, 0x00);
    const size = align(cdb.readUInt32BE(5), this.model.unit);
    if (size === 0 || inv.start + size > this.model.capacity) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    const t = this.materialize(inv);
    t.reservedSize = size;
    if (dao) t.dao = true;
    this.save();
    return undefined;
  }

  private async closeTrackSession(cdb: Buffer, timeoutMs: number): Promise<undefined> {
    this.requireWritable();
    const immed = !!(cdb[1] & 1);
    const fn = cdb[2] & 7;
    const number = cdb.readUInt16BE(4);
    const s = this.state;
    if (this.isOverwrite()) {
      if (fn !== 1 && fn !== 2 && fn !== 3) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    } else {
      if (s.finalized) throw new Check(SK.ILLEGAL_REQUEST, 0x2c, 0x00);
      const open = s.tracks.filter((t) => t.session === this.openSession());
      // Disc at once: the track must be written to its last reserved block (the drive does not pad it); then
      // closing is the same as the SYNCHRONIZE CACHE that already ended it.
      const dao = this.daoTrack();
      if (dao) {
        if (dao.recorded < (dao.reservedSize ?? 0)) throw new Check(SK.ILLEGAL_REQUEST, 0x2c, 0x00);
        this.finishDao(dao);
        this.save();
        if (immed) this.startLongOp(0x04, 0x07, CLOSE_MS);
        else await this.sleep(CLOSE_MS, timeoutMs);
        return undefined;
      }
      const closeTrack = (t: TrackState) => {
        if (t.reservedSize !== undefined && t.recorded < t.reservedSize) t.recorded = t.reservedSize; // the drive pads
        t.closed = true;
      };
      if (fn === 1) {
        const t = open.find((x) => x.number === number);
        if (!t) {
          const inv = this.allTracks().find((x) => x.number === number);
          if (!inv) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
        } else closeTrack(t);
      } else if (fn === 2 || fn === 5 || fn === 6) {
        const plus = s.currentProfile === PROFILE.DVD_PLUS_R || s.currentProfile === PROFILE.DVD_PLUS_R_DL || s.currentProfile === PROFILE.BD_R_SRM;
        if ((fn === 5 || fn === 6) && !plus) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
        s.tracks = s.tracks.filter((t) => !(t.session === this.openSession() && t.recorded === 0 && t.reservedSize === undefined));
        const inSession = s.tracks.filter((t) => t.session === this.openSession());
        if (inSession.length === 0) {
          if (fn === 2) throw new Check(SK.ILLEGAL_REQUEST, 0x2c, 0x00); // nothing to close
        } else {
          for (const t of inSession) closeTrack(t);
          s.closedSessions++;
        }
        // CD and DVD-R/RW: the Multi-session field of page 05h decides whether a next session is allowed.
        if (fn === 5 || fn === 6 || (!plus && this.writeParams.multiSession === 0) || s.closedSessions >= this.model.maxSessions) s.finalized = true;
      } else throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    }
    this.streaming = false;
    this.save();
    if (immed) this.startLongOp(0x04, 0x07, CLOSE_MS);
    else await this.sleep(CLOSE_MS, timeoutMs);
    return undefined;
  }

  private sendCueSheet(out: Buffer): undefined {
    this.requireWritable();
    if (this.model.family !== 'cd' || this.writeParams.writeType !== 2) throw new Check(SK.ILLEGAL_REQUEST, 0x2c, 0x00);
    if (out.length === 0 || out.length % 8 !== 0) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
    return undefined;
  }

  // ---- data ----

  private async write(lba: number, n: number, out: Buffer, timeoutMs: number): Promise<undefined> {
    this.requireWritable();
    if (out.length !== n * BLOCK) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    if (n === 0) return undefined;
    const s = this.state;
    let track: TrackState | undefined;
    if (this.isOverwrite()) {
      if (!s.formatted) throw new Check(SK.ILLEGAL_REQUEST, 0x30, 0x05);
      if (lba + n > s.formattedBlocks) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x00, lba);
    } else {
      if (s.finalized) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x02, lba);
      if (this.model.family === 'cd' && this.writeParams.writeType > 2) throw new Check(SK.ILLEGAL_REQUEST, 0x64, 0x00);
      track = this.writableTrack(lba);
      if (!track) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x02, lba); // write-once: only at a next writable address
      // Disc at once writes only into the track RESERVE TRACK made for it; an incremental write does not go
      // into a disc-at-once track.
      if (this.daoMode() !== !!track.dao) throw new Check(SK.ILLEGAL_REQUEST, 0x2c, 0x00, lba);
      const limit = track.reservedSize !== undefined ? track.start + track.reservedSize : this.model.capacity;
      if (lba + n > limit) throw new Check(SK.ILLEGAL_REQUEST, 0x63, 0x00, limit);
      track = this.materialize(track);
    }
    // Faults by spec, the first one inside this command.
    let fault: { kind: string; lba: number } | undefined;
    for (const f of this.spec.options.faults) {
      if ((f.kind === 'write-error' || f.kind === 'remove' || f.kind === 'underrun') && f.lba >= lba && f.lba < lba + n) {
        if (!fault || f.lba < fault.lba) fault = f;
      }
    }
    await this.throttle(n * BLOCK, timeoutMs, track);
    if (this.spec.options.slowMs) await this.sleep(this.spec.options.slowMs, timeoutMs);
    const record = (from: number, count: number) => {
      if (count <= 0) return;
      const off = (from - lba) * BLOCK;
      let done = 0;
      while (done < count * BLOCK) done += fs.writeSync(this.fd, out, off + done, count * BLOCK - done, from * BLOCK + done);
      if (track) track.recorded += count;
      else s.highWater = Math.max(s.highWater, from + count);
    };
    if (fault) {
      const before = fault.lba - lba;
      if (fault.kind === 'underrun' && (this.writeParams.bufe || this.isOverwrite())) {
        this.underrunsRecovered++;
      } else {
        record(lba, before);
        if (fault.kind === 'remove') {
          this.state.trayOpen = true;
          this.preventRemoval = false;
          this.mediaEvent = 3;
          this.streaming = false;
          this.save();
          throw new Check(SK.NOT_READY, 0x3a, 0x00);
        }
        if (track) track.damaged = true;
        this.save();
        if (fault.kind === 'underrun') throw new Check(SK.MEDIUM_ERROR, 0x0c, 0x09, fault.lba);
        throw new Check(SK.MEDIUM_ERROR, 0x0c, 0x00, fault.lba);
      }
    }
    record(lba, n);
    return undefined;
  }

  /** The drive buffer: accepts data at once while there is room, drains it at the write speed. */
  private async throttle(bytes: number, timeoutMs: number, track: TrackState | undefined): Promise<void> {
    const rate = this.drainRate();
    const now = performance.now();
    this.lastWriteBytes = bytes;
    if (rate === Infinity) {
      this.bufferFill = Math.min(this.bufferBytes, bytes);
      this.streaming = true;
      return;
    }
    const drained = (now - this.bufferTime) * rate;
    if (this.streaming && drained >= this.bufferFill && track) {
      // The buffer ran dry while a track was being written: a buffer underrun.
      if (!this.writeParams.bufe) {
        track.damaged = true;
        this.streaming = false;
        this.save();
        throw new Check(SK.MEDIUM_ERROR, 0x0c, 0x09, this.trackNwa(track));
      }
      this.underrunsRecovered++;
    }
    this.bufferFill = Math.max(0, this.bufferFill - drained) + bytes;
    this.bufferTime = now;
    this.streaming = true;
    if (this.bufferFill > this.bufferBytes) {
      const wait = (this.bufferFill - this.bufferBytes) / rate;
      await this.sleep(wait, timeoutMs);
      this.bufferFill = this.bufferBytes;
      this.bufferTime = performance.now();
    }
  }

  private bufferNow(): number {
    const rate = this.drainRate();
    if (rate === Infinity) return this.streaming ? Math.min(this.bufferFill, this.lastWriteBytes) : 0;
    return Math.max(0, this.bufferFill - (performance.now() - this.bufferTime) * rate);
  }

  private bufferCapacity(cdb: Buffer): Buffer {
    if (cdb[1] & 1) {
      const b = Buffer.alloc(12);
      b.writeUInt16BE(10, 0);
      b[3] = 1;
      b.writeUInt32BE(Math.floor((this.bufferBytes - this.bufferNow()) / BLOCK), 8);
      return b;
    }
    const b = Buffer.alloc(12);
    b.writeUInt16BE(10, 0);
    b.writeUInt32BE(this.bufferBytes, 4);
    b.writeUInt32BE(Math.floor(this.bufferBytes - this.bufferNow()), 8);
    return b;
  }

  private async synchronizeCache(cdb: Buffer, timeoutMs: number): Promise<undefined> {
    const rate = this.drainRate();
    let drainMs = (rate === Infinity ? 0 : this.bufferNow() / rate) + FLUSH_MS;
    const dao = this.daoTrack();
    if (dao && dao.recorded === dao.reservedSize) {
      this.finishDao(dao); // the lead-out follows the last reserved block
      drainMs += CLOSE_MS;
    }
    this.streaming = false;
    this.bufferFill = 0;
    this.bufferTime = performance.now();
    this.save();
    if (cdb[1] & 0x02) this.startLongOp(0x04, 0x08, drainMs);
    else await this.sleep(drainMs, timeoutMs);
    return undefined;
  }

  private readable(lba: number, n: number): boolean {
    const s = this.state;
    if (this.model.kind === 'rom') return lba + n <= this.romBlocks();
    if (this.isOverwrite()) return s.formatted && lba + n <= s.formattedBlocks;
    for (const t of s.tracks) if (lba >= t.start && lba + n <= t.start + t.recorded) return true;
    return false;
  }

  private romBlocks(): number {
    return Math.ceil(fs.fstatSync(this.fd).size / BLOCK);
  }

  private read(lba: number, n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    if (!this.readable(lba, n)) throw new Check(SK.ILLEGAL_REQUEST, 0x21, 0x00, lba);
    for (const f of this.spec.options.faults) {
      if (f.kind === 'read-error' && f.lba >= lba && f.lba < lba + n) throw new Check(SK.MEDIUM_ERROR, 0x11, 0x00, f.lba);
    }
    const b = Buffer.allocUnsafe(n * BLOCK);
    let done = 0;
    while (done < b.length) {
      const got = fs.readSync(this.fd, b, done, b.length - done, lba * BLOCK + done);
      if (got === 0) break;
      done += got;
    }
    if (done < b.length) b.fill(0, done);
    return b;
  }

  // ---- disc and track information ----

  private discInformation(cdb: Buffer): Buffer {
    if ((cdb[1] & 7) !== 0) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    const s = this.state;
    const b = Buffer.alloc(34);
    b.writeUInt16BE(32, 0);
    const erasable = ['cd-rw', 'dvd-rw', 'dvd+rw', 'dvd-ram', 'bd-re'].includes(s.profile);
    let status: number;
    let lastState: number;
    let sessions: number;
    let firstTrackLast: number;
    let lastTrackLast: number;
    if (this.model.kind === 'rom') {
      status = 2; lastState = 3; sessions = 1; firstTrackLast = 1; lastTrackLast = 1;
    } else if (this.isOverwrite()) {
      status = s.formatted ? 3 : 0; lastState = s.formatted ? 3 : 0; sessions = 1; firstTrackLast = 1; lastTrackLast = 1;
    } else {
      const tracks = this.allTracks();
      const written = s.tracks.some((t) => t.recorded > 0 || t.reservedSize !== undefined);
      status = s.finalized ? 2 : written ? 1 : 0;
      const lastSession = s.finalized ? s.closedSessions : this.openSession();
      const inLast = tracks.filter((t) => t.session === lastSession);
      lastState = s.finalized ? 3 : inLast.some((t) => t.recorded > 0 || t.reservedSize !== undefined) ? 1 : 0;
      sessions = lastSession;
      firstTrackLast = inLast[0]?.number ?? tracks.length;
      lastTrackLast = inLast[inLast.length - 1]?.number ?? tracks.length;
    }
    b[2] = (erasable ? 0x10 : 0) | (lastState << 2) | status;
    b[3] = 1;
    b[4] = sessions & 0xff;
    b[5] = firstTrackLast & 0xff;
    b[6] = lastTrackLast & 0xff;
    b[7] = 0x20 | (s.profile === 'dvd+rw' && s.formatted ? 3 : 0); // URU; BG format status
    b[8] = this.model.family === 'cd' ? 0x00 : 0xff;
    b[9] = sessions >> 8;
    b[10] = firstTrackLast >> 8;
    b[11] = lastTrackLast >> 8;
    const nextStart = this.model.kind === 'sequential' && !this.isOverwrite() && !s.finalized ? this.nextSessionStart() : 0xffffffff;
    b.writeUInt32BE(nextStart >>> 0, 16);
    b.writeUInt32BE(this.model.capacity, 20);
    return b;
  }

  private trackBlock(t: TrackState): Buffer {
    const b = Buffer.alloc(48);
    b.writeUInt16BE(46, 0);
    b[2] = t.number & 0xff;
    b[3] = t.session & 0xff;
    const invisible = !t.closed && t.reservedSize === undefined;
    b[5] = (t.damaged ? 0x20 : 0) | (this.model.family === 'cd' ? (this.writeParams.trackMode || 4) : 0x07) & 0x0f;
    const writable = !t.closed && (t.reservedSize === undefined || t.recorded < t.reservedSize) && !this.state.finalized;
    b[6] = (t.reservedSize !== undefined ? 0x80 : 0) | (t.recorded === 0 && invisible ? 0x40 : 0) | (invisible ? 0x20 : 0) | 0x01;
    b[7] = (t.recorded > 0 ? 0x02 : 0) | (writable ? 0x01 : 0);
    b.writeUInt32BE(t.start, 8);
    const size = t.reservedSize ?? (t.closed ? t.recorded : this.model.capacity - t.start);
    b.writeUInt32BE(writable ? t.start + t.recorded : 0, 12);
    b.writeUInt32BE(writable ? size - t.recorded : 0, 16);
    b.writeUInt32BE(this.model.unit, 20);
    b.writeUInt32BE(size, 24);
    b.writeUInt32BE(t.recorded > 0 ? t.start + t.recorded - 1 : 0, 28);
    b[32] = t.number >> 8;
    b[33] = t.session >> 8;
    return b;
  }

  private trackInformation(cdb: Buffer): Buffer {
    const type = cdb[1] & 3;
    const value = cdb.readUInt32BE(2);
    const s = this.state;
    let tracks: TrackState[];
    if (this.model.kind === 'rom') tracks = [{ number: 1, session: 1, start: 0, recorded: this.romBlocks(), closed: true }];
    else if (this.isOverwrite()) {
      const size = s.formatted ? s.formattedBlocks : this.model.capacity;
      const b = this.trackBlock({ number: 1, session: 1, start: 0, recorded: 0, closed: true });
      b[6] = 0x10 | 0x01; // FP (fixed packet) for restricted overwrite style; data mode 1
      b[7] = 0x01;
      b.writeUInt32BE(0, 12);
      b.writeUInt32BE(s.formatted ? size : 0, 16);
      b.writeUInt32BE(size, 24);
      b.writeUInt32BE(Math.max(0, s.highWater - 1), 28);
      b[7] |= s.highWater > 0 ? 0x02 : 0;
      if (type === 1 && value !== 1 && value !== 0xff) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
      return b;
    } else tracks = this.allTracks();
    let t: TrackState | undefined;
    if (type === 0) t = tracks.find((x) => value >= x.start && value < x.start + (x.reservedSize ?? (x.closed ? x.recorded : this.model.capacity - x.start)));
    else if (type === 1) t = value === 0xff ? tracks.find((x) => !x.closed && x.reservedSize === undefined) : tracks.find((x) => x.number === value);
    else if (type === 2) t = tracks.find((x) => x.session === value);
    if (!t) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    return this.trackBlock(t);
  }

  private readToc(cdb: Buffer): Buffer {
    const format = cdb[2] & 0x0f;
    const s = this.state;
    const tracks = this.model.kind === 'rom'
      ? [{ number: 1, session: 1, start: 0, recorded: this.romBlocks(), closed: true } as TrackState]
      : this.isOverwrite()
        ? (s.formatted ? [{ number: 1, session: 1, start: 0, recorded: s.formattedBlocks, closed: true } as TrackState] : [])
        : s.tracks.filter((t) => t.closed && t.session <= s.closedSessions);
    const control = this.model.family === 'cd' ? 4 : 4;
    if (format === 0) {
      if (tracks.length === 0) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
      const last = tracks[tracks.length - 1];
      const entries = [...tracks.map((t) => ({ n: t.number, start: t.start })), { n: 0xaa, start: last.start + last.recorded }];
      const b = Buffer.alloc(4 + entries.length * 8);
      b.writeUInt16BE(2 + entries.length * 8, 0);
      b[2] = tracks[0].number;
      b[3] = last.number;
      entries.forEach((e, i) => {
        const o = 4 + i * 8;
        b[o + 1] = 0x10 | control;
        b[o + 2] = e.n;
        b.writeUInt32BE(e.start, o + 4);
      });
      return b;
    }
    if (format === 1) {
      if (tracks.length === 0) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
      const lastSession = tracks[tracks.length - 1].session;
      const first = tracks.find((t) => t.session === lastSession)!;
      const b = Buffer.alloc(12);
      b.writeUInt16BE(10, 0);
      b[2] = 1;
      b[3] = lastSession;
      b[5] = 0x10 | control;
      b[6] = first.number;
      b.writeUInt32BE(first.start, 8);
      return b;
    }
    if (format === 4 && this.model.family === 'cd') {
      // ATIP (MMC-6 READ TOC/PMA/ATIP format 0100b): lead-in start and last possible lead-out start as MSF.
      const b = Buffer.alloc(28);
      b.writeUInt16BE(26, 0);
      b[6] = s.profile === 'cd-rw' ? 0x40 : 0; // Disc Type: CD-RW
      const msf = (lba: number, o: number) => {
        const f = lba + 150;
        b[o + 1] = Math.floor(f / 4500);
        b[o + 2] = Math.floor(f / 75) % 60;
        b[o + 3] = f % 75;
      };
      msf(-11_634 + 0, 8); // 97:26:66 style lead-in start (as a negative LBA)
      b[8] = 0;
      msf(this.model.capacity, 12);
      return b;
    }
    throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
  }

  private formatCapacities(): Buffer {
    const s = this.state;
    const descs: { blocks: number; type: number; param: number }[] = [];
    let current: { blocks: number; code: number };
    if (!this.present()) current = { blocks: 0, code: 3 };
    else if (this.model.formattable) {
      const formatted = s.formatted;
      current = { blocks: formatted ? s.formattedBlocks : this.model.capacity, code: formatted ? 2 : 1 };
      const cap = this.model.capacity;
      const fcap = this.model.formattedCapacity;
      switch (s.profile) {
        case 'dvd+rw': descs.push({ blocks: cap, type: 0x26, param: 0 }); break;
        case 'bd-re': descs.push({ blocks: fcap, type: 0x00, param: 0x3000 }, { blocks: fcap, type: 0x30, param: 0x3000 }, { blocks: cap, type: 0x31, param: 0 }); break;
        case 'dvd-rw': descs.push({ blocks: cap, type: 0x10, param: 16 }, { blocks: cap, type: 0x15, param: 16 }); break;
        case 'dvd-ram': descs.push({ blocks: fcap, type: 0x00, param: 0 }); break;
        default: break;
      }
    } else {
      const used = s.tracks.some((t) => t.recorded > 0);
      current = { blocks: this.model.kind === 'rom' ? this.romBlocks() : this.model.capacity, code: used || this.model.kind === 'rom' ? 2 : 1 };
    }
    const b = Buffer.alloc(12 + descs.length * 8);
    b[3] = 8 + descs.length * 8;
    b.writeUInt32BE(current.blocks >>> 0, 4);
    b[8] = current.code;
    b.writeUIntBE(BLOCK, 9, 3);
    descs.forEach((d, i) => {
      const o = 12 + i * 8;
      b.writeUInt32BE(d.blocks >>> 0, o);
      b[o + 4] = d.type << 2;
      b.writeUIntBE(d.param, o + 5, 3);
    });
    return b;
  }

  private readCapacity(): Buffer {
    const s = this.state;
    let last = 0;
    if (this.model.kind === 'rom') last = this.romBlocks() - 1;
    else if (this.isOverwrite()) last = (s.formatted ? s.formattedBlocks : this.model.capacity) - 1;
    else {
      const recorded = s.tracks.filter((t) => t.recorded > 0);
      const t = recorded[recorded.length - 1];
      last = t ? t.start + t.recorded - 1 : 0;
    }
    const b = Buffer.alloc(8);
    b.writeUInt32BE(Math.max(0, last) >>> 0, 0);
    b.writeUInt32BE(BLOCK, 4);
    return b;
  }

  // ---- erase and format ----

  private async blank(cdb: Buffer, timeoutMs: number): Promise<undefined> {
    this.requireWritable();
    const type = cdb[1] & 7;
    if (!this.model.blankable) throw new Check(SK.ILLEGAL_REQUEST, 0x30, 0x05);
    if (type > 1) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    const fresh = blankState(this.model);
    fresh.trayOpen = false;
    this.state = fresh;
    fs.ftruncateSync(this.fd, 0);
    this.writeParams = this.defaultWriteParams();
    this.save();
    const ms = type === 0 ? FULL_MS : QUICK_MS;
    if (cdb[1] & 0x10) this.startLongOp(0x04, 0x07, ms);
    else await this.sleep(ms, timeoutMs);
    return undefined;
  }

  private async formatUnit(cdb: Buffer, out: Buffer, timeoutMs: number): Promise<undefined> {
    this.requireWritable();
    if (!this.model.formattable) throw new Check(SK.ILLEGAL_REQUEST, 0x30, 0x05);
    if ((cdb[1] & 0x17) !== 0x11 || out.length < 12) throw new Check(SK.ILLEGAL_REQUEST, 0x24, 0x00);
    const immed = !!(out[1] & 0x02);
    const blocks = out.readUInt32BE(4);
    const type = out[8] >> 2;
    const sub = out[8] & 3;
    const s = this.state;
    let full = false;
    let formattedBlocks = this.model.formattedCapacity;
    switch (s.profile) {
      case 'dvd+rw':
        if (type !== 0x26) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
        formattedBlocks = this.model.capacity;
        break;
      case 'bd-re':
        if (type !== 0x00 && type !== 0x30 && type !== 0x31) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
        full = type === 0x30 && sub === 2; // full certification
        formattedBlocks = type === 0x31 ? this.model.capacity : this.model.formattedCapacity;
        break;
      case 'dvd-rw':
        if (type !== 0x10 && type !== 0x15) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
        full = type === 0x10;
        formattedBlocks = this.model.capacity;
        s.currentProfile = PROFILE.DVD_RW_RO;
        s.tracks = [];
        s.closedSessions = 0;
        s.finalized = false;
        break;
      case 'dvd-ram':
        if (type !== 0x00) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
        full = true;
        break;
      default:
        throw new Check(SK.ILLEGAL_REQUEST, 0x30, 0x05);
    }
    if (blocks > formattedBlocks && blocks !== 0xffffffff) throw new Check(SK.ILLEGAL_REQUEST, 0x26, 0x00);
    s.formatted = true;
    s.formattedBlocks = formattedBlocks;
    if (full) {
      fs.ftruncateSync(this.fd, 0);
      s.highWater = 0;
    }
    this.save();
    const ms = full ? FULL_MS : QUICK_MS;
    if (immed) this.startLongOp(0x04, 0x04, ms);
    else await this.sleep(ms, timeoutMs);
    return undefined;
  }
}

function align(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
