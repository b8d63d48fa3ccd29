/**
 * ECMA-119 9.1 directory records and 6.8.1 directory sectors.
 *
 * Directory record layout (byte offsets, ECMA-119 9.1):
 *   0 length of directory record (LEN_DR)      1 extended attribute record length
 *   2 location of extent (both-endian 32)      10 data length (both-endian 32)
 *  18 recording date and time (7 bytes, 9.1.5) 25 file flags (9.1.6)
 *  26 file unit size                           27 interleave gap size
 *  28 volume sequence number (both-endian 16)  32 length of file identifier (LEN_FI)
 *  33 file identifier, a padding byte when LEN_FI is even, then the system use area (9.1.13).
 */
import { both16, both32, dirDateTime } from './bytes';

export const MIN_RECORD = 34;

/** File flags, ECMA-119 9.1.6. */
export const FLAG_HIDDEN = 0x01;
export const FLAG_DIRECTORY = 0x02;
export const FLAG_ASSOCIATED = 0x04;
export const FLAG_MULTI_EXTENT = 0x80;

export interface DirRecord {
  /** Absolute byte offset of the record in the image (for messages). */
  offset: number;
  length: number;
  extAttrLength: number;
  lba: number;
  dataLength: number;
  recorded: string | null;
  flags: number;
  fileUnitSize: number;
  interleaveGap: number;
  volumeSequence: number;
  id: Buffer;
  systemUse: Buffer;
  /** Both-endian fields whose two copies disagree (ECMA-119 7.2.3 / 7.3.3), by name. */
  inconsistent: string[];
}

/**
 * Parses the record at `buf[off]`. Returns an error message (without location) when the record is malformed;
 * `absOffset` is where `buf[off]` lives in the image.
 */
export function parseDirRecord(buf: Buffer, off: number, absOffset: number): DirRecord | string {
  const length = buf[off];
  if (length < MIN_RECORD) return `has length ${length} (< ${MIN_RECORD})`;
  if (off + length > buf.length) return `has length ${length} but only ${buf.length - off} bytes remain`;
  const idLen = buf[off + 32];
  if (idLen === 0) return 'has a file identifier length of 0 (ECMA-119 9.1.10)';
  if (33 + idLen > length) return `has a file identifier length of ${idLen}, which does not fit in its length ${length}`;
  const lba = both32(buf, off + 2);
  const dataLength = both32(buf, off + 10);
  const seq = both16(buf, off + 28);
  const inconsistent: string[] = [];
  if (!lba.consistent) inconsistent.push('extent location');
  if (!dataLength.consistent) inconsistent.push('data length');
  if (!seq.consistent) inconsistent.push('volume sequence number');
  const suStart = 33 + idLen + (idLen % 2 === 0 ? 1 : 0);
  return {
    offset: absOffset,
    length,
    extAttrLength: buf[off + 1],
    lba: lba.value,
    dataLength: dataLength.value,
    recorded: dirDateTime(buf, off + 18),
    flags: buf[off + 25],
    fileUnitSize: buf[off + 26],
    interleaveGap: buf[off + 27],
    volumeSequence: seq.value,
    id: Buffer.from(buf.subarray(off + 33, off + 33 + idLen)),
    systemUse: suStart < length ? Buffer.from(buf.subarray(off + suStart, off + length)) : Buffer.alloc(0),
    inconsistent,
  };
}

/** "." is identifier 0x00, ".." is 0x01 (ECMA-119 6.8.2.2). */
export function isDot(r: DirRecord): boolean {
  return r.id.length === 1 && r.id[0] === 0;
}
export function isDotDot(r: DirRecord): boolean {
  return r.id.length === 1 && r.id[0] === 1;
}
