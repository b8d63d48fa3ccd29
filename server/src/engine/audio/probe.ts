/**
 * What an audio source is, without decoding it: format, sample rate, channels, bit depth and the exact number of
 * sample frames the decoder will give (from headers: WAV data chunk, FLAC STREAMINFO, MP3 Xing/LAME tag or a scan
 * of the frame headers, the last Ogg page's granule position). Planning needs the exact length before any audio
 * is decoded; the writer checks that the decoder gives exactly that many.
 */
import * as fs from 'node:fs';

export type AudioFormat = 'wav' | 'flac' | 'mp3' | 'ogg-vorbis';

export interface AudioInfo {
  path: string;
  format: AudioFormat;
  sampleRate: number;
  channels: number;
  /** Bits per sample of the source (lossy formats: 16, the decoders' output). */
  bitDepth: number;
  float: boolean;
  lossy: boolean;
  /** Sample frames (samples per channel) the decoder produces. */
  frames: number;
  size: number;
  mtimeMs: number;
  /** WAV: where the PCM data starts and how long it is. */
  dataOffset?: number;
  dataBytes?: number;
  /** MP3: bytes to skip before the first frame (ID3v2). */
  skip?: number;
}

export class ProbeError extends Error {}

function readAt(fd: number, pos: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, b, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return b.subarray(0, got);
}

export function probeAudio(file: string): AudioInfo {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ProbeError(code === 'ENOENT' ? 'no such file' : `cannot read it: ${(e as Error).message}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new ProbeError('not a file');
    const head = readAt(fd, 0, 64);
    const base = { path: file, size: st.size, mtimeMs: st.mtimeMs };
    if (head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WAVE') return { ...base, ...probeWav(fd, st.size) };
    if (head.length >= 4 && head.toString('latin1', 0, 4) === 'fLaC') return { ...base, ...probeFlac(fd) };
    if (head.length >= 4 && head.toString('latin1', 0, 4) === 'OggS') return { ...base, ...probeOgg(fd, st.size) };
    const mp3 = probeMp3(fd, st.size);
    if (mp3) return { ...base, ...mp3 };
    throw new ProbeError('not a WAV, FLAC, MP3 or Ogg Vorbis file');
  } finally {
    fs.closeSync(fd);
  }
}

type Probed = Omit<AudioInfo, 'path' | 'size' | 'mtimeMs'>;

// ---- WAV (RIFF; PCM 8/16/24/32-bit, IEEE float 32/64; WAVE_FORMAT_EXTENSIBLE) ----

function probeWav(fd: number, size: number): Probed {
  let pos = 12;
  let fmt: Buffer | undefined;
  while (pos + 8 <= size) {
    const h = readAt(fd, pos, 8);
    const id = h.toString('latin1', 0, 4);
    let len = h.readUInt32LE(4);
    if (id === 'fmt ') fmt = readAt(fd, pos + 8, Math.min(len, 64));
    else if (id === 'data') {
      if (!fmt) throw new ProbeError('WAV: data chunk before the fmt chunk');
      let tag = fmt.readUInt16LE(0);
      const channels = fmt.readUInt16LE(2);
      const sampleRate = fmt.readUInt32LE(4);
      const blockAlign = fmt.readUInt16LE(12);
      const bits = fmt.readUInt16LE(14);
      if (tag === 0xfffe && fmt.length >= 26) tag = fmt.readUInt16LE(24); // the sub-format GUID's first two bytes
      const float = tag === 3;
      if (tag !== 1 && tag !== 3) throw new ProbeError(`WAV: format tag ${tag} is not PCM or IEEE float`);
      if (!float && ![8, 16, 24, 32].includes(bits)) throw new ProbeError(`WAV: ${bits}-bit PCM is not supported`);
      if (float && bits !== 32 && bits !== 64) throw new ProbeError(`WAV: ${bits}-bit float is not supported`);
      if (channels < 1 || sampleRate < 1 || blockAlign !== channels * (bits / 8)) throw new ProbeError('WAV: inconsistent fmt chunk');
      // A streamed WAV may say 0 or 0xFFFFFFFF: the data then runs to the end of the file.
      if (len === 0 || len === 0xffffffff || pos + 8 + len > size) len = size - pos - 8;
      const frames = Math.floor(len / blockAlign);
      return { format: 'wav', sampleRate, channels, bitDepth: bits, float, lossy: false, frames, dataOffset: pos + 8, dataBytes: frames * blockAlign };
    }
    pos += 8 + len + (len & 1);
  }
  throw new ProbeError('WAV: no data chunk');
}

// ---- FLAC (STREAMINFO) ----

function probeFlac(fd: number): Probed {
  const b = readAt(fd, 4, 4 + 34);
  if (b.length < 38 || (b[0] & 0x7f) !== 0) throw new ProbeError('FLAC: the first metadata block is not STREAMINFO');
  const si = b.subarray(4);
  const sampleRate = (si[10] << 12) | (si[11] << 4) | (si[12] >> 4);
  const channels = ((si[12] >> 1) & 7) + 1;
  const bitDepth = (((si[12] & 1) << 4) | (si[13] >> 4)) + 1;
  const frames = (si[13] & 0x0f) * 2 ** 32 + si.readUInt32BE(14);
  if (sampleRate === 0) throw new ProbeError('FLAC: STREAMINFO has no sample rate');
  if (frames === 0) throw new ProbeError('FLAC: STREAMINFO does not give the number of samples (a streamed encode); re-encode it with flac');
  return { format: 'flac', sampleRate, channels, bitDepth, float: false, lossy: false, frames };
}

// ---- MP3 (MPEG-1/2/2.5 Layer III; Xing/Info + LAME tag for gapless lengths) ----

const MP3_RATES = [[11025, 12000, 8000], [0, 0, 0], [22050, 24000, 16000], [44100, 48000, 32000]];
const MP3_BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MP3_BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

interface Mp3Frame {
  version: number;
  sampleRate: number;
  channels: number;
  length: number;
  samples: number;
  sideInfo: number;
}

function mp3Frame(h: Buffer, o: number): Mp3Frame | undefined {
  if (o + 4 > h.length || h[o] !== 0xff || (h[o + 1] & 0xe0) !== 0xe0) return undefined;
  const version = (h[o + 1] >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
  const layer = (h[o + 1] >> 1) & 3; // 1 = Layer III
  const br = h[o + 2] >> 4;
  const sr = (h[o + 2] >> 2) & 3;
  if (version === 1 || layer !== 1 || br === 0 || br === 15 || sr === 3) return undefined;
  const sampleRate = MP3_RATES[version][sr];
  const kbps = (version === 3 ? MP3_BITRATES_V1 : MP3_BITRATES_V2)[br];
  const padding = (h[o + 2] >> 1) & 1;
  const samples = version === 3 ? 1152 : 576;
  const length = Math.floor(((samples / 8) * kbps * 1000) / sampleRate) + padding;
  const mono = (h[o + 3] >> 6) === 3;
  const sideInfo = version === 3 ? (mono ? 17 : 32) : mono ? 9 : 17;
  return { version, sampleRate, channels: mono ? 1 : 2, length, samples, sideInfo };
}

function probeMp3(fd: number, size: number): Probed | undefined {
  let skip = 0;
  const id3 = readAt(fd, 0, 10);
  if (id3.length === 10 && id3.toString('latin1', 0, 3) === 'ID3') {
    skip = 10 + (((id3[6] & 0x7f) << 21) | ((id3[7] & 0x7f) << 14) | ((id3[8] & 0x7f) << 7) | (id3[9] & 0x7f)) + (id3[5] & 0x10 ? 10 : 0);
  }
  // Find the first frame: it and the next must be consistent headers.
  const win = readAt(fd, skip, 64 * 1024);
  let first: Mp3Frame | undefined;
  let at = -1;
  for (let o = 0; o + 4 <= win.length; o++) {
    const f = mp3Frame(win, o);
    if (!f) continue;
    const next = mp3Frame(win, o + f.length);
    if ((next && next.sampleRate === f.sampleRate) || o + f.length >= win.length) {
      first = f;
      at = o;
      break;
    }
  }
  if (!first) return undefined;
  const start = skip + at;
  // Xing/Info tag in the first frame: frame count; the LAME extension: encoder delay and padding.
  const frame0 = readAt(fd, start, first.length);
  const x = 4 + first.sideInfo;
  const tag = frame0.toString('latin1', x, x + 4);
  if (tag === 'Xing' || tag === 'Info') {
    const flags = frame0.readUInt32BE(x + 4);
    if (flags & 1) {
      const count = frame0.readUInt32BE(x + 8);
      let p = x + 8 + 4;
      if (flags & 2) p += 4;
      if (flags & 4) p += 100;
      if (flags & 8) p += 4;
      let delay = 0;
      let pad = 0;
      // LAME extension: 9 bytes of version string, …, delay/padding at offset 21 of the extension (12 + 12 bits).
      if (p + 24 <= frame0.length && /^(LAME|Lavc|Lavf|GOGO)/.test(frame0.toString('latin1', p, p + 4))) {
        delay = (frame0[p + 21] << 4) | (frame0[p + 22] >> 4);
        pad = ((frame0[p + 22] & 0x0f) << 8) | frame0[p + 23];
      }
      // mpg123 (gapless) removes the encoder delay plus its own 529-sample decoder delay, and the padding.
      const frames = count * first.samples - delay - pad;
      return { format: 'mp3', sampleRate: first.sampleRate, channels: first.channels, bitDepth: 16, float: false, lossy: true, frames: Math.max(0, frames), skip: start };
    }
  }
  // No tag: count the frames (headers only).
  let count = 0;
  let pos = start;
  const buf = Buffer.alloc(1024 * 1024);
  let bufStart = -1;
  let bufLen = 0;
  while (pos + 4 <= size) {
    if (bufStart < 0 || pos + 4 > bufStart + bufLen) {
      bufStart = pos;
      bufLen = fs.readSync(fd, buf, 0, buf.length, pos);
      if (bufLen < 4) break;
    }
    const f = mp3Frame(buf, pos - bufStart);
    if (!f) break; // trailing tags (ID3v1, APE)
    count++;
    pos += f.length;
  }
  return { format: 'mp3', sampleRate: first.sampleRate, channels: first.channels, bitDepth: 16, float: false, lossy: true, frames: count * first.samples, skip: start };
}

// ---- Ogg Vorbis (identification header; the last page's granule position) ----

function probeOgg(fd: number, size: number): Probed {
  const h = readAt(fd, 0, 512);
  const segs = h[26];
  const body = 27 + segs;
  if (h.toString('latin1', body + 1, body + 7) !== 'vorbis' || h[body] !== 1) throw new ProbeError('Ogg: not a Vorbis stream (only Ogg Vorbis is supported)');
  const channels = h[body + 11];
  const sampleRate = h.readUInt32LE(body + 12);
  const serial = h.readUInt32LE(14);
  // The last page of the stream: search backwards for "OggS" with this serial number.
  const tailLen = Math.min(size, 256 * 1024);
  const tail = readAt(fd, size - tailLen, tailLen);
  for (let o = tail.length - 27; o >= 0; o--) {
    if (tail[o] === 0x4f && tail.toString('latin1', o, o + 4) === 'OggS' && tail.readUInt32LE(o + 14) === serial) {
      const granule = Number(tail.readBigUInt64LE(o + 6));
      return { format: 'ogg-vorbis', sampleRate, channels, bitDepth: 16, float: false, lossy: true, frames: granule };
    }
  }
  throw new ProbeError('Ogg: no final page found');
}
