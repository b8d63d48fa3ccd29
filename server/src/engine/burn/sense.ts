/**
 * Sense data (SPC-4 4.5: fixed format 70h/71h, descriptor format 72h/73h) and the sense keys / additional sense
 * codes that MMC-6 drives report (MMC-6 annex F "Error reporting" lists them per command).
 */

export const SK = {
  NO_SENSE: 0x0,
  RECOVERED_ERROR: 0x1,
  NOT_READY: 0x2,
  MEDIUM_ERROR: 0x3,
  HARDWARE_ERROR: 0x4,
  ILLEGAL_REQUEST: 0x5,
  UNIT_ATTENTION: 0x6,
  DATA_PROTECT: 0x7,
  ABORTED_COMMAND: 0xb,
} as const;

const KEY_NAMES = ['NO SENSE', 'RECOVERED ERROR', 'NOT READY', 'MEDIUM ERROR', 'HARDWARE ERROR', 'ILLEGAL REQUEST',
  'UNIT ATTENTION', 'DATA PROTECT', 'BLANK CHECK', 'VENDOR SPECIFIC', 'COPY ABORTED', 'ABORTED COMMAND', 'EQUAL',
  'VOLUME OVERFLOW', 'MISCOMPARE', 'COMPLETED'];

/** ASC/ASCQ descriptions (SPC-4 annex D), the ones MMC drives use. Key: (asc << 8) | ascq. */
const ASC: Record<number, string> = {
  0x0000: 'no additional sense information',
  0x0400: 'logical unit not ready, cause not reportable',
  0x0401: 'logical unit is in process of becoming ready',
  0x0404: 'logical unit not ready, format in progress',
  0x0407: 'logical unit not ready, operation in progress',
  0x0408: 'logical unit not ready, long write in progress',
  0x0c00: 'write error',
  0x0c07: 'write error - recovery needed',
  0x0c09: 'write error - loss of streaming',
  0x0c0a: 'write error - padding blocks added',
  0x1100: 'unrecovered read error',
  0x1105: 'L-EC uncorrectable error',
  0x2000: 'invalid command operation code',
  0x2100: 'logical block address out of range',
  0x2102: 'invalid address for write',
  0x2400: 'invalid field in CDB',
  0x2600: 'invalid field in parameter list',
  0x2700: 'write protected',
  0x2800: 'not ready to ready change, medium may have changed',
  0x2900: 'power on, reset, or bus device reset occurred',
  0x2c00: 'command sequence error',
  0x3000: 'incompatible medium installed',
  0x3002: 'cannot read medium - incompatible format',
  0x3005: 'cannot write medium - incompatible format',
  0x3100: 'medium format corrupted',
  0x3101: 'format command failed',
  0x3a00: 'medium not present',
  0x3a01: 'medium not present - tray closed',
  0x3a02: 'medium not present - tray open',
  0x5302: 'medium removal prevented',
  0x6300: 'end of user area encountered on this track',
  0x6301: 'packet does not fit in available space',
  0x6400: 'illegal mode for this track',
  0x7200: 'session fixation error',
  0x7203: 'session fixation error - incomplete track in session',
  0x7205: 'no more track reservations allowed',
  0x7300: 'CD control error',
  0x7302: 'power calibration area is full',
  0x7303: 'power calibration area error',
};

export interface Sense {
  key: number;
  asc: number;
  ascq: number;
  /** The INFORMATION field when VALID is set (for medium errors: the failing LBA). */
  information?: number;
  /** Progress indication of a long operation (SPC-4 4.5.2.4.4), 0..65535, when SKSV is set with NOT READY. */
  progress?: number;
}

/** Decodes fixed (70h/71h) or descriptor (72h/73h) sense data; undefined when there is none. */
export function parseSense(b: Buffer): Sense | undefined {
  if (b.length < 1) return undefined;
  const code = b[0] & 0x7f;
  if (code === 0x70 || code === 0x71) {
    if (b.length < 3) return undefined;
    const s: Sense = { key: b[2] & 0x0f, asc: b.length > 12 ? b[12] : 0, ascq: b.length > 13 ? b[13] : 0 };
    if (b[0] & 0x80 && b.length >= 7) s.information = b.readUInt32BE(3);
    if (b.length >= 18 && b[15] & 0x80 && s.key === SK.NOT_READY) s.progress = b.readUInt16BE(16);
    return s;
  }
  if (code === 0x72 || code === 0x73) {
    if (b.length < 4) return undefined;
    const s: Sense = { key: b[1] & 0x0f, asc: b[2], ascq: b[3] };
    // Descriptors (SPC-4 4.5.2): 00h information, 02h sense key specific.
    let off = 8;
    const end = Math.min(b.length, 8 + (b.length > 7 ? b[7] : 0));
    while (off + 2 <= end) {
      const type = b[off];
      const len = b[off + 1];
      if (type === 0x00 && len >= 0x0a && off + 12 <= end && b[off + 2] & 0x80) s.information = Number(b.readBigUInt64BE(off + 4) & 0xffffffffn);
      if (type === 0x02 && len >= 6 && off + 7 <= end && b[off + 4] & 0x80 && s.key === SK.NOT_READY) s.progress = b.readUInt16BE(off + 5);
      off += 2 + len;
    }
    return s;
  }
  return undefined;
}

/** Builds fixed-format sense data (SPC-4 4.5.3), 18 bytes. */
export function buildSense(key: number, asc: number, ascq: number, extra: { information?: number; progress?: number } = {}): Buffer {
  const b = Buffer.alloc(18);
  b[0] = 0x70 | (extra.information !== undefined ? 0x80 : 0);
  b[2] = key & 0x0f;
  if (extra.information !== undefined) b.writeUInt32BE(extra.information >>> 0, 3);
  b[7] = 10; // additional sense length
  b[12] = asc;
  b[13] = ascq;
  if (extra.progress !== undefined) {
    b[15] = 0x80; // SKSV
    b.writeUInt16BE(Math.max(0, Math.min(65535, Math.round(extra.progress))), 16);
  }
  return b;
}

export function senseCode(s: Sense): string {
  const h = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  return `${h(s.key)}/${h(s.asc)}/${h(s.ascq)}`;
}

export function describeSense(s: Sense): string {
  const key = KEY_NAMES[s.key] ?? `sense key ${s.key}`;
  const what = ASC[(s.asc << 8) | s.ascq] ?? (s.asc >= 0x80 ? 'vendor specific' : 'unknown additional sense code');
  return `${key} ${senseCode(s)} ${what}`;
}

export function isSense(s: Sense | undefined, key: number, asc?: number, ascq?: number): boolean {
  return !!s && s.key === key && (asc === undefined || s.asc === asc) && (ascq === undefined || s.ascq === ascq);
}
