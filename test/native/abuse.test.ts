/**
 * Abuse of the native SCSI addon: none of it may crash the process, each misuse ends in the documented error.
 * - On the host (no optical drive needed): wrong types, forged handles, unknown and non-SCSI paths, the addon in a
 *   worker thread, the transport and registry errors, and DiscForge without the addon (virtual recorders work and
 *   the reason is printed).
 * - In the QEMU guest, against a real SCSI device (QEMU's scsi-cd, through /dev/sr0 and /dev/sg0: both kernel
 *   paths): huge, negative and fractional lengths, closed and double-closed handles, a flood of concurrent commands
 *   on one handle, close() with commands queued, a handle dropped without close() (./guest/abuse-cases.ts).
 * Logs of the guest run: test/.work/native/abuse/{serial.log,output.log}.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createNativeTransport, loadNativeAddon, nativeStatus, NativeTransport, toTransportError, transportProblem, type NativeAddon } from '../../server/src/engine/burn/native';
import { DriveUnavailableError, recorders } from '../../server/src/engine/burn/registry';
import { TransportError } from '../../server/src/engine/burn/transport';
import { repoRoot, runGuest, type GuestResult } from '../guest/guest';
import type { AbuseOutcome } from './guest/abuse-cases';
import { ADDON_FILE, describeStep, GUEST_PRELUDE, keepLogs, keptGuestError, nativeGuest, parseResults, prepareShare, workDir, type StepResult } from './harness';

const INQUIRY = Buffer.from([0x12, 0, 0, 0, 36, 0]);

describe('native addon abuse on the host (no drive needed)', () => {
  let a: NativeAddon;
  let x: Record<string, (...args: unknown[]) => unknown>;
  let dir = '';
  before(() => {
    const loaded = loadNativeAddon();
    assert.ok(loaded, `the addon loads on the host: ${nativeStatus().reason}`);
    a = loaded;
    x = a as unknown as Record<string, (...args: unknown[]) => unknown>;
    dir = workDir('abuse-host');
  });

  const code = (c: string, name?: string) => (e: unknown) => {
    const err = e as Error & { code?: string };
    assert.equal(err.code, c, `${err.name}: ${err.message}`);
    if (name) assert.equal(err.name, name);
    return true;
  };

  it('exports the narrow surface and its limits', () => {
    for (const f of ['open', 'execute', 'close', 'list']) assert.equal(typeof (a as unknown as Record<string, unknown>)[f], 'function', f);
    assert.deepEqual({ ...a.limits }, { minCdb: 6, maxCdb: 16, senseBytes: 96, maxTransferBytes: 16 << 20, maxTimeoutMs: 4 * 3600 * 1000, maxQueued: 256 });
    assert.equal(a.platform, 'linux');
    assert.equal(a.passThrough, true);
    assert.ok(nativeStatus().available);
    assert.equal(nativeStatus().file, ADDON_FILE());
  });

  it('open(): unknown paths, non-devices and non-SCSI devices are rejected with the step and the OS error', async () => {
    await assert.rejects(a.open('/dev/discforge-no-such-drive', { exclusive: false }), (e: unknown) => {
      const err = e as Error & { code: string; errno: number; step: string; path: string };
      assert.equal(err.code, 'ENOENT');
      assert.equal(err.errno, 2);
      assert.equal(err.step, 'open');
      assert.equal(err.path, '/dev/discforge-no-such-drive');
      assert.match(err.message, /^open \/dev\/discforge-no-such-drive: No such file or directory \(ENOENT\)/);
      return true;
    });
    await assert.rejects(a.open('/dev/null', { exclusive: true }), (e: unknown) => {
      const err = e as Error & { code: string; step: string };
      assert.equal(err.code, 'ENOTTY');
      assert.equal(err.step, 'ioctl(SG_GET_VERSION_NUM)');
      return true;
    });
    const file = path.join(dir, 'not-a-device');
    fs.writeFileSync(file, 'x');
    await assert.rejects(a.open(file, { exclusive: false }), code('ENOTTY'));
    await assert.rejects(a.open(dir, { exclusive: false }), code('EISDIR'));
  });

  it('open(): wrong argument types throw TypeError at once (nothing reaches the OS)', () => {
    assert.throws(() => x.open(), code('ERR_INVALID_ARG_TYPE', 'TypeError'));
    assert.throws(() => x.open(42, { exclusive: false }), code('ERR_INVALID_ARG_TYPE', 'TypeError'));
    assert.throws(() => x.open(Buffer.from('/dev/sr0'), { exclusive: false }), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => x.open('/dev/sr0'), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => x.open('/dev/sr0', null), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => x.open('/dev/sr0', [true]), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => x.open('/dev/sr0', { exclusive: 1 }), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => x.open('/dev/sr0', { exclusive: false, holder: {} }), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => x.open('/dev/sr0', { exclusive: false, holder: 'h'.repeat(2000) }), code('ERR_INVALID_ARG_VALUE'));
    assert.throws(() => x.open('', { exclusive: false }), code('ERR_INVALID_ARG_VALUE'));
    assert.throws(() => x.open('/dev/sr0\u0000', { exclusive: false }), code('ERR_INVALID_ARG_VALUE'));
    assert.throws(() => x.open('x'.repeat(1 << 16), { exclusive: false }), code('ERR_INVALID_ARG_VALUE'));
    assert.throws(() => x.open({ toString: () => '/dev/sr0' }, { exclusive: false }), code('ERR_INVALID_ARG_TYPE'));
  });

  it('execute() and close() refuse anything that is not a handle from open()', () => {
    for (const h of [undefined, null, 0, 'handle', {}, [], () => undefined, { path: '/dev/sr0', maxTransferBytes: 65536, exclusive: false }, Symbol('h'), 1n]) {
      assert.throws(() => x.execute(h, INQUIRY, 'in', 36, 1000), code('ERR_INVALID_ARG_TYPE', 'TypeError'), String(typeof h));
      assert.throws(() => x.close(h), code('ERR_INVALID_ARG_TYPE', 'TypeError'), String(typeof h));
    }
    assert.throws(() => x.execute(), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => x.close(), code('ERR_INVALID_ARG_TYPE'));
  });

  it('list() resolves with an array (no optical drive here) and takes no harm from arguments', async () => {
    const l = await x.list('ignored', 1, {});
    assert.ok(Array.isArray(l));
    for (const d of l as { type: number }[]) assert.equal(d.type, 5);
  });

  it('many failing opens at once: each rejects on its own, the process stays up', async () => {
    const rs = await Promise.allSettled(Array.from({ length: 200 }, (_v, i) => a.open(`/dev/discforge-missing-${i}`, { exclusive: i % 2 === 0 })));
    assert.ok(rs.every((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'ENOENT'));
  });

  it('the addon loads in worker threads too (per-environment state), and a worker torn down mid-call does no harm', async () => {
    const file = ADDON_FILE();
    const src = `const { parentPort } = require('node:worker_threads'); const a = require(${JSON.stringify(file)});
      a.open('/dev/null', { exclusive: false }).catch((e) => parentPort.postMessage(e.code));
      for (let i = 0; i < 50; i++) a.open('/dev/discforge-missing', { exclusive: false }).catch(() => undefined);`;
    for (let i = 0; i < 3; i++) {
      const w = new Worker(src, { eval: true });
      const msg = await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      assert.equal(msg, 'ENOTTY');
      await w.terminate();
    }
    const w2 = new Worker(`const a = require(${JSON.stringify(file)}); for (let i = 0; i < 100; i++) a.list(); require('node:worker_threads').parentPort.postMessage('go');`, { eval: true });
    await new Promise((r) => w2.once('message', r));
    await w2.terminate(); // with list() calls in flight
    await assert.rejects(a.open('/dev/null', { exclusive: false }), code('ENOTTY')); // the main thread's addon still works
  });

  it('NativeTransport maps OS errors to TransportError kinds; an unopened transport refuses commands', async () => {
    const t = createNativeTransport('/dev/discforge-no-such-drive');
    assert.ok(t instanceof NativeTransport);
    assert.equal(t.maxTransferBytes, 65536, 'a conservative maximum before open');
    await assert.rejects(t.execute(INQUIRY, 'in', 36, 1000), (e: unknown) => e instanceof TransportError && e.code === 'not-open');
    await assert.rejects(t.open({ exclusive: true }), (e: unknown) => e instanceof TransportError && e.code === 'unavailable' && /ENOENT/.test(e.message));
    await t.close(); // not open: nothing to do
    const n = createNativeTransport('/dev/null');
    await assert.rejects(n.open({ exclusive: false }), (e: unknown) => e instanceof TransportError && e.code === 'unavailable' && /not a SCSI device/.test(e.message));
    const kinds = (c: string) => (toTransportError('/dev/sr0', Object.assign(new Error('m'), { code: c })) as TransportError).code;
    assert.equal(kinds('EBUSY'), 'busy');
    assert.equal(kinds('ETIMEDOUT'), 'timeout');
    assert.equal(kinds('ERR_SCSI_CLOSED'), 'not-open');
    assert.equal(kinds('EACCES'), 'unavailable');
    assert.equal(kinds('EIO'), 'io');
    const te = new TypeError('bad');
    assert.equal(toTransportError('/dev/sr0', te), te, 'argument errors stay what they are');
    // sg_io_hdr host / driver status: DRIVER_SENSE (08h) accompanies a CHECK CONDITION and is no error.
    assert.equal(transportProblem('/dev/sg0', INQUIRY, { hostStatus: 0, driverStatus: 0x08 }), undefined);
    assert.equal(transportProblem('/dev/sg0', INQUIRY, { hostStatus: 0x03, driverStatus: 0 })?.code, 'timeout');
    assert.equal(transportProblem('/dev/sg0', INQUIRY, { hostStatus: 0, driverStatus: 0x06 })?.code, 'timeout');
    assert.equal(transportProblem('/dev/sg0', INQUIRY, { hostStatus: 0x01, driverStatus: 0 })?.code, 'unavailable');
    assert.equal(transportProblem('/dev/sg0', INQUIRY, { hostStatus: 0x07, driverStatus: 0 })?.code, 'io');
  });

  it('the registry reports a missing OS drive as DriveUnavailableError, naming the device and the OS error', async () => {
    await assert.rejects(recorders.query('/dev/discforge-no-such-drive'), (e: unknown) =>
      e instanceof DriveUnavailableError && /\/dev\/discforge-no-such-drive/.test(e.message) && /ENOENT/.test(e.message));
  });

  it('without the addon, DiscForge still works with virtual recorders and says why OS drives are unavailable', () => {
    // The bundled CLI copied where no native/ folder is above it: the addon cannot be found.
    const cli = path.join(repoRoot(), 'dist', 'cli.js');
    assert.ok(fs.existsSync(cli), `${cli} (built by scripts/build.mjs)`);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'discforge-no-addon-'));
    try {
      fs.copyFileSync(cli, path.join(tmp, 'cli.js'));
      const env = { ...process.env, DISCFORGE_NATIVE_DIR: '' };
      const drives = spawnSync(process.execPath, [path.join(tmp, 'cli.js'), 'drives'], { encoding: 'utf8', env });
      assert.equal(drives.status, 0, drives.stderr);
      assert.match(drives.stdout, /the native SCSI addon is not available \(.*\): OS drives cannot be opened; virtual recorders work/);
      const media = spawnSync(process.execPath, [path.join(tmp, 'cli.js'), 'media', '--drive', '/dev/sr0'], { encoding: 'utf8', env });
      assert.equal(media.status, 1);
      assert.match(media.stderr, /\/dev\/sr0: the native SCSI addon is not available/);
      const virt = spawnSync(process.execPath, [path.join(tmp, 'cli.js'), 'media', '--drive', `virtual:bd-r:${path.join(tmp, 'd.img')}`], { encoding: 'utf8', env });
      assert.equal(virt.status, 0, virt.stderr);
      assert.match(virt.stdout, /BD-R/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('native addon abuse on a real SCSI device (QEMU guest: scsi-cd through /dev/sr0 and /dev/sg0)', () => {
  let run: GuestResult;
  let results = new Map<string, StepResult>();
  let logHint = '';
  const DEVICES = ['/dev/sr0', '/dev/sg0'];

  before(async () => {
    const work = workDir('abuse');
    const share = path.join(work, 'share');
    fs.mkdirSync(share);
    const guest = await nativeGuest();
    prepareShare(share);
    const image = path.join(work, 'disc.iso');
    fs.writeFileSync(image, Buffer.alloc(2 << 20)); // QEMU's scsi-cd needs a medium; its content does not matter here
    try {
      run = await runGuest(`${GUEST_PRELUDE}node --expose-gc guest.js ${DEVICES.map((d) => `abuse:${d}`).join(' ')}`, {
        guest, share, cdroms: [image], timeoutSec: 240,
      });
    } catch (e) {
      throw keptGuestError(work, e);
    }
    logHint = keepLogs(work, run);
    results = parseResults(run.output);
  });


  it('the guest process survived every case and exited normally', () => {
    assert.equal(run.status, 0, `guest exit status ${run.status}; output:\n${run.output.slice(-3000)}\n(serial log: ${logHint})`);
  });

  for (const dev of DEVICES) {
    it(`${dev}: each abuse case ends in the documented outcome`, async (t) => {
      const r = results.get(`abuse:${dev}`);
      assert.ok(r && r.ok, describeStep(results, `abuse:${dev}`, logHint));
      const cases = r.value as AbuseOutcome[];
      assert.ok(cases.length >= 40, `${cases.length} cases ran`);
      for (const c of cases) await t.test(c.name, () => assert.ok(c.ok, c.detail));
    });
  }
});
