/**
 * Decoding on worker threads, for the sources that need no conversion beyond 16-bit stereo (FLAC 16-bit stereo
 * 44.1 kHz: exact; MP3 and Ogg Vorbis 44.1 kHz stereo: rounded as the decoders' own 16-bit output): a worker per
 * track reads, decodes and converts; the main thread only lays the samples into sectors and writes. The next
 * track's worker starts while the current one plays out (bounded read-ahead), so two tracks decode at once.
 *
 * The worker loads the decoder packages from node_modules (resolved from here at run time); where they cannot
 * be resolved (a bundled extension without node_modules) or a worker cannot start, the caller decodes on its own
 * thread (./convert.ts) — the output is the same, sample for sample.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { InputError } from '../util/errors';
import type { AudioInfo } from './probe';

/**
 * Decoded bytes a worker may hold ahead of what the writer has taken: about 4.5 minutes of CD audio, whatever the
 * track's length (memory stays bounded); enough for the next track's worker to decode on the second core while
 * this track is written.
 */
const WINDOW = 48 * 1024 * 1024;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { modules, window } = workerData;
const jobs = new Map();
const loaded = {};
parentPort.on('message', (m) => {
  if (m.start) run(m.start);
  else if (m.credit) { const j = jobs.get(m.credit.id); if (j) { j.credit += m.credit.bytes; if (j.wake) { const w = j.wake; j.wake = undefined; w(); } } }
  else if (m.cancel !== undefined) { const j = jobs.get(m.cancel); if (j) { j.cancelled = true; if (j.wake) { const w = j.wake; j.wake = undefined; w(); } } }
});
async function run({ id, path, format, size }) {
  const job = { credit: window, cancelled: false, wake: undefined };
  jobs.set(id, job);
  let dec;
  let fd = -1;
  try {
    const mod = loaded[format] || (loaded[format] = await import(modules[format]));
    dec = format === 'flac' ? new mod.FLACDecoder() : format === 'mp3' ? new mod.MPEGDecoder({ enableGapless: true }) : new mod.OggVorbisDecoder();
    await dec.ready;
    const send = async (r) => {
      if (r.errors && r.errors.length) throw new Error('not decodable: ' + r.errors[0].message);
      const n = r.samplesDecoded;
      if (!n) return;
      const out = new Int16Array(n * 2);
      const L = r.channelData[0];
      const R = r.channelData[1];
      if (format === 'flac') {
        for (let i = 0, j = 0; i < n; i++, j += 2) {
          const l = L[i];
          const x = R[i];
          out[j] = l * 32767 + (l < 0 ? -0.5 : 0.5);
          out[j + 1] = x * 32767 + (x < 0 ? -0.5 : 0.5);
        }
      } else {
        for (let i = 0, j = 0; i < n; i++, j += 2) {
          const a = Math.round(L[i] * 32768);
          const b = Math.round(R[i] * 32768);
          out[j] = a > 32767 ? 32767 : a < -32768 ? -32768 : a;
          out[j + 1] = b > 32767 ? 32767 : b < -32768 ? -32768 : b;
        }
      }
      while (job.credit <= 0 && !job.cancelled) await new Promise((r) => (job.wake = r));
      if (job.cancelled) return;
      job.credit -= out.byteLength;
      parentPort.postMessage({ id, frames: n, data: out.buffer }, [out.buffer]);
    };
    fd = fs.openSync(path, 'r');
    const buf = Buffer.allocUnsafe(256 * 1024);
    for (let pos = 0; pos < size && !job.cancelled; ) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n === 0) throw new Error('the file became shorter during the build');
      pos += n;
      await send(await dec.decode(buf.subarray(0, n)));
    }
    if (dec.flush && !job.cancelled) await send(await dec.flush());
    parentPort.postMessage({ id, done: true });
  } catch (e) {
    parentPort.postMessage({ id, error: String((e && e.message) || e) });
  } finally {
    if (fd >= 0) fs.closeSync(fd);
    if (dec) dec.free();
    jobs.delete(id);
  }
}
`;

type Msg = { id: number; frames: number; data: ArrayBuffer } | { id: number; done: true } | { id: number; error: string };

/** A decoding thread: runs one job (a track) at a time; idle threads do not keep the process alive. */
interface PoolThread {
  worker: Worker;
  busy: boolean;
  handlers: Map<number, (m: Msg | Error) => void>;
}

const pool: PoolThread[] = [];
let nextJob = 1;
const MAX_THREADS = Math.max(1, Math.min(2, availableParallelism()));

function thread(mods: NonNullable<typeof modules>): PoolThread | undefined {
  const idle = pool.find((t) => !t.busy);
  if (idle) return idle;
  if (pool.length >= MAX_THREADS) return undefined;
  const t: PoolThread = { worker: new Worker(WORKER_SOURCE, { eval: true, workerData: { modules: mods, window: WINDOW } }), busy: false, handlers: new Map() };
  t.worker.on('message', (m: Msg) => t.handlers.get(m.id)?.(m));
  t.worker.on('error', (e) => {
    for (const h of t.handlers.values()) h(e);
    pool.splice(pool.indexOf(t), 1);
  });
  t.worker.unref();
  pool.push(t);
  return t;
}

let modules: { flac: string; mp3: string; vorbis: string } | null | undefined;

function resolveModules(): typeof modules {
  if (modules !== undefined) return modules;
  try {
    const r = (id: string) => pathToFileURL(require.resolve(id)).href;
    modules = { flac: r('@wasm-audio-decoders/flac'), mp3: r('mpg123-decoder'), vorbis: r('@wasm-audio-decoders/ogg-vorbis') };
  } catch {
    modules = null;
  }
  return modules;
}

/** Whether `info` can be decoded by a worker (no resampling, mixing or dither). */
export function workerEligible(info: AudioInfo): boolean {
  if (process.env.DISCFORGE_AUDIO_WORKERS === '0') return false;
  if (info.sampleRate !== 44_100 || info.channels !== 2) return false;
  if (info.format === 'flac') return info.bitDepth === 16;
  return info.format === 'mp3' || info.format === 'ogg-vorbis';
}

/**
 * Decodes `info` on a pool thread: yields interleaved 16-bit stereo bytes, exactly `info.frames` frames. Returns
 * undefined when no thread can be used (the caller then decodes on its own thread).
 */
export function workerAudio(info: AudioInfo): (AsyncGenerator<Buffer> & { stop(): Promise<void> }) | undefined {
  const mods = resolveModules();
  if (!mods || !workerEligible(info)) return undefined;
  const st = statSync(info.path, { throwIfNoEntry: false });
  if (!st || st.size !== info.size || st.mtimeMs !== info.mtimeMs) throw new InputError(`${info.path} changed since the build was planned; build again`);
  let t: PoolThread | undefined;
  try {
    t = thread(mods);
  } catch {
    return undefined;
  }
  if (!t) return undefined;
  const th = t;
  const id = nextJob++;
  th.busy = true;
  th.worker.ref();
  const queue: (Msg | Error)[] = [];
  let notify: (() => void) | undefined;
  th.handlers.set(id, (m) => {
    queue.push(m);
    notify?.();
  });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    th.handlers.delete(id);
    th.worker.postMessage({ cancel: id });
    th.busy = false;
    th.worker.unref();
  };
  th.worker.postMessage({ start: { id, path: info.path, format: info.format === 'ogg-vorbis' ? 'vorbis' : info.format, size: info.size } });
  const next = async (): Promise<Msg> => {
    while (!queue.length) await new Promise<void>((r) => (notify = r));
    notify = undefined;
    const m = queue.shift()!;
    if (m instanceof Error) throw m;
    return m;
  };
  const gen = (async function* () {
    let decoded = 0;
    try {
      for (;;) {
        const m = await next();
        if ('error' in m) throw new InputError(`${info.path}: ${m.error}`);
        if ('done' in m) break;
        th.worker.postMessage({ credit: { id, bytes: m.data.byteLength } });
        decoded += m.frames;
        if (decoded > info.frames) throw new InputError(`${info.path}: the decoder gave more samples (${decoded}+) than the file's header says (${info.frames}); it is damaged or not what it claims`);
        yield Buffer.from(m.data);
      }
      if (decoded < info.frames) throw new InputError(`${info.path}: decoding ended after ${decoded} samples, the file's header says ${info.frames}: the file is truncated or damaged`);
    } finally {
      end();
    }
  })();
  // A generator that never started runs no finally: stop() ends the job in any case.
  return Object.assign(gen, { stop: async () => end() });
}
