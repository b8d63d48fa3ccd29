/**
 * Long work in the server process: builds (and, through JobRunner, burns and erases). The engine is asynchronous
 * and yields to the event loop while it writes, so the server keeps answering while a job runs.
 *
 * Each job reports standard LSP work-done progress (cancellable) and DiscForge's job notifications (protocol.ts);
 * it stops on `$/cancelRequest`, on `window/workDoneProgress/cancel` and on `discforge/cancelJob`. A cancelled
 * build leaves nothing under the image's name (the engine writes OUT.partial and removes it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CancellationToken, WorkDoneProgressServerReporter } from 'vscode-languageserver';
import { ResponseError } from 'vscode-languageserver';
import { buildImage, type Progress } from '../engine/build';
import { formatInspectText, inspectImage } from '../engine/inspect';
import { loadManifest } from '../engine/manifest/load';
import { formatBytes } from '../engine/media';
import { CancelledError, InputError, type Diagnostic } from '../engine/util/errors';
import {
  BuildRequest,
  CancelJobNotification,
  ErrorCodes,
  InspectRequest,
  JobFinishedNotification,
  JobProgressNotification,
  JobStartedNotification,
  PlanRequest,
  type BuildParams,
  type InspectParams,
  type InspectResult,
  type JobKind,
  type JobPhase,
  type JobResult,
  type JobStartedParams,
  type ManifestProblem,
  type PlanParams,
  type PlanResult,
} from '../protocol';
import { filePath, type ServerContext } from './context';
import { buildInWorker } from './buildWorker';
import { toProblem } from './convert';

/** Throughput over the last few seconds, for speed and remaining time. */
export class RateMeter {
  private readonly samples: { t: number; n: number }[] = [];
  constructor(private readonly windowMs = 2000) {}
  add(t: number, n: number): void {
    this.samples.push({ t, n });
    while (this.samples.length > 2 && t - this.samples[0].t > this.windowMs) this.samples.shift();
  }
  /** Units per second, or undefined until there are two samples far enough apart. */
  rate(): number | undefined {
    if (this.samples.length < 2) return undefined;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    return b.t - a.t >= 50 ? ((b.n - a.n) * 1000) / (b.t - a.t) : undefined;
  }
}

export interface JobUpdate {
  phase: JobPhase;
  done: number;
  total: number;
  percent: number;
  /** Units counted by the rate meter (bytes written), if this update has them. */
  bytes?: number;
  /** Speed and time left as the work itself measures them (a burn: the drive's), instead of the rate meter's. */
  rate?: number;
  remainingMs?: number;
  bufferPercent?: number;
}

/** One running job: its abort controller, its progress reporters, its timing. */
export class Job {
  readonly controller = new AbortController();
  readonly startedAt = Date.now();
  private readonly meter = new RateMeter();
  private lastSent = 0;
  private lastPercent = -1;

  /** The LSP work-done progress of the job (when the client supports it). */
  progress: WorkDoneProgressServerReporter | undefined;

  constructor(private readonly ctx: ServerContext, readonly info: JobStartedParams) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  update(u: JobUpdate, force = false): void {
    const now = Date.now();
    if (u.bytes !== undefined) this.meter.add(now, u.bytes);
    if (!force && now - this.lastSent < 100 && Math.floor(u.percent) === this.lastPercent) return;
    this.lastSent = now;
    this.lastPercent = Math.floor(u.percent);
    const rate = u.rate ?? (u.bytes !== undefined ? this.meter.rate() : undefined);
    const remainingMs = u.remainingMs ?? (rate && u.total > u.done ? ((u.total - u.done) / rate) * 1000 : u.percent >= 100 ? 0 : undefined);
    void this.ctx.connection.sendNotification(JobProgressNotification.method, {
      jobId: this.info.jobId,
      phase: u.phase,
      done: u.done,
      total: u.total,
      percent: u.percent,
      bytesPerSecond: rate,
      elapsedMs: now - this.startedAt,
      remainingMs,
      bufferPercent: u.bufferPercent,
    });
    this.progress?.report(Math.floor(u.percent), `${u.phase}${rate ? ` — ${formatBytes(rate)}/s` : ''}`);
  }
}

export class JobsHandler {
  private readonly jobs = new Map<string, Job>();

  /** @param buildWorkerScript the bundle to run builds in a worker thread (dist/server.js); undefined: in this thread */
  constructor(private readonly ctx: ServerContext, private readonly buildWorkerScript?: string) {
    const c = ctx.connection;
    c.onRequest(BuildRequest.method, (p: BuildParams, token: CancellationToken) => this.build(p, token));
    c.onNotification(CancelJobNotification.method, (p: { jobId: string }) => {
      this.cancel(p.jobId);
    });
    c.onRequest(InspectRequest.method, (p: InspectParams) => this.inspect(p));
    c.onRequest(PlanRequest.method, (p: PlanParams) => this.plan(p));
  }

  cancel(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job) return false;
    job.controller.abort();
    return true;
  }

  /** Which job writes `output` (one writer per image at a time). */
  private writerOf(output: string): Job | undefined {
    for (const j of this.jobs.values()) if (j.info.output === output) return j;
    return undefined;
  }

  /**
   * Runs `work` as a job: start notification, work-done progress, cancellation from every side, the finish
   * notification and the result. `work` throws CancelledError when cancelled, InputError for bad input.
   */
  async run(
    info: Omit<JobStartedParams, 'startedAt'>,
    token: CancellationToken,
    work: (job: Job) => Promise<Omit<JobResult, 'jobId' | 'title' | 'elapsedMs' | 'status'>>,
  ): Promise<JobResult> {
    if (this.jobs.has(info.jobId)) throw new ResponseError(-32602, `job ${info.jobId} is already running`);
    // Registered at once (before any await), so that a second job on the same image is refused.
    const job = new Job(this.ctx, { ...info, startedAt: Date.now() });
    this.jobs.set(info.jobId, job);
    const abort = () => job.controller.abort();
    const subs = [token.onCancellationRequested(abort)];
    let progress: WorkDoneProgressServerReporter | undefined;
    let result: JobResult;
    try {
      progress = await this.createProgress(info.title);
      job.progress = progress;
      if (progress) subs.push(progress.token.onCancellationRequested(abort));
      void this.ctx.connection.sendNotification(JobStartedNotification.method, job.info);
      this.ctx.log(`${info.kind} ${info.jobId}: ${info.title}`);
      if (job.signal.aborted) throw new CancelledError();
      const r = await work(job);
      result = { jobId: info.jobId, title: info.title, status: 'done', elapsedMs: Date.now() - job.startedAt, ...r };
    } catch (err) {
      const elapsedMs = Date.now() - job.startedAt;
      if (err instanceof CancelledError || job.signal.aborted) {
        // A build leaves nothing; a burn's message says what the disc holds now.
        const message = info.kind === 'build' || !(err instanceof CancelledError) ? cancelledMessage(info.kind) : err.message;
        result = { jobId: info.jobId, title: info.title, status: 'cancelled', elapsedMs, problems: [], message };
      } else if (err instanceof InputError) {
        const problems = problemsOf(err.diagnostics, info.manifest);
        const errors = problems.filter((p) => p.severity === 'error').length;
        result = { jobId: info.jobId, title: info.title, status: 'failed', elapsedMs, problems, message: errors ? `the manifest has ${errors} error${errors === 1 ? '' : 's'}` : err.message };
      } else if (err instanceof ResponseError && err.code === ErrorCodes.DriveBusy) {
        result = { jobId: info.jobId, title: info.title, status: 'failed', elapsedMs, problems: [], message: err.message };
      } else {
        result = { jobId: info.jobId, title: info.title, status: 'failed', elapsedMs, problems: [], message: (err as Error).message ?? String(err) };
      }
    } finally {
      this.jobs.delete(info.jobId);
      for (const s of subs) s.dispose();
      progress?.done();
    }
    this.ctx.log(`${info.kind} ${info.jobId}: ${result.status} — ${result.message} (${(result.elapsedMs / 1000).toFixed(2)} s)`);
    void this.ctx.connection.sendNotification(JobFinishedNotification.method, result);
    return result;
  }

  private async createProgress(title: string): Promise<WorkDoneProgressServerReporter | undefined> {
    try {
      const p = await this.ctx.connection.window.createWorkDoneProgress();
      p.begin(title, 0, undefined, true);
      return p;
    } catch {
      return undefined; // the client does not support work-done progress
    }
  }

  async build(p: BuildParams, token: CancellationToken): Promise<JobResult> {
    const manifest = filePath(p.uri);
    if (!manifest) throw new ResponseError(-32602, `not a file: ${p.uri}`);
    // Where it will write, for the title and the one-writer rule.
    const output = p.output ?? outputOf(manifest);
    const busy = output && this.writerOf(output);
    if (busy) {
      return { jobId: p.jobId, title: `Build ${path.basename(output)}`, status: 'failed', elapsedMs: 0, problems: [], message: `${path.basename(output)} is being built already (${busy.info.title})` };
    }
    return this.run(
      { jobId: p.jobId, kind: 'build', title: `Build ${output ? path.basename(output) : path.basename(manifest)}`, manifest, output },
      token,
      async (job) => {
        const onProgress = (pr: Progress) => job.update(buildUpdate(pr), pr.phase === 'done');
        // In a worker thread when possible: planning a large tree and writing it must not hold up this thread.
        const r = this.buildWorkerScript
          ? await buildInWorker(this.buildWorkerScript, manifest, { output: p.output, expectedOutput: output, onProgress, signal: job.signal })
          : await buildImage(manifest, { output: p.output, onProgress, signal: job.signal }).then((b) => ({ output: b.output, bytes: b.bytes, diagnostics: b.plan.diagnostics, stats: b.plan.stats }));
        const s = r.stats;
        return {
          output: r.output,
          bytes: r.bytes,
          problems: problemsOf(r.diagnostics, manifest),
          message: `wrote ${r.output}: ${formatBytes(r.bytes)} (${r.bytes} bytes)${s ? `, ${s.files} files, ${s.directories} folders` : ''}`,
        };
      },
    );
  }

  async inspect(p: InspectParams): Promise<InspectResult> {
    const image = filePath(p.uri);
    if (!image) throw new ResponseError(-32602, `not a file: ${p.uri}`);
    try {
      const report = await inspectImage(image);
      return { text: formatInspectText(report), problems: report.problems };
    } catch (err) {
      throw new ResponseError(-32603, err instanceof Error ? err.message : String(err));
    }
  }

  async plan(p: PlanParams): Promise<PlanResult> {
    const manifest = filePath(p.uri);
    if (!manifest) throw new ResponseError(-32602, `not a file: ${p.uri}`);
    const text = readText(manifest);
    if (text === undefined) throw new ResponseError(-32602, `cannot read ${manifest}`);
    const s = await this.ctx.analyzer.analyze(`plan:${p.uri}`, manifest, text);
    if (!s) throw new ResponseError(-32800, 'superseded');
    return { ok: s.ok, output: s.output, bytes: s.bytes, blocks: s.blocks, files: s.files, problems: problemsOf(s.diagnostics, manifest) };
  }
}

/** Percent of a whole build: loading, scanning and planning are quick; writing is nearly all of it. */
export function buildUpdate(p: Progress): JobUpdate {
  switch (p.phase) {
    case 'load':
      return { phase: p.phase, done: p.done, total: p.total, percent: 0 };
    case 'scan':
      return { phase: p.phase, done: p.done, total: p.total, percent: 1 };
    case 'plan':
      return { phase: p.phase, done: p.done, total: p.total, percent: 2 };
    case 'write':
      return { phase: p.phase, done: p.done, total: p.total, percent: p.total > 0 ? 3 + (97 * p.done) / p.total : 3, bytes: p.done };
    case 'done':
      return { phase: p.phase, done: p.done, total: p.total, percent: 100, bytes: p.done };
  }
}

function cancelledMessage(kind: JobKind): string {
  return kind === 'build' ? 'cancelled; no image was written' : 'cancelled';
}

function problemsOf(diags: Diagnostic[], manifest: string | undefined): ManifestProblem[] {
  return diags.map((d) => toProblem(d, manifest ? path.resolve(manifest) : path.resolve(d.file)));
}

/** The manifest's text on disk (jobs use what is saved: the client saves first). */
function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The image a manifest on disk builds, without resolving its sources (the engine's rule: `output`, else NAME.iso). */
export function outputOf(manifest: string): string | undefined {
  const loaded = loadManifest(manifest);
  if (!loaded.project) return undefined;
  const name = loaded.project.output ?? path.basename(manifest).replace(/(\.disc)?\.json$/i, '') + '.iso';
  return path.resolve(path.dirname(path.resolve(manifest)), name);
}
