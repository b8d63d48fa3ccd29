// Several recorders at once, the lock (a busy recorder refuses a second burn / erase / eject at once, naming
// the holder; across processes through the lock file), cancellation mid-write (a defined disc state, said),
// a source changed since planning, the transport and drive-spec boundary, and the CLI commands.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { burn, ejectDisc } from '../../server/src/engine/burn/engine';
import { readMediaState } from '../../server/src/engine/burn/media';
import { DriveBusyError, recorders } from '../../server/src/engine/burn/registry';
import { parseDriveSpec } from '../../server/src/engine/burn/transport';
import { CancelledError, InputError } from '../../server/src/engine/util/errors';
import { BASE_OPTS, burnTo, makeProject, sha256, head, sourceOf, xorrisoRead, type Project } from '../util/burn-fixtures';
import { runCli, runCliAsync } from '../util/fixtures';
import { tmpdir } from '../util/tmpdir';

const discs = tmpdir('df-drives-');
let p: Project;
before(async () => {
  p = await makeProject(discs, 'drives', 4_000_000);
});

describe('several recorders, locks, cancellation', () => {
  test('two recorders burn at once, each with its own progress', async () => {
    const a = `virtual:bd-r:${path.join(discs, 'two-a.img')}?slow=5`;
    const b = `virtual:dvd+rw:${path.join(discs, 'two-b.img')}?slow=5`;
    const seen = new Map<string, Set<string>>();
    const events: string[] = [];
    const onProgress = (x: { drive: string; phase: string }) => {
      if (!seen.has(x.drive)) seen.set(x.drive, new Set());
      seen.get(x.drive)!.add(x.phase);
      if (x.phase === 'writing') events.push(x.drive);
    };
    const [ra, rb] = await Promise.all([
      burnTo(a, p.manifest, { onProgress, chunkBytes: 128 * 1024 }),
      burnTo(b, p.manifest, { onProgress, chunkBytes: 128 * 1024 }),
    ]);
    assert.equal(ra.blocks, p.blocks);
    assert.equal(rb.blocks, p.blocks);
    assert.deepEqual([...seen.keys()].sort(), [a, b].sort());
    for (const phases of seen.values()) assert.ok(phases.has('writing') && phases.has('verifying') && phases.has('completed'));
    // Interleaved: both were writing at the same time.
    const firstB = events.indexOf(b);
    const lastA = events.lastIndexOf(a);
    assert.ok(firstB >= 0 && firstB < lastA, 'the two burns overlapped');
    for (const f of ['two-a.img', 'two-b.img']) assert.equal(sha256(head(path.join(discs, f), p.blocks * 2048)), sha256(fs.readFileSync(p.image)));
  });

  test('a busy recorder refuses a second burn, an erase and an eject at once, naming the holder', async () => {
    const spec = `virtual:bd-re:${path.join(discs, 'busy.img')}?slow=10`;
    const first = burnTo(spec, p.manifest, { verify: 'none', chunkBytes: 64 * 1024 });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await assert.rejects(burnTo(spec, p.manifest), (e: Error) => e instanceof DriveBusyError && /is busy: test burn of drives\.disc\.json holds it/.test(e.message));
    await assert.rejects(recorders.lock(spec, 'discforge erase'), DriveBusyError);
    await assert.rejects(recorders.lock(spec, 'discforge eject'), /busy: test burn of drives.disc.json/);
    assert.ok(Date.now() - t0 < 500, 'refused at once');
    assert.match(recorders.holderOf(spec) ?? '', /test burn of drives\.disc\.json/);
    await first;
    assert.equal(recorders.holderOf(spec), undefined);
    const lease = await recorders.lock(spec, 'eject');
    try {
      await ejectDisc(lease.dev);
      assert.equal(lease.emulated!.disc.trayOpen, true);
      // The next use loads the tray again (START STOP UNIT LoEj=1 Start=1), as burning programs do.
      assert.equal((await readMediaState(lease.dev)).status, 'overwrite-only');
      assert.equal(lease.emulated!.disc.trayOpen, false);
    } finally {
      await lease.release();
    }
  });

  test('another process holding a virtual recorder (its lock file) makes it busy, named', async () => {
    const file = path.join(discs, 'other.img');
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(file + '.lock', JSON.stringify({ pid: sleeper.pid, holder: 'discforge burn x.disc.json (pid ' + sleeper.pid + ')', since: '2026-01-01T00:00:00Z' }));
      await assert.rejects(burnTo(`virtual:bd-r:${file}`, p.manifest), (e: Error) => e instanceof DriveBusyError && e.message.includes(`in use by discforge burn x.disc.json (pid ${sleeper.pid}`));
    } finally {
      sleeper.kill();
    }
    await new Promise((r) => sleeper.once('exit', r));
    // A lock left by a process that is gone is stale: taken over.
    const r = await burnTo(`virtual:bd-r:${file}`, p.manifest, { verify: 'none' });
    assert.equal(r.blocks, p.blocks);
    assert.equal(fs.existsSync(file + '.lock'), false);
  });

  test('cancellation mid-write leaves a closed, appendable disc and says what it holds; the drive is released', async () => {
    const file = path.join(discs, 'cancel.img');
    const spec = `virtual:bd-r:${file}?slow=5`;
    const ac = new AbortController();
    await assert.rejects(burnTo(spec, p.manifest, {
      signal: ac.signal,
      chunkBytes: 64 * 1024,
      onProgress: (x) => { if (x.phase === 'writing' && x.sectorsDone >= 320) ac.abort(); },
    }), (e: Error) => {
      assert.ok(e instanceof CancelledError, e.message);
      assert.match(e.message, /cancelled\. The disc now holds an incomplete session \(blocks 0–\d+\) whose file system is unusable, closed so that the disc stays usable: it is BD-R \(BD-R \(SRM\)\), appendable, 1 session, \d+ blocks free/);
      return true;
    });
    const lease = await recorders.lock(spec, 'check');
    try {
      const m = await readMediaState(lease.dev);
      assert.equal(m.status, 'appendable');
      assert.equal(m.sessions[0].closed, true);
    } finally {
      await lease.release();
    }
  });

  test('cancelled before writing: the disc is untouched', async () => {
    const spec = `virtual:dvd+r:${path.join(discs, 'cancel0.img')}`;
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(burnTo(spec, p.manifest, { signal: ac.signal }), /cancelled; nothing was written: the disc is as it was \(DVD\+R \(DVD\+R\), blank\)/);
  });

  test('a source file changed since planning aborts the burn before its sectors are written', async () => {
    const spec = `virtual:bd-r:${path.join(discs, 'changed.img')}`;
    const lease = await recorders.lock(spec, 'test');
    const victim = path.join(p.dir, 'src', 'docs', 'readme.txt');
    const saved = fs.readFileSync(victim);
    let makeCount = 0;
    try {
      await assert.rejects(burn(lease.dev, BASE_OPTS, (t) => {
        const s = sourceOf(p.manifest)();
        makeCount++;
        void t;
        fs.appendFileSync(victim, 'changed after planning');
        return s;
      }), (e: Error) => e instanceof InputError && e.message.includes(victim) && /changed since the image was planned/.test(e.message));
    } finally {
      await lease.release();
      fs.writeFileSync(victim, saved);
    }
    assert.equal(makeCount, 1);
  });
});

describe('drive specs and the transport', () => {
  test('virtual specs with options; OS devices; bad specs are input errors', () => {
    const v = parseDriveSpec('virtual:dvd+r:/tmp/d.img?speed=8x&fault=write-error@1000,read-error@5&unsupported=reserve-track&slow=3&nobufe');
    assert.equal(v.kind, 'virtual');
    if (v.kind === 'virtual') {
      assert.equal(v.profile, 'dvd+r');
      assert.equal(v.file, '/tmp/d.img');
      assert.equal(v.options.speedX, 8);
      assert.deepEqual(v.options.faults, [{ kind: 'write-error', lba: 1000 }, { kind: 'read-error', lba: 5 }]);
      assert.deepEqual(v.options.unsupported, [0x53]);
      assert.equal(v.options.slowMs, 3);
      assert.equal(v.options.noBufe, true);
    }
    assert.deepEqual(parseDriveSpec('/dev/sr0'), { kind: 'os', spec: '/dev/sr0', device: '/dev/sr0' });
    assert.equal(parseDriveSpec('E:').kind, 'os');
    assert.throws(() => parseDriveSpec('virtual:floppy:/tmp/x'), /unknown profile "floppy"/);
    assert.throws(() => parseDriveSpec('virtual:bd-r:/tmp/x?fault=explode@1'), /a fault is write-error@LBA/);
    assert.throws(() => parseDriveSpec('sr0'), /not a drive/);
  });

  test('an OS device that does not exist is refused with the OS error, through the native addon', async () => {
    await assert.rejects(recorders.query('/dev/discforge-no-such-drive'), /ENOENT/);
  });

  test('the emulator answers raw CDBs: unit attention once, INQUIRY, GET CONFIGURATION current profile, unknown opcode', async () => {
    const lease = await recorders.query(`virtual:dvd+r:${path.join(discs, 'raw.img')}`);
    try {
      const t = lease.dev.transport;
      const tur = await t.execute(Buffer.from([0, 0, 0, 0, 0, 0]), 'none', 0, 1000);
      assert.equal(tur.status, 2);
      assert.deepEqual([tur.sense[2] & 0x0f, tur.sense[12], tur.sense[13]], [6, 0x28, 0]); // UNIT ATTENTION 28/00
      assert.equal((await t.execute(Buffer.from([0, 0, 0, 0, 0, 0]), 'none', 0, 1000)).status, 0);
      const inq = await t.execute(Buffer.from([0x12, 0, 0, 0, 36, 0]), 'in', 36, 1000);
      assert.equal(inq.data[0] & 0x1f, 5);
      assert.equal(inq.data.toString('latin1', 8, 16), 'DISCFORG');
      const conf = await t.execute(Buffer.from([0x46, 1, 0, 0, 0, 0, 0, 0x10, 0, 0]), 'in', 4096, 1000);
      assert.equal(conf.data.readUInt16BE(6), 0x001b); // DVD+R
      const bad = await t.execute(Buffer.from([0xee, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'none', 0, 1000);
      assert.deepEqual([bad.sense[2] & 0x0f, bad.sense[12]], [5, 0x20]);
      const wr = await t.execute(Buffer.from([0x2a, 0, 0, 0, 0, 100, 0, 0, 1, 0]), 'out', Buffer.alloc(2048), 1000);
      assert.deepEqual([wr.sense[2] & 0x0f, wr.sense[12], wr.sense[13]], [5, 0x21, 0x02]); // write-once: not at the NWA
    } finally {
      await lease.release();
    }
  });
});

describe('CLI: drives, media, burn, erase, format, eject', () => {
  test('burn a manifest to two drives, media shows the session, exit codes', async () => {
    const a = `virtual:dvd+r:${path.join(discs, 'cli-a.img')}`;
    const b = `virtual:cd-r:${path.join(discs, 'cli-b.img')}`;
    const r = await runCliAsync(['burn', p.manifest, '--drive', a, '--drive', b, '--verify', 'quick', '--progress', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const events = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { drive: string; phase: string });
    assert.deepEqual([...new Set(events.map((e) => e.drive))].sort(), [a, b].sort());
    assert.ok(events.some((e) => e.drive === a && e.phase === 'completed') && events.some((e) => e.drive === b && e.phase === 'completed'));
    assert.match(r.stdout, /wrote \d+ blocks .* verified \(quick, read back \d+ MB\/s\)/);
    const m = runCli(['media', '--drive', a, '--json']);
    assert.equal(m.status, 0, m.stderr);
    const state = JSON.parse(m.stdout);
    assert.equal(state.status, 'appendable');
    assert.equal(state.sessions.length, 1);
    assert.equal(state.physicalType, 'DVD+R');
    const t = runCli(['media', '--drive', b]);
    assert.match(t.stdout, /session 1: blocks 0–\d+/);
    assert.deepEqual([...xorrisoRead(path.join(discs, 'cli-b.img')).files.keys()].sort(), ['big.bin', 'docs/deep/notes.md', 'docs/readme.txt', 'empty.dat']);
    // Burning again without --append: refused (exit 1) with the reason.
    const again = runCli(['burn', p.manifest, '--drive', a]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already holds 1 session/);
  });

  test('burn an image file, eject, erase and format from the CLI', () => {
    const rw = `virtual:bd-re:${path.join(discs, 'cli-re.img')}`;
    assert.equal(runCli(['format', '--drive', rw]).status, 0);
    const r = runCli(['burn', p.image, '--drive', rw, '--eject', '--speed', '2x']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /validating media\ninitializing hardware\ncalibrating power\nwriting data\n/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(discs, 'cli-re.img.state.json'), 'utf8')).trayOpen, true);
    const e = runCli(['erase', '--drive', rw]);
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, /erased \(quick\)/);
    assert.equal(runCli(['eject', '--drive', rw]).status, 0);
    const d = runCli(['drives', '--drive', rw, '--json']);
    assert.equal(d.status, 0);
    const list = JSON.parse(d.stdout);
    assert.equal(list.note, undefined); // the native addon is built for the tests, so OS drives can be listed
    assert.ok(list.drives[0].profiles.includes('BD-RE'));
    // GET EVENT STATUS NOTIFICATION after the eject: tray open, no medium.
    assert.equal(list.drives[0].trayOpen, true);
    assert.equal(list.drives[0].mediaPresent, false);
  });

  test('bad input exits 2; an unusable drive exits 1', () => {
    assert.equal(runCli(['burn', p.manifest]).status, 2); // no --drive
    assert.equal(runCli(['burn', p.manifest, '--drive', 'virtual:zip:/tmp/x']).status, 2);
    assert.equal(runCli(['burn', p.manifest, '--drive', `virtual:bd-r:${path.join(discs, 'x.img')}`, '--verify', 'maybe']).status, 2);
    assert.equal(runCli(['burn', path.join(discs, 'missing.iso'), '--drive', `virtual:bd-r:${path.join(discs, 'x.img')}`]).status, 2);
    const os = runCli(['media', '--drive', '/dev/sr0']);
    assert.equal(os.status, 1);
    assert.match(os.stderr, /\/dev\/sr0: .*ENOENT/);
    const help = runCli(['burn', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--verify LEVEL/);
  });
});
