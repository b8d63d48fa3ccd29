// @ts-check
// `npm run bench:audio`: building a 74-minute audio CD (20 tracks of 3:42) from FLAC and from MP3 sources with
// `discforge build`, beside the reference decoders doing the same decoding work to WAV (`flac -d`, `sox`,
// `mpg123`). The target is within 1.5× of the reference decoder. Needs sox, flac, lame, mpg123 (Debian packages;
// sox's MP3 reading: libsox-fmt-mp3).
//   node bench/audio.mjs [--tracks N] [--keep]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = path.join(root, 'dist', 'cli.js');
const args = process.argv.slice(2);
const TRACKS = Number(args[args.indexOf('--tracks') + 1]) || 20;
const SECONDS = 222; // 20 × 3:42 = 74:00
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'df-bench-audio-'));

/** @param {string} cmd @param {string[]} a */
function run(cmd, a, quiet = true) {
  const r = spawnSync(cmd, a, { stdio: quiet ? ['ignore', 'ignore', 'pipe'] : 'inherit', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${a.join(' ')} failed: ${r.stderr?.toString().slice(0, 500)}`);
}

/** @param {() => void} fn */
function time(fn) {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

if (!fs.existsSync(cli)) {
  console.error('dist/cli.js is missing: run `node scripts/build.mjs` first');
  process.exit(1);
}
try {
  console.error(`making ${TRACKS} different tracks of ${SECONDS} s (sox; flac; lame) in ${dir} …`);
  for (let i = 0; i < TRACKS; i++) {
    const wav = path.join(dir, `t${i}.wav`);
    // Music-like content: two tones that differ per track, plus pink noise (FLAC and MP3 cannot code it away).
    run('sox', ['-n', '-r', '44100', '-b', '16', '-c', '2', wav, 'synth', String(SECONDS), 'sine', String(220 + 37 * i), 'sine', String(330 + 53 * i), 'pinknoise', 'vol', '0.4']);
    run('flac', ['-s', '-f', '-5', '-o', path.join(dir, `t${i}.flac`), wav]);
    run('lame', ['--quiet', '-b', '192', wav, path.join(dir, `t${i}.mp3`)]);
    fs.rmSync(wav);
  }
  /** @param {string} ext */
  const manifest = (ext) => {
    const p = path.join(dir, `${ext}.disc.json`);
    fs.writeFileSync(p, JSON.stringify({
      kind: 'audio', media: 'cd-r-80', gapless: true, // 74:00 of audio + the 2 s before track 1 > 74:00:00
      tracks: Array.from({ length: TRACKS }, (_, i) => ({ source: `t${i}.${ext}`, title: `Track ${i + 1}` })),
      output: `out-${ext}/album.cue`,
    }));
    return p;
  };
  const results = [];
  for (const ext of ['flac', 'mp3']) {
    const m = manifest(ext);
    const ours = time(() => run(process.execPath, [cli, 'build', m, '-q']));
    const bin = path.join(dir, `out-${ext}`, 'album.bin');
    const size = fs.statSync(bin).size;
    fs.rmSync(path.join(dir, `out-${ext}`), { recursive: true, force: true });
    const refs = ext === 'flac'
      ? { 'flac -d': (/** @type {string} */ f, /** @type {string} */ o) => run('flac', ['-s', '-d', '-f', '-o', o, f]) }
      : { sox: (/** @type {string} */ f, /** @type {string} */ o) => run('sox', [f, o]), 'mpg123 -w': (/** @type {string} */ f, /** @type {string} */ o) => run('mpg123', ['-q', '-w', o, f]) };
    for (const [name, dec] of Object.entries(refs)) {
      const ref = time(() => {
        for (let i = 0; i < TRACKS; i++) {
          const o = path.join(dir, `ref.wav`);
          dec(path.join(dir, `t${i}.${ext}`), o);
        }
      });
      fs.rmSync(path.join(dir, 'ref.wav'), { force: true });
      results.push({ sources: ext, discforge_s: +ours.toFixed(2), reference: name, reference_s: +ref.toFixed(2), ratio: +(ours / ref).toFixed(2), bin_MB: +(size / 1e6).toFixed(1) });
    }
  }
  console.table(results);
  console.log(JSON.stringify({ tracks: TRACKS, seconds: TRACKS * SECONDS, results }));
} finally {
  if (!args.includes('--keep')) fs.rmSync(dir, { recursive: true, force: true });
}
