/**
 * The ScsiTransport contract: what the MMC engine relies on from any transport, checked the same way against the
 * emulated recorder (on the host, test/native/guest-burn.test.ts) and the native addon (inside the QEMU guest,
 * against tgt's DVD+R and QEMU's scsi-cd: test/native/guest/main.ts). Plain async functions that throw
 * (node:assert), so they run with or without node:test. Only commands every MMC device answers, and nothing that
 * changes the disc.
 */
import assert from 'node:assert/strict';
import { STATUS_CHECK_CONDITION, STATUS_GOOD, TransportError, type ExecuteResult, type ScsiTransport } from '../../server/src/engine/burn/transport';

export interface ContractCase {
  name: string;
  run(make: () => ScsiTransport): Promise<void>;
}

const INQUIRY = (alloc: number): Buffer => Buffer.from([0x12, 0, 0, (alloc >> 8) & 0xff, alloc & 0xff, 0]);
const TUR = (): Buffer => Buffer.alloc(6);
const GET_CONFIGURATION = (alloc: number): Buffer => {
  const b = Buffer.alloc(10);
  b[0] = 0x46;
  b.writeUInt16BE(alloc, 7);
  return b;
};

const SHORT = 10_000;

async function opened(make: () => ScsiTransport): Promise<ScsiTransport> {
  const t = make();
  await t.open({ exclusive: false, holder: 'contract test' });
  // Consume what a freshly opened drive may report once (UNIT ATTENTION, SPC-4 5.9).
  for (let i = 0; i < 5; i++) {
    const r = await t.execute(TUR(), 'none', 0, SHORT);
    if (r.status === STATUS_GOOD || (r.sense[2] & 0x0f) !== 0x06) break;
  }
  return t;
}

async function withOpen(make: () => ScsiTransport, fn: (t: ScsiTransport) => Promise<void>): Promise<void> {
  const t = await opened(make);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

/** The shape every result has, whatever the status. */
function checkShape(r: ExecuteResult, what: string): void {
  assert.equal(typeof r.status, 'number', `${what}: status is a number`);
  assert.ok(Buffer.isBuffer(r.sense), `${what}: sense is a Buffer`);
  assert.ok(Buffer.isBuffer(r.data), `${what}: data is a Buffer`);
  assert.ok(Number.isInteger(r.residual) && r.residual >= 0, `${what}: residual ${r.residual} is a whole number`);
  if (r.status === STATUS_GOOD) assert.equal(r.sense.length, 0, `${what}: GOOD carries no sense data`);
}

/** A CHECK CONDITION with fixed (70h/71h) or descriptor (72h/73h) sense data. */
function checkSense(r: ExecuteResult, what: string): { key: number; asc: number; ascq: number } {
  assert.equal(r.status, STATUS_CHECK_CONDITION, `${what}: CHECK CONDITION expected, got status ${r.status}`);
  assert.ok(r.sense.length >= 8, `${what}: sense data (${r.sense.length} bytes)`);
  const code = r.sense[0] & 0x7f;
  if (code === 0x72 || code === 0x73) return { key: r.sense[1] & 0x0f, asc: r.sense[2], ascq: r.sense[3] };
  assert.ok(code === 0x70 || code === 0x71, `${what}: sense response code ${code.toString(16)}h`);
  assert.ok(r.sense.length >= 14, `${what}: fixed sense of ${r.sense.length} bytes`);
  return { key: r.sense[2] & 0x0f, asc: r.sense[12], ascq: r.sense[13] };
}

export const CONTRACT: ContractCase[] = [
  {
    name: 'a command before open() is refused with TransportError not-open',
    async run(make) {
      const t = make();
      await assert.rejects(t.execute(TUR(), 'none', 0, SHORT), (e: unknown) => e instanceof TransportError && e.code === 'not-open');
    },
  },
  {
    name: 'INQUIRY: an MMC device (type 5); data + residual = the allocation length; no sense',
    async run(make) {
      await withOpen(make, async (t) => {
        const r = await t.execute(INQUIRY(96), 'in', 96, SHORT);
        checkShape(r, 'INQUIRY');
        assert.equal(r.status, STATUS_GOOD);
        assert.ok(r.data.length >= 36, `standard INQUIRY data is at least 36 bytes (got ${r.data.length})`);
        assert.equal(r.data.length + r.residual, 96, `data ${r.data.length} + residual ${r.residual}`);
        assert.equal(r.data[0] & 0x1f, 5, 'peripheral device type 5 (MMC)');
        assert.ok(r.data.subarray(8, 16).toString('latin1').trim().length > 0, 'a vendor identification');
      });
    },
  },
  {
    name: 'a short allocation length truncates the data (INQUIRY with 8 bytes)',
    async run(make) {
      await withOpen(make, async (t) => {
        const r = await t.execute(INQUIRY(8), 'in', 8, SHORT);
        checkShape(r, 'INQUIRY(8)');
        assert.equal(r.status, STATUS_GOOD);
        assert.equal(r.data.length, 8);
        assert.equal(r.residual, 0);
        assert.equal(r.data[0] & 0x1f, 5);
      });
    },
  },
  {
    name: 'GET CONFIGURATION: data + residual = allocation length; the header names a current profile',
    async run(make) {
      await withOpen(make, async (t) => {
        const alloc = Math.min(t.maxTransferBytes, 4096);
        const r = await t.execute(GET_CONFIGURATION(alloc), 'in', alloc, SHORT);
        checkShape(r, 'GET CONFIGURATION');
        assert.equal(r.status, STATUS_GOOD);
        assert.equal(r.data.length + r.residual, alloc);
        assert.ok(r.data.length >= 8, 'at least the feature header');
        const declared = r.data.readUInt32BE(0) + 4;
        assert.ok(declared >= 8, `data length field ${declared - 4}`);
      });
    },
  },
  {
    name: 'a command the device does not know ends in CHECK CONDITION, ILLEGAL REQUEST (a result, not a rejection)',
    async run(make) {
      await withOpen(make, async (t) => {
        const cdb = Buffer.alloc(10);
        cdb[0] = 0xe7; // vendor specific, unknown to MMC devices
        const r = await t.execute(cdb, 'none', 0, SHORT);
        checkShape(r, 'opcode E7h');
        const s = checkSense(r, 'opcode E7h');
        assert.equal(s.key, 0x05, `sense key ILLEGAL REQUEST (got ${s.key})`);
        assert.equal(r.data.length, 0);
      });
    },
  },
  {
    name: 'TEST UNIT READY without data: GOOD or CHECK CONDITION with sense; no data, no residual',
    async run(make) {
      await withOpen(make, async (t) => {
        const r = await t.execute(TUR(), 'none', 0, SHORT);
        checkShape(r, 'TEST UNIT READY');
        if (r.status !== STATUS_GOOD) checkSense(r, 'TEST UNIT READY');
        assert.equal(r.data.length, 0);
        assert.equal(r.residual, 0);
      });
    },
  },
  {
    name: 'data-out reaches the device: MODE SELECT (10) with an empty parameter list resolves (GOOD or CHECK CONDITION)',
    async run(make) {
      await withOpen(make, async (t) => {
        const cdb = Buffer.alloc(10);
        cdb[0] = 0x55;
        cdb[1] = 0x10; // PF
        cdb.writeUInt16BE(8, 7);
        const r = await t.execute(cdb, 'out', Buffer.alloc(8), SHORT);
        checkShape(r, 'MODE SELECT(10)');
        if (r.status !== STATUS_GOOD) assert.equal(checkSense(r, 'MODE SELECT(10)').key, 0x05);
        assert.equal(r.data.length, 0, 'no data-in for a data-out command');
      });
    },
  },
  {
    name: 'commands sent at once on one transport are all answered, each with its own data',
    async run(make) {
      await withOpen(make, async (t) => {
        const allocs = [36, 8, 64, 12, 96, 40, 20, 48];
        const rs = await Promise.all(allocs.flatMap((a) => [t.execute(INQUIRY(a), 'in', a, SHORT), t.execute(TUR(), 'none', 0, SHORT)]));
        allocs.forEach((a, i) => {
          const r = rs[2 * i];
          assert.equal(r.status, STATUS_GOOD);
          assert.equal(r.data.length + r.residual, a, `INQUIRY(${a})`);
          assert.equal(r.data[0] & 0x1f, 5);
        });
      });
    },
  },
  {
    name: 'maxTransferBytes is known after open: a whole number of at least 32 KiB',
    async run(make) {
      await withOpen(make, async (t) => {
        assert.ok(Number.isInteger(t.maxTransferBytes), `${t.maxTransferBytes}`);
        assert.ok(t.maxTransferBytes >= 32 * 1024, `maxTransferBytes ${t.maxTransferBytes}`);
      });
    },
  },
  {
    name: 'after close(): commands are refused with not-open; a second close() does nothing; open() works again',
    async run(make) {
      const t = await opened(make);
      await t.close();
      await assert.rejects(t.execute(INQUIRY(36), 'in', 36, SHORT), (e: unknown) => e instanceof TransportError && e.code === 'not-open');
      await t.close();
      await t.open({ exclusive: false });
      try {
        const r = await t.execute(INQUIRY(36), 'in', 36, SHORT);
        assert.equal(r.status, STATUS_GOOD);
      } finally {
        await t.close();
      }
    },
  },
];

/** Runs every case; returns one line per case ("ok name" / "FAIL name: why"). */
export async function runContract(make: () => ScsiTransport): Promise<{ name: string; ok: boolean; error?: string }[]> {
  const out: { name: string; ok: boolean; error?: string }[] = [];
  for (const c of CONTRACT) {
    try {
      await c.run(make);
      out.push({ name: c.name, ok: true });
    } catch (e) {
      out.push({ name: c.name, ok: false, error: (e as Error).message });
    }
  }
  return out;
}
