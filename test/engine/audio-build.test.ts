// `discforge build` of audio and mixed-mode CDs, judged by readers we did not write: cd-info (libcdio), cueprint and
// cuebreakpoints (cuetools), cdrdao show-toc, bchunk (splits the BIN back into WAV/ISO), xorriso and 7-Zip (the
// mixed-mode ISO), the reference decoders (sox, flac, mpg123, oggdec) for the samples, and the independent ECMA-130
// checker for every data sector and every Q sub-channel block.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTmp, runCli } from '../util/fixtures';
import { checkDataSector, qCrcOk } from '../util/ecma130-check';
import {
  allZero, binAudio, compare, monoToStereo, referencePcm, rms, rmsDiff, sh, soxCdPcm, synth, toFlac, toMp3, toOgg, wavData, writeJson,
} from './audio-fixtures';

const bcd = (b: number) => (b >> 4) * 10 + (b & 15);
const msf = (s: string) => {
  const [m, sec, f] = s.split(':').map(Number);
  return (m * 60 + sec) * 75 + f;
};

/** The cue sheet's INDEX lines as {track: {index: lba}} (parsed here, not by the engine). */
function cueIndexes(cue: string): Map<number, Map<number, number>> {
  const out = new Map<number, Map<number, number>>();
  let track = 0;
  for (const line of cue.split(/\r?\n/)) {
    const t = /^\s*TRACK (\d+)/.exec(line);
    if (t) out.set((track = Number(t[1])), new Map());
    const i = /^\s*INDEX (\d+) (\d+:\d+:\d+)/.exec(line);
    if (i) out.get(track)!.set(Number(i[1]), msf(i[2]));
  }
  return out;
}

describe('audio CD: decoders, layout, cue sheet, TOC, CD-TEXT (non-gapless, 2 s pauses)', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let dir: string;
  const src: Record<string, string> = {};
  let cue: string;
  let bin: string;
  let cueText: string;
  let idx: Map<number, Map<number, number>>;

  before(() => {
    tmp = makeTmp();
    dir = tmp.dir;
    const p = (n: string) => path.join(dir, n);
    src.wav16 = synth(p('t1.wav'), 5.3, { gen: ['sine', '440', 'whitenoise'] });
    // Full-scale noise: every 16-bit value, -32768 and 32767 included.
    src.flac16 = toFlac(synth(p('t2src.wav'), 4.61, { gen: ['whitenoise'], vol: 1 }), p('t2.flac'));
    src.mp3 = toMp3(synth(p('t3src.wav'), 5.05), p('t3.mp3'));
    src.ogg = toOgg(synth(p('t4src.wav'), 4.9, { gen: ['sine', '880', 'sine', '220'] }), p('t4.ogg'));
    src.mono8 = synth(p('t5.wav'), 4.4, { bits: 8, channels: 1, gen: ['sine', '500'] });
    src.r48 = synth(p('t6.wav'), 4.7, { rate: 48000, bits: 24, channels: 1, gen: ['sine', '1000'] });
    src.flac24 = toFlac(synth(p('t7src.wav'), 4.2, { rate: 96000, bits: 24, channels: 2, gen: ['sine', '700', 'sine', '900'] }), p('t7.flac'));
    src.float = synth(p('t8.wav'), 4.3, { bits: 32, encoding: 'floating-point', gen: ['sine', '600', 'sine', '650'] });
    const manifest = writeJson(dir, 'album.disc.json', {
      kind: 'audio',
      media: 'cd-r-80',
      catalog: '0123456789012',
      cdText: { title: 'Test Album', performer: 'The Testers', songwriter: 'S. Writer', message: 'made by DiscForge tests', language: 'en' },
      tracks: [
        { source: 't1.wav', title: 'Noise and Sine', performer: 'Tester One', isrc: 'USABC2600001', copy: 'permitted', preEmphasis: true },
        { source: 't2.flac', title: 'Flac', isrc: 'GBXYZ2600002', indexes: [0, '00:02:10'] },
        { source: 't3.mp3', title: 'Mp3', pregap: 3 },
        { source: 't4.ogg', title: 'Vorbis', copy: 'once' },
        { source: 't5.wav', title: 'Eight bit mono' },
        { source: 't6.wav', title: 'Resampled' },
        { source: 't7.flac', title: 'Hi-res' },
        { source: 't8.wav', title: 'Float' },
      ],
      output: 'out/album.cue',
    });
    const r = runCli(['build', manifest], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    // The conversions are reported on the track's source.
    assert.match(r.stderr, /album\.disc\.json:\d+:\d+: info: t6\.wav .*resampled 48000 → 44100 Hz.*TPDF dither/);
    assert.match(r.stderr, /t7\.flac .*resampled 96000 → 44100 Hz/);
    assert.match(r.stderr, /t8\.wav .*quantized float to 16-bit with TPDF dither/);
    assert.match(r.stderr, /t5\.wav .*mono duplicated.*8-bit widened/);
    assert.doesNotMatch(r.stderr, /t1\.wav|t2\.flac/);
    cue = path.join(dir, 'out', 'album.cue');
    bin = path.join(dir, 'out', 'album.bin');
    cueText = fs.readFileSync(cue, 'utf8');
    idx = cueIndexes(cueText);
  });
  after(() => tmp.cleanup());

  test('the layout: track 1 at 00:00:00, 2 s pauses (3 s where asked), sector-aligned tracks, index 2', () => {
    assert.equal(idx.size, 8);
    assert.deepEqual([...idx.get(1)!], [[1, 0]]);
    const frames = (s: string, rate = 44100) => Math.ceil((Number(sh('soxi', ['-s', s]).stdout.toString().trim()) * 44100) / rate / 588);
    // Track 1: 5.3 s = 233730 samples → 398 sectors; track 2's pause starts there.
    assert.equal(idx.get(2)!.get(0), frames(src.wav16));
    assert.equal(idx.get(2)!.get(1), idx.get(2)!.get(0)! + 150);
    assert.equal(idx.get(2)!.get(2), idx.get(2)!.get(1)! + 2 * 75 + 10);
    assert.equal(idx.get(3)!.get(1)! - idx.get(3)!.get(0)!, 225, 'pregap 3 s');
    for (let t = 4; t <= 8; t++) assert.equal(idx.get(t)!.get(1)! - idx.get(t)!.get(0)!, 150);
    assert.equal(fs.statSync(bin).size % 2352, 0);
  });

  test('cd-info (libcdio) reads the cue sheet: tracks, start addresses, flags, MCN, lead-out', () => {
    const out = sh('cd-info', ['--no-device-info', '--no-cddb', '--cue-file', cue]).stdout.toString();
    const rows = [...out.matchAll(/^\s+(\d+): (\d\d:\d\d:\d\d)\s+(\d+) (audio|data)\s+\S+\s+(yes|no)\s+(\d)?\s*(yes|no)?/gm)];
    assert.equal(rows.length, 8, out);
    for (const r of rows) {
      const t = Number(r[1]);
      assert.equal(Number(r[3]), idx.get(t)!.get(1), `track ${t} LSN`);
      assert.equal(r[5], t === 1 ? 'yes' : 'no', `track ${t} copy`);
      assert.equal(r[7], t === 1 ? 'yes' : 'no', `track ${t} pre-emphasis`);
    }
    assert.match(out, /Media Catalog Number \(MCN\): 0123456789012/);
    const leadout = /170: \d\d:\d\d:\d\d\s+(\d+) leadout/.exec(out);
    assert.equal(Number(leadout![1]), fs.statSync(bin).size / 2352);
  });

  test('cueprint and cuebreakpoints (cuetools) read the CD-TEXT, ISRCs and breakpoints', () => {
    const d = sh('cueprint', ['-d', '%T|%P|%S|%M|%N\n', '-t', '%n|%t|%p|%i\n', cue]).stdout.toString().trim().split('\n');
    assert.equal(d[0], 'Test Album|The Testers|S. Writer|made by DiscForge tests|8');
    assert.equal(d[1], '1|Noise and Sine|Tester One|USABC2600001');
    assert.equal(d[2], '2|Flac||GBXYZ2600002');
    assert.equal(d[8], '8|Float||');
    const bp = sh('cuebreakpoints', [cue]).stdout.toString().trim().split('\n');
    // Breakpoints are where tracks 2..8 begin (index 1), in M:SS.FF.
    assert.equal(bp.length, 7);
    bp.forEach((b, i) => {
      const m = /^(\d+):(\d\d)\.(\d\d)$/.exec(b)!;
      assert.equal((Number(m[1]) * 60 + Number(m[2])) * 75 + Number(m[3]), idx.get(i + 2)!.get(1));
    });
  });

  test('cdrdao accepts the TOC export (show-toc: flags, ISRC, pauses, index 2) and toc2cue converts it', () => {
    const toc = path.join(dir, 'out', 'album.toc');
    const out = sh('cdrdao', ['show-toc', toc]).stdout.toString();
    assert.match(out, /CATALOG NUMBER: 0123456789012/);
    const tracks = out.split(/^TRACK\s+/m).slice(1);
    assert.equal(tracks.length, 8);
    assert.match(tracks[0], /ISRC US ABC 26 00001[\s\S]*COPY PERMITTED[\s\S]*PRE-EMPHASIS/);
    assert.match(tracks[1], /ISRC GB XYZ 26 00002[\s\S]*INDEX\s+2/);
    assert.match(tracks[2], /PREGAP 00:03:00/);
    for (let t = 2; t <= 8; t++) {
      const start = /START\s+(\d\d:\d\d:\d\d)/.exec(tracks[t - 1])!;
      assert.equal(msf(start[1]), idx.get(t)!.get(1), `cdrdao START of track ${t}`);
    }
    // Samples as cdrdao reads them (show-data: left/right per sample, FILE … SWAP for the BIN's little-endian data).
    const data = sh('cdrdao', ['show-data', toc]).stdout.toString().split('\n').filter((l) => /^\s*\d+:/.test(l)).slice(0, 400);
    const ours = binAudio(bin, 0, 1);
    for (let i = 0; i < 100; i++) {
      const m = /^\s*(\d+):\s*(-?\d+)\s+(-?\d+)/.exec(data[i])!;
      assert.equal(Number(m[2]), ours[2 * Number(m[1])], `cdrdao sample ${m[1]} left`);
      assert.equal(Number(m[3]), ours[2 * Number(m[1]) + 1], `cdrdao sample ${m[1]} right`);
    }
    const t2c = path.join(dir, 'toc2cue.cue');
    sh('toc2cue', [toc, t2c]);
    const again = cueIndexes(fs.readFileSync(t2c, 'utf8'));
    for (let t = 1; t <= 8; t++) assert.equal(again.get(t)!.get(1), idx.get(t)!.get(1), `toc2cue track ${t}`);
  });

  test('bchunk splits the BIN into WAVs that equal the reference decodes sample for sample (+ only silence)', () => {
    const split = path.join(dir, 'split');
    fs.mkdirSync(split);
    // bchunk starts a track at its last INDEX line: a copy of the cue without the index 2 line.
    const simple = path.join(dir, 'out', 'simple.cue');
    fs.writeFileSync(simple, cueText.replace(/^[ \t]*INDEX 02 [^\r\n]*\r?\n/m, ''));
    sh('bchunk', ['-w', bin, simple, path.join(split, 'track')]);
    const wav = (n: number) => wavData(path.join(split, `track${String(n).padStart(2, '0')}.wav`));
    const check = (n: number, ref: Int16Array, tolerance: number) => {
      const got = wav(n);
      assert.ok(got.length >= ref.length, `track ${n}: ${got.length} samples < ${ref.length}`);
      const c = compare(got, 0, ref);
      assert.ok(c.maxDiff <= tolerance, `track ${n}: ${c.mismatches} samples differ, by up to ${c.maxDiff} (first at ${c.first})`);
      // After the source: silence only, less than one sector of padding plus the next pause.
      assert.ok(allZero(got, ref.length, got.length), `track ${n}: non-silence after the source`);
      return c;
    };
    check(1, referencePcm(src.wav16), 0);
    check(2, referencePcm(src.flac16), 0);
    // Lossy sources: the same length and alignment as mpg123/oggdec; their float-to-16-bit rounding may differ by 1.
    const mp3 = check(3, referencePcm(src.mp3), 1);
    assert.ok(mp3.mismatches < referencePcm(src.mp3).length / 20);
    check(4, referencePcm(src.ogg), 1);
    // 8-bit mono at 44.1 kHz: exact (sox widens 8 → 16 bits by shifting, duplicates the channel).
    check(5, monoToStereo(referencePcm(src.mono8)), 0);
    // Converted sources: the exact planned length (round(n × 44100 / rate)); close to sox's own conversion.
    for (const [n, s] of [[6, src.r48], [7, src.flac24], [8, src.float]] as const) {
      const ref = soxCdPcm(s);
      const got = wav(n);
      const expected = n === 8 ? referencePcm(s).length : ref.length;
      assert.ok(got.length >= expected && allZero(got, expected, got.length), `track ${n} length`);
      const diff = rmsDiff(got.subarray(0, expected), ref);
      assert.ok(diff < 4, `track ${n}: RMS difference from sox ${diff.toFixed(2)} LSB`);
      assert.ok(rms(ref) > 3000, 'the reference is not silence');
    }
  });

  test('the CD-TEXT file: packs with valid CRCs holding the titles; inspect shows the TOC', () => {
    const cdt = fs.readFileSync(path.join(dir, 'out', 'album.cdt'));
    assert.equal(cdt.readUInt16BE(0), cdt.length - 2);
    const r = runCli(['inspect', cue], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Catalog\s+0123456789012/);
    assert.match(r.stdout, /\n\s+1\s+AUDIO\s+00:02:00\s+\S+\s+DCP PRE\s+USABC2600001\s+Noise and Sine \/ Tester One/);
    assert.match(r.stdout, /index 02 at/);
    assert.match(r.stdout, /CD-TEXT file album\.cdt: \d+ packs, 0 bad CRC/);
    assert.match(r.stdout, /No problems found/);
    const j = JSON.parse(runCli(['inspect', cue, '--json'], { cwd: dir }).stdout);
    assert.equal(j.tracks.length, 8);
    assert.deepEqual(j.cdTextFile.text.title, ['Test Album', 'Noise and Sine', 'Flac', 'Mp3', 'Vorbis', 'Eight bit mono', 'Resampled', 'Hi-res', 'Float']);
  });
});

describe('audio CD: gapless', () => {
  let tmp: ReturnType<typeof makeTmp>;
  after(() => tmp.cleanup());

  test('tracks run on: the BIN audio is the concatenated sources, then less than one sector of silence', () => {
    tmp = makeTmp();
    const dir = tmp.dir;
    const a = synth(path.join(dir, 'a.wav'), 4.123, { gen: ['sine', '440', 'whitenoise'] });
    const b = toFlac(synth(path.join(dir, 'bsrc.wav'), 4.567, { gen: ['pinknoise'] }), path.join(dir, 'b.flac'));
    const c = synth(path.join(dir, 'c.wav'), 5.001, { gen: ['brownnoise'] });
    const manifest = writeJson(dir, 'g.disc.json', {
      kind: 'audio', gapless: true,
      tracks: [{ source: 'a.wav' }, { source: 'b.flac' }, { source: 'c.wav', start: 0.5, end: '00:04:70' }],
      output: 'g.cue',
    });
    const r = runCli(['build', manifest], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    const binFile = path.join(dir, 'g.bin');
    const sectors = fs.statSync(binFile).size / 2352;
    const all = binAudio(binFile, 0, sectors);
    const ra = referencePcm(a);
    const rb = referencePcm(b);
    // The trim: from 0.5 s (22050 samples) to 00:04:70 (4 s + 70 frames = 217560 samples).
    const rc = referencePcm(c).subarray(22050 * 2, 217_560 * 2);
    const concat = new Int16Array(ra.length + rb.length + rc.length);
    concat.set(ra, 0);
    concat.set(rb, ra.length);
    concat.set(rc, ra.length + rb.length);
    const cmp = compare(all, 0, concat);
    assert.equal(cmp.mismatches, 0, `first difference at sample ${cmp.first}`);
    assert.ok(all.length - concat.length < 588 * 2, 'less than one sector of padding');
    assert.ok(allZero(all, concat.length, all.length));
    // Track boundaries: the sector holding each track's first sample; no pauses.
    const idx = cueIndexes(fs.readFileSync(path.join(dir, 'g.cue'), 'utf8'));
    assert.equal(idx.get(2)!.get(1), Math.floor(ra.length / 2 / 588));
    assert.equal(idx.get(3)!.get(1), Math.floor((ra.length + rb.length) / 2 / 588));
    assert.equal(idx.get(2)!.get(0), undefined);
    const out = sh('cd-info', ['--no-device-info', '--no-cddb', '--cue-file', path.join(dir, 'g.cue')]).stdout.toString();
    assert.match(out, new RegExp(`\\n\\s+3: \\d\\d:\\d\\d:\\d\\d\\s+0*${idx.get(3)!.get(1)} audio`));
    // Decoding on this thread instead of worker threads gives the same BIN, byte for byte.
    const workerBin = fs.readFileSync(binFile);
    process.env.DISCFORGE_AUDIO_WORKERS = '0';
    try {
      const again = runCli(['build', manifest, '--output', path.join(dir, 'nw', 'g.cue')], { cwd: dir });
      assert.equal(again.status, 0, again.stderr);
    } finally {
      delete process.env.DISCFORGE_AUDIO_WORKERS;
    }
    assert.ok(fs.readFileSync(path.join(dir, 'nw', 'g.bin')).equals(workerBin), 'the BIN depends on where it was decoded');
  });
});

describe('mixed-mode CD and sub-channels', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let dir: string;
  before(() => {
    tmp = makeTmp();
    dir = tmp.dir;
    fs.mkdirSync(path.join(dir, 'files', 'docs'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'files', 'readme.txt'), 'a mixed-mode disc\n');
    const blob = Buffer.alloc(700_001);
    for (let i = 0; i < blob.length; i++) blob[i] = (i * 31 + (i >> 9)) & 0xff;
    fs.writeFileSync(path.join(dir, 'files', 'docs', 'blob.bin'), blob);
    synth(path.join(dir, 'a.wav'), 4.5);
    toFlac(synth(path.join(dir, 'bsrc.wav'), 4.25, { gen: ['whitenoise'] }), path.join(dir, 'b.flac'));
  });
  after(() => tmp.cleanup());

  const build = (name: string, extra: Record<string, unknown>) => {
    const manifest = writeJson(dir, `${name}.disc.json`, {
      kind: 'mixed',
      volume: { label: 'MIXED_MODE', created: '2026-01-01T00:00:00Z' },
      fileSystems: ['iso9660', 'joliet', 'rockridge'],
      files: [{ source: 'files', target: '/' }],
      catalog: '0123456789012',
      tracks: [{ source: 'a.wav', isrc: 'USABC2600009' }, { source: 'b.flac' }],
      output: `${name}/disc.cue`,
      ...extra,
    });
    const r = runCli(['build', manifest], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    return { cue: path.join(dir, name, 'disc.cue'), bin: path.join(dir, name, 'disc.bin'), toc: path.join(dir, name, 'disc.toc'), stderr: r.stderr };
  };

  test('the data track: every sector passes the independent EDC/ECC check, bchunk extracts an ISO that xorriso and 7-Zip read', () => {
    const { cue, bin } = build('plain', {});
    const idx = cueIndexes(fs.readFileSync(cue, 'utf8'));
    const dataEnd = idx.get(2)!.get(0)!;
    assert.equal(idx.get(2)!.get(1)! - dataEnd, 150, 'a 2 s pause before the first audio track');
    const fd = fs.openSync(bin, 'r');
    const sec = Buffer.alloc(2352);
    for (let lba = 0; lba < dataEnd; lba++) {
      fs.readSync(fd, sec, 0, 2352, lba * 2352);
      const c = checkDataSector(sec, lba);
      assert.ok(c.ok && c.mode === 1, `LBA ${lba}: ${c.problems.join(', ')}`);
    }
    fs.closeSync(fd);
    // A single flipped byte anywhere in a data sector of the image is found.
    const copy = Buffer.from(fs.readFileSync(bin).subarray(20 * 2352, 21 * 2352));
    copy[700] ^= 0x40;
    assert.equal(checkDataSector(copy, 20).ok, false);
    const r = runCli(['inspect', cue], { cwd: dir });
    assert.match(r.stdout, new RegExp(`${dataEnd} data sectors, 0 failing`));
    // bchunk: track 1 → ISO (2048-byte blocks), read by xorriso and 7-Zip.
    const split = path.join(dir, 'split');
    fs.mkdirSync(split);
    sh('bchunk', [bin, cue, path.join(split, 'track')]);
    const iso = path.join(split, 'track01.iso');
    const x = sh('xorriso', ['-indev', iso, '-find', '/', '-type', 'f'], { allowFail: false });
    assert.match(x.stdout.toString() + x.stderr, /docs\/blob\.bin/);
    const extract = path.join(dir, 'x7');
    sh('7zz', ['x', '-y', `-o${extract}`, iso]);
    assert.deepEqual(fs.readFileSync(path.join(extract, 'docs', 'blob.bin')), fs.readFileSync(path.join(dir, 'files', 'docs', 'blob.bin')));
    assert.equal(fs.readFileSync(path.join(extract, 'readme.txt'), 'utf8'), 'a mixed-mode disc\n');
    // Audio after the data track is still exactly the source.
    const a = referencePcm(path.join(dir, 'a.wav'));
    assert.equal(compare(binAudio(bin, idx.get(2)!.get(1)!, idx.get(3)!.get(0)!), 0, a).mismatches, 0);
    const info = sh('cd-info', ['--no-device-info', '--no-cddb', '--cue-file', cue]).stdout.toString();
    assert.match(info, /\n\s+1: 00:02:00\s+000000 data/);
    assert.match(info, /\n\s+2: \d\d:\d\d:\d\d\s+\d+ audio/);
  });

  test('raw P–W sub-channel (2448-byte sectors): Q CRC in every sector, positions match the TOC, MCN and ISRC; cdrdao reads the TOC', () => {
    const { bin, toc, stderr, cue } = build('rw', { subcode: 'rw' });
    assert.match(stderr, /warning: a cue sheet has no track mode for 2448-byte sectors/);
    const size = fs.statSync(bin).size;
    assert.equal(size % 2448, 0);
    const sectors = size / 2448;
    const show = sh('cdrdao', ['show-toc', toc]).stdout.toString();
    assert.match(show, /TRACK\s+1\s+Mode MODE1_RAW RW_RAW/);
    assert.match(show, /TRACK\s+2\s+Mode AUDIO RW_RAW[\s\S]*ISRC US ABC 26 00009/);
    const starts = [...show.matchAll(/START\s+(\d\d:\d\d:\d\d)/g)].map((m) => msf(m[1]));
    const idx = cueIndexes(fs.readFileSync(cue, 'utf8'));
    assert.deepEqual(starts, [0, idx.get(2)!.get(1), idx.get(3)!.get(1)]);
    const fd = fs.openSync(bin, 'r');
    const sec = Buffer.alloc(2448);
    let mcn = 0;
    let isrc = 0;
    for (let lba = 0; lba < sectors; lba++) {
      fs.readSync(fd, sec, 0, 2448, lba * 2448);
      const q = new Uint8Array(12);
      let p = 0;
      for (let i = 0; i < 96; i++) {
        if (sec[2352 + i] & 0x40) q[i >> 3] |= 0x80 >> (i & 7);
        if (sec[2352 + i] & 0x80) p++;
        assert.equal(sec[2352 + i] & 0x3f, 0, 'R–W empty in the program area');
      }
      assert.ok(qCrcOk(q), `Q CRC at LBA ${lba}`);
      const adr = q[0] & 15;
      const track = lba < idx.get(2)!.get(0)! ? 1 : lba < idx.get(3)!.get(0)! ? 2 : 3;
      if (adr === 1) {
        assert.equal(bcd(q[1]), track, `track number at LBA ${lba}`);
        const abs = (bcd(q[7]) * 60 + bcd(q[8])) * 75 + bcd(q[9]);
        assert.equal(abs, lba + 150, `absolute time at LBA ${lba}`);
        const inPause = lba < idx.get(track)!.get(1)!;
        assert.equal(bcd(q[2]), inPause ? 0 : 1);
        assert.equal(p === 96, inPause, `P at LBA ${lba}`);
        assert.equal((q[0] >> 4) & 4, track === 1 ? 4 : 0, 'data track control bit');
      } else if (adr === 2) mcn++;
      else if (adr === 3) {
        isrc++;
        assert.equal(track, 2, 'the ISRC is only on track 2');
      }
      if (track === 1) {
        const c = checkDataSector(sec.subarray(0, 2352), lba);
        assert.ok(c.ok, `data LBA ${lba}: ${c.problems.join(', ')}`);
      }
    }
    fs.closeSync(fd);
    assert.ok(mcn >= Math.floor(sectors / 100) - 1, `${mcn} MCN blocks in ${sectors} sectors`);
    assert.ok(isrc >= 2);
    const r = runCli(['inspect', cue], { cwd: dir });
    assert.match(r.stdout, /2448 bytes \(2352 \+ 96 raw P–W sub-channel\)/);
    assert.match(r.stdout, /0 failing/);
  });

  test('formatted P/Q (2368-byte sectors): 16 bytes of Q + P after each sector', () => {
    const { bin } = build('pq', { subcode: 'pq' });
    const size = fs.statSync(bin).size;
    assert.equal(size % 2368, 0);
    const fd = fs.openSync(bin, 'r');
    const sec = Buffer.alloc(2368);
    for (let lba = 0; lba < size / 2368; lba += 7) {
      fs.readSync(fd, sec, 0, 2368, lba * 2368);
      assert.ok(qCrcOk(sec.subarray(2352, 2364)), `Q CRC at ${lba}`);
      assert.deepEqual([...sec.subarray(2364, 2367)], [0, 0, 0]);
    }
    fs.closeSync(fd);
  });
});
