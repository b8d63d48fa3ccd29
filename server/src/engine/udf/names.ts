/**
 * UDF file identifiers (ECMA-167 4/14.4.8, UDF 2.1.1 and 2.3.4.5): any Unicode name except NUL and "/", as OSTA
 * compressed Unicode of at most 255 bytes, i.e. 254 characters when every character is below U+0100 (8-bit
 * compression), else 127 UTF-16 code units. Longer names are shortened keeping the extension; names made equal
 * by shortening get a number, deterministically (children are taken in sorted order).
 */
import { cs0Length, cutCs0 } from './encode';

/** ECMA-167 4/14.4.4: the Length of File Identifier field is one byte. */
export const MAX_CS0_NAME = 255;

export interface UdfName {
  name: string;
  changed: boolean;
}

function splitExt(name: string, isDir: boolean): [string, string] {
  if (isDir) return [name, ''];
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || name.length - dot - 1 > 16) return [name, ''];
  return [name.slice(0, dot), name.slice(dot + 1)];
}

function join(base: string, ext: string): string {
  return ext ? `${base}.${ext}` : base;
}

/** Shortens `base` (keeping `ext` and `suffix`) until the whole name fits in 255 bytes of CS0. */
function fit(base: string, ext: string, suffix = ''): string {
  const whole = join(base + suffix, ext);
  if (cs0Length(whole) <= MAX_CS0_NAME) return whole;
  // The bytes left for the base: cut in CS0 terms (the compression of the whole name decides the unit).
  const sixteen = cs0Length(whole) !== whole.length + 1;
  const unit = sixteen ? 2 : 1;
  const rest = (ext ? ext.length + 1 : 0) + suffix.length;
  const keep = Math.max(Math.floor((MAX_CS0_NAME - 1) / unit) - rest, 1);
  let b = base.slice(0, keep);
  if (/[\ud800-\udbff]$/.test(b)) b = b.slice(0, -1);
  const out = join(b + suffix, ext);
  return cs0Length(out) <= MAX_CS0_NAME ? out : cutCs0(out, MAX_CS0_NAME);
}

/** Maps the names of one directory's children (in the order given) to unique UDF identifiers. */
export function udfNames(entries: { name: string; isDir: boolean }[]): UdfName[] {
  const first = entries.map((e) => {
    const [base, ext] = splitExt(e.name, e.isDir);
    const name = fit(base, ext);
    return { name, changed: name !== e.name };
  });
  const taken = new Set<string>();
  for (const f of first) if (!f.changed) taken.add(f.name);
  return first.map((f, i) => {
    if (!f.changed) return f;
    if (!taken.has(f.name)) {
      taken.add(f.name);
      return f;
    }
    const [base, ext] = splitExt(entries[i].name, entries[i].isDir);
    for (let n = 1; ; n++) {
      const cand = fit(base, ext, `~${n}`);
      if (!taken.has(cand)) {
        taken.add(cand);
        return { name: cand, changed: true };
      }
    }
  });
}
