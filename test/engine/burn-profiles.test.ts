// Burning to every media profile of the emulated recorder: the disc's data file must hold exactly the image
// buildImage makes from the same manifest, xorriso (a reader we did not write) and our inspector must read
// it, full verification must pass, and the media state must be what the family leaves (appendable for
// write-once media, overwrite-only for rewritables, finalized with --close).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { burn } from '../../server/src/engine/burn/engine';
import { readMediaState } from '../../server/src/engine/burn/media';
import { imageFileSource } from '../../server/src/engine/burn/source';
import { recorders } from '../../server/src/engine/burn/registry';
import { inspectImage } from '../../server/src/engine/inspect';
import { burnTo, expectedFiles, head, makeProject, sha256, xorrisoRead, type Project } from '../util/burn-fixtures';
import { tmpdir } from '../util/tmpdir';

const PROFILES: { profile: string; physical: string; after: string; profileName: RegExp }[] = [
  { profile: 'cd-r', physical: 'CD-R', after: 'appendable', profileName: /^CD-R$/ },
  { profile: 'cd-rw', physical: 'CD-RW', after: 'appendable', profileName: /^CD-RW$/ },
  { profile: 'dvd-r', physical: 'DVD-R', after: 'appendable', profileName: /^DVD-R$/ },
  { profile: 'dvd-rw', physical: 'DVD-RW', after: 'appendable', profileName: /sequential/ },
  { profile: 'dvd+r', physical: 'DVD+R', after: 'appendable', profileName: /^DVD\+R$/ },
  { profile: 'dvd+r-dl', physical: 'DVD+R DL', after: 'appendable', profileName: /^DVD\+R DL$/ },
  { profile: 'dvd+rw', physical: 'DVD+RW', after: 'overwrite-only', profileName: /^DVD\+RW$/ },
  { profile: 'dvd-ram', physical: 'DVD-RAM', after: 'overwrite-only', profileName: /^DVD-RAM$/ },
  { profile: 'bd-r', physical: 'BD-R', after: 'appendable', profileName: /SRM/ },
  { profile: 'bd-re', physical: 'BD-RE', after: 'overwrite-only', profileName: /^BD-RE$/ },
];

describe('burn: every profile, full verification, read back by xorriso and inspect', () => {
  const discs = tmpdir('df-discs-');
  let p: Project;
  before(async () => {
    p = await makeProject(discs, 'bridge');
  });

  for (const c of PROFILES) {
    test(`${c.profile}: burn + full verify; the disc file is the image; xorriso and inspect read it`, async () => {
      const file = path.join(discs, `${c.profile}.img`);
      const spec = `virtual:${c.profile}:${file}`;
      const phases: string[] = [];
      const r = await burnTo(spec, p.manifest, { onProgress: (x) => { if (phases[phases.length - 1] !== x.phase) phases.push(x.phase); } });
      assert.equal(r.blocks, p.blocks);
      assert.equal(r.startLba, 0);
      assert.equal(r.verified, 'full');
      const expectedPhases = ['validating-media', ...(['dvd+rw', 'bd-re'].includes(c.profile) ? ['formatting'] : []),
        'initializing-hardware', 'calibrating-power', 'writing', 'finalizing', 'verifying', 'completed'];
      assert.deepEqual(phases, expectedPhases);
      // The data area is a plain image: byte for byte what buildImage wrote.
      assert.equal(sha256(head(file, p.blocks * 2048)), sha256(fs.readFileSync(p.image)));
      const x = xorrisoRead(file);
      assert.equal(x.volumeId, 'BRIDGE');
      assert.deepEqual(new Map([...x.files].sort()), new Map([...expectedFiles(p)].sort()));
      const report = await inspectImage(file);
      assert.deepEqual(report.problems, []);
      const rr = report.fileSystems.find((f) => f.type === 'rockridge')!;
      assert.deepEqual(rr.entries.filter((e) => e.kind === 'file').map((e) => e.path).sort(), ['/big.bin', '/docs/deep/notes.md', '/docs/readme.txt', '/empty.dat']);
      // Media state after the burn, through the MMC commands.
      const lease = await recorders.query(spec);
      try {
        const m = await readMediaState(lease.dev);
        assert.equal(m.physicalType, c.physical);
        assert.match(m.profileName, c.profileName);
        assert.equal(m.status, c.after);
        if (c.after === 'appendable') {
          assert.equal(m.sessions.length, 1);
          assert.equal(m.sessions[0].start, 0);
          assert.ok(m.sessions[0].blocks >= p.blocks);
          assert.ok((m.nextWritableAddress ?? 0) > p.blocks, `NWA ${m.nextWritableAddress} after ${p.blocks} blocks`);
          assert.equal(m.firstDataSession, false);
          assert.equal(m.totalSectors, (m.nextWritableAddress ?? 0) + m.freeSectors);
          // READ TOC: track 1 at 0, the lead-out (AAh) after the session's last block.
          assert.deepEqual(m.toc?.[0], { track: 1, start: 0 });
          assert.deepEqual(m.toc?.[1], { track: 0xaa, start: m.sessions[0].lastRecorded + 1 });
        } else {
          assert.equal(m.formatted, true);
          assert.equal(m.hasFileSystem, true);
        }
      } finally {
        await lease.release();
      }
    });
  }

  test('--close finalizes write-once media (CD-R, DVD-R, DVD+R, BD-R): no more sessions', async () => {
    for (const profile of ['cd-r', 'dvd-r', 'dvd+r', 'bd-r']) {
      const spec = `virtual:${profile}:${path.join(discs, `closed-${profile}.img`)}`;
      const r = await burnTo(spec, p.manifest, { close: true, verify: 'quick' });
      assert.equal(r.after?.status, 'finalized', profile);
      await assert.rejects(burnTo(spec, p.manifest, { append: true }), /finalized/);
    }
  });

  test('an image file burns as it is (discforge burn image.iso)', async () => {
    const file = path.join(discs, 'from-iso.img');
    const lease = await recorders.lock(`virtual:dvd+r:${file}`, 'test');
    try {
      const r = await burn(lease.dev, { verify: 'full', close: false, append: false, force: false, eject: false }, () => imageFileSource(p.image));
      assert.equal(r.blocks, p.blocks);
    } finally {
      await lease.release();
    }
    assert.equal(sha256(head(file, p.blocks * 2048)), sha256(fs.readFileSync(p.image)));
  });

  test('read-only discs (DVD-ROM, BD-ROM) are finalized and refused for writing', async () => {
    for (const profile of ['dvd-rom', 'bd-rom']) {
      const file = path.join(discs, `${profile}.iso`);
      fs.copyFileSync(p.image, file);
      const spec = `virtual:${profile}:${file}`;
      const lease = await recorders.query(spec);
      try {
        const m = await readMediaState(lease.dev);
        assert.equal(m.status, 'finalized');
        assert.equal(m.kind, 'rom');
        assert.equal(m.sessions.length, 1);
        assert.equal(m.sessions[0].blocks, p.blocks);
        const b = await lease.dev.read(16, 1);
        assert.equal(b.toString('latin1', 1, 6), 'CD001');
      } finally {
        await lease.release();
      }
      await assert.rejects(burnTo(spec, p.manifest), /cannot be written/);
    }
  });

  test('a disc too small for the image is refused before anything is written, saying by how much', async () => {
    const file = path.join(discs, 'tiny.img');
    await assert.rejects(burnTo(`virtual:bd-r:${file}?capacity=256`, p.manifest), (e: Error) => /needs \d+ blocks .* but the disc has 256 free/.test(e.message));
    assert.equal(fs.existsSync(file) ? fs.statSync(file).size : 0, 0);
  });

  test('a written write-once disc is not burned over without --append; a rewritable one not without --force', async () => {
    const bdr = `virtual:bd-r:${path.join(discs, 'again-bd-r.img')}`;
    await burnTo(bdr, p.manifest, { verify: 'none' });
    await assert.rejects(burnTo(bdr, p.manifest), /already holds 1 session: --append adds a session/);
    const rw = `virtual:dvd+rw:${path.join(discs, 'again-dvd+rw.img')}`;
    await burnTo(rw, p.manifest, { verify: 'none' });
    await assert.rejects(burnTo(rw, p.manifest), /holds a file system: --force overwrites it/);
    const r = await burnTo(rw, p.manifest, { force: true, verify: 'quick' });
    assert.equal(r.verified, 'quick');
  });
});
