/**
 * Handle-level abuse of the native addon, run inside the QEMU guest against a real SCSI device (QEMU's scsi-cd):
 * wrong types, huge / negative / fractional lengths, forged handles, closed and double-closed handles, floods
 * of concurrent commands, a handle dropped without close(). None may crash the process; each must end in the
 * documented error. Returns one outcome per case; the host asserts them (test/native/abuse.test.ts).
 */
import { loadNativeAddon, type NativeHandle } from '../../../server/src/engine/burn/native';

export interface AbuseOutcome {
  name: string;
  ok: boolean;
  detail: string;
}

interface Outcome {
  kind: 'threw' | 'rejected' | 'resolved';
  name?: string;
  code?: string;
  message?: string;
  value?: unknown;
}

/** Calls fn: a synchronous throw, a rejection and a resolution are all outcomes (none may crash the process). */
async function outcome(fn: () => unknown): Promise<Outcome> {
  let p: unknown;
  try {
    p = fn();
  } catch (e) {
    const err = e as Error & { code?: string };
    return { kind: 'threw', name: err.name, code: err.code, message: err.message };
  }
  try {
    return { kind: 'resolved', value: await p };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { kind: 'rejected', name: err.name, code: err.code, message: err.message };
  }
}

const INQUIRY = (alloc: number): Buffer => Buffer.from([0x12, 0, 0, (alloc >> 8) & 0xff, alloc & 0xff, 0]);

export async function runAbuse(device: string): Promise<AbuseOutcome[]> {
  const a = loadNativeAddon();
  if (!a) throw new Error('the addon did not load');
  const out: AbuseOutcome[] = [];
  const check = async (name: string, fn: () => unknown, want: (o: Outcome) => boolean): Promise<Outcome> => {
    const o = await outcome(fn);
    out.push({ name, ok: want(o), detail: JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? String(v) : Buffer.isBuffer(v) ? `<${v.length} bytes>` : v)) });
    return o;
  };
  const threw = (code: string, name?: string) => (o: Outcome) => o.kind === 'threw' && o.code === code && (!name || o.name === name);
  const rejected = (code: string) => (o: Outcome) => o.kind === 'rejected' && o.code === code;
  const x = a as unknown as Record<string, (...args: unknown[]) => unknown>;

  // ---- open ----
  await check('open: an unknown device path rejects with ENOENT (step open)', () => a.open('/dev/no-such-drive', { exclusive: false }), rejected('ENOENT'));
  await check('open: /dev/null is no SCSI device: ENOTTY', () => a.open('/dev/null', { exclusive: false }), rejected('ENOTTY'));
  await check('open: a folder is refused', () => a.open('/dev', { exclusive: false }), (o) => o.kind === 'rejected' && ['EISDIR', 'ENOTTY'].includes(o.code ?? ''));
  await check('open: path of the wrong type throws TypeError', () => x.open(42, { exclusive: false }), threw('ERR_INVALID_ARG_TYPE', 'TypeError'));
  await check('open: an empty path throws', () => a.open('', { exclusive: false }), threw('ERR_INVALID_ARG_VALUE'));
  await check('open: a path with NUL throws', () => a.open('/dev/sr0\0x', { exclusive: false }), threw('ERR_INVALID_ARG_VALUE'));
  await check('open: a 5000-byte path throws', () => a.open('/'.repeat(5000), { exclusive: false }), threw('ERR_INVALID_ARG_VALUE'));
  await check('open: options missing throws', () => x.open(device), threw('ERR_INVALID_ARG_TYPE'));
  await check('open: exclusive not a boolean throws', () => x.open(device, { exclusive: 'yes' }), threw('ERR_INVALID_ARG_TYPE'));
  await check('open: holder not a string throws', () => x.open(device, { exclusive: false, holder: 7 }), threw('ERR_INVALID_ARG_TYPE'));

  const h = await a.open(device, { exclusive: true, holder: 'abuse' });
  try {
    await check('open: a second exclusive open of the same device is refused with EBUSY', () => a.open(device, { exclusive: true }), rejected('EBUSY'));
    const max = h.maxTransferBytes;

    // ---- execute: argument checks before anything is copied ----
    const ex = (...args: unknown[]) => () => x.execute(...args);
    await check('execute: no handle throws', ex(undefined, INQUIRY(36), 'in', 36, 5000), threw('ERR_INVALID_ARG_TYPE'));
    await check('execute: a plain object as handle throws', ex({}, INQUIRY(36), 'in', 36, 5000), threw('ERR_INVALID_ARG_TYPE'));
    await check('execute: a forged handle (same properties) throws', ex({ path: device, maxTransferBytes: max, exclusive: true }, INQUIRY(36), 'in', 36, 5000), threw('ERR_INVALID_ARG_TYPE'));
    await check('execute: an object inheriting from a handle throws', ex(Object.create(h), INQUIRY(36), 'in', 36, 5000), threw('ERR_INVALID_ARG_TYPE'));
    await check('execute: the handle class cannot be constructed from JavaScript', () => new (Object.getPrototypeOf(h).constructor as new (...a: unknown[]) => unknown)({}), threw('ERR_ILLEGAL_CONSTRUCTOR'));
    await check('execute: a CDB that is not a Buffer throws', ex(h, [0x12, 0, 0, 0, 36, 0], 'in', 36, 5000), threw('ERR_INVALID_ARG_TYPE'));
    await check('execute: a 5-byte CDB throws RangeError', ex(h, Buffer.alloc(5), 'none', 0, 5000), threw('ERR_OUT_OF_RANGE', 'RangeError'));
    await check('execute: a 17-byte CDB throws RangeError', ex(h, Buffer.alloc(17), 'none', 0, 5000), threw('ERR_OUT_OF_RANGE', 'RangeError'));
    await check('execute: a 1 MiB CDB throws RangeError', ex(h, Buffer.alloc(1 << 20), 'none', 0, 5000), threw('ERR_OUT_OF_RANGE', 'RangeError'));
    await check('execute: an unknown direction throws', ex(h, INQUIRY(36), 'sideways', 36, 5000), threw('ERR_INVALID_ARG_VALUE'));
    await check('execute: direction of the wrong type throws', ex(h, INQUIRY(36), 1, 36, 5000), threw('ERR_INVALID_ARG_TYPE'));
    await check('execute: a negative length throws RangeError', ex(h, INQUIRY(36), 'in', -1, 5000), threw('ERR_OUT_OF_RANGE'));
    await check('execute: a fractional length throws RangeError', ex(h, INQUIRY(36), 'in', 36.5, 5000), threw('ERR_OUT_OF_RANGE'));
    await check('execute: NaN length throws RangeError', ex(h, INQUIRY(36), 'in', NaN, 5000), threw('ERR_OUT_OF_RANGE'));
    await check('execute: Infinity length throws RangeError', ex(h, INQUIRY(36), 'in', Infinity, 5000), threw('ERR_OUT_OF_RANGE'));
    await check('execute: a length of 2^53 throws RangeError', ex(h, INQUIRY(36), 'in', 2 ** 53, 5000), threw('ERR_OUT_OF_RANGE'));
    await check('execute: one byte above the device maximum throws RangeError', ex(h, INQUIRY(36), 'in', max + 1, 5000), threw('ERR_OUT_OF_RANGE'));
    await check('execute: a length given as a string throws TypeError', ex(h, INQUIRY(36), 'in', '36', 5000), threw('ERR_INVALID_ARG_TYPE'));
    await check('execute: a length given as a BigInt throws TypeError', ex(h, INQUIRY(36), 'in', BigInt(36), 5000), threw('ERR_INVALID_ARG_TYPE'));
    await check('execute: data-out without a Buffer throws', ex(h, Buffer.from([0x55, 0x10, 0, 0, 0, 0, 0, 0, 8, 0]), 'out', 8, 5000), threw('ERR_INVALID_ARG_TYPE'));
    await check('execute: data-out above the device maximum throws RangeError (nothing copied)', ex(h, Buffer.from([0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0]), 'out', Buffer.alloc(max + 2048), 5000), threw('ERR_OUT_OF_RANGE'));
    await check('execute: data for direction none throws', ex(h, Buffer.alloc(6), 'none', 5, 5000), threw('ERR_INVALID_ARG_VALUE'));
    await check('execute: a zero timeout throws RangeError', ex(h, Buffer.alloc(6), 'none', 0, 0), threw('ERR_OUT_OF_RANGE'));
    await check('execute: a negative timeout throws RangeError', ex(h, Buffer.alloc(6), 'none', 0, -5), threw('ERR_OUT_OF_RANGE'));
    await check('execute: a timeout of 10^12 ms throws RangeError', ex(h, Buffer.alloc(6), 'none', 0, 1e12), threw('ERR_OUT_OF_RANGE'));
    await check('execute: a missing timeout throws TypeError', ex(h, Buffer.alloc(6), 'none', 0), threw('ERR_INVALID_ARG_TYPE'));
    await check('the handle\'s maxTransferBytes cannot be raised from JavaScript', () => {
      try {
        (h as { maxTransferBytes: number }).maxTransferBytes = 1e9;
      } catch {
        // strict mode: assigning a read-only property throws; either way it must not change
      }
      return x.execute(h, INQUIRY(36), 'in', max * 2, 5000);
    }, (o) => o.kind === 'threw' && o.code === 'ERR_OUT_OF_RANGE' && h.maxTransferBytes === max);

    // ---- execute: odd but valid requests reach the device and come back ----
    await check('execute: a Uint8Array CDB works like a Buffer', ex(h, new Uint8Array(INQUIRY(36)), 'in', 36, 5000),
      (o) => o.kind === 'resolved' && (o.value as { status: number }).status === 0);
    await check('execute: an allocation length of 0 for data-in resolves with no data', ex(h, INQUIRY(0), 'in', 0, 5000),
      (o) => o.kind === 'resolved' && (o.value as { data: Buffer }).data.length === 0);
    await check('execute: a buffer shorter than the CDB asks for is never overrun (INQUIRY 96 into 8 bytes)', ex(h, INQUIRY(96), 'in', 8, 5000),
      (o) => o.kind === 'rejected' || (o.kind === 'resolved' && (o.value as { data: Buffer }).data.length <= 8));
    await check('execute: READ (10) of a whole block into 512 bytes does not crash (resolves or rejects)', ex(h, Buffer.from([0x28, 0, 0, 0, 0, 16, 0, 0, 1, 0]), 'in', 512, 5000),
      (o) => o.kind === 'rejected' || (o.kind === 'resolved' && (o.value as { data: Buffer }).data.length <= 512));
    await check('execute: the CDB buffer may be changed right after the call (it was copied)', () => {
      const cdb = INQUIRY(36);
      const p = a.execute(h, cdb, 'in', 36, 5000);
      cdb.fill(0xff);
      return p;
    }, (o) => o.kind === 'resolved' && (o.value as { status: number; data: Buffer }).status === 0 && (o.value as { data: Buffer }).data[0] === 5);

    // ---- concurrency on one handle ----
    await check('200 commands at once on one handle: every one answered, each with its own data', async () => {
      const allocs = Array.from({ length: 200 }, (_v, i) => 8 + (i % 89));
      const rs = await Promise.all(allocs.map((n) => a.execute(h, INQUIRY(n), 'in', n, 10_000)));
      const bad = rs.filter((r, i) => r.status !== 0 || r.data.length + r.residual !== allocs[i] || r.data[0] !== 5);
      return { bad: bad.length };
    }, (o) => o.kind === 'resolved' && (o.value as { bad: number }).bad === 0);
    await check('a flood beyond the queue limit: the excess is refused with ERR_SCSI_QUEUE_FULL, the rest answered', async () => {
      const n = a.limits.maxQueued + 50;
      const rs = await Promise.allSettled(Array.from({ length: n }, () => a.execute(h, INQUIRY(36), 'in', 36, 10_000)));
      const full = rs.filter((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'ERR_SCSI_QUEUE_FULL').length;
      const fine = rs.filter((r) => r.status === 'fulfilled' && r.value.status === 0).length;
      return { full, fine, n };
    }, (o) => o.kind === 'resolved' && (o.value as { full: number; fine: number; n: number }).full > 0 &&
      (o.value as { full: number; fine: number; n: number }).full + (o.value as { full: number; fine: number; n: number }).fine === (o.value as { n: number }).n);
  } finally {
    // ---- close ----
    const queued = Array.from({ length: 40 }, () => a.execute(h, INQUIRY(36), 'in', 36, 10_000));
    await check('close() with 40 commands queued: they are answered first, then the device closes', async () => {
      const closing = a.close(h);
      const rs = await Promise.allSettled(queued);
      await closing;
      return { answered: rs.filter((r) => r.status === 'fulfilled').length };
    }, (o) => o.kind === 'resolved' && (o.value as { answered: number }).answered === 40);
  }
  await check('execute on a closed handle rejects with ERR_SCSI_CLOSED', () => a.execute(h, INQUIRY(36), 'in', 36, 5000), rejected('ERR_SCSI_CLOSED'));
  await check('a second close() rejects with ERR_SCSI_CLOSED', () => a.close(h), rejected('ERR_SCSI_CLOSED'));
  await check('close(): not a handle throws', () => x.close({}), threw('ERR_INVALID_ARG_TYPE'));
  await check('after close() the device can be opened exclusively again', async () => {
    const h2 = await a.open(device, { exclusive: true });
    await a.close(h2);
    return true;
  }, (o) => o.kind === 'resolved');

  // ---- a handle dropped without close(): its finalizer releases the device ----
  await check('a handle dropped without close() is released when garbage-collected', async () => {
    await (async () => {
      const lost: NativeHandle | undefined = await a.open(device, { exclusive: true });
      void lost;
    })();
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('run node with --expose-gc');
    for (let i = 0; i < 20; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
      try {
        const h3 = await a.open(device, { exclusive: true });
        await a.close(h3);
        return { afterRounds: i + 1 };
      } catch (e) {
        if ((e as { code?: string }).code !== 'EBUSY') throw e;
      }
    }
    throw new Error('the device stayed busy: the dropped handle was not released');
  }, (o) => o.kind === 'resolved');

  // ---- list ----
  await check('list() resolves with the drives (type 5), the device among them', () => a.list(),
    (o) => o.kind === 'resolved' && Array.isArray(o.value) && (o.value as { path: string; sg?: string; type: number }[]).some((d) => (d.path === device || d.sg === device) && d.type === 5));
  return out;
}

