// `discforge burn` of audio CDs through the CLI and the drive registry (virtual:cd-r:<file> is the CD mastering
// recorder): an audio manifest session at once (the default) and track at once, a BIN/CUE with 96-byte sub-channel
// raw disc at once, a DVD recorder refused. The disc is checked from outside the CLI: `discforge media --json`
// (the TOC's tracks and their type) and READ CD of every sector in the test, compared with the BIN that
// `discforge build` made.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTmp, runCli } from '../util/fixtures';
import { synth, toFlac, writeJson } from './audio-fixtures';
import { hasErrors, planProject } from '../../server/src/engine/build';
import { MmcDevice } from '../../server/src/engine/burn/device';
import { parseDriveSpec } from '../../server/src/engine/burn/transport';
import { CdMasteringRecorder } from '../../server/src/engine/burn/emulator/cd-mastering';
import type { CdLayout } from '../../server/src/engine/cd/layout';
import { LEAD_IN_START, readCd } from '../../server/src/engine/cd/mmc';

async function openDrive(file: string): Promise<{ dev: MmcDevice; rec: CdMasteringRecorder }> {
  const spec = parseDriveSpec(`virtual:cd-r:${file}`);
  if (spec.kind !== 'virtual') throw new Error('spec');
  const rec = new CdMasteringRecorder(spec);
  await rec.open({ exclusive: true, holder: 'audio-cli-burn test' });
  return { dev: new MmcDevice(rec), rec };
}

/** READ CD (main channel, 2352 bytes a sector) of every sector, compared with the BIN's (any sector size). */
async function compareWithBin(dev: MmcDevice, bin: string, sectorSize: number): Promise<number> {
  const sectors = fs.statSync(bin).size / sectorSize;
  assert.ok(Number.isInteger(sectors) && sectors > 0);
  const fd = fs.openSync(bin, 'r');
  const want = Buffer.alloc(2352);
  let nonZero = 0;
  try {
    for (let lba = 0; lba < sectors; lba += 25) {
      const n = Math.min(25, sectors - lba);
      const got = await dev.exec(readCd(lba, n, 1, 0x10, 0), 'in', n * 2352);
      assert.equal(got.length, n * 2352);
      for (let i = 0; i < n; i++) {
        fs.readSync(fd, want, 0, 2352, (lba + i) * sectorSize);
        if (want.some((b) => b !== 0)) nonZero++;
        assert.ok(got.subarray(i * 2352, (i + 1) * 2352).equals(want), `sector ${lba + i} differs from the BIN`);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return nonZero;
}

interface MediaJson {
  status: string;
  profileName: string;
  cdTracks?: { track: number; start: number; type: string; control: number }[];
  toc?: { track: number; start: number }[];
}

function mediaOf(drive: string): MediaJson {
  const r = runCli(['media', '--drive', drive, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as MediaJson;
}

function expectedTracks(L: CdLayout): MediaJson['cdTracks'] {
  return L.tracks.map((t) => ({ track: t.number, start: t.indexes[0], type: 'audio', control: (t.flags.copy ? 2 : 0) | (t.flags.preEmphasis ? 1 : 0) }));
}

describe('discforge burn: audio CDs through the CLI', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let dir: string;
  let manifest: string;
  let rwManifest: string;
  let layout: CdLayout;
  let rwLayout: CdLayout;

  before(() => {
    tmp = makeTmp();
    dir = tmp.dir;
    synth(path.join(dir, 'a.wav'), 4.31, { gen: ['sine', '440', 'whitenoise'] });
    toFlac(synth(path.join(dir, 'bsrc.wav'), 4.07, { gen: ['pinknoise'] }), path.join(dir, 'b.flac'));
    const tracks = [
      { source: 'a.wav', title: 'One', isrc: 'USABC2600021', copy: 'permitted' },
      { source: 'b.flac', title: 'Two', preEmphasis: true },
    ];
    const cdText = { title: 'CLI Album', performer: 'The CLI', language: 'en' };
    manifest = writeJson(dir, 'album.disc.json', { kind: 'audio', catalog: '0123456789012', cdText, tracks, output: 'out/album.cue' });
    rwManifest = writeJson(dir, 'rw.disc.json', { kind: 'audio', catalog: '0123456789012', cdText, subcode: 'rw', tracks, output: 'rw/album.cue' });
    for (const m of [manifest, rwManifest]) {
      const r = runCli(['build', m], { cwd: dir });
      assert.equal(r.status, 0, r.stderr);
    }
    const plan = planProject(manifest);
    assert.ok(!hasErrors(plan.diagnostics) && plan.audio);
    layout = plan.audio!.layout;
    const rw = planProject(rwManifest);
    assert.ok(!hasErrors(rw.diagnostics) && rw.audio);
    rwLayout = rw.audio!.layout;
    assert.equal(rwLayout.sectorSize, 2448);
    assert.equal(fs.statSync(path.join(dir, 'rw', 'album.bin')).size, rwLayout.leadOut * 2448);
  });
  after(() => tmp.cleanup());

  const checkDisc = async (file: string, mode: 'tao' | 'sao' | 'raw', bin: string, sectorSize: number, L: CdLayout) => {
    const drive = `virtual:cd-r:${file}`;
    const m = mediaOf(drive);
    assert.equal(m.status, 'finalized');
    assert.deepEqual(m.cdTracks, expectedTracks(L));
    assert.deepEqual(m.toc?.find((e) => e.track === 0xaa)?.start, L.leadOut);
    const { dev, rec } = await openDrive(file);
    try {
      assert.equal(rec.disc.mode, mode);
      assert.deepEqual(rec.disc.problems, []);
      assert.equal(rec.disc.leadOut, L.leadOut);
      assert.equal(rec.disc.mcn, '0123456789012');
      assert.deepEqual(rec.disc.tracks.map((t) => t.isrc), ['USABC2600021', undefined]);
      const nonZero = await compareWithBin(dev, bin, sectorSize);
      assert.ok(nonZero > L.leadOut / 2, 'the BIN holds audio');
      return rec;
    } finally {
      await rec.close();
    }
  };

  test('an audio manifest, session at once by default, verified, progress as JSON', async () => {
    const file = path.join(dir, 'sao.img');
    const r = runCli(['burn', manifest, '--drive', `virtual:cd-r:${file}`, '--progress', 'json'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wrote 2 tracks \(\d+ sectors\) session at once, verified with READ CD/);
    const events = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { phase: string; sectorsDone: number; sectorsTotal: number });
    const phases = [...new Set(events.map((e) => e.phase))];
    assert.deepEqual(phases, ['validating-media', 'writing', 'verifying', 'completed']);
    // Writing ends at 100 %: session at once sends the lead-in's CD-TEXT (R–W) and track 1's pause as well.
    const lastWrite = events.filter((e) => e.phase === 'writing').pop()!;
    assert.equal(lastWrite.sectorsDone, lastWrite.sectorsTotal);
    assert.equal(lastWrite.sectorsTotal, layout.leadOut - LEAD_IN_START);
    const lastVerify = events.filter((e) => e.phase === 'verifying').pop()!;
    assert.equal(lastVerify.sectorsDone, layout.leadOut);
    assert.equal(lastVerify.sectorsTotal, layout.leadOut);
    await checkDisc(file, 'sao', path.join(dir, 'out', 'album.bin'), 2352, layout);
    // Human-readable media lists the audio tracks.
    const t = runCli(['media', '--drive', `virtual:cd-r:${file}`]);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /tracks: 2\n {2}track 1: audio, starts at 0\n {2}track 2: audio, starts at \d+/);
  });

  test('an audio manifest, track at once (--mode tao)', async () => {
    const file = path.join(dir, 'tao.img');
    const r = runCli(['burn', manifest, '--drive', `virtual:cd-r:${file}`, '--mode', 'tao'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /track at once, verified with READ CD/);
    // Text progress: the phases, and writing reaches 100 % (the pauses the drive writes are not counted).
    assert.match(r.stderr, /^validating media\nwriting data\n(?: {2}\d+% .*\n)* {2}100% \(\d+\/\d+ blocks.*\nverifying\n(?: {2}\d+% .*\n)* {2}100% .*\ncompleted\n$/);
    await checkDisc(file, 'tao', path.join(dir, 'out', 'album.bin'), 2352, layout);
  });

  test('a BIN/CUE with 96-byte sub-channel: raw disc at once', async () => {
    const file = path.join(dir, 'raw.img');
    const r = runCli(['burn', path.join(dir, 'rw', 'album.cue'), '--drive', `virtual:cd-r:${file}`], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /raw disc at once \(96-byte sub-channel\), verified with READ CD/);
    const rec = await checkDisc(file, 'raw', path.join(dir, 'rw', 'album.bin'), 2448, rwLayout);
    assert.equal(rec.disc.rawSub, true);
  });

  test('a DVD recorder is refused with exit code 2; a bad --mode is a usage error', () => {
    const file = path.join(dir, 'dvd.img');
    const r = runCli(['burn', manifest, '--drive', `virtual:dvd-r:${file}`], { cwd: dir });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /virtual:dvd-r:.*: error: an audio or mixed-mode CD is burned on a CD recorder \(cd-r or cd-rw\); this is a dvd-r recorder/);
    const m = runCli(['media', '--drive', `virtual:dvd-r:${file}`, '--json']);
    assert.equal(m.status, 0, m.stderr);
    assert.equal((JSON.parse(m.stdout) as MediaJson).status, 'blank');
    const u = runCli(['burn', manifest, '--drive', `virtual:cd-r:${path.join(dir, 'u.img')}`, '--mode', 'dao'], { cwd: dir });
    assert.equal(u.status, 2);
    assert.match(u.stderr, /--mode takes tao, sao or raw/);
  });
});
