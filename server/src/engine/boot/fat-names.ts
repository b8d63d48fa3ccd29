/**
 * FAT names: 8.3 short names (fatgen103 "FAT Directory Structure" / "Basis-Name Generation Algorithm" /
 * "Numeric-Tail Generation Algorithm") and VFAT long names (fatgen103 "FAT Long Directory Entries").
 *
 * Policy (documented for the callers):
 * - A name that is already a valid upper-case 8.3 name (e.g. `EFI`, `BOOTX64.EFI`) gets only a short entry.
 * - Every other name (lower or mixed case, longer, spaces, Unicode …) gets VFAT long-name entries plus a
 *   generated short name. The NT case flags (byte 12) are not used: long names are understood by every reader
 *   (Linux vfat, mtools, UEFI firmware), the case flags are a Windows NT extension not all of them honour.
 * - Short names are ASCII only (every other character becomes `_`, a "lossy conversion"), so that they mean
 *   the same thing in every OEM code page.
 */

/** fatgen103: characters allowed in short names besides upper-case letters and digits (we exclude > 127). */
const SHORT_SPECIAL = new Set("$%'-_@~`!(){}^#&");
/** fatgen103: characters that are not allowed in long names either (besides controls < 0x20). */
const LONG_FORBIDDEN = new Set('"*/:<>?\\|');

function isShortChar(c: string): boolean {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || SHORT_SPECIAL.has(c);
}

/** Problems that make a name impossible in FAT (undefined: fine). */
export function longNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'an empty name';
  // fatgen103: a long name holds at most 255 UTF-16 characters.
  if (name.length > 255) return `a name of ${name.length} UTF-16 units (FAT long names hold at most 255)`;
  for (const ch of name) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) return `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
    if (LONG_FORBIDDEN.has(ch)) return `the character ${JSON.stringify(ch)} (FAT forbids \\ / : * ? " < > |)`;
  }
  // Windows, Linux vfat and UEFI drivers drop trailing dots and spaces, so such a name would not come back.
  if (/[. ]$/.test(name)) return 'a name ending in a dot or a space (FAT readers drop them)';
  return undefined;
}

/** Upper-cases one UTF-16 unit at a time (the FAT up-case table maps units one to one). */
export function upcaseKey(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    const u = c.toUpperCase();
    out += u.length === 1 ? u : c;
  }
  return out;
}

export interface Basis {
  /** Primary part (1–8 characters) and extension (0–3), upper-case ASCII. */
  primary: string;
  ext: string;
  /** The short name cannot stand for the long name without a numeric tail (lossy or does not fit 8.3). */
  needsTail: boolean;
  /** The name is exactly its short name: no long-name entries needed. */
  exact: boolean;
}

/** fatgen103 "Basis-Name Generation Algorithm". */
export function basisName(name: string): Basis {
  let lossy = false;
  let up = '';
  for (const ch of name) {
    const u = ch.toUpperCase();
    if (u === '.' || u === ' ') up += u;
    else if (u.length === 1 && isShortChar(u)) up += u;
    else {
      up += '_';
      lossy = true;
    }
  }
  // Strip all leading and embedded spaces, then all leading periods.
  const stripped = up.replace(/ /g, '').replace(/^\.+/, '');
  const lastDot = stripped.lastIndexOf('.');
  const base = lastDot >= 0 ? stripped.slice(0, lastDot) : stripped;
  let primary = '';
  for (const c of base) {
    if (c === '.' || primary.length === 8) break;
    primary += c;
  }
  const extFull = lastDot >= 0 ? stripped.slice(lastDot + 1) : '';
  const ext = extFull.slice(0, 3);
  if (primary === '') primary = '_';
  const joined = ext ? `${primary}.${ext}` : primary;
  const fits = !lossy && joined === up;
  return { primary, ext, needsTail: !fits, exact: fits && joined === name };
}

/** The 11-byte short name field. */
export function shortField(primary: string, ext: string): Buffer {
  const b = Buffer.alloc(11, 0x20);
  b.write(primary, 0, 'latin1');
  b.write(ext, 8, 'latin1');
  return b;
}

/**
 * Short names for one directory's entries, in the given (stable) order. Names that need no tail are reserved
 * first, so that a generated `~n` name never takes an existing 8.3 name; tails count up from ~1
 * (fatgen103 "Numeric-Tail Generation Algorithm").
 */
export function assignShortNames(names: string[]): { short: Buffer; lfn: boolean }[] {
  const used = new Set<string>();
  const bases = names.map(basisName);
  const out: ({ short: Buffer; lfn: boolean } | undefined)[] = new Array(names.length);
  bases.forEach((b, i) => {
    if (b.needsTail) return;
    const key = `${b.primary}.${b.ext}`;
    if (used.has(key)) return; // only when the long names collide case-insensitively (reported elsewhere)
    used.add(key);
    out[i] = { short: shortField(b.primary, b.ext), lfn: !b.exact };
  });
  bases.forEach((b, i) => {
    if (out[i]) return;
    for (let n = 1; ; n++) {
      const tail = `~${n}`;
      const primary = b.primary.slice(0, 8 - tail.length) + tail;
      const key = `${primary}.${b.ext}`;
      if (used.has(key)) continue;
      used.add(key);
      out[i] = { short: shortField(primary, b.ext), lfn: true };
      break;
    }
  });
  return out as { short: Buffer; lfn: boolean }[];
}

/** fatgen103 "FAT Long Directory Entries": the checksum of the 11-byte short name. */
export function shortNameChecksum(short: Buffer): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short[i]!) & 0xff;
  return sum;
}

/** Number of long-name entries for a name (13 UTF-16 units each). */
export function lfnCount(name: string): number {
  return Math.ceil(name.length / 13);
}

/**
 * The long-name entries for `name`, in on-disk order (the last part first, with the 0x40 flag): attribute
 * 0x0F, type 0, the short name's checksum, first cluster 0, 13 UTF-16 units per entry, NUL-terminated when
 * the name does not fill the last entry and then padded with 0xFFFF (fatgen103 "FAT Long Directory Entries").
 */
export function lfnEntries(name: string, short: Buffer): Buffer {
  const n = lfnCount(name);
  const sum = shortNameChecksum(short);
  const out = Buffer.alloc(n * 32);
  const OFFS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
  for (let k = 0; k < n; k++) {
    const ord = k + 1;
    const e = out.subarray((n - 1 - k) * 32, (n - k) * 32);
    e[0] = ord | (ord === n ? 0x40 : 0);
    e[11] = 0x0f;
    e[12] = 0;
    e[13] = sum;
    e.writeUInt16LE(0, 26);
    for (let j = 0; j < 13; j++) {
      const idx = k * 13 + j;
      const unit = idx < name.length ? name.charCodeAt(idx) : idx === name.length ? 0 : 0xffff;
      e.writeUInt16LE(unit, OFFS[j]!);
    }
  }
  return out;
}
