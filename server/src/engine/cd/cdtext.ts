/**
 * CD-TEXT (the Red Book's CD-TEXT amendment, MMC-6 Annex J "CD-TEXT"): text in packs of 18 bytes that the lead-in
 * carries in its R–W sub-channels and that READ TOC format 0101b returns.
 *
 *   byte 0     pack type: 80h title, 81h performer, 82h songwriter, 83h composer, 84h arranger, 85h message,
 *              8Eh UPC/EAN and ISRC, 8Fh size information
 *   byte 1     track number of the first character in the pack (0 = the album)
 *   byte 2     sequence number (0, 1, 2 … over all packs of the block)
 *   byte 3     block number (bits 6–4) and character position (bits 3–0: characters of this string in earlier packs,
 *              at most 15)
 *   4..15      12 bytes of text: the strings of track 0, 1, 2 … each ended by a zero byte, run on across packs
 *   16..17     CRC-16 (x^16 + x^12 + x^5 + 1) of bytes 0..15, inverted
 * One block (block 0, ISO 8859-1); the three size-information packs end it.
 */
import { crc16 } from './subcode';

export const PACK_TYPES = {
  title: 0x80,
  performer: 0x81,
  songwriter: 0x82,
  composer: 0x83,
  arranger: 0x84,
  message: 0x85,
} as const;

export type TextField = keyof typeof PACK_TYPES;
export const TEXT_FIELDS = Object.keys(PACK_TYPES) as TextField[];

/** EBU Tech 3258 language codes used by CD-TEXT (the common ones). */
export const LANGUAGE_CODES: Record<string, number> = {
  en: 0x09, de: 0x08, fr: 0x0f, es: 0x0a, it: 0x15, nl: 0x1d, da: 0x07, pt: 0x21, sv: 0x28, fi: 0x27,
  no: 0x1e, pl: 0x20, cs: 0x06, hu: 0x1b, ja: 0x69, ko: 0x65, zh: 0x75, ru: 0x56, el: 0x70, tr: 0x2f,
};

export interface TextEntry {
  /** Per field: index 0 = the album, 1..n = the tracks. */
  fields: Partial<Record<TextField, string[]>>;
  /** UPC/EAN (album) and ISRCs (tracks), pack type 8Eh. */
  codes?: string[];
  firstTrack: number;
  lastTrack: number;
  language: number;
}

/** Characters outside ISO 8859-1 (the only character code written) in `s`, for diagnostics. */
export function nonLatin1(s: string): string[] {
  return [...new Set([...s].filter((c) => c.codePointAt(0)! > 0xff))];
}

export const MAX_PACKS = 256;

/** Builds the packs of one block. Throws a RangeError when the text needs more than 256 packs. */
export function buildPacks(t: TextEntry): Buffer {
  const packs: Buffer[] = [];
  const counts = new Array<number>(16).fill(0);
  const streams: { type: number; strings: string[] }[] = [];
  for (const f of TEXT_FIELDS) {
    const s = t.fields[f];
    if (s && s.some((x) => x.length > 0)) streams.push({ type: PACK_TYPES[f], strings: s });
  }
  if (t.codes && t.codes.some((x) => x.length > 0)) streams.push({ type: 0x8e, strings: t.codes });
  for (const { type, strings } of streams) {
    // The text of all tracks, each zero-terminated, and for every byte the track it belongs to and its position.
    const bytes: number[] = [];
    const owner: number[] = [];
    const pos: number[] = [];
    const nTracks = t.lastTrack - t.firstTrack + 2;
    for (let i = 0; i < nTracks; i++) {
      const s = strings[i] ?? '';
      const track = i === 0 ? 0 : t.firstTrack + i - 1;
      const enc = Buffer.from(s, 'latin1');
      for (let k = 0; k <= enc.length; k++) {
        bytes.push(k < enc.length ? enc[k] : 0);
        owner.push(track);
        pos.push(k);
      }
    }
    for (let off = 0; off < bytes.length; off += 12) {
      const p = Buffer.alloc(18);
      p[0] = type;
      p[1] = owner[off];
      p[3] = Math.min(15, pos[off]);
      for (let k = 0; k < 12; k++) p[4 + k] = off + k < bytes.length ? bytes[off + k] : 0;
      packs.push(p);
      counts[type - 0x80]++;
    }
  }
  counts[0x0f] = 3;
  if (packs.length + 3 > MAX_PACKS) throw new RangeError(`CD-TEXT needs ${packs.length + 3} packs; one block holds ${MAX_PACKS}`);
  // Size information (8Fh): 36 bytes over three packs.
  const size = Buffer.alloc(36);
  size[0] = 0x00; // ISO 8859-1
  size[1] = t.firstTrack;
  size[2] = t.lastTrack;
  size[3] = 0x00; // no copy protection flags
  for (let i = 0; i < 16; i++) size[4 + i] = counts[i];
  size[20] = packs.length + 3 - 1; // last sequence number of block 0
  size[28] = t.language;
  for (let i = 0; i < 3; i++) {
    const p = Buffer.alloc(18);
    p[0] = 0x8f;
    p[1] = i;
    size.copy(p, 4, i * 12, i * 12 + 12);
    packs.push(p);
  }
  packs.forEach((p, seq) => {
    p[2] = seq;
    const c = crc16(p, 0, 16) ^ 0xffff;
    p[16] = c >> 8;
    p[17] = c & 0xff;
  });
  return Buffer.concat(packs);
}

/** The binary CD-TEXT file (as READ TOC format 0101b returns it and `cdrecord textfile=` reads it): a 4-byte header. */
export function cdTextFile(packs: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(packs.length + 2, 0);
  return Buffer.concat([h, packs]);
}

/** Parses packs back into text (inspect, tests, the emulated recorder). Bad CRCs are counted, not fatal. */
export function parsePacks(data: Uint8Array): { fields: Partial<Record<TextField, string[]>>; codes: string[]; badCrc: number; language?: number } {
  const fields: Partial<Record<TextField, string[]>> = {};
  const codes: string[] = [];
  let badCrc = 0;
  let language: number | undefined;
  const acc = new Map<number, { bytes: number[]; track: number }>();
  const size: number[] = [];
  for (let off = 0; off + 18 <= data.length; off += 18) {
    const p = data.subarray(off, off + 18);
    const c = crc16(p, 0, 16) ^ 0xffff;
    if (p[16] !== c >> 8 || p[17] !== (c & 0xff)) badCrc++;
    const type = p[0];
    if (type === 0x8f) {
      size.push(...p.subarray(4, 16));
      continue;
    }
    if (type < 0x80 || type > 0x8e) continue;
    let a = acc.get(type);
    if (!a) acc.set(type, (a = { bytes: [], track: p[1] }));
    a.bytes.push(...p.subarray(4, 16));
  }
  if (size.length >= 29) language = size[28];
  // Strings past the last track are the zero padding of the last pack.
  const count = size.length >= 3 ? size[2] - size[1] + 2 : Infinity;
  const names = Object.fromEntries(Object.entries(PACK_TYPES).map(([k, v]) => [v, k as TextField]));
  for (const [type, a] of acc) {
    const strings: string[] = [];
    let cur: number[] = [];
    for (const b of a.bytes) {
      if (b === 0) {
        strings.push(Buffer.from(cur).toString('latin1'));
        cur = [];
      } else cur.push(b);
    }
    const kept = strings.slice(0, count);
    if (type === 0x8e) codes.push(...kept);
    else if (names[type]) fields[names[type]] = kept;
  }
  return { fields, codes, badCrc, language };
}
