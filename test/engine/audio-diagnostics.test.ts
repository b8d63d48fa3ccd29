// Diagnostics of audio manifests, each at its exact manifest node (file:line:col): short tracks, too long for the
// medium, malformed ISRC / MCN / times, undecodable sources, CD-TEXT outside ISO 8859-1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTmp, positionOf, runCli } from '../util/fixtures';
import { sh, synth } from './audio-fixtures';

describe('audio manifests: diagnostics on the node at fault', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let dir: string;
  before(() => {
    tmp = makeTmp();
    dir = tmp.dir;
    synth(path.join(dir, 'ok.wav'), 4.2);
    synth(path.join(dir, 'short.wav'), 3.5);
    fs.writeFileSync(path.join(dir, 'notaudio.flac'), 'fLaC' + 'this is text, not FLAC\n'.repeat(10));
    // 75 minutes of 16-bit stereo silence as a sparse WAV (header + hole): plans, never decoded here.
    const long = path.join(dir, 'long.wav');
    const bytes = 75 * 60 * 44100 * 4;
    const h = Buffer.alloc(44);
    h.write('RIFF', 0, 'latin1');
    h.writeUInt32LE(36 + bytes, 4);
    h.write('WAVEfmt ', 8, 'latin1');
    h.writeUInt32LE(16, 16);
    h.writeUInt16LE(1, 20);
    h.writeUInt16LE(2, 22);
    h.writeUInt32LE(44100, 24);
    h.writeUInt32LE(176400, 28);
    h.writeUInt16LE(4, 32);
    h.writeUInt16LE(16, 34);
    h.write('data', 36, 'latin1');
    h.writeUInt32LE(bytes, 40);
    const fd = fs.openSync(long, 'w');
    fs.writeSync(fd, h);
    fs.ftruncateSync(fd, 44 + bytes);
    fs.closeSync(fd);
  });
  after(() => tmp.cleanup());

  const check = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    const r = runCli(['check', file], { cwd: dir });
    return { r, at: (needle: string, occurrence = 1) => { const p = positionOf(text, needle, occurrence); return `${file}:${p.line}:${p.column}`; } };
  };

  test('short track, malformed ISRC and MCN, undecodable source, bad time, non-Latin-1 CD-TEXT', () => {
    const text = `{
  "kind": "audio",
  "catalog": "12345",
  "cdText": { "title": "Ψ album" },
  "tracks": [
    { "source": "ok.wav", "isrc": "US-ABC-26-001" },
    { "source": "short.wav" },
    { "source": "notaudio.flac" },
    { "source": "missing.wav" },
    { "source": "ok.wav", "pregap": "00:02:80" }
  ],
  "output": "x.cue"
}
`;
    const { r, at } = check('bad.disc.json', text);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    const e = r.stderr;
    assert.ok(e.includes(`${at('"12345"')}: error: the catalogue number (MCN) must be 13 digits`), e);
    assert.ok(e.includes(`${at('"Ψ album"')}: error: CD-TEXT is written in ISO 8859-1`), e);
    assert.ok(e.includes(`${at('"US-ABC-26-001"')}: error: an ISRC is 12 characters`), e);
    assert.ok(e.includes(`${at('"short.wav"')}: error: track 2 lasts 3.50 s: a CD track must last at least 4 s`), e);
    assert.ok(e.includes(`${at('"notaudio.flac"')}: error: notaudio.flac: not decodable: FLAC: the first metadata block is not STREAMINFO`), e);
    assert.ok(e.includes(`${at('"missing.wav"')}: error: missing.wav: not decodable: no such file`), e);
    assert.ok(e.includes(`${at('"00:02:80"')}: error:`), e);
  });

  test('longer than the medium: on "media", by how much; a wrong check digit is a warning', () => {
    const text = `{
  "kind": "audio",
  "media": "cd-r-74",
  "catalog": "0123456789013",
  "tracks": [ { "source": "long.wav" } ],
  "output": "x.cue"
}
`;
    const { r, at } = check('long.disc.json', text);
    assert.equal(r.status, 2);
    assert.ok(r.stderr.includes(`${at('"cd-r-74"')}: error: the disc plays 75:02.00 but a 74-minute CD holds 74:00.00: 1:02.00 too long [capacity]`), r.stderr);
    assert.ok(r.stderr.includes(`${at('"0123456789013"')}: warning: the catalogue number 0123456789013 has a wrong EAN-13 check digit (expected 2)`), r.stderr);
    // The same disc fits an 80-minute CD.
    const ok = check('long80.disc.json', text.replace('cd-r-74', 'cd-r-80').replace('9013', '9012'));
    assert.equal(ok.r.status, 0, ok.r.stderr);
    assert.match(ok.r.stdout, /ok — 1 tracks, 337500 sectors/);
  });

  test('a source that breaks off while decoding fails the build with its name; nothing is left under the output', () => {
    const wav = synth(path.join(dir, 'whole.wav'), 6);
    sh('flac', ['-s', '-f', '-o', path.join(dir, 'whole.flac'), wav]);
    const flac = fs.readFileSync(path.join(dir, 'whole.flac'));
    fs.writeFileSync(path.join(dir, 'cut.flac'), flac.subarray(0, Math.floor(flac.length / 2)));
    for (const workers of ['1', '0']) {
      const file = path.join(dir, `cut${workers}.disc.json`);
      fs.writeFileSync(file, JSON.stringify({ kind: 'audio', tracks: [{ source: 'ok.wav' }, { source: 'cut.flac' }], output: `cut${workers}/a.cue` }));
      process.env.DISCFORGE_AUDIO_WORKERS = workers;
      try {
        const r = runCli(['build', file], { cwd: dir });
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, /cut\.flac: decoding ended after \d+ samples, the file's header says 264600: the file is truncated or damaged/);
      } finally {
        delete process.env.DISCFORGE_AUDIO_WORKERS;
      }
      assert.deepEqual(fs.existsSync(path.join(dir, `cut${workers}`)) ? fs.readdirSync(path.join(dir, `cut${workers}`)) : [], []);
    }
  });

  test('schema: kind audio needs tracks; tracks need a source; a DVD is not an audio medium', () => {
    const { r, at } = check('schema.disc.json', `{ "kind": "audio", "output": "x.cue" }\n`);
    assert.equal(r.status, 2);
    assert.ok(r.stderr.includes(`${at('{')}: error: manifest needs the property "tracks"`), r.stderr);
    assert.equal((r.stderr.match(/error/g) ?? []).length, 1, r.stderr);
    const d = check('dvd.disc.json', `{ "kind": "audio", "media": "dvd+r", "tracks": [ { "source": "ok.wav" } ] }\n`);
    assert.equal(d.r.status, 2);
    assert.ok(d.r.stderr.includes(`${d.at('"dvd+r"')}: error: an audio CD needs CD media`), d.r.stderr);
    const data = check('data.disc.json', `{ "kind": "data" }\n`);
    assert.ok(data.r.stderr.includes('manifest needs the property "files"'), data.r.stderr);
  });
});
