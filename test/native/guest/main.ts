/**
 * Runs inside the QEMU guest (bundled by esbuild into the guest's share by test/native/guest-burn.test.ts and
 * abuse.test.ts, with the addon beside it in native/build/Release). Each argument is one step; each step prints
 * one line "@@RESULT <step> <json>" on stdout (the host parses them) and the process exits 0 only if every step
 * passed. Steps:
 *   list                           the addon's list() of optical drives
 *   contract:DEV                   the ScsiTransport contract (../contract.ts) on the native transport of DEV
 *   burn:DEV:IMAGE                 the real MMC engine burns IMAGE onto DEV (close the disc, full verification)
 *   read:DEV:MANIFEST              media state, TOC, the whole disc read through the addon and inspected, and a
 *                                  quick verification of the disc against the manifest's planned image
 *   abuse:DEV                      handle-level abuse of the addon (./abuse-cases.ts)
 * Every SCSI command of a step is logged (opcode, status, sense); a failing step prints the log's tail.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { hasErrors, planProject } from '../../../server/src/engine/build';
import { MmcDevice } from '../../../server/src/engine/burn/device';
import { burn, type BurnPhase } from '../../../server/src/engine/burn/engine';
import { sourceFor } from '../../../server/src/engine/burn';
import { driveInfo, readMediaState } from '../../../server/src/engine/burn/media';
import { createNativeTransport, loadNativeAddon, nativeStatus } from '../../../server/src/engine/burn/native';
import { SECTOR, VerifySink } from '../../../server/src/engine/burn/sinks';
import { planSource } from '../../../server/src/engine/burn/source';
import type { Direction, ExecuteResult, OpenOptions, ScsiTransport } from '../../../server/src/engine/burn/transport';
import { inspectImage } from '../../../server/src/engine/inspect';
import { runContract } from '../contract';
import { runAbuse } from './abuse-cases';

interface LogEntry {
  op: string;
  dir: Direction;
  len: number;
  status?: number;
  sense?: string;
  residual?: number;
  ms: number;
  error?: string;
}

/** A transport that records every command (for the report when a step fails: which command, which sense). */
class Traced implements ScsiTransport {
  readonly log: LogEntry[] = [];
  constructor(private readonly inner: ScsiTransport) {}
  get path(): string {
    return this.inner.path;
  }
  get maxTransferBytes(): number {
    return this.inner.maxTransferBytes;
  }
  open(opts: OpenOptions): Promise<void> {
    return this.inner.open(opts);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  async execute(cdb: Buffer, direction: Direction, data: Buffer | number, timeoutMs: number): Promise<ExecuteResult> {
    const e: LogEntry = { op: cdb.toString('hex'), dir: direction, len: typeof data === 'number' ? data : data.length, ms: 0 };
    const t0 = Date.now();
    try {
      const r = await this.inner.execute(cdb, direction, data, timeoutMs);
      e.status = r.status;
      e.residual = r.residual;
      if (r.sense.length) e.sense = senseText(r.sense);
      return r;
    } catch (err) {
      e.error = (err as Error).message;
      throw err;
    } finally {
      e.ms = Date.now() - t0;
      this.log.push(e);
      if (this.log.length > 4000) this.log.splice(0, 1000);
    }
  }
  /** Distinct (opcode, outcome) pairs: which commands the drive refused, and how. */
  refused(): string[] {
    const seen = new Set<string>();
    for (const e of this.log) if (e.sense && !e.sense.startsWith('6/')) seen.add(`${e.op.slice(0, 2)}h → ${e.sense}`);
    return [...seen];
  }
}

function senseText(s: Buffer): string {
  const code = s[0] & 0x7f;
  const [key, asc, ascq] = code >= 0x72 ? [s[1] & 0x0f, s[2], s[3]] : [s[2] & 0x0f, s[12], s[13]];
  const h = (n: number | undefined) => (n ?? 0).toString(16).padStart(2, '0');
  return `${key.toString(16)}/${h(asc)}/${h(ascq)}`;
}

function emit(step: string, value: unknown): void {
  process.stdout.write(`@@RESULT ${step} ${JSON.stringify(value)}\n`);
}

async function openTraced(device: string, exclusive: boolean): Promise<Traced> {
  const t = new Traced(createNativeTransport(device));
  await t.open({ exclusive, holder: 'discforge guest test' });
  return t;
}

async function stepList(): Promise<unknown> {
  const a = loadNativeAddon();
  if (!a) throw new Error(nativeStatus().reason);
  return { drives: await a.list(), status: nativeStatus() };
}

async function stepContract(device: string): Promise<unknown> {
  const results = await runContract(() => createNativeTransport(device));
  const failed = results.filter((r) => !r.ok);
  if (failed.length) throw Object.assign(new Error(`${failed.length} contract case(s) failed: ${failed.map((f) => `${f.name}: ${f.error}`).join(' | ')}`), { results });
  return { results };
}

async function stepBurn(device: string, image: string): Promise<unknown> {
  const t = await openTraced(device, true);
  const phases: BurnPhase[] = [];
  const t0 = Date.now();
  try {
    const dev = new MmcDevice(t);
    const result = await burn(dev, {
      verify: 'full', close: true, append: false, force: false, eject: false,
      onProgress: (p) => {
        if (phases[phases.length - 1] !== p.phase) phases.push(p.phase);
      },
    }, sourceFor(image));
    return {
      summary: result.summary, notes: result.notes, blocks: result.blocks, startLba: result.startLba, verified: result.verified,
      before: result.before, after: result.after, phases, seconds: (Date.now() - t0) / 1000, maxTransferBytes: t.maxTransferBytes,
      commands: t.log.length, refused: t.refused(),
    };
  } catch (e) {
    throw Object.assign(e as Error, { phases, refused: t.refused(), lastCommands: t.log.slice(-25) });
  } finally {
    await t.close();
  }
}

async function stepRead(device: string, manifest: string): Promise<unknown> {
  const t = await openTraced(device, false);
  try {
    const dev = new MmcDevice(t);
    const info = await driveInfo(dev);
    const media = await readMediaState(dev);
    const cap = await dev.capacity();
    // The whole disc through the addon (READ (10) in the device's largest transfers), then our inspector on it.
    const blocks = cap.lastLba + 1;
    const per = Math.max(1, Math.floor(Math.min(t.maxTransferBytes, 1024 * 1024) / SECTOR));
    const dump = '/tmp/disc-read-back.img';
    const fd = fs.openSync(dump, 'w');
    const hash = createHash('sha256');
    try {
      for (let lba = 0; lba < blocks; lba += per) {
        const n = Math.min(per, blocks - lba);
        const b = await dev.read(lba, n);
        hash.update(b);
        fs.writeSync(fd, b, 0, b.length, lba * SECTOR);
      }
    } finally {
      fs.closeSync(fd);
    }
    const report = await inspectImage(dump);
    const trees = report.fileSystems.map((f) => ({
      type: f.type, label: f.label, complete: f.complete, problems: f.problems,
      entries: f.entries.map((e) => ({ path: e.path, kind: e.kind, size: (e as { size?: number }).size })),
    }));
    // Quick verification: the manifest planned again, its quick ranges compared with what the drive reads.
    const plan = planProject(manifest);
    if (hasErrors(plan.diagnostics) || !plan.image) throw new Error(`${manifest}: the manifest has errors`);
    const source = planSource(manifest, plan.image, plan.iso?.layout);
    let compared = 0;
    const vs = new VerifySink(dev, { startLba: 0, chunkBytes: per * SECTOR, onChunk: (done) => void (compared = done) }, source.quickRanges());
    await source.write(vs);
    await vs.finish();
    return {
      info, media, capacityBlocks: blocks, sha256: hash.digest('hex'), problems: report.problems, trees,
      quickVerify: { ok: true, bytesRead: vs.bytesRead, streamBytes: compared, plannedBlocks: source.blocks },
      maxTransferBytes: t.maxTransferBytes, refused: t.refused(),
    };
  } catch (e) {
    throw Object.assign(e as Error, { refused: t.refused(), lastCommands: t.log.slice(-25) });
  } finally {
    await t.close();
  }
}

async function main(): Promise<number> {
  let failed = 0;
  for (const arg of process.argv.slice(2)) {
    const [step, ...rest] = arg.split(':');
    const t0 = Date.now();
    try {
      let value: unknown;
      if (step === 'list') value = await stepList();
      else if (step === 'contract') value = await stepContract(rest.join(':'));
      else if (step === 'burn') value = await stepBurn(rest[0], rest.slice(1).join(':'));
      else if (step === 'read') value = await stepRead(rest[0], rest.slice(1).join(':'));
      else if (step === 'abuse') value = await runAbuse(rest.join(':'));
      else throw new Error(`unknown step ${step}`);
      emit(arg, { ok: true, seconds: (Date.now() - t0) / 1000, value });
    } catch (e) {
      failed++;
      const err = e as Error & Record<string, unknown>;
      const extra = Object.fromEntries(Object.entries(err).filter(([k]) => !['message', 'stack'].includes(k)));
      emit(arg, { ok: false, seconds: (Date.now() - t0) / 1000, error: err.message, stack: err.stack, ...extra });
    }
  }
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  process.stdout.write(`@@FATAL ${(e as Error).stack}\n`);
  process.exit(3);
});
