/**
 * MMC-6 (T10/1836-D, INCITS 468-2010) and SPC commands as bytes: opcodes, CDB builders and decoders of what the
 * drive returns. Pure functions, shared by the engine (builds CDBs, decodes data) and the emulated recorder
 * (decodes CDBs, builds data), so both sides read the same tables. Clauses are cited by their MMC-6 titles:
 * clause 5 "Features and profiles" (GET CONFIGURATION), clause 6 "Commands" (one subclause per command, in
 * alphabetical order), clause 7 "Mode parameters".
 */

export const OP = {
  TEST_UNIT_READY: 0x00,
  REQUEST_SENSE: 0x03,
  FORMAT_UNIT: 0x04,
  INQUIRY: 0x12,
  MODE_SELECT_6: 0x15,
  MODE_SENSE_6: 0x1a,
  START_STOP_UNIT: 0x1b,
  PREVENT_ALLOW_MEDIUM_REMOVAL: 0x1e,
  READ_FORMAT_CAPACITIES: 0x23,
  READ_CAPACITY: 0x25,
  READ_10: 0x28,
  WRITE_10: 0x2a,
  SYNCHRONIZE_CACHE: 0x35,
  READ_TOC_PMA_ATIP: 0x43,
  GET_CONFIGURATION: 0x46,
  GET_EVENT_STATUS_NOTIFICATION: 0x4a,
  READ_DISC_INFORMATION: 0x51,
  READ_TRACK_INFORMATION: 0x52,
  RESERVE_TRACK: 0x53,
  SEND_OPC_INFORMATION: 0x54,
  MODE_SELECT_10: 0x55,
  MODE_SENSE_10: 0x5a,
  CLOSE_TRACK_SESSION: 0x5b,
  READ_BUFFER_CAPACITY: 0x5c,
  SEND_CUE_SHEET: 0x5d,
  BLANK: 0xa1,
  READ_12: 0xa8,
  WRITE_12: 0xaa,
  GET_PERFORMANCE: 0xac,
  SET_STREAMING: 0xb6,
  SET_CD_SPEED: 0xbb,
  MECHANISM_STATUS: 0xbd,
} as const;

export const OP_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OP).map(([k, v]) => [v, k.replace(/_/g, ' ').replace(/ (\d+)$/, '($1)')]),
);

export function opName(op: number): string {
  return OP_NAMES[op] ?? `opcode ${op.toString(16).padStart(2, '0')}h`;
}

// ------------------------------------------------------------------------------------------------
// Profiles (MMC-6 5.3.1, "Profile List": the profile numbers) and the media families built on them

export const PROFILE = {
  NONE: 0x0000,
  CD_ROM: 0x0008,
  CD_R: 0x0009,
  CD_RW: 0x000a,
  DVD_ROM: 0x0010,
  DVD_R_SEQ: 0x0011,
  DVD_RAM: 0x0012,
  DVD_RW_RO: 0x0013,
  DVD_RW_SEQ: 0x0014,
  DVD_R_DL_SEQ: 0x0015,
  DVD_PLUS_RW: 0x001a,
  DVD_PLUS_R: 0x001b,
  DVD_PLUS_R_DL: 0x002b,
  BD_ROM: 0x0040,
  BD_R_SRM: 0x0041,
  BD_R_RRM: 0x0042,
  BD_RE: 0x0043,
} as const;

export const PROFILE_NAMES: Record<number, string> = {
  0x0000: 'no medium',
  0x0008: 'CD-ROM',
  0x0009: 'CD-R',
  0x000a: 'CD-RW',
  0x0010: 'DVD-ROM',
  0x0011: 'DVD-R',
  0x0012: 'DVD-RAM',
  0x0013: 'DVD-RW (restricted overwrite)',
  0x0014: 'DVD-RW (sequential)',
  0x0015: 'DVD-R DL',
  0x0016: 'DVD-R DL (layer jump)',
  0x001a: 'DVD+RW',
  0x001b: 'DVD+R',
  0x002a: 'DVD+RW DL',
  0x002b: 'DVD+R DL',
  0x0040: 'BD-ROM',
  0x0041: 'BD-R (SRM)',
  0x0042: 'BD-R (RRM)',
  0x0043: 'BD-RE',
};

export function profileName(p: number): string {
  return PROFILE_NAMES[p] ?? `profile ${p.toString(16).padStart(4, '0')}h`;
}

export type Family = 'cd' | 'dvd' | 'bd';

/**
 * How a profile is written. sequential: write-once or sequential recording (tracks, sessions, NWA);
 * overwrite: random writable (formatted) media; rom: read only.
 */
export interface ProfileInfo {
  family: Family;
  kind: 'sequential' | 'overwrite' | 'rom';
  erasable: boolean;
  /** IMAPI's physical type name. */
  physical: string;
}

export function profileInfo(p: number): ProfileInfo | undefined {
  switch (p) {
    case PROFILE.CD_ROM: return { family: 'cd', kind: 'rom', erasable: false, physical: 'CD-ROM' };
    case PROFILE.CD_R: return { family: 'cd', kind: 'sequential', erasable: false, physical: 'CD-R' };
    case PROFILE.CD_RW: return { family: 'cd', kind: 'sequential', erasable: true, physical: 'CD-RW' };
    case PROFILE.DVD_ROM: return { family: 'dvd', kind: 'rom', erasable: false, physical: 'DVD-ROM' };
    case PROFILE.DVD_R_SEQ: return { family: 'dvd', kind: 'sequential', erasable: false, physical: 'DVD-R' };
    case PROFILE.DVD_R_DL_SEQ: return { family: 'dvd', kind: 'sequential', erasable: false, physical: 'DVD-R DL' };
    case PROFILE.DVD_RAM: return { family: 'dvd', kind: 'overwrite', erasable: true, physical: 'DVD-RAM' };
    case PROFILE.DVD_RW_RO: return { family: 'dvd', kind: 'overwrite', erasable: true, physical: 'DVD-RW' };
    case PROFILE.DVD_RW_SEQ: return { family: 'dvd', kind: 'sequential', erasable: true, physical: 'DVD-RW' };
    case PROFILE.DVD_PLUS_RW: return { family: 'dvd', kind: 'overwrite', erasable: true, physical: 'DVD+RW' };
    case PROFILE.DVD_PLUS_R: return { family: 'dvd', kind: 'sequential', erasable: false, physical: 'DVD+R' };
    case PROFILE.DVD_PLUS_R_DL: return { family: 'dvd', kind: 'sequential', erasable: false, physical: 'DVD+R DL' };
    case PROFILE.BD_ROM: return { family: 'bd', kind: 'rom', erasable: false, physical: 'BD-ROM' };
    case PROFILE.BD_R_SRM: return { family: 'bd', kind: 'sequential', erasable: false, physical: 'BD-R' };
    case PROFILE.BD_R_RRM: return { family: 'bd', kind: 'overwrite', erasable: false, physical: 'BD-R' };
    case PROFILE.BD_RE: return { family: 'bd', kind: 'overwrite', erasable: true, physical: 'BD-RE' };
    default: return undefined;
  }
}

/** 1× in kB/s (1000 bytes) as MMC speeds count them: CD 176.4 (MMC-6 SET CD SPEED), DVD 1385, BD 4495. */
export const ONE_X_KBPS: Record<Family, number> = { cd: 176.4, dvd: 1385, bd: 4495 };

/** Feature codes (MMC-6 5.3, "Feature Definitions"). */
export const FEATURE = {
  PROFILE_LIST: 0x0000,
  CORE: 0x0001,
  MORPHING: 0x0002,
  REMOVABLE_MEDIUM: 0x0003,
  WRITE_PROTECT: 0x0004,
  RANDOM_READABLE: 0x0010,
  MULTI_READ: 0x001d,
  CD_READ: 0x001e,
  DVD_READ: 0x001f,
  RANDOM_WRITABLE: 0x0020,
  INCREMENTAL_STREAMING_WRITABLE: 0x0021,
  FORMATTABLE: 0x0023,
  HARDWARE_DEFECT_MANAGEMENT: 0x0024,
  WRITE_ONCE: 0x0025,
  RESTRICTED_OVERWRITE: 0x0026,
  DVD_PLUS_RW: 0x002a,
  DVD_PLUS_R: 0x002b,
  CD_TRACK_AT_ONCE: 0x002d,
  CD_MASTERING: 0x002e,
  DVD_R_RW_WRITE: 0x002f,
  DVD_PLUS_R_DL: 0x003b,
  BD_READ: 0x0040,
  BD_WRITE: 0x0041,
  POWER_MANAGEMENT: 0x0100,
  TIMEOUT: 0x0105,
  REAL_TIME_STREAMING: 0x0107,
} as const;

// ------------------------------------------------------------------------------------------------
// CDB builders (engine side). Each returns the CDB; lengths are big-endian as everywhere in SCSI.

function cdb(len: 6 | 10 | 12, op: number): Buffer {
  const b = Buffer.alloc(len);
  b[0] = op;
  return b;
}

/** TEST UNIT READY (SPC-4; MMC-6 6 "TEST UNIT READY"). */
export const testUnitReady = () => cdb(6, OP.TEST_UNIT_READY);

/** REQUEST SENSE (SPC-4; MMC-6 "REQUEST SENSE"). */
export function requestSense(alloc = 18): Buffer {
  const b = cdb(6, OP.REQUEST_SENSE);
  b[4] = alloc;
  return b;
}

/** INQUIRY (SPC-4 6.4), standard data. */
export function inquiry(alloc = 96): Buffer {
  const b = cdb(6, OP.INQUIRY);
  b.writeUInt16BE(alloc, 3);
  return b;
}

/** GET CONFIGURATION (MMC-6 "GET CONFIGURATION", 46h): RT 0 all, 1 current, 2 one feature. */
export function getConfiguration(rt: 0 | 1 | 2, startingFeature: number, alloc: number): Buffer {
  const b = cdb(10, OP.GET_CONFIGURATION);
  b[1] = rt;
  b.writeUInt16BE(startingFeature, 2);
  b.writeUInt16BE(alloc, 7);
  return b;
}

/** READ DISC INFORMATION (MMC-6 "READ DISC INFORMATION", 51h), standard disc information (type 000b). */
export function readDiscInformation(alloc = 34): Buffer {
  const b = cdb(10, OP.READ_DISC_INFORMATION);
  b.writeUInt16BE(alloc, 7);
  return b;
}

/** READ TRACK INFORMATION (MMC-6 "READ TRACK INFORMATION", 52h). type 0 LBA, 1 track number, 2 session number. */
export function readTrackInformation(type: 0 | 1 | 2, value: number, alloc = 48): Buffer {
  const b = cdb(10, OP.READ_TRACK_INFORMATION);
  b[1] = type;
  b.writeUInt32BE(value >>> 0, 2);
  b.writeUInt16BE(alloc, 7);
  return b;
}

/** READ TOC/PMA/ATIP (MMC-6 "READ TOC/PMA/ATIP", 43h): format 0 TOC, 1 session information, 4 ATIP. */
export function readToc(format: 0 | 1 | 2 | 4, trackOrSession: number, alloc = 2048, msf = false): Buffer {
  const b = cdb(10, OP.READ_TOC_PMA_ATIP);
  b[1] = msf ? 0x02 : 0;
  b[2] = format & 0x0f;
  b[6] = trackOrSession;
  b.writeUInt16BE(alloc, 7);
  return b;
}

/** READ FORMAT CAPACITIES (MMC-6 "READ FORMAT CAPACITIES", 23h). */
export function readFormatCapacities(alloc = 252): Buffer {
  const b = cdb(10, OP.READ_FORMAT_CAPACITIES);
  b.writeUInt16BE(alloc, 7);
  return b;
}

/** READ CAPACITY (MMC-6 "READ CAPACITY", 25h). */
export const readCapacity = () => cdb(10, OP.READ_CAPACITY);

/** GET EVENT STATUS NOTIFICATION (MMC-6, 4Ah), polled, media class. */
export function getEventStatusNotification(alloc = 8): Buffer {
  const b = cdb(10, OP.GET_EVENT_STATUS_NOTIFICATION);
  b[1] = 0x01; // Polled
  b[4] = 0x10; // notification class request: media
  b.writeUInt16BE(alloc, 7);
  return b;
}

/** MECHANISM STATUS (MMC-6 "MECHANISM STATUS", BDh). */
export function mechanismStatus(alloc = 8): Buffer {
  const b = cdb(12, OP.MECHANISM_STATUS);
  b.writeUInt16BE(alloc, 8);
  return b;
}

/** MODE SENSE (10) (SPC-4 6.12; MMC-6 clause 7 pages), current values, no block descriptors. */
export function modeSense10(page: number, alloc = 256, pc: 0 | 1 | 2 | 3 = 0): Buffer {
  const b = cdb(10, OP.MODE_SENSE_10);
  b[1] = 0x08; // DBD
  b[2] = (pc << 6) | (page & 0x3f);
  b.writeUInt16BE(alloc, 7);
  return b;
}

/** MODE SELECT (10) (SPC-4 6.10), PF = 1. */
export function modeSelect10(paramLength: number): Buffer {
  const b = cdb(10, OP.MODE_SELECT_10);
  b[1] = 0x10; // PF
  b.writeUInt16BE(paramLength, 7);
  return b;
}

/** GET PERFORMANCE (MMC-6 "GET PERFORMANCE", ACh), type 03h: write speed descriptors. */
export function getPerformanceWriteSpeed(maxDescriptors = 32): Buffer {
  const b = cdb(12, OP.GET_PERFORMANCE);
  b.writeUInt16BE(maxDescriptors, 8);
  b[10] = 0x03;
  return b;
}

/** SET STREAMING (MMC-6 "SET STREAMING", B6h), type 0: one performance descriptor (28 bytes). */
export function setStreaming(paramLength = 28): Buffer {
  const b = cdb(12, OP.SET_STREAMING);
  b.writeUInt16BE(paramLength, 9);
  return b;
}

/** The performance descriptor of SET STREAMING: the whole disc, `kBps` kB/s for reading and writing. */
export function performanceDescriptor(endLba: number, kBps: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0; // WRC 0 default rotational control, RDD 0, Exact 0, RA 0
  b.writeUInt32BE(0, 4); // start LBA
  b.writeUInt32BE(endLba >>> 0, 8);
  b.writeUInt32BE(kBps, 12); // read size (kB) per read time (ms 1000)
  b.writeUInt32BE(1000, 16);
  b.writeUInt32BE(kBps, 20); // write size per write time
  b.writeUInt32BE(1000, 24);
  return b;
}

/** SET CD SPEED (MMC-6 "SET CD SPEED", BBh): speeds in kB/s, FFFFh = maximum. */
export function setCdSpeed(readKBps: number, writeKBps: number): Buffer {
  const b = cdb(12, OP.SET_CD_SPEED);
  b.writeUInt16BE(Math.min(readKBps, 0xffff), 2);
  b.writeUInt16BE(Math.min(writeKBps, 0xffff), 4);
  return b;
}

/** SEND OPC INFORMATION (MMC-6, 54h) with DoOpc = 1: the drive calibrates its laser power now. */
export function sendOpcInformation(): Buffer {
  const b = cdb(10, OP.SEND_OPC_INFORMATION);
  b[1] = 0x01;
  return b;
}

/** RESERVE TRACK (MMC-6 "RESERVE TRACK", 53h), ARSV = 0: reserve `blocks` blocks from the NWA. */
export function reserveTrack(blocks: number): Buffer {
  const b = cdb(10, OP.RESERVE_TRACK);
  b.writeUInt32BE(blocks >>> 0, 5);
  return b;
}

/** SEND CUE SHEET (MMC-6 "SEND CUE SHEET", 5Dh): the cue sheet (8-byte entries) of a session-at-once write follows. */
export function sendCueSheet(bytes: number): Buffer {
  const b = cdb(10, OP.SEND_CUE_SHEET);
  b.writeUIntBE(bytes, 6, 3);
  return b;
}

/** CLOSE TRACK/SESSION (MMC-6, 5Bh). Close functions: 1 track, 2 session (border), 5/6 finalize (DVD+R, BD-R). */
export function closeTrackSession(fn: 1 | 2 | 5 | 6, track: number, immed: boolean): Buffer {
  const b = cdb(10, OP.CLOSE_TRACK_SESSION);
  b[1] = immed ? 1 : 0;
  b[2] = fn;
  b.writeUInt16BE(track, 4);
  return b;
}

/** SYNCHRONIZE CACHE (10) (MMC-6 "SYNCHRONIZE CACHE", 35h). */
export function synchronizeCache(immed: boolean): Buffer {
  const b = cdb(10, OP.SYNCHRONIZE_CACHE);
  b[1] = immed ? 0x02 : 0;
  return b;
}

/** READ BUFFER CAPACITY (MMC-6, 5Ch), Block = 0: bytes. */
export function readBufferCapacity(alloc = 12): Buffer {
  const b = cdb(10, OP.READ_BUFFER_CAPACITY);
  b.writeUInt16BE(alloc, 7);
  return b;
}

/** WRITE (10) (MMC-6 "WRITE (10)", 2Ah). */
export function write10(lba: number, blocks: number): Buffer {
  const b = cdb(10, OP.WRITE_10);
  b.writeUInt32BE(lba >>> 0, 2);
  b.writeUInt16BE(blocks, 7);
  return b;
}

/** READ (10) (MMC-6 "READ (10)", 28h). */
export function read10(lba: number, blocks: number): Buffer {
  const b = cdb(10, OP.READ_10);
  b.writeUInt32BE(lba >>> 0, 2);
  b.writeUInt16BE(blocks, 7);
  return b;
}

/** READ (12) (MMC-6 "READ (12)", A8h). */
export function read12(lba: number, blocks: number): Buffer {
  const b = cdb(12, OP.READ_12);
  b.writeUInt32BE(lba >>> 0, 2);
  b.writeUInt32BE(blocks >>> 0, 6);
  return b;
}

/** BLANK (MMC-6 "BLANK", A1h): type 0 the whole disc, 1 minimal (quick). */
export function blank(type: 0 | 1, immed: boolean): Buffer {
  const b = cdb(12, OP.BLANK);
  b[1] = (immed ? 0x10 : 0) | type;
  return b;
}

/** FORMAT UNIT (MMC-6 "FORMAT UNIT", 04h): FmtData = 1, format code 001b; the parameter list follows. */
export function formatUnit(): Buffer {
  const b = cdb(6, OP.FORMAT_UNIT);
  b[1] = 0x11;
  return b;
}

/** FORMAT UNIT parameter list: header (Immed) + one format descriptor (MMC-6 "Format Descriptor"). */
export function formatUnitParams(blocks: number, formatType: number, subtypeOrParam: number, immed: boolean): Buffer {
  const b = Buffer.alloc(12);
  b[1] = 0x80 | (immed ? 0x02 : 0); // FOV + Immed
  b.writeUInt16BE(8, 2);
  b.writeUInt32BE(blocks >>> 0, 4);
  b[8] = (formatType << 2) & 0xfc;
  b.writeUIntBE(subtypeOrParam & 0xffffff, 9, 3);
  return b;
}

/** START STOP UNIT (MMC-6 "START STOP UNIT", 1Bh): eject = LoEj 1 Start 0, load = LoEj 1 Start 1. */
export function startStopUnit(loej: boolean, start: boolean, immed = false): Buffer {
  const b = cdb(6, OP.START_STOP_UNIT);
  b[1] = immed ? 1 : 0;
  b[4] = (loej ? 0x02 : 0) | (start ? 0x01 : 0);
  return b;
}

/** PREVENT ALLOW MEDIUM REMOVAL (MMC-6, 1Eh). */
export function preventAllowMediumRemoval(prevent: boolean): Buffer {
  const b = cdb(6, OP.PREVENT_ALLOW_MEDIUM_REMOVAL);
  b[4] = prevent ? 1 : 0;
  return b;
}

// ------------------------------------------------------------------------------------------------
// Mode page 05h, Write Parameters (MMC-6 7.5 "Write Parameters Mode Page")

export interface WriteParameters {
  bufe: boolean;
  testWrite: boolean;
  /** 0 packet/incremental, 1 track at once, 2 session at once, 3 raw, 4 layer jump. */
  writeType: number;
  /** 0 no next session (finalize when the session closes), 3 next session allowed. */
  multiSession: 0 | 1 | 3;
  fixedPacket: boolean;
  /** Control nibble of the track (CD): 4 data uninterrupted, 5 data incremental. */
  trackMode: number;
  /** 8 = Mode 1, 2048-byte user data. */
  dataBlockType: number;
  linkSize: number;
  /** 00h CD-DA/CD-ROM, 20h CD-ROM XA. */
  sessionFormat: number;
  packetSize: number;
}

export const WRITE_PARAMETERS_PAGE_LENGTH = 0x32;

export function encodeWriteParametersPage(p: WriteParameters): Buffer {
  const b = Buffer.alloc(2 + WRITE_PARAMETERS_PAGE_LENGTH);
  b[0] = 0x05;
  b[1] = WRITE_PARAMETERS_PAGE_LENGTH;
  b[2] = (p.bufe ? 0x40 : 0) | (p.testWrite ? 0x10 : 0) | (p.writeType & 0x0f);
  b[3] = ((p.multiSession & 3) << 6) | (p.fixedPacket ? 0x20 : 0) | (p.trackMode & 0x0f);
  b[4] = p.dataBlockType & 0x0f;
  b[5] = p.linkSize;
  b[8] = p.sessionFormat;
  b.writeUInt32BE(p.packetSize >>> 0, 10);
  return b;
}

export function decodeWriteParametersPage(b: Buffer): WriteParameters {
  return {
    bufe: !!(b[2] & 0x40),
    testWrite: !!(b[2] & 0x10),
    writeType: b[2] & 0x0f,
    multiSession: ((b[3] >> 6) & 3) as 0 | 1 | 3,
    fixedPacket: !!(b[3] & 0x20),
    trackMode: b[3] & 0x0f,
    dataBlockType: b[4] & 0x0f,
    linkSize: b[5],
    sessionFormat: b[8],
    packetSize: b.length >= 14 ? b.readUInt32BE(10) : 0,
  };
}

/** Wraps a mode page in a MODE SELECT(10)/MODE SENSE(10) parameter header (SPC-4 7.5.4), no block descriptors. */
export function modeParameterList(page: Buffer): Buffer {
  const h = Buffer.alloc(8);
  return Buffer.concat([h, page]);
}

/** The first page after a MODE SENSE(10) header. */
export function modePageFrom(data: Buffer): Buffer | undefined {
  if (data.length < 8) return undefined;
  const bdl = data.readUInt16BE(6);
  const off = 8 + bdl;
  if (data.length < off + 2) return undefined;
  return data.subarray(off, Math.min(data.length, off + 2 + data[off + 1]));
}

// ------------------------------------------------------------------------------------------------
// Decoders (engine side)

export interface InquiryData {
  deviceType: number;
  removable: boolean;
  vendor: string;
  product: string;
  revision: string;
}

export function decodeInquiry(b: Buffer): InquiryData {
  const text = (s: number, e: number) => b.subarray(s, Math.min(e, b.length)).toString('latin1').replace(/\0/g, ' ').trim();
  return { deviceType: b[0] & 0x1f, removable: !!(b[1] & 0x80), vendor: text(8, 16), product: text(16, 32), revision: text(32, 36) };
}

export interface FeatureDescriptor {
  code: number;
  version: number;
  persistent: boolean;
  current: boolean;
  data: Buffer;
}

export interface Configuration {
  currentProfile: number;
  features: FeatureDescriptor[];
}

/** GET CONFIGURATION data: header (8 bytes, current profile at 6–7), then feature descriptors (MMC-6 5.2). */
export function decodeConfiguration(b: Buffer): Configuration {
  if (b.length < 8) return { currentProfile: 0, features: [] };
  const end = Math.min(b.length, 4 + b.readUInt32BE(0));
  const features: FeatureDescriptor[] = [];
  let off = 8;
  while (off + 4 <= end) {
    const len = b[off + 3];
    if (off + 4 + len > end) break; // padded or truncated (some drives pad the list)
    features.push({
      code: b.readUInt16BE(off),
      version: (b[off + 2] >> 2) & 0x0f,
      persistent: !!(b[off + 2] & 0x02),
      current: !!(b[off + 2] & 0x01),
      data: b.subarray(off + 4, off + 4 + len),
    });
    off += 4 + len;
  }
  return { currentProfile: b.readUInt16BE(6), features };
}

/** The Profile List feature's profiles (MMC-6 5.3.1): number and CurrentP. */
export function decodeProfileList(f: FeatureDescriptor): { profile: number; current: boolean }[] {
  const out: { profile: number; current: boolean }[] = [];
  for (let off = 0; off + 4 <= f.data.length; off += 4) out.push({ profile: f.data.readUInt16BE(off), current: !!(f.data[off + 2] & 1) });
  return out;
}

export interface DiscInformation {
  erasable: boolean;
  /** 0 empty, 1 incomplete, 2 damaged/reserved, 3 complete. */
  lastSessionState: number;
  /** 0 empty, 1 incomplete (appendable), 2 complete (finalized), 3 others (random access). */
  discStatus: number;
  firstTrack: number;
  sessions: number;
  firstTrackInLastSession: number;
  lastTrackInLastSession: number;
  /** Background format status (DVD+RW, BD-RE): 0 none, 1 started, 2 in progress, 3 complete. */
  bgFormat: number;
  lastSessionLeadIn: number;
  lastPossibleLeadOut: number;
}

/** READ DISC INFORMATION, standard disc information (MMC-6, table "Disc Information Block"). */
export function decodeDiscInformation(b: Buffer): DiscInformation {
  if (b.length < 24) throw new Error(`READ DISC INFORMATION returned ${b.length} bytes (at least 24 expected)`);
  return {
    erasable: !!(b[2] & 0x10),
    lastSessionState: (b[2] >> 2) & 3,
    discStatus: b[2] & 3,
    firstTrack: b[3],
    sessions: (b.length > 9 ? b[9] << 8 : 0) | b[4],
    firstTrackInLastSession: (b.length > 10 ? b[10] << 8 : 0) | b[5],
    lastTrackInLastSession: (b.length > 11 ? b[11] << 8 : 0) | b[6],
    bgFormat: b[7] & 3,
    lastSessionLeadIn: b.readUInt32BE(16),
    lastPossibleLeadOut: b.readUInt32BE(20),
  };
}

export interface TrackInformation {
  track: number;
  session: number;
  damage: boolean;
  trackMode: number;
  reserved: boolean;
  blank: boolean;
  packet: boolean;
  dataMode: number;
  nwaValid: boolean;
  lraValid: boolean;
  start: number;
  nextWritable: number;
  freeBlocks: number;
  size: number;
  lastRecorded: number;
}

/** READ TRACK INFORMATION (MMC-6, table "Track Information Block"). */
export function decodeTrackInformation(b: Buffer): TrackInformation {
  if (b.length < 28) throw new Error(`READ TRACK INFORMATION returned ${b.length} bytes (at least 28 expected)`);
  return {
    track: (b.length > 32 ? b[32] << 8 : 0) | b[2],
    session: (b.length > 33 ? b[33] << 8 : 0) | b[3],
    damage: !!(b[5] & 0x20),
    trackMode: b[5] & 0x0f,
    reserved: !!(b[6] & 0x80),
    blank: !!(b[6] & 0x40),
    packet: !!(b[6] & 0x20),
    dataMode: b[6] & 0x0f,
    nwaValid: !!(b[7] & 1),
    lraValid: !!(b[7] & 2),
    start: b.readUInt32BE(8),
    nextWritable: b.readUInt32BE(12),
    freeBlocks: b.readUInt32BE(16),
    size: b.readUInt32BE(24),
    lastRecorded: b.length >= 32 ? b.readUInt32BE(28) : 0,
  };
}

export interface TocEntry {
  track: number;
  control: number;
  start: number;
}

/** READ TOC/PMA/ATIP format 0000b (MMC-6, "TOC"): first/last track and one 8-byte descriptor per track, AAh = lead-out. */
export function decodeToc(b: Buffer): { first: number; last: number; entries: TocEntry[] } {
  if (b.length < 4) return { first: 0, last: 0, entries: [] };
  const end = Math.min(b.length, 2 + b.readUInt16BE(0));
  const entries: TocEntry[] = [];
  for (let off = 4; off + 8 <= end; off += 8) entries.push({ track: b[off + 2], control: b[off + 1] & 0x0f, start: b.readUInt32BE(off + 4) });
  return { first: b[2], last: b[3], entries };
}

export interface FormatCapacities {
  current: { blocks: number; type: 'unformatted' | 'formatted' | 'no-media' | 'reserved'; blockLength: number };
  formattable: { blocks: number; formatType: number; param: number }[];
}

/** READ FORMAT CAPACITIES (MMC-6, "Capacity List"). */
export function decodeFormatCapacities(b: Buffer): FormatCapacities {
  if (b.length < 12) throw new Error(`READ FORMAT CAPACITIES returned ${b.length} bytes`);
  const listLen = b[3];
  const types = ['reserved', 'unformatted', 'formatted', 'no-media'] as const;
  const current = { blocks: b.readUInt32BE(4), type: types[b[8] & 3], blockLength: b.readUIntBE(9, 3) };
  const formattable: FormatCapacities['formattable'] = [];
  for (let off = 12; off + 8 <= Math.min(b.length, 4 + listLen); off += 8) {
    formattable.push({ blocks: b.readUInt32BE(off), formatType: b[off + 4] >> 2, param: b.readUIntBE(off + 5, 3) });
  }
  return { current, formattable };
}

/** GET PERFORMANCE type 03h, write speed descriptors (MMC-6, "Write Speed Descriptor"): kB/s. */
export function decodeWriteSpeeds(b: Buffer): { endLba: number; readKBps: number; writeKBps: number }[] {
  if (b.length < 8) return [];
  const end = Math.min(b.length, 4 + b.readUInt32BE(0));
  const out: { endLba: number; readKBps: number; writeKBps: number }[] = [];
  for (let off = 8; off + 16 <= end; off += 16) out.push({ endLba: b.readUInt32BE(off + 4), readKBps: b.readUInt32BE(off + 8), writeKBps: b.readUInt32BE(off + 12) });
  return out;
}

/** READ BUFFER CAPACITY, Block = 0 (MMC-6): buffer length and blank (free) bytes. */
export function decodeBufferCapacity(b: Buffer): { length: number; available: number } {
  if (b.length < 12) throw new Error(`READ BUFFER CAPACITY returned ${b.length} bytes`);
  return { length: b.readUInt32BE(4), available: b.readUInt32BE(8) };
}

/** READ CAPACITY: last LBA and block length. */
export function decodeCapacity(b: Buffer): { lastLba: number; blockLength: number } {
  if (b.length < 8) throw new Error(`READ CAPACITY returned ${b.length} bytes`);
  return { lastLba: b.readUInt32BE(0), blockLength: b.readUInt32BE(4) };
}

/** GET EVENT STATUS NOTIFICATION, media class (MMC-6, "Media Event Descriptor"). */
export function decodeMediaEvent(b: Buffer): { event: number; present: boolean; trayOpen: boolean } | undefined {
  if (b.length < 8 || (b[2] & 0x07) !== 4) return undefined;
  return { event: b[4] & 0x0f, present: !!(b[5] & 0x02), trayOpen: !!(b[5] & 0x01) };
}

/** MMC-6 page 2Ah (CD/DVD Capabilities and Mechanical Status): buffer size (KB) and write speed descriptors. */
export function decodeCapabilitiesPage(p: Buffer): { bufferKB: number; writeSpeedsKBps: number[]; canEject: boolean; burnProof: boolean } {
  const speeds: number[] = [];
  if (p.length >= 32) {
    const n = p.readUInt16BE(30);
    for (let i = 0; i < n && 32 + i * 4 + 4 <= p.length; i++) speeds.push(p.readUInt16BE(32 + i * 4 + 2));
  }
  return { bufferKB: p.length >= 14 ? p.readUInt16BE(12) : 0, writeSpeedsKBps: speeds, canEject: !!(p[6] & 0x08), burnProof: !!(p[4] & 0x80) };
}
