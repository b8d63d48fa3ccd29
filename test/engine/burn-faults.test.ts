// Injected faults end in a clear error (naming the address), never hang, leave the disc in a defined state that
// the error describes, and release the drive; optional commands a drive refuses do not fail a burn; erase and
// format paths; the long-operation polling (NOT READY 04/04, 04/07, 04/08) of the MMC engine.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { burn, BurnError, eraseDisc, formatMedia } from '../../server/src/engine/burn/engine';
import { readMediaState } from '../../server/src/engine/burn/media';
import { OP, PROFILE } from '../../server/src/engine/burn/mmc';
import { recorders } from '../../server/src/engine/burn/registry';
import { BASE_OPTS, burnTo, makeProject, sourceOf, xorrisoRead, type Project } from '../util/burn-fixtures';
import { tmpdir } from '../util/tmpdir';

const discs = tmpdir('df-faults-');
let p: Project;
before(async () => {
  p = await makeProject(discs, 'faults', 3_000_000);
});

/** The drive can be locked again at once: the failed operation released it. */
async function assertReleased(spec: string): Promise<void> {
  const lease = await recorders.lock(spec, 'check');
  await lease.release();
}

async function media(spec: string) {
  const lease = await recorders.query(spec);
  try {
    return await readMediaState(lease.dev);
  } finally {
    await lease.release();
  }
}

describe('faults', () => {
  test('a write error at an address fails the burn with that address; the session is closed and the disc stays appendable', async () => {
    const spec = `virtual:dvd+r:${path.join(discs, 'werr.img')}?fault=write-error@1000`;
    await assert.rejects(burnTo(spec, p.manifest), (e: Error) => {
      assert.ok(e instanceof BurnError, e.message);
      assert.equal(e.lba, 1000);
      assert.match(e.message, /failed at block 1000: .*MEDIUM ERROR 03\/0C\/00 write error/);
      assert.match(e.message, /incomplete session \(blocks 0–\d+\)/);
      return true;
    });
    await assertReleased(spec);
    const m = await media(spec);
    assert.equal(m.status, 'appendable');
    assert.equal(m.sessions.length, 1);
    assert.ok(m.sessions[0].lastRecorded >= 999, `${m.sessions[0].lastRecorded}`); // the reserved track is padded when closed
  });

  test('a media error on read-back fails verification with the unreadable block', async () => {
    const spec = `virtual:bd-r:${path.join(discs, 'rerr.img')}?fault=read-error@700`;
    await assert.rejects(burnTo(spec, p.manifest, { verify: 'full' }), (e: Error) => {
      assert.ok(e instanceof BurnError);
      assert.equal(e.lba, 700);
      assert.match(e.message, /verification failed: block 700 cannot be read back: .*MEDIUM ERROR 03\/11\/00 unrecovered read error/);
      assert.match(e.message, /written but does not read back correctly/);
      return true;
    });
    await assertReleased(spec);
  });

  test('a mismatch found by verification names the first bad block', async () => {
    // A drive that writes what it is sent, then the disc is damaged before verification: simulate by
    // corrupting the disc file between writing and verifying (the onProgress hook of the verifying phase).
    const file = path.join(discs, 'mismatch.img');
    const spec = `virtual:bd-re:${file}`;
    let corrupted = false;
    await assert.rejects(burnTo(spec, p.manifest, {
      verify: 'full',
      onProgress: (x) => {
        if (x.phase === 'verifying' && !corrupted) {
          corrupted = true;
          const fd = fs.openSync(file, 'r+');
          fs.writeSync(fd, Buffer.from('XX'), 0, 2, 1234 * 2048 + 100);
          fs.closeSync(fd);
        }
      },
    }), (e: Error) => e instanceof BurnError && e.lba === 1234 && /block 1234 on the disc differs from the image \(first difference at byte 100/.test(e.message));
    await assertReleased(spec);
  });

  test('the medium removed mid-burn: a clear error, no hang, the drive released', async () => {
    const spec = `virtual:bd-r:${path.join(discs, 'removed.img')}?fault=remove@500`;
    const t0 = Date.now();
    await assert.rejects(burnTo(spec, p.manifest), (e: Error) => {
      assert.match(e.message, /NOT READY 02\/3A\/00 medium not present/);
      assert.match(e.message, /disc was removed from the drive/);
      return true;
    });
    assert.ok(Date.now() - t0 < 10_000);
    await assertReleased(spec);
    // Put back (the next use loads the tray): it holds the unclosed session.
    const m = await media(`virtual:bd-r:${path.join(discs, 'removed.img')}`);
    assert.equal(m.status, 'appendable');
  });

  test('a buffer underrun: recovered when the drive has burn-proof (BUFE), fatal without it', async () => {
    const ok = `virtual:cd-r:${path.join(discs, 'under-ok.img')}?fault=underrun@300`;
    const lease = await recorders.lock(ok, 'test');
    try {
      const r = await burn(lease.dev, BASE_OPTS, sourceOf(p.manifest));
      assert.equal(r.verified, 'full');
      assert.equal(lease.emulated!.underrunsRecovered, 1);
    } finally {
      await lease.release();
    }
    const bad = `virtual:cd-r:${path.join(discs, 'under-bad.img')}?fault=underrun@300&nobufe`;
    await assert.rejects(burnTo(bad, p.manifest), (e: Error) => e instanceof BurnError && e.lba === 300 && /03\/0C\/09 write error - loss of streaming/.test(e.message));
    await assertReleased(bad);
  });

  test('a slow host underruns a throttled drive without burn-proof (time-based buffer model)', async () => {
    // 1× CD = 176 kB/s drains a 64 KiB buffer in ~370 ms; a source that stalls longer than that underruns.
    const spec = `virtual:cd-r:${path.join(discs, 'slowhost.img')}?speed=1x&buffer=64K&nobufe`;
    let stalled = false;
    await assert.rejects(burnTo(spec, p.manifest, {
      chunkBytes: 32 * 1024,
      onProgress: (x) => {
        if (x.phase === 'writing' && x.sectorsDone > 40 && !stalled) {
          stalled = true;
          const until = Date.now() + 700;
          while (Date.now() < until) { /* the host is busy */ }
        }
      },
    }), /loss of streaming/);
    await assertReleased(spec);
  });

  test('optional commands the drive refuses (RESERVE TRACK, SEND OPC, SET STREAMING, SET CD SPEED, READ BUFFER CAPACITY) do not fail the burn', async () => {
    const spec = `virtual:dvd+r:${path.join(discs, 'minimal.img')}?unsupported=reserve-track,send-opc,set-streaming,set-cd-speed,read-buffer-capacity,get-performance`;
    const r = await burnTo(spec, p.manifest, { speedX: 8 });
    assert.equal(r.verified, 'full');
    const notes = r.notes.join('\n');
    assert.match(notes, /RESERVE TRACK: writing into the open \(invisible\) track/);
    assert.match(notes, /SEND OPC INFORMATION refused/);
    assert.match(notes, /SET STREAMING \/ SET CD SPEED refused/);
    assert.deepEqual([...xorrisoRead(path.join(discs, 'minimal.img')).files.keys()].sort(), ['big.bin', 'docs/deep/notes.md', 'docs/readme.txt', 'empty.dat']);
  });

  test('a command that is not optional and is refused (WRITE) fails clearly', async () => {
    const spec = `virtual:bd-r:${path.join(discs, 'nowrite.img')}?unsupported=write-10`;
    await assert.rejects(burnTo(spec, p.manifest), /WRITE\(10\) failed: ILLEGAL REQUEST 05\/20\/00 invalid command operation code/);
    await assertReleased(spec);
  });

  test('slow writes slow the burn down and it still completes', async () => {
    const spec = `virtual:bd-r:${path.join(discs, 'slow.img')}?slow=20`;
    const t0 = Date.now();
    const r = await burnTo(spec, p.manifest, { verify: 'quick', chunkBytes: 256 * 1024 });
    const writes = Math.ceil((r.blocks * 2048) / (256 * 1024));
    assert.ok(Date.now() - t0 >= writes * 20, `${Date.now() - t0} ms for ${writes} slow writes`);
  });

  test('a throttled drive writes at the selected speed (SET STREAMING), with buffer fill reported', async () => {
    const spec = `virtual:bd-r:${path.join(discs, 'speed.img')}?speed=2x`;
    const fills: number[] = [];
    const t0 = Date.now();
    const r = await burnTo(spec, p.manifest, { verify: 'none', speedX: 2, onProgress: (x) => { if (x.bufferFill !== undefined) fills.push(x.bufferFill); } });
    const ms = Date.now() - t0;
    // 2× BD = 8990 kB/s: 3 MB past a 4 MiB buffer is accepted at once; the rest (none here) is paced.
    assert.ok(r.writeMBps > 0);
    assert.ok(ms < 5000);
    assert.ok(fills.every((f) => f >= 0 && f <= 1));
  });

  test('a write-protected disc is refused before anything is written', async () => {
    await assert.rejects(burnTo(`virtual:bd-re:${path.join(discs, 'wp.img')}?protect`, p.manifest), /write-protected/);
  });

  test('no disc in the drive', async () => {
    await assert.rejects(burnTo(`virtual:bd-r:${path.join(discs, 'none.img')}?empty`, p.manifest), /no disc in the drive/);
  });
});

describe('MMC sequences', () => {
  test('SYNCHRONIZE CACHE with Immed is polled while the drive reports 04/08; the write sequence per family', async () => {
    const spec = `virtual:dvd-r:${path.join(discs, 'seq.img')}`;
    const lease = await recorders.lock(spec, 'test');
    try {
      await burn(lease.dev, { ...BASE_OPTS, verify: 'none' }, sourceOf(p.manifest));
      const log = lease.emulated!.commandLog;
      const sync = log.indexOf(OP.SYNCHRONIZE_CACHE);
      assert.ok(sync > 0);
      // After the Immed SYNCHRONIZE CACHE: TEST UNIT READY (NOT READY 04/08) and REQUEST SENSE (progress) until ready.
      assert.deepEqual(log.slice(sync + 1, sync + 3), [OP.TEST_UNIT_READY, OP.REQUEST_SENSE]);
      // DVD-R: write parameters (MODE SELECT page 05), speed, RESERVE TRACK, OPC, WRITEs, CLOSE TRACK, CLOSE SESSION.
      const order = [OP.MODE_SELECT_10, OP.SET_STREAMING, OP.RESERVE_TRACK, OP.SEND_OPC_INFORMATION, OP.WRITE_10, OP.SYNCHRONIZE_CACHE, OP.CLOSE_TRACK_SESSION];
      let at = 0;
      for (const op of order) {
        const i = log.indexOf(op, at);
        assert.ok(i >= at, `opcode ${op.toString(16)} after position ${at}`);
        at = i;
      }
      assert.equal(log.filter((o) => o === OP.CLOSE_TRACK_SESSION).length, 2);
      assert.equal(log.filter((o) => o === OP.PREVENT_ALLOW_MEDIUM_REMOVAL).length >= 2, true);
    } finally {
      await lease.release();
    }
  });
});

describe('erase and format', () => {
  test('CD-RW: quick erase makes it blank; a burn over a written one needs --force (which blanks first)', async () => {
    const spec = `virtual:cd-rw:${path.join(discs, 'cdrw.img')}`;
    await burnTo(spec, p.manifest, { verify: 'none' });
    const lease = await recorders.lock(spec, 'erase');
    try {
      const progress: number[] = [];
      const msg = await eraseDisc(lease.dev, { full: false, onProgress: (f) => progress.push(f) });
      assert.match(msg, /erased \(quick\); the disc is now CD-RW \(CD-RW\), blank/);
      assert.ok(lease.emulated!.commandLog.includes(OP.BLANK));
    } finally {
      await lease.release();
    }
    assert.equal(fs.statSync(path.join(discs, 'cdrw.img')).size, 0);
    await burnTo(spec, p.manifest, { verify: 'none' });
    await assert.rejects(burnTo(spec, p.manifest), /--force blanks it first/);
    const r = await burnTo(spec, p.manifest, { force: true });
    assert.equal(r.after?.status, 'appendable');
  });

  test('DVD-RW: format (quick) switches it to restricted overwrite; a full erase returns it to a blank sequential disc', async () => {
    const spec = `virtual:dvd-rw:${path.join(discs, 'dvdrw.img')}`;
    let lease = await recorders.lock(spec, 'format');
    try {
      assert.match(await formatMedia(lease.dev, { full: false }), /formatted \(quick\); the disc is now DVD-RW \(DVD-RW \(restricted overwrite\)\), overwrite-only/);
    } finally {
      await lease.release();
    }
    const r = await burnTo(spec, p.manifest);
    assert.equal(r.before.profile, PROFILE.DVD_RW_RO);
    assert.equal(r.after?.status, 'overwrite-only');
    lease = await recorders.lock(spec, 'erase');
    try {
      assert.match(await eraseDisc(lease.dev, { full: true }), /erased \(full\); the disc is now DVD-RW \(DVD-RW \(sequential\)\), blank/);
    } finally {
      await lease.release();
    }
  });

  test('BD-RE and DVD+RW: format (FORMAT UNIT with Immed, polled through 04/04); quick erase invalidates the file system', async () => {
    for (const profile of ['bd-re', 'dvd+rw']) {
      const spec = `virtual:${profile}:${path.join(discs, `fmt-${profile}.img`)}`;
      let lease = await recorders.lock(spec, 'format');
      try {
        const before = await readMediaState(lease.dev);
        assert.equal(before.status, 'blank');
        assert.equal(before.formatted, false);
        assert.match(await formatMedia(lease.dev, { full: profile === 'bd-re' }), /formatted .*overwrite-only/);
      } finally {
        await lease.release();
      }
      await burnTo(spec, p.manifest, { verify: 'none' });
      lease = await recorders.lock(spec, 'erase');
      try {
        assert.match(await eraseDisc(lease.dev, { full: false }), /erased \(quick\)/);
        assert.equal((await readMediaState(lease.dev)).hasFileSystem, false);
      } finally {
        await lease.release();
      }
      // Blank again: a burn needs no --force.
      await burnTo(spec, p.manifest, { verify: 'quick' });
    }
  });

  test('write-once media cannot be erased or formatted', async () => {
    const spec = `virtual:bd-r:${path.join(discs, 'noerase.img')}`;
    const lease = await recorders.lock(spec, 'erase');
    try {
      await assert.rejects(eraseDisc(lease.dev, { full: false }), /a BD-R cannot be erased/);
      await assert.rejects(formatMedia(lease.dev, { full: false }), /a BD-R cannot be formatted/);
    } finally {
      await lease.release();
    }
  });
});
