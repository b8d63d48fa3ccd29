// Session at once on CD-R/RW and disc at once on DVD-R/RW for data discs: the engine's cue sheet and track
// reservation, the defaults (closed single-session burns), the fallbacks when a drive refuses the command a mode
// needs, and the rules the emulated recorder enforces as a drive does (cue sheet checks, writes from the cue
// sheet's start at LBA -150, data as the cue sheet says, no closing before the end, nothing after a closed disc;
// disc at once needs its reservation, every reserved block written, one track on a blank disc). What was burned
// is read back by xorriso (a reader we did not write) and our inspector.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { burn } from '../../server/src/engine/burn/engine';
import { readMediaState } from '../../server/src/engine/burn/media';
import { ScsiError, type MmcDevice } from '../../server/src/engine/burn/device';
import * as mmc from '../../server/src/engine/burn/mmc';
import { recorders, type Lease } from '../../server/src/engine/burn/registry';
import { inspectImage } from '../../server/src/engine/inspect';
import { BASE_OPTS, burnTo, expectedFiles, head, makeProject, sha256, sourceOf, xorrisoRead, type Project } from '../util/burn-fixtures';
import { runCli } from '../util/fixtures';
import { tmpdir } from '../util/tmpdir';

const root = tmpdir('df-modes-');

async function withDrive<T>(spec: string, fn: (lease: Lease) => Promise<T>): Promise<T> {
  const lease = await recorders.lock(spec, 'test modes');
  try {
    return await fn(lease);
  } finally {
    await lease.release();
  }
}

/** The sense of a command that must fail. */
async function senseOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ScsiError && e.sense) return `${e.sense.key.toString(16)}/${e.sense.asc.toString(16).padStart(2, '0')}/${e.sense.ascq.toString(16).padStart(2, '0')}`;
    throw e;
  }
  throw new Error('the command succeeded');
}

function page05(p: Partial<mmc.WriteParameters>): Buffer {
  const page = mmc.encodeWriteParametersPage({ bufe: true, testWrite: false, writeType: 2, multiSession: 0, fixedPacket: false, trackMode: 4, dataBlockType: 8, linkSize: 0, sessionFormat: 0, packetSize: 0, ...p });
  return mmc.modeParameterList(page);
}

async function modeSelect(dev: MmcDevice, p: Partial<mmc.WriteParameters>): Promise<void> {
  const list = page05(p);
  await dev.exec(mmc.modeSelect10(list.length), 'out', list);
}

/** A cue sheet entry: CTL/ADR, TNO, INDEX, data form, absolute MSF of `lba`. */
function cueEntry(ctlAdr: number, tno: number, index: number, form: number, lba: number): Buffer {
  const f = lba + 150;
  return Buffer.from([ctlAdr, tno === 0xaa ? 0xaa : ((Math.floor(tno / 10) << 4) | tno % 10), index, form, 0, Math.floor(f / 4500), Math.floor(f / 75) % 60, f % 75]);
}

function dataCue(blocks: number, o: { pregapAt?: number; trackForm?: number; leadOut?: number } = {}): Buffer {
  return Buffer.concat([
    cueEntry(0x41, 0, 0, 0x14, -150),
    cueEntry(0x41, 1, 0, o.trackForm ?? 0x10, o.pregapAt ?? -150),
    cueEntry(0x41, 1, 1, o.trackForm ?? 0x10, 0),
    cueEntry(0x41, 0xaa, 1, 0x14, o.leadOut ?? blocks),
  ]);
}

async function sendCue(dev: MmcDevice, cue: Buffer): Promise<void> {
  await dev.exec(mmc.sendCueSheet(cue.length), 'out', cue);
}

const zeros = (blocks: number) => Buffer.alloc(blocks * 2048);

describe('session at once (CD) and disc at once (DVD-R/RW) for data discs', () => {
  let p: Project;
  before(async () => {
    p = await makeProject(root, 'modes', 700_000);
  });

  for (const profile of ['cd-r', 'cd-rw']) {
    test(`${profile}: --mode sao writes a cue sheet, the pregap from LBA -150 and one Mode 1 track; xorriso and inspect read it`, async () => {
      const file = path.join(root, `sao-${profile}.img`);
      const spec = `virtual:${profile}:${file}`;
      const r = await withDrive(spec, async (lease) => {
        const res = await burn(lease.dev, { ...BASE_OPTS, mode: 'sao' }, sourceOf(p.manifest));
        // The CD layer took the cue sheet and every write; the TOC follows from the cue sheet.
        assert.ok(lease.cd!.handled.includes(mmc.OP.SEND_CUE_SHEET));
        const disc = lease.cd!.disc;
        assert.equal(disc.mode, 'sao');
        assert.equal(disc.finalized, true);
        assert.deepEqual(disc.problems, []);
        assert.deepEqual(disc.tracks.map((t) => ({ n: t.number, mode: t.mode, control: t.control, pregap: t.pregap, indexes: t.indexes, end: t.end })),
          [{ n: 1, mode: 'mode1', control: 4, pregap: -150, indexes: [0], end: Math.max(p.blocks, 300) }]);
        return res;
      });
      assert.equal(r.writeMode, 'session at once');
      assert.equal(r.verified, 'full');
      assert.match(r.notes.join('\n'), /session at once closes the disc/);
      assert.match(r.summary, /session at once/);
      // The pregap went to the disc as empty Mode 1 sectors: LBA -150 is MSF 00:00:00 in its header.
      const raw = head(file + '.cd.raw', 2352);
      assert.deepEqual([...raw.subarray(0, 12)], [0, ...Array(10).fill(0xff), 0]);
      assert.deepEqual([...raw.subarray(12, 16)], [0, 0, 0, 1]);
      assert.equal(sha256(head(file, p.blocks * 2048)), sha256(fs.readFileSync(p.image)));
      const x = xorrisoRead(file);
      assert.equal(x.volumeId, 'MODES');
      assert.deepEqual(new Map([...x.files].sort()), new Map([...expectedFiles(p)].sort()));
      assert.deepEqual((await inspectImage(file)).problems, []);
      await withDrive(spec, async (lease) => {
        const m = await readMediaState(lease.dev);
        assert.equal(m.status, 'finalized');
        assert.equal(m.sessions.length, 1);
        assert.deepEqual(m.toc, [{ track: 1, start: 0 }, { track: 0xaa, start: Math.max(p.blocks, 300) }]);
      });
      // Nothing can be added to a disc written session at once.
      await assert.rejects(burnTo(spec, p.manifest, { append: true }), /finalized/);
    });
  }

  for (const profile of ['dvd-r', 'dvd-rw']) {
    test(`${profile}: --mode dao reserves the track, fills it and lets SYNCHRONIZE CACHE close the disc; xorriso reads it`, async () => {
      const file = path.join(root, `dao-${profile}.img`);
      const spec = `virtual:${profile}:${file}`;
      const r = await withDrive(spec, async (lease) => {
        const log = lease.emulated!.commandLog;
        const from = log.length;
        const res = await burn(lease.dev, { ...BASE_OPTS, mode: 'dao' }, sourceOf(p.manifest));
        const ops = log.slice(from);
        assert.ok(ops.includes(mmc.OP.RESERVE_TRACK));
        assert.ok(!ops.includes(mmc.OP.CLOSE_TRACK_SESSION), 'disc at once closes by SYNCHRONIZE CACHE');
        const t = lease.emulated!.disc.tracks;
        assert.equal(t.length, 1);
        assert.equal(t[0].dao, true);
        assert.equal(t[0].reservedSize, Math.ceil(p.blocks / 16) * 16);
        assert.equal(t[0].recorded, t[0].reservedSize);
        return res;
      });
      assert.equal(r.writeMode, 'disc at once');
      assert.equal(r.after?.status, 'finalized');
      assert.equal(r.after?.sessions.length, 1);
      assert.equal(sha256(head(file, p.blocks * 2048)), sha256(fs.readFileSync(p.image)));
      assert.deepEqual(new Map([...xorrisoRead(file).files].sort()), new Map([...expectedFiles(p)].sort()));
      await assert.rejects(burnTo(spec, p.manifest, { append: true }), /finalized/);
    });
  }

  test('defaults: a closed single-session burn on a blank CD-R / DVD-R is session / disc at once, otherwise track at once / incremental', async () => {
    const cases: [string, Partial<typeof BASE_OPTS>, string][] = [
      ['cd-r', { close: true }, 'session at once'],
      ['cd-r', {}, 'track at once'],
      ['cd-r', { close: true, append: true }, 'track at once'],
      ['dvd-r', { close: true }, 'disc at once'],
      ['dvd-r', {}, 'incremental'],
      ['dvd+r', { close: true }, 'sequential'],
      ['bd-re', {}, 'random write'],
    ];
    for (const [profile, opts, mode] of cases) {
      const spec = `virtual:${profile}:${path.join(root, `default-${profile}-${Object.keys(opts).join('-') || 'open'}.img`)}`;
      const r = await burnTo(spec, p.manifest, { ...opts, verify: 'quick' });
      assert.equal(r.writeMode, mode, `${profile} ${JSON.stringify(opts)}`);
      assert.equal(r.after?.status, opts.close ? 'finalized' : profile === 'bd-re' ? 'overwrite-only' : 'appendable', `${profile} ${JSON.stringify(opts)}`);
    }
  });

  test('a drive that refuses SEND CUE SHEET / RESERVE TRACK: the default falls back (disc closed all the same), an explicit mode fails', async () => {
    const cd = `virtual:cd-r:${path.join(root, 'nocue.img')}?unsupported=send-cue-sheet`;
    const r1 = await burnTo(cd, p.manifest, { close: true });
    assert.equal(r1.writeMode, 'track at once');
    assert.match(r1.notes.join('\n'), /refused SEND CUE SHEET: writing track at once instead/);
    assert.equal(r1.after?.status, 'finalized');
    const dvd = `virtual:dvd-r:${path.join(root, 'noreserve.img')}?unsupported=reserve-track`;
    const r2 = await burnTo(dvd, p.manifest, { close: true });
    assert.equal(r2.writeMode, 'incremental');
    assert.match(r2.notes.join('\n'), /refused RESERVE TRACK: writing incrementally instead/);
    assert.equal(r2.after?.status, 'finalized');
    assert.deepEqual(new Map([...xorrisoRead(path.join(root, 'noreserve.img')).files].sort()), new Map([...expectedFiles(p)].sort()));
    const dvd2 = `virtual:dvd-r:${path.join(root, 'noreserve2.img')}?unsupported=reserve-track`;
    await assert.rejects(burnTo(dvd2, p.manifest, { mode: 'dao' }), /refused RESERVE TRACK, which disc at once recording needs/);
  });

  test('session / disc at once needs a blank disc; --mode does not apply to DVD+R, BD or rewritables', async () => {
    for (const profile of ['cd-r', 'dvd-r']) {
      const spec = `virtual:${profile}:${path.join(root, `notblank-${profile}.img`)}`;
      await burnTo(spec, p.manifest, { verify: 'none' });
      await assert.rejects(burnTo(spec, p.manifest, { mode: profile === 'cd-r' ? 'sao' : 'dao', append: true }), /at once writes the whole disc in one go: the disc must be blank, and it holds 1 session/);
    }
    await assert.rejects(burnTo(`virtual:dvd+r:${path.join(root, 'plus.img')}`, p.manifest, { mode: 'dao' }), /--mode dao applies to CD-R\/RW .* and DVD-R\/RW .*; a DVD\+R is written sequentially/);
    await assert.rejects(burnTo(`virtual:bd-re:${path.join(root, 'bdre.img')}`, p.manifest, { mode: 'tao' }), /a BD-RE is written by random writes/);
  });

  test('the emulated CD-R checks the cue sheet as a drive does', async () => {
    const spec = `virtual:cd-r:${path.join(root, 'cue-rules.img')}`;
    await withDrive(spec, async ({ dev }) => {
      // No cue sheet without write type 2 (session at once) in page 05h.
      await modeSelect(dev, { writeType: 1, multiSession: 0 });
      assert.equal(await senseOf(sendCue(dev, dataCue(400))), '5/2c/00');
      await modeSelect(dev, {});
      assert.equal(await senseOf(sendCue(dev, dataCue(400, { pregapAt: -100 }))), '5/26/00', 'track 1 begins at 00:00:00');
      assert.equal(await senseOf(sendCue(dev, dataCue(400, { trackForm: 0x00 }))), '5/26/00', 'a data track (CTL 4) is not audio');
      assert.equal(await senseOf(sendCue(dev, dataCue(200))), '5/26/00', 'a track lasts 4 seconds at least');
      assert.equal(await senseOf(sendCue(dev, dataCue(400, { leadOut: 0 }))), '5/26/00', 'the lead-out follows the track');
      assert.equal(await senseOf(sendCue(dev, dataCue(400_000))), '5/21/00', 'beyond the disc');
      assert.equal(await senseOf(sendCue(dev, dataCue(400).subarray(8))), '5/26/00', 'the lead-in entry comes first');
      // A good one: then writes start at LBA -150, in the cue sheet's data form, up to the lead-out.
      await sendCue(dev, dataCue(400));
      assert.equal(await senseOf(dev.write(0, zeros(16))), '5/21/02', 'writing starts at the pregap, LBA -150');
      assert.equal(await senseOf(dev.exec(mmc.write10(-150, 2), 'out', Buffer.alloc(2 * 2352))), '5/24/00', 'Mode 1: 2048 bytes a sector');
      await dev.write(-150, zeros(150));
      await dev.write(0, zeros(200));
      assert.equal(await senseOf(dev.exec(mmc.closeTrackSession(2, 0, false))), '5/2c/00', 'the session cannot close before its last sector');
      await dev.exec(mmc.synchronizeCache(false));
      assert.equal((await dev.discInformation()).discStatus, 1, 'not closed before the lead-out');
      assert.equal(await senseOf(dev.write(200, zeros(201))), '5/21/00', 'not past the lead-out');
      await dev.write(200, zeros(200));
      await dev.exec(mmc.synchronizeCache(false));
      assert.equal((await dev.discInformation()).discStatus, 2, 'SYNCHRONIZE CACHE after the last sector closes the disc');
      // A closed disc takes nothing more: no cue sheet, no track at once.
      await modeSelect(dev, {});
      assert.equal(await senseOf(sendCue(dev, dataCue(400))), '5/21/02');
      await modeSelect(dev, { writeType: 1, multiSession: 3 });
      assert.equal(await senseOf(dev.write(550, zeros(16))), '5/21/02');
    });
    // Session at once on a disc that holds a track-at-once session: refused.
    const tao = `virtual:cd-r:${path.join(root, 'cue-after-tao.img')}`;
    await burnTo(tao, p.manifest, { verify: 'none' });
    await withDrive(tao, async ({ dev }) => {
      await modeSelect(dev, {});
      assert.equal(await senseOf(sendCue(dev, dataCue(400))), '5/21/02');
    });
  });

  test('the emulated DVD-R enforces disc at once: reservation first, every reserved block, a blank disc, nothing after', async () => {
    const spec = `virtual:dvd-r:${path.join(root, 'dao-rules.img')}`;
    await withDrive(spec, async ({ dev }) => {
      const sel = (p05: Partial<mmc.WriteParameters>) => modeSelect(dev, { trackMode: 5, ...p05 });
      assert.equal(await senseOf(sel({ multiSession: 3 })), '5/26/00', 'disc at once leaves no next session');
      await sel({});
      assert.equal(await senseOf(dev.write(0, zeros(16))), '5/2c/00', 'no writing before RESERVE TRACK');
      await dev.exec(mmc.reserveTrack(100));
      const t = await dev.trackInformation(1, 1);
      assert.equal(t.size, 112, 'reserved in whole ECC blocks');
      await dev.write(0, zeros(100));
      assert.equal(await senseOf(dev.exec(mmc.closeTrackSession(1, 1, false))), '5/2c/00', 'the drive does not pad a disc-at-once track');
      await dev.exec(mmc.synchronizeCache(false));
      assert.equal((await dev.discInformation()).discStatus, 1, 'not finished before the last reserved block');
      assert.equal(await senseOf(dev.write(100, zeros(16))), '5/63/00', 'not past the reservation');
      await dev.write(100, zeros(12));
      await dev.exec(mmc.synchronizeCache(false));
      assert.equal((await dev.discInformation()).discStatus, 2, 'the lead-out follows the last reserved block');
      assert.equal(await senseOf(dev.exec(mmc.reserveTrack(16))), '5/72/05');
      assert.equal(await senseOf(dev.write(112, zeros(16))), '5/21/02');
    });
    // Disc at once on a disc with an incremental session: refused at the reservation.
    const inc = `virtual:dvd-r:${path.join(root, 'dao-after-inc.img')}`;
    await burnTo(inc, p.manifest, { verify: 'none' });
    await withDrive(inc, async ({ dev }) => {
      await modeSelect(dev, { trackMode: 5 });
      assert.equal(await senseOf(dev.exec(mmc.reserveTrack(32))), '5/64/00');
    });
  });

  test('a session-at-once burn cancelled midway: a clear error, the disc unusable (as a real CD-R would be)', async () => {
    const file = path.join(root, 'sao-cancel.img');
    const spec = `virtual:cd-r:${file}`;
    const ac = new AbortController();
    await assert.rejects(burnTo(spec, p.manifest, {
      mode: 'sao', chunkBytes: 32 * 2048, signal: ac.signal,
      onProgress: (x) => { if (x.phase === 'writing') ac.abort(); }, // after the cue sheet; the pregap is written before the first check
    }), (e: Error) => e.name === 'CancelledError' && /session at once recording that stops before its end leaves the disc unusable/.test(e.message));
    await withDrive(spec, async (lease) => {
      assert.match(lease.cd!.disc.problems.join('\n'), /stopped at LBA \d+, before the lead-out/);
      assert.equal((await readMediaState(lease.dev)).status, 'finalized');
    });
  });

  test('CLI: --mode sao/dao for data discs; raw and --append are usage errors; media shows the closed disc', () => {
    const file = path.join(root, 'cli-sao.img');
    const r = runCli(['burn', p.manifest, '--drive', `virtual:cd-r:${file}`, '--mode', 'sao']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /at block 0 \(session at once\) in/);
    const m = runCli(['media', '--drive', `virtual:cd-r:${file}`]);
    assert.match(m.stdout, /status: finalized/);
    assert.match(m.stdout, /sessions: 1\n  session 1: blocks 0–/);
    const d = runCli(['burn', p.manifest, '--drive', `virtual:dvd-rw:${path.join(root, 'cli-dao.img')}`, '--mode', 'dao', '--close', '-q']);
    assert.equal(d.status, 0, d.stderr);
    const raw = runCli(['burn', p.manifest, '--drive', `virtual:cd-r:${path.join(root, 'cli-raw.img')}`, '--mode', 'raw']);
    assert.equal(raw.status, 2);
    assert.match(raw.stderr, /--mode raw applies to audio and mixed-mode CDs/);
    const app = runCli(['burn', p.manifest, '--drive', `virtual:cd-r:${path.join(root, 'cli-app.img')}`, '--mode', 'sao', '--append']);
    assert.equal(app.status, 2);
    assert.match(app.stderr, /does not go with --append/);
    const plus = runCli(['burn', p.manifest, '--drive', `virtual:dvd+r:${path.join(root, 'cli-plus.img')}`, '--mode', 'dao']);
    assert.equal(plus.status, 2);
    assert.match(plus.stderr, /--mode dao applies to CD-R\/RW/);
  });
});
