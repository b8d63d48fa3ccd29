/**
 * File identifiers per file system, and collision handling within a directory.
 * ISO 9660: ECMA-119 7.5 (file identifiers), 7.6 (directory identifiers), 10.1–10.3 (interchange levels);
 * ISO 9660:1999 (level 4 here) 7.5.1: up to 207 bytes, no version number (printable ASCII here).
 * Joliet: up to 64 UCS-2 characters, excluding * / : ; ? \ and control characters.
 */
import { dChars } from './encode';

export type IsoLevel = 1 | 2 | 3 | 4;

export interface MappedName {
  /** Name part (files: before the last dot; directories: everything). */
  base: string;
  /** Extension (files only; may be empty). */
  ext: string;
  /** Whether the name had to be shortened or had characters replaced (for reporting). */
  changed: boolean;
}

function splitExt(name: string, isDir: boolean): [string, string] {
  if (isDir) return [name, ''];
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return [name, ''];
  return [name.slice(0, dot), name.slice(dot + 1)];
}

/** Truncates base and extension to fit `max` (base + ext), keeping as much extension as is sensible. */
function fit(base: string, ext: string, max: number, maxExt: number): [string, string] {
  if (ext.length > maxExt) ext = ext.slice(0, maxExt);
  if (base.length + ext.length > max) base = base.slice(0, Math.max(max - ext.length, 1));
  if (base.length + ext.length > max) ext = ext.slice(0, max - base.length);
  return [base, ext];
}

/** Maps a name to ISO 9660 (levels 1–3: d-characters; level 4: the name itself, ISO 9660:1999). */
export function isoName(name: string, isDir: boolean, level: IsoLevel, level4Max = 207): MappedName {
  let [base, ext] = splitExt(name, isDir);
  if (level === 4) {
    // ISO 9660:1999 7.5.1: the identifier is at most 207 bytes; `;` would read as a version separator.
    // The character set is "by agreement": printable ASCII is what every reader decodes the same way
    // (Rock Ridge and Joliet carry the exact Unicode names).
    base = base.replace(/[^\x20-\x3a\x3c-\x7e]/g, '_');
    ext = ext.replace(/[^\x20-\x3a\x3c-\x7e]/g, '_');
    const limit = level4Max - (ext ? 1 : 0);
    if (base.length + ext.length > limit) base = base.slice(0, Math.max(limit - ext.length, 1));
    if (base.length + ext.length > limit) ext = ext.slice(0, limit - base.length);
    return { base, ext, changed: base + (ext ? '.' + ext : '') !== name };
  }
  const mappedBase = dChars(base.replace(/\./g, '_'));
  const mappedExt = dChars(ext);
  let b: string;
  let e: string;
  if (level === 1) {
    // 10.1: file name ≤ 8, extension ≤ 3; directory identifiers ≤ 8.
    [b, e] = isDir ? [mappedBase.slice(0, 8), ''] : [mappedBase.slice(0, 8), mappedExt.slice(0, 3)];
  } else {
    // 7.5.1: file name + extension ≤ 30; 7.6.3: directory identifier ≤ 31.
    [b, e] = isDir ? [mappedBase.slice(0, 31), ''] : fit(mappedBase, mappedExt, 30, 29);
  }
  if (b === '' && e === '') b = '_';
  return { base: b, ext: e, changed: b + (e ? '.' + e : '') !== name };
}

const JOLIET_INVALID = /[\u0000-\u001f*/:;?\\]/g; // eslint-disable-line no-control-regex

/** Maps a name to Joliet: UCS-2 up to `max` code units, invalid characters replaced by `_`. */
export function jolietName(name: string, isDir: boolean, max: number): MappedName {
  const clean = name.replace(JOLIET_INVALID, '_');
  let [base, ext] = splitExt(clean, isDir);
  if (clean.length > max) {
    [base, ext] = fit(base, ext, max - (ext ? 1 : 0), Math.min(ext.length, 16));
    // Never cut a surrogate pair in half.
    if (/[\ud800-\udbff]$/.test(base)) base = base.slice(0, -1);
  }
  return { base, ext, changed: base + (ext ? '.' + ext : '') !== name };
}

/** The identifier as recorded (without version): `BASE.EXT`, `BASE`, or for files without extension `BASE.`. */
export function joinName(m: MappedName, isDir: boolean, level: IsoLevel | 'joliet'): string {
  if (isDir) return m.base;
  if (level === 'joliet' || level === 4) return m.ext ? `${m.base}.${m.ext}` : m.base;
  // ECMA-119 7.5.1: the separator 1 (".") is always recorded for files.
  return `${m.base}.${m.ext}`;
}

/**
 * Makes names unique within one directory, deterministically: entries are taken in the order given
 * (sorted by original name); the first keeps its mapped name, later ones get a number at the end of the
 * base (shortening it to stay within `maxBase`), skipping numbers already taken. `key` folds case where the
 * file system compares names without case.
 */
export function uniquify(
  names: MappedName[],
  isDir: boolean[],
  maxBase: (ext: string, isDir: boolean) => number,
  join: (m: MappedName, isDir: boolean) => string,
  key: (s: string) => string,
): MappedName[] {
  const taken = new Set<string>();
  const out: MappedName[] = [];
  const firstPass = names.map((m, i) => key(join(m, isDir[i])));
  const counts = new Map<string, number>();
  for (const k of firstPass) counts.set(k, (counts.get(k) ?? 0) + 1);
  // Names that are unique as mapped keep them, even if they come after a colliding one.
  for (const k of firstPass) if (counts.get(k) === 1) taken.add(k);
  const seenDup = new Set<string>();
  names.forEach((m, i) => {
    const k = firstPass[i];
    if (counts.get(k) === 1) {
      out.push(m);
      return;
    }
    if (!seenDup.has(k)) {
      seenDup.add(k);
      taken.add(k);
      out.push(m);
      return;
    }
    const max = maxBase(m.ext, isDir[i]);
    for (let n = 1; ; n++) {
      const suffix = String(n);
      const base = m.base.slice(0, Math.max(max - suffix.length, 0)).replace(/[\ud800-\udbff]$/, '') + suffix;
      const cand: MappedName = { base, ext: m.ext, changed: true };
      const ck = key(join(cand, isDir[i]));
      if (!taken.has(ck)) {
        taken.add(ck);
        out.push(cand);
        return;
      }
    }
  });
  return out;
}
