// Burning audio and mixed-mode CDs to the emulated CD-R (track at once, session at once with a cue sheet, raw disc
// at once with 96-byte sub-channel, from a manifest and from a BIN/CUE), then reading the disc back in the test with
// READ CD / READ TOC and comparing with the BIN that `discforge build` made (itself checked by the readers in
// audio-build.test.ts); Q sub-channel CRCs by the independent checker; the mixed disc's ISO by xorriso.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTmp, runCli } from '../util/fixtures';
import { packCrcOk, qCrcOk } from '../util/ecma130-check';
import { synth, toFlac, writeJson, sh } from './audio-fixtures';
import { hasErrors, planProject } from '../../server/src/engine/build';
import { MmcDevice } from '../../server/src/engine/burn/device';
import { parseDriveSpec } from '../../server/src/engine/burn/transport';
import * as mmc from '../../server/src/engine/burn/mmc';
import { CdMasteringRecorder } from '../../server/src/engine/burn/emulator/cd-mastering';
import { burnCd, programFromCue, programFromPlan, verifyCd, type CdWriteMode } from '../../server/src/engine/audio/burn';
import { readCd } from '../../server/src/engine/cd/mmc';

async function openDrive(file: string): Promise<{ dev: MmcDevice; rec: CdMasteringRecorder }> {
  const spec = parseDriveSpec(`virtual:cd-r:${file}`);
  if (spec.kind !== 'virtual') throw new Error('spec');
  const rec = new CdMasteringRecorder(spec);
  await rec.open({ exclusive: true, holder: 'audio-burn test' });
  return { dev: new MmcDevice(rec), rec };
}

/** READ CD of the whole program (main channel raw 2352) in the test, compared with the BIN sector by sector. */
async function compareWithBin(dev: MmcDevice, bin: string, dataTracks: Set<number>, trackOfLba: (lba: number) => number): Promise<void> {
  const size = fs.statSync(bin).size / 2352;
  const fd = fs.openSync(bin, 'r');
  const want = Buffer.alloc(2352);
  try {
    for (let lba = 0; lba < size; lba += 20) {
      const n = Math.min(20, size - lba);
      // One READ CD per track kind: split where the track changes.
      let k = 1;
      while (k < n && dataTracks.has(trackOfLba(lba + k)) === dataTracks.has(trackOfLba(lba))) k++;
      const data = dataTracks.has(trackOfLba(lba));
      const got = await dev.exec(readCd(lba, k, data ? 2 : 1, data ? 0xf8 : 0x10, 0), 'in', k * 2352);
      for (let i = 0; i < k; i++) {
        fs.readSync(fd, want, 0, 2352, (lba + i) * 2352);
        assert.ok(got.subarray(i * 2352, (i + 1) * 2352).equals(want), `sector ${lba + i} differs from the BIN`);
      }
      lba += k - 20;
    }
  } finally {
    fs.closeSync(fd);
  }
}

describe('burning audio CDs to the emulated CD-R', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let dir: string;
  const manifests: Record<string, string> = {};
  const bins: Record<string, string> = {};

  before(() => {
    tmp = makeTmp();
    dir = tmp.dir;
    synth(path.join(dir, 'a.wav'), 4.31, { gen: ['sine', '440', 'whitenoise'] });
    toFlac(synth(path.join(dir, 'bsrc.wav'), 4.77, { gen: ['pinknoise'] }), path.join(dir, 'b.flac'));
    synth(path.join(dir, 'c.wav'), 4.05, { rate: 48000, gen: ['sine', '1000'] });
    fs.mkdirSync(path.join(dir, 'files'));
    fs.writeFileSync(path.join(dir, 'files', 'hello.txt'), 'data track of a mixed-mode CD\n');
    const cdText = { title: 'Burned Album', performer: 'The Burners', language: 'en' };
    const tracks = [
      { source: 'a.wav', title: 'Alpha', performer: 'A', isrc: 'USABC2600011', copy: 'permitted' },
      { source: 'b.flac', title: 'Beta', indexes: [0, 2] },
      { source: 'c.wav', title: 'Gamma', isrc: 'USABC2600013', preEmphasis: true },
    ];
    manifests.gaps = writeJson(dir, 'gaps.disc.json', { kind: 'audio', catalog: '0123456789012', cdText, tracks, output: 'gaps/album.cue' });
    manifests.gapless = writeJson(dir, 'gapless.disc.json', { kind: 'audio', catalog: '0123456789012', cdText, gapless: true, tracks, output: 'gapless/album.cue' });
    manifests.mixed = writeJson(dir, 'mixed.disc.json', {
      kind: 'mixed', volume: { label: 'MIXED', created: '2026-01-01T00:00:00Z' }, fileSystems: ['iso9660', 'joliet'],
      files: [{ source: 'files', target: '/' }], tracks: tracks.slice(0, 2), output: 'mixed/disc.cue',
    });
    manifests.rw = writeJson(dir, 'rw.disc.json', { kind: 'audio', catalog: '0123456789012', cdText, gapless: true, subcode: 'rw', tracks, output: 'rw/album.cue' });
    for (const [k, m] of Object.entries(manifests)) {
      const r = runCli(['build', m], { cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      bins[k] = path.join(dir, k, k === 'mixed' ? 'disc.bin' : 'album.bin');
    }
  });
  after(() => tmp.cleanup());

  const planOf = (name: string) => {
    const plan = planProject(manifests[name]);
    assert.ok(!hasErrors(plan.diagnostics) && plan.audio);
    return plan.audio!;
  };

  const burnAndCheck = async (name: string, mode: CdWriteMode, disc: string) => {
    const plan = planOf(name);
    const { dev, rec } = await openDrive(path.join(dir, disc));
    try {
      const r = await burnCd(dev, programFromPlan(manifests[name], plan), { mode, verify: true });
      assert.equal(r.sectors, plan.layout.leadOut);
      assert.deepEqual(rec.disc.problems, []);
      assert.ok(rec.disc.finalized);
      // The TOC as a reader sees it (READ TOC format 0): starts and control bits.
      const toc = mmc.decodeToc(await dev.exec(mmc.readToc(0, 0, 804), 'in', 804));
      const tracks = toc.entries.filter((e) => e.track !== 0xaa);
      assert.deepEqual(tracks.map((e) => e.start), plan.layout.tracks.map((t) => t.indexes[0]));
      assert.deepEqual(tracks.map((e) => e.control), plan.layout.tracks.map((t) => (t.flags.data ? 4 : 0) | (t.flags.copy ? 2 : 0) | (t.flags.preEmphasis ? 1 : 0)));
      assert.equal(toc.entries.find((e) => e.track === 0xaa)!.start, plan.layout.leadOut);
      // Every sector read back in the test equals the BIN built by `discforge build`.
      const data = new Set(plan.layout.tracks.filter((t) => t.flags.data).map((t) => t.number));
      await compareWithBin(dev, bins[name], data, (lba) => [...plan.layout.tracks].reverse().find((t) => lba >= t.pregap)!.number);
      return { plan, dev, rec };
    } catch (e) {
      await rec.close();
      throw e;
    }
  };

  test('track at once: 2 s pauses written by the drive, one CLOSE TRACK per track, MCN and ISRC from page 05h', async () => {
    const { rec } = await burnAndCheck('gaps', 'tao', 'tao.img');
    try {
      assert.equal(rec.disc.mode, 'tao');
      assert.deepEqual(rec.disc.tracks.map((t) => t.isrc), ['USABC2600011', undefined, 'USABC2600013']);
      assert.equal(rec.disc.mcn, '0123456789012');
      assert.equal(rec.inner.commandLog.length >= 0, true);
      assert.equal(rec.handled.filter((op) => op === mmc.OP.CLOSE_TRACK_SESSION).length, 4, '3 × CLOSE TRACK + CLOSE SESSION');
    } finally {
      await rec.close();
    }
    // A gapless program cannot be written track at once.
    const g = await openDrive(path.join(dir, 'tao2.img'));
    try {
      await assert.rejects(burnCd(g.dev, programFromPlan('gapless', planOf('gapless')), { mode: 'tao', verify: false }), /track at once always writes 2 s .* session at once/);
    } finally {
      await g.rec.close();
    }
  });

  test('session at once with a cue sheet: gapless, ISRC and MCN in Q, CD-TEXT in the lead-in', async () => {
    const { dev, rec, plan } = await burnAndCheck('gapless', 'sao', 'sao.img');
    try {
      assert.ok(rec.handled.includes(mmc.OP.SEND_CUE_SHEET));
      // CD-TEXT (READ TOC format 0101b): valid packs with the titles.
      const cdb = mmc.readToc(0, 0, 4096);
      cdb[2] = 5;
      const r = await dev.exec(cdb, 'in', 4096);
      const packs = r.subarray(4, 2 + r.readUInt16BE(0));
      assert.ok(packs.length > 0 && packs.length % 18 === 0);
      for (let i = 0; i < packs.length; i += 18) assert.ok(packCrcOk(packs.subarray(i, i + 18)));
      assert.deepEqual(rec.cdText()!.fields.title, ['Burned Album', 'Alpha', 'Beta', 'Gamma']);
      // Q sub-channel (READ CD, formatted Q): CRC everywhere, MCN and both ISRCs present, index 2 of track 2.
      let mcn = 0;
      const isrcs = new Set<string>();
      let index2 = -1;
      for (let lba = 0; lba < plan.layout.leadOut; lba += 50) {
        const n = Math.min(50, plan.layout.leadOut - lba);
        const got = await dev.exec(readCd(lba, n, 0, 0x10, 2), 'in', n * (2352 + 16));
        for (let i = 0; i < n; i++) {
          const q = got.subarray(i * 2368 + 2352, i * 2368 + 2364);
          assert.ok(qCrcOk(q), `Q CRC at ${lba + i}`);
          if ((q[0] & 15) === 2) mcn++;
          if ((q[0] & 15) === 3) isrcs.add(`${lba + i < plan.layout.tracks[1].pregap ? 1 : 3}`);
          if ((q[0] & 15) === 1 && q[1] === 0x02 && q[2] === 0x02 && index2 < 0) index2 = lba + i;
        }
      }
      assert.ok(mcn > 0);
      assert.deepEqual([...isrcs].sort(), ['1', '3']);
      assert.equal(index2, plan.layout.tracks[1].indexes[1]);
    } finally {
      await rec.close();
    }
  });

  test('raw disc at once (96-byte sub-channel) from the manifest: lead-in TOC and CD-TEXT, program Q, lead-out', async () => {
    const { rec } = await burnAndCheck('gapless', 'raw', 'raw.img');
    try {
      assert.equal(rec.disc.mode, 'raw');
      assert.equal(rec.disc.mcn, '0123456789012');
      assert.deepEqual(rec.disc.tracks.map((t) => t.isrc), ['USABC2600011', undefined, 'USABC2600013']);
      assert.deepEqual(rec.cdText()!.fields.performer, ['The Burners', 'A', '', '']);
    } finally {
      await rec.close();
    }
  });

  test('raw disc at once from a BIN/CUE with 2448-byte sectors; a damaged disc fails verification', async () => {
    const program = programFromCue(path.join(dir, 'rw', 'album.cue'));
    const { dev, rec } = await openDrive(path.join(dir, 'rawcue.img'));
    try {
      await burnCd(dev, program, { mode: 'raw', verify: true });
      assert.deepEqual(rec.disc.problems, []);
      const plan = planOf('rw');
      assert.deepEqual(rec.disc.tracks.map((t) => t.indexes), plan.layout.tracks.map((t) => t.indexes));
    } finally {
      await rec.close();
    }
    // One flipped sample on the disc: READ CD verification finds it.
    const raw = path.join(dir, 'rawcue.img.cd.raw');
    const fd = fs.openSync(raw, 'r+');
    const at = (150 + 500) * 2352 + 1001;
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0] ^= 0x01;
    fs.writeSync(fd, b, 0, 1, at);
    fs.closeSync(fd);
    const again = await openDrive(path.join(dir, 'rawcue.img'));
    try {
      await assert.rejects(verifyCd(again.dev, program, 'raw', 50), /sector 500 .* differs from the program at byte 1001 \(sample 250\)/);
    } finally {
      await again.rec.close();
    }
  });

  for (const mode of ['tao', 'sao', 'raw'] as const) {
    test(`mixed mode, ${mode}: data track then audio; the disc's file system read by xorriso`, async () => {
      const { rec } = await burnAndCheck('mixed', mode, `mixed-${mode}.img`);
      try {
        assert.equal(rec.disc.tracks[0].mode, 'mode1');
        assert.equal(rec.disc.tracks[1].mode, 'audio');
      } finally {
        await rec.close();
      }
      const x = sh('xorriso', ['-indev', path.join(dir, `mixed-${mode}.img`), '-find', '/', '-type', 'f']);
      assert.match(x.stdout.toString() + x.stderr, /hello\.txt/);
    });
  }
});
