/**
 * Drives and burning over the protocol (protocol.ts): `discforge/drives`, `discforge/burn`, `discforge/erase`,
 * `discforge/eject`, on the burning engine (../engine/burn). Burns and erases are jobs (JobsHandler.run): LSP
 * work-done progress, DiscForge job notifications for the panel, cancellation. A recorder that is writing is locked
 * by the engine's registry: a second burn, erase or eject on it is refused at once, naming the holder.
 */
import * as path from 'node:path';
import { ResponseError } from 'vscode-languageserver';
import {
  burn,
  DriveBusyError,
  driveInfo,
  ejectDisc,
  eraseDisc,
  loadNativeAddon,
  readMediaState,
  recorders,
  sourceFor,
  type BurnProgress,
  type MediaState,
  nativeUnavailableReason,
} from '../engine/burn';
import {
  BurnRequest,
  DrivesChangedNotification,
  DrivesRequest,
  EjectRequest,
  EraseRequest,
  ErrorCodes,
  type BurnParams,
  type DriveInfo,
  type DrivesParams,
  type DrivesResult,
  type EjectParams,
  type EraseParams,
  type JobPhase,
  type JobResult,
  type MediaInfo,
  type ServerFeatures,
} from '../protocol';
import { filePath, type ServerContext } from './context';
import type { JobsHandler, JobUpdate } from './jobs';

const SECTOR = 2048;

export class BurnHandler {
  static features(): Pick<ServerFeatures, 'burn' | 'burnUnavailableReason'> {
    return { burn: true };
  }

  constructor(private readonly ctx: ServerContext, private readonly jobs: JobsHandler) {
    const c = ctx.connection;
    // Without the native addon only virtual recorders work; say why in the log (issue 7).
    const why = nativeUnavailableReason();
    if (why) c.console.warn(`DiscForge: ${why}`);
    c.onRequest(DrivesRequest.method, (p: DrivesParams) => this.drives(p));
    c.onRequest(BurnRequest.method, (p: BurnParams, token) => this.burn(p, token));
    c.onRequest(EraseRequest.method, (p: EraseParams, token) => this.erase(p, token));
    c.onRequest(EjectRequest.method, (p: EjectParams) => this.eject(p));
  }

  private changed(): void {
    void this.ctx.connection.sendNotification(DrivesChangedNotification.method, {});
  }

  async drives(p: DrivesParams): Promise<DrivesResult> {
    const addon = loadNativeAddon();
    const os = addon ? (await addon.list().catch(() => [])).map((d) => d.path) : [];
    const specs = [...new Set([...os, ...(p.virtual ?? [])])];
    const drives: DriveInfo[] = [];
    for (const spec of specs) {
      const virtual = spec.startsWith('virtual:');
      const busyWith = recorders.holderOf(spec);
      if (busyWith) {
        drives.push({ id: spec, vendor: '', model: spec, virtual, busyWith });
        continue;
      }
      try {
        const lease = await recorders.query(spec);
        try {
          const info = await driveInfo(lease.dev);
          const media = info.mediaPresent === false ? undefined : await readMediaState(lease.dev).catch(() => undefined);
          drives.push({
            id: spec,
            vendor: info.vendor.trim(),
            model: info.product.trim(),
            revision: info.revision.trim(),
            virtual,
            media: media ? mediaInfo(media) : { type: '', state: 'none', usedBytes: 0, freeBytes: 0 },
            writeSpeeds: media?.writeSpeeds.map((s) => s.kBps * 1000),
          });
        } finally {
          await lease.release();
        }
      } catch (err) {
        drives.push({ id: spec, vendor: '', model: spec, virtual, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return { drives };
  }

  burn(p: BurnParams, token: Parameters<JobsHandler['run']>[1]): Promise<JobResult> {
    const input = filePath(p.uri);
    if (!input) throw new ResponseError(-32602, `not a file: ${p.uri}`);
    const name = path.basename(input);
    const verify = p.verify ?? 'quick';
    return this.jobs.run({ jobId: p.jobId, kind: 'burn', title: `Burn ${name} to ${driveLabel(p.drive)}`, manifest: /\.json$/i.test(input) ? input : undefined, drive: p.drive }, token, async (job) => {
      const makeSource = sourceFor(input); // bad input fails here, before the drive is touched
      const lease = await lockOrRefuse(p.drive, `burn ${name}`);
      this.changed();
      try {
        const r = await burn(lease.dev, {
          verify,
          speedX: p.speedX,
          close: p.close ?? false,
          append: false,
          force: p.force ?? false,
          eject: p.eject ?? false,
          signal: job.signal,
          onProgress: (pr) => job.update(burnUpdate(pr, verify !== 'none'), pr.phase === 'completed'),
        }, makeSource);
        return {
          output: input,
          bytes: r.blocks * SECTOR,
          problems: [],
          message: r.summary,
          verification: [{ drive: p.drive, result: r.verified === 'none' ? 'skipped' : 'passed' }],
        };
      } finally {
        await lease.release();
        this.changed();
      }
    });
  }

  erase(p: EraseParams, token: Parameters<JobsHandler['run']>[1]): Promise<JobResult> {
    return this.jobs.run({ jobId: p.jobId, kind: 'erase', title: `Erase the disc in ${driveLabel(p.drive)}`, drive: p.drive }, token, async (job) => {
      const lease = await lockOrRefuse(p.drive, 'erase');
      this.changed();
      try {
        job.update({ phase: 'erasing', done: 0, total: 1, percent: 0 }, true);
        const summary = await eraseDisc(lease.dev, {
          full: p.full,
          onProgress: (f) => job.update({ phase: 'erasing', done: f, total: 1, percent: Math.min(99, f * 100) }),
        });
        job.update({ phase: 'completed', done: 1, total: 1, percent: 100 }, true);
        return { problems: [], message: summary };
      } finally {
        await lease.release();
        this.changed();
      }
    });
  }

  async eject(p: EjectParams): Promise<{ ok: true }> {
    try {
      const lease = await lockOrRefuse(p.drive, 'eject');
      try {
        await ejectDisc(lease.dev);
      } finally {
        await lease.release();
      }
    } catch (err) {
      if (err instanceof ResponseError) throw err;
      throw new ResponseError(-32603, err instanceof Error ? err.message : String(err));
    }
    this.changed();
    return { ok: true };
  }
}

/** A short name for a drive: `virtual:dvd+r:/tmp/x/disc.img?speed=4x` → "DVD+R disc.img"; devices as they are. */
export function driveLabel(spec: string): string {
  const m = /^virtual:([^:]+):(.*?)(\?.*)?$/.exec(spec);
  return m ? `${m[1].toUpperCase()} ${path.basename(m[2])}` : spec;
}

async function lockOrRefuse(drive: string, operation: string) {
  try {
    return await recorders.lock(drive, operation);
  } catch (err) {
    if (err instanceof DriveBusyError) throw new ResponseError(ErrorCodes.DriveBusy, err.message);
    throw err;
  }
}

export function mediaInfo(m: MediaState): MediaInfo {
  const state: MediaInfo['state'] = m.status === 'no-media' ? 'none' : m.status;
  return {
    type: m.physicalType || m.profileName,
    state,
    writeProtected: m.writeProtected,
    usedBytes: Math.max(0, m.totalSectors - m.freeSectors) * SECTOR,
    freeBytes: m.freeSectors * SECTOR,
    sessions: m.sessions.length,
  };
}

/** A burn's progress as a job update: writing is most of the job; verification, when asked, the rest. */
export function burnUpdate(p: BurnProgress, verifying: boolean): JobUpdate {
  const frac = p.sectorsTotal > 0 ? p.sectorsDone / p.sectorsTotal : 0;
  const writeEnd = verifying ? 70 : 95;
  let percent: number;
  switch (p.phase) {
    case 'validating-media':
      percent = 0;
      break;
    case 'formatting':
      percent = 1;
      break;
    case 'initializing-hardware':
      percent = 2;
      break;
    case 'calibrating-power':
      percent = 3;
      break;
    case 'writing':
      percent = 4 + (writeEnd - 4) * frac;
      break;
    case 'finalizing':
      percent = writeEnd;
      break;
    case 'verifying':
      percent = writeEnd + 2 + (97 - writeEnd) * frac;
      break;
    case 'completed':
      percent = 100;
      break;
  }
  return {
    phase: p.phase as JobPhase,
    done: p.sectorsDone * SECTOR,
    total: p.sectorsTotal * SECTOR,
    percent,
    rate: p.speedKBps !== undefined ? p.speedKBps * 1000 : undefined,
    remainingMs: p.etaMs,
    bufferPercent: p.bufferFill !== undefined ? p.bufferFill * 100 : undefined,
  };
}
