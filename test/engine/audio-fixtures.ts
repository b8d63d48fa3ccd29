/**
 * Fixtures for the audio CD tests: test audio made by sox (sines, noise; rates, bit depths, channels) and encoded
 * by the reference encoders (flac, lame, oggenc); reference decodes by the reference decoders (sox, flac, mpg123,
 * oggdec) as raw 16-bit little-endian stereo; BIN helpers. None of this uses the engine.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export function sh(cmd: string, args: string[], opts: { cwd?: string; allowFail?: boolean } = {}): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, maxBuffer: 1 << 30, env: { ...process.env, LC_ALL: 'C' } });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  const res = { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
  if (!opts.allowFail && r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${res.stderr.slice(0, 2000)}`);
  return res;
}

export interface Source {
  file: string;
  /** How to decode it for reference: raw s16le stereo 44.1 kHz. */
  kind: 'exact' | 'lossy' | 'converted';
}

/** sox synth into `file` (format from the extension and options). */
export function synth(file: string, seconds: number, opts: { rate?: number; bits?: number; channels?: number; encoding?: string; gen?: string[]; vol?: number } = {}): string {
  const args = ['-n', '-r', String(opts.rate ?? 44100), '-b', String(opts.bits ?? 16), '-c', String(opts.channels ?? 2)];
  if (opts.encoding) args.push('-e', opts.encoding);
  args.push(file, 'synth', String(seconds), ...(opts.gen ?? ['sine', '440', 'sine', '660']), 'vol', String(opts.vol ?? 0.5));
  sh('sox', args);
  return file;
}

export function toFlac(wav: string, out: string): string {
  sh('flac', ['-s', '-f', '-o', out, wav]);
  return out;
}

export function toMp3(wav: string, out: string): string {
  sh('lame', ['--quiet', '-b', '192', wav, out]);
  return out;
}

export function toOgg(wav: string, out: string): string {
  sh('oggenc', ['-Q', '-o', out, wav]);
  return out;
}

/** The reference decode of `file` as raw s16le stereo samples (Int16Array, interleaved). */
export function referencePcm(file: string): Int16Array {
  let raw: Buffer;
  if (file.endsWith('.flac')) raw = sh('flac', ['-s', '-d', '-c', '--force-raw-format', '--endian=little', '--sign=signed', file]).stdout;
  else if (file.endsWith('.mp3')) raw = sh('mpg123', ['-q', '-s', '-e', 's16', file]).stdout;
  else if (file.endsWith('.ogg')) raw = sh('oggdec', ['-Q', '-R', '-b', '16', '-e', '0', '-s', '1', '-o', '-', file]).stdout;
  else raw = sh('sox', [file, '-t', 'raw', '-e', 'signed', '-b', '16', '-L', '-']).stdout;
  const copy = Buffer.from(raw);
  return new Int16Array(copy.buffer, copy.byteOffset, copy.length / 2);
}

/** sox's own conversion to CD audio (rate, channels, dither), for comparing converted sources. */
export function soxCdPcm(file: string): Int16Array {
  const raw = Buffer.from(sh('sox', [file, '-t', 'raw', '-e', 'signed', '-b', '16', '-L', '-c', '2', '-r', '44100', '-', 'rate', '-v']).stdout);
  return new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2);
}

/** Mono sources: duplicate each sample into both channels. */
export function monoToStereo(m: Int16Array): Int16Array {
  const s = new Int16Array(m.length * 2);
  for (let i = 0; i < m.length; i++) s[2 * i] = s[2 * i + 1] = m[i];
  return s;
}

/** The audio part (first 2352 bytes) of sectors [from, to) of a BIN with `sectorSize`-byte sectors. */
export function binAudio(bin: string, from: number, to: number, sectorSize = 2352): Int16Array {
  const fd = fs.openSync(bin, 'r');
  try {
    const out = Buffer.alloc((to - from) * 2352);
    const sec = Buffer.alloc(sectorSize);
    for (let i = from; i < to; i++) {
      fs.readSync(fd, sec, 0, sectorSize, i * sectorSize);
      sec.copy(out, (i - from) * 2352, 0, 2352);
    }
    return new Int16Array(out.buffer, out.byteOffset, out.length / 2);
  } finally {
    fs.closeSync(fd);
  }
}

export function wavData(file: string): Int16Array {
  const b = fs.readFileSync(file);
  let o = 12;
  while (o + 8 <= b.length) {
    const id = b.toString('latin1', o, o + 4);
    const size = b.readUInt32LE(o + 4);
    if (id === 'data') {
      const c = Buffer.from(b.subarray(o + 8, o + 8 + size));
      return new Int16Array(c.buffer, c.byteOffset, c.length / 2);
    }
    o += 8 + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

/** Compares a[aOff..] with b (all of b); returns mismatches and the largest difference. */
export function compare(a: Int16Array, aOff: number, b: Int16Array): { mismatches: number; maxDiff: number; first?: number } {
  let mismatches = 0;
  let maxDiff = 0;
  let first: number | undefined;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[aOff + i] - b[i]);
    if (d) {
      mismatches++;
      if (d > maxDiff) maxDiff = d;
      first ??= i;
    }
  }
  return { mismatches, maxDiff, first };
}

export function allZero(a: Int16Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== 0) return false;
  return true;
}

/** RMS of a − b over the overlap, in LSB. */
export function rmsDiff(a: Int16Array, b: Int16Array): number {
  const n = Math.min(a.length, b.length);
  let s = 0;
  for (let i = 0; i < n; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / n);
}

export function rms(a: Int16Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] ** 2;
  return Math.sqrt(s / a.length);
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, JSON.stringify(value, null, 2));
  return p;
}
