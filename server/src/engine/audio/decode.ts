/**
 * Streaming decoders: WAV (our own reader), FLAC, MP3 and Ogg Vorbis (WebAssembly builds of libFLAC, libmpg123 and
 * libvorbis from the wasm-audio-decoders project: no native code, they run wherever Node.js runs). The file is read
 * in chunks and decoded as it goes: memory stays flat whatever the track's length.
 *
 * Output: blocks of planar samples, either integers at the source's bit depth (WAV PCM, FLAC — exact) or floats in
 * [-1, 1] (float WAV, MP3, Vorbis).
 */
import * as fs from 'node:fs';
import { InputError } from '../util/errors';
import type { AudioInfo } from './probe';

export interface PcmBlock {
  /** Planar channels. */
  data: (Int32Array | Float32Array)[];
  frames: number;
  /** 'int': integers of `bits` bits; 'float': floats in [-1, 1]. */
  kind: 'int' | 'float';
  bits: number;
  /** WAV 16-bit stereo: the interleaved little-endian bytes as they are (the fast path), else undefined. */
  raw16?: Buffer;
}

const READ_CHUNK = 256 * 1024;

function readChunks(file: string, from: number, length: number, info: AudioInfo): AsyncGenerator<Buffer> {
  return (async function* () {
    const fd = fs.openSync(file, 'r');
    try {
      const st = fs.fstatSync(fd);
      if (st.size !== info.size || st.mtimeMs !== info.mtimeMs) throw new InputError(`${file} changed since the build was planned; build again`);
      let pos = from;
      const end = from + length;
      while (pos < end) {
        const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, end - pos));
        const n = fs.readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) throw new InputError(`${file} became shorter during the build; build again`);
        pos += n;
        yield n === buf.length ? buf : buf.subarray(0, n);
      }
    } finally {
      fs.closeSync(fd);
    }
  })();
}

/**
 * Decodes `info.path` block by block. `direct`: the source is CD audio already (16-bit stereo 44.1 kHz integer
 * PCM): blocks come as `raw16` (interleaved little-endian bytes), the fast path.
 */
export async function* decodeAudio(info: AudioInfo, direct = false): AsyncGenerator<PcmBlock> {
  switch (info.format) {
    case 'wav':
      yield* decodeWav(info, direct);
      return;
    case 'flac':
      yield* decodeFlac(info, direct);
      return;
    case 'mp3':
      yield* decodeMp3(info);
      return;
    case 'ogg-vorbis':
      yield* decodeVorbis(info);
      return;
  }
}

async function* decodeWav(info: AudioInfo, direct: boolean): AsyncGenerator<PcmBlock> {
  const ch = info.channels;
  const bytes = info.bitDepth / 8;
  const align = ch * bytes;
  let carry = Buffer.alloc(0);
  for await (const chunk of readChunks(info.path, info.dataOffset!, info.dataBytes!, info)) {
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const frames = Math.floor(buf.length / align);
    const used = frames * align;
    carry = Buffer.from(buf.subarray(used));
    if (frames === 0) continue;
    if (direct && !info.float && info.bitDepth === 16 && ch === 2) {
      yield { data: [], frames, kind: 'int', bits: 16, raw16: buf.subarray(0, used) };
      continue;
    }
    const data = Array.from({ length: ch }, () => (info.float ? new Float32Array(frames) : new Int32Array(frames)));
    for (let c = 0; c < ch; c++) {
      const d = data[c];
      let o = c * bytes;
      for (let i = 0; i < frames; i++, o += align) {
        if (info.float) d[i] = bytes === 4 ? buf.readFloatLE(o) : buf.readDoubleLE(o);
        else if (bytes === 1) d[i] = buf[o] - 128;
        else if (bytes === 2) d[i] = buf.readInt16LE(o);
        else if (bytes === 3) d[i] = buf.readIntLE(o, 3);
        else d[i] = buf.readInt32LE(o);
      }
    }
    yield { data, frames, kind: info.float ? 'float' : 'int', bits: info.bitDepth };
  }
}

interface DecodedAudio {
  channelData: Float32Array[];
  samplesDecoded: number;
  bitDepth?: number;
  errors: { message: string; frameNumber?: number }[];
}

function checkErrors(info: AudioInfo, r: DecodedAudio): void {
  if (r.errors && r.errors.length) {
    const e = r.errors[0];
    throw new InputError(`${info.path}: not decodable: ${e.message}${e.frameNumber !== undefined ? ` (frame ${e.frameNumber})` : ''}`);
  }
}

/**
 * The FLAC decoder's float output is sample / (2^(b-1) - 1) (for both signs: -32768 comes out as -1.00003);
 * multiplying back and rounding gives the integers exactly (16 bits and below; 24 bits to within float precision).
 */
function floatToInt(r: DecodedAudio, bits: number): Int32Array[] {
  const scale = 2 ** (bits - 1) - 1;
  return r.channelData.map((f) => {
    const out = new Int32Array(r.samplesDecoded);
    for (let i = 0; i < out.length; i++) out[i] = Math.round(f[i] * scale);
    return out;
  });
}

/** 16-bit stereo from libFLAC's floats straight into interleaved little-endian bytes (exact, see floatToInt). */
function floatTo16(r: DecodedAudio): Buffer {
  const n = r.samplesDecoded;
  const out = Buffer.allocUnsafe(n * 4);
  const v = new Int16Array(out.buffer, out.byteOffset, n * 2);
  const L = r.channelData[0];
  const R = r.channelData[1];
  for (let i = 0, j = 0; i < n; i++, j += 2) {
    const l = L[i];
    const x = R[i];
    // k/32767 to within 2^-24 of k: rounded half away from zero (the Int16Array store truncates).
    v[j] = l * 32767 + (l < 0 ? -0.5 : 0.5);
    v[j + 1] = x * 32767 + (x < 0 ? -0.5 : 0.5);
  }
  return out;
}

// The decoders run on this thread. (Their WebWorker builds parse FLAC frames and copy every block across
// threads on the main thread's time: measured slower for FLAC and MP3 alike.)
async function* decodeFlac(info: AudioInfo, direct: boolean): AsyncGenerator<PcmBlock> {
  const { FLACDecoder } = await import('@wasm-audio-decoders/flac');
  const dec = new FLACDecoder();
  await dec.ready;
  try {
    const emit = (r: DecodedAudio): PcmBlock | undefined => {
      checkErrors(info, r);
      if (!r.samplesDecoded) return undefined;
      const bits = r.bitDepth || info.bitDepth;
      if (direct && bits === 16 && r.channelData.length === 2) return { data: [], frames: r.samplesDecoded, kind: 'int', bits, raw16: floatTo16(r) };
      return { data: floatToInt(r, bits), frames: r.samplesDecoded, kind: 'int', bits };
    };
    for await (const chunk of readChunks(info.path, 0, info.size, info)) {
      const b = emit((await dec.decode(chunk)) as DecodedAudio);
      if (b) yield b;
    }
    const b = emit((await dec.flush()) as DecodedAudio);
    if (b) yield b;
  } finally {
    dec.free();
  }
}

function floatBlock(info: AudioInfo, r: DecodedAudio): PcmBlock | undefined {
  checkErrors(info, r);
  if (!r.samplesDecoded) return undefined;
  return { data: r.channelData.map((c) => c.subarray(0, r.samplesDecoded)), frames: r.samplesDecoded, kind: 'float', bits: 32 };
}

async function* decodeMp3(info: AudioInfo): AsyncGenerator<PcmBlock> {
  const { MPEGDecoder } = await import('mpg123-decoder');
  const dec = new MPEGDecoder({ enableGapless: true });
  await dec.ready;
  try {
    for await (const chunk of readChunks(info.path, 0, info.size, info)) {
      const b = floatBlock(info, dec.decode(chunk) as DecodedAudio);
      if (b) yield b;
    }
  } finally {
    dec.free();
  }
}

async function* decodeVorbis(info: AudioInfo): AsyncGenerator<PcmBlock> {
  const { OggVorbisDecoder } = await import('@wasm-audio-decoders/ogg-vorbis');
  const dec = new OggVorbisDecoder();
  await dec.ready;
  try {
    for await (const chunk of readChunks(info.path, 0, info.size, info)) {
      const b = floatBlock(info, (await dec.decode(chunk)) as DecodedAudio);
      if (b) yield b;
    }
    const b = floatBlock(info, (await dec.flush()) as DecodedAudio);
    if (b) yield b;
  } finally {
    dec.free();
  }
}
