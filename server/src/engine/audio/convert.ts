/**
 * From a decoded source to CD audio: 44 100 Hz, 16-bit, stereo, little-endian interleaved (the Red Book sample
 * layout of a 2352-byte sector: L, R, L, R … as signed 16-bit LSB first).
 *
 * - 16-bit (or 8-bit) stereo or mono at 44 100 Hz is copied exactly (mono is duplicated, 8-bit shifted up).
 * - Anything else goes through floats: channels are mapped (more than two: ITU-R BS.775 downmix of L, R, C, Ls,
 *   Rs; LFE dropped), the rate converted with libsamplerate (WebAssembly; the best sinc converter), and the result
 *   quantized to 16 bits with TPDF dither (±1 LSB triangular noise from a fixed-seed generator, so a build is
 *   reproducible). Lossy decoders' output at 44 100 Hz stereo is rounded without dither, as the decoders' own
 *   16-bit output is.
 * The number of output frames is exact and known before decoding: the source's frames at 44 100 Hz, or
 * round(frames × 44 100 / rate) after rate conversion (the converter's tail is flushed with silence, any excess cut).
 */
import { InputError } from '../util/errors';
import { decodeAudio, type PcmBlock } from './decode';
import type { AudioInfo } from './probe';

export const CD_RATE = 44_100;

export interface Conversion {
  /** Output frames at 44.1 kHz before trimming. */
  frames: number;
  resample: boolean;
  dither: boolean;
  downmix: boolean;
  upmix: boolean;
  exact: boolean;
}

export function conversionFor(info: AudioInfo): Conversion {
  const resample = info.sampleRate !== CD_RATE;
  const downmix = info.channels > 2;
  const upmix = info.channels === 1;
  const exactInt = !info.lossy && !info.float && info.bitDepth <= 16;
  const exact = exactInt && !resample && !downmix;
  const dither = !exact && !(info.lossy && !resample && !downmix);
  const frames = resample ? Math.round((info.frames * CD_RATE) / info.sampleRate) : info.frames;
  return { frames, resample, dither, downmix, upmix, exact };
}

/** What was done to a source, in words (reported by the build). */
export function describeConversion(info: AudioInfo, c: Conversion): string | undefined {
  const parts: string[] = [];
  if (c.resample) parts.push(`resampled ${info.sampleRate} → 44100 Hz (libsamplerate, best sinc)`);
  if (c.downmix) parts.push(`downmixed ${info.channels} channels to stereo`);
  if (c.upmix) parts.push('mono duplicated to both channels');
  if (!info.lossy && !info.float && info.bitDepth < 16) parts.push(`${info.bitDepth}-bit widened to 16-bit`);
  if (c.dither) parts.push(`quantized ${info.float ? 'float' : `${info.bitDepth}-bit`} to 16-bit with TPDF dither`);
  return parts.length ? parts.join(', ') : undefined;
}

/** xorshift32: a fixed, fast generator for the dither noise. */
class Noise {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 4294967296;
  }
}

interface SrcLike {
  full(dataIn: Float32Array, dataOut?: Float32Array | null, outLength?: { frames: number } | null): Float32Array;
  destroy(): void;
}

/**
 * Yields the source as CD audio (interleaved 16-bit stereo bytes), exactly `conversionFor(info).frames` frames.
 */
export async function* cdAudio(info: AudioInfo, seed = 1): AsyncGenerator<Buffer> {
  const conv = conversionFor(info);
  const total = conv.frames;
  let produced = 0;
  const noise = new Noise(seed);
  let src: SrcLike | undefined;
  if (conv.resample) {
    const lsr = await import('@alexanderolsen/libsamplerate-js');
    src = (await lsr.create(2, info.sampleRate, CD_RATE, { converterType: lsr.ConverterType.SRC_SINC_BEST_QUALITY })) as unknown as SrcLike;
  }
  const quantize = (l: Float32Array | Float64Array, r: Float32Array | Float64Array, n: number, interleaved?: Float32Array): Buffer => {
    const out = Buffer.allocUnsafe(n * 4);
    const v = new Int16Array(out.buffer, out.byteOffset, n * 2);
    const dither = conv.dither;
    for (let i = 0; i < n; i++) {
      let a = interleaved ? interleaved[2 * i] : l[i];
      let b = interleaved ? interleaved[2 * i + 1] : r[i];
      a *= 32768;
      b *= 32768;
      if (dither) {
        a += noise.next() - noise.next();
        b += noise.next() - noise.next();
      }
      let x = Math.round(a);
      let y = Math.round(b);
      x = x > 32767 ? 32767 : x < -32768 ? -32768 : x;
      y = y > 32767 ? 32767 : y < -32768 ? -32768 : y;
      v[2 * i] = x;
      v[2 * i + 1] = y;
    }
    return out;
  };
  const toStereoFloat = (b: PcmBlock): [Float32Array, Float32Array] => {
    const n = b.frames;
    const scale = b.kind === 'int' ? 1 / 2 ** (b.bits - 1) : 1;
    const ch = b.data.map((d) => {
      if (b.kind === 'float' && scale === 1) return d as Float32Array;
      const f = new Float32Array(n);
      for (let i = 0; i < n; i++) f[i] = d[i] * scale;
      return f;
    });
    if (ch.length === 1) return [ch[0], ch[0]];
    if (ch.length === 2) return [ch[0], ch[1]];
    // ITU-R BS.775 downmix (L, R, C, LFE, Ls, Rs order as WAV/FLAC/Vorbis-in-WAV use), normalised to avoid clipping.
    const L = new Float32Array(n);
    const R = new Float32Array(n);
    const k = Math.SQRT1_2;
    const C = ch[2];
    const Ls = ch.length >= 5 ? ch[ch.length >= 6 ? 4 : 3] : undefined;
    const Rs = ch.length >= 5 ? ch[ch.length >= 6 ? 5 : 4] : undefined;
    const norm = 1 / (1 + k + (Ls ? k : 0));
    for (let i = 0; i < n; i++) {
      L[i] = (ch[0][i] + k * C[i] + (Ls ? k * Ls[i] : 0)) * norm;
      R[i] = (ch[1][i] + k * C[i] + (Rs ? k * Rs[i] : 0)) * norm;
    }
    return [L, R];
  };
  const emit = function* (buf: Buffer): Generator<Buffer> {
    const frames = buf.length / 4;
    const take = Math.min(frames, total - produced);
    if (take <= 0) return;
    produced += take;
    yield take === frames ? buf : buf.subarray(0, take * 4);
  };
  let srcOut: Float32Array | undefined;
  const resampled = (l: Float32Array, r: Float32Array, n: number): Buffer => {
    const inter = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      inter[2 * i] = l[i];
      inter[2 * i + 1] = r[i];
    }
    const cap = Math.ceil((n * CD_RATE) / info.sampleRate) + 64;
    if (!srcOut || srcOut.length < cap * 2) srcOut = new Float32Array(cap * 2);
    const len = { frames: 0 };
    src!.full(inter, srcOut, len);
    return quantize(srcOut, srcOut, len.frames, srcOut);
  };
  try {
    let decoded = 0;
    const direct = conv.exact && info.channels === 2 && info.bitDepth === 16;
    for await (const b of decodeAudio(info, direct)) {
      decoded += b.frames;
      if (decoded > info.frames) throw new InputError(`${info.path}: the decoder gave more samples (${decoded}+) than the file's header says (${info.frames}); it is damaged or not what it claims`);
      if (b.raw16) {
        yield* emit(b.raw16);
        continue;
      }
      if (conv.exact) {
        // Integer PCM of 16 bits or less at 44.1 kHz: exact (mono duplicated, narrower samples shifted up).
        const n = b.frames;
        const out = Buffer.allocUnsafe(n * 4);
        const v = new Int16Array(out.buffer, out.byteOffset, n * 2);
        const shift = 16 - b.bits;
        const l = b.data[0];
        const r = b.data.length > 1 ? b.data[1] : b.data[0];
        for (let i = 0; i < n; i++) {
          v[2 * i] = l[i] << shift;
          v[2 * i + 1] = r[i] << shift;
        }
        yield* emit(out);
        continue;
      }
      const [l, r] = toStereoFloat(b);
      yield* emit(src ? resampled(l, r, b.frames) : quantize(l, r, b.frames));
    }
    if (decoded < info.frames) {
      throw new InputError(`${info.path}: decoding ended after ${decoded} samples, the file's header says ${info.frames}: the file is truncated or damaged`);
    }
    // Flush the converter's delay line with silence until the planned length is reached.
    let guard = 0;
    while (src && produced < total && guard++ < 64) {
      const z = new Float32Array(4096);
      yield* emit(resampled(z, z, 4096));
    }
    if (produced < total) yield* emit(Buffer.alloc((total - produced) * 4));
  } finally {
    src?.destroy();
  }
}
