/**
 * CD time: frames (sectors) of 1/75 s, MSF (minutes, seconds, frames), BCD, and the manifest's time values
 * (seconds as a number, or "MM:SS:FF"). ECMA-130 14.2 / IEC 60908: one sector = one frame = 588 stereo samples
 * at 44 100 Hz = 2352 bytes.
 */

export const FRAMES_PER_SECOND = 75;
export const SAMPLES_PER_FRAME = 588;
export const SAMPLE_RATE = 44_100;
export const BYTES_PER_SAMPLE = 4; // 16-bit stereo
export const RAW_SECTOR = 2352;
/** The pause before track 1 (LBA -150 .. -1): absolute time 00:02:00 is LBA 0 (ECMA-130 22.3.3.3). */
export const LEAD_PREGAP = 150;

export interface Msf {
  m: number;
  s: number;
  f: number;
}

export function framesToMsf(frames: number): Msf {
  return { m: Math.floor(frames / 4500), s: Math.floor(frames / 75) % 60, f: frames % 75 };
}

export function msfToFrames(m: number, s: number, f: number): number {
  return (m * 60 + s) * 75 + f;
}

/** "MM:SS:FF" (a .cue/.toc time; minutes may exceed 99 in relative times). */
export function formatMsf(frames: number): string {
  const t = framesToMsf(frames);
  return `${String(t.m).padStart(2, '0')}:${String(t.s).padStart(2, '0')}:${String(t.f).padStart(2, '0')}`;
}

export function bcd(n: number): number {
  return ((Math.floor(n / 10) % 10) << 4) | (n % 10);
}

export function fromBcd(b: number): number {
  return (b >> 4) * 10 + (b & 0x0f);
}

/** Writes the absolute address of LBA `lba` (LBA 0 = 00:02:00) as three BCD bytes. */
export function writeBcdMsf(buf: Uint8Array, off: number, frames: number): void {
  const t = framesToMsf(frames);
  buf[off] = bcd(t.m);
  buf[off + 1] = bcd(t.s);
  buf[off + 2] = bcd(t.f);
}

export type TimeValue = number | string;

/** A manifest time as a rational number of seconds: `num / den` (den = 1 for seconds, 75 for MM:SS:FF). */
export interface ParsedTime {
  /** Exact frames, when the time is a whole number of frames. */
  frames: number;
  /** The time in samples at 44 100 Hz (rounded to the nearest sample). */
  samples: number;
  /** The time was not a whole number of frames and `frames` was rounded. */
  rounded: boolean;
}

const MSF_RE = /^(\d{1,3}):([0-5]\d):([0-6]\d|7[0-4])$/;

/**
 * Parses a manifest time: seconds (a non-negative number) or "MM:SS:FF". Returns undefined for a malformed
 * value (the caller reports it on the node).
 */
export function parseTime(v: TimeValue): ParsedTime | undefined {
  if (typeof v === 'string') {
    const m = MSF_RE.exec(v.trim());
    if (!m) return undefined;
    const frames = msfToFrames(Number(m[1]), Number(m[2]), Number(m[3]));
    return { frames, samples: frames * SAMPLES_PER_FRAME, rounded: false };
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return undefined;
  // Seconds: decimal fractions such as 95.5 or 12.04 are exact in frames or samples only after rounding the
  // binary float, so round at a precision far below one sample.
  const exactFrames = v * FRAMES_PER_SECOND;
  const frames = Math.round(exactFrames);
  const samples = Math.round(v * SAMPLE_RATE);
  return { frames, samples, rounded: Math.abs(exactFrames - frames) > 1e-6 };
}
