/**
 * Runs the engine's planner for the editor in a worker thread, so that planning a large tree never blocks the
 * language server (completion stays fast) and a plan made stale by a newer edit is cancelled for real: the worker
 * is terminated and a fresh one takes the latest text (latest wins). The worker is this same bundle
 * (dist/server.js) started with workerData `{ discforgePlanWorker: true }` (see server.ts).
 */
import { Worker } from 'node:worker_threads';
import { planSummary, type PlanSummary } from './planSummary';

export const WORKER_MARK = 'discforgePlanWorker';

interface Pending {
  key: string;
  file: string;
  text: string;
  resolve: (s: PlanSummary | undefined) => void;
}

/** One worker, one plan at a time; per key (document URI) only the newest request is kept. */
export class PlanAnalyzer {
  private worker: Worker | undefined;
  private running: (Pending & { id: number }) | undefined;
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private disposed = false;
  /** Planning in this thread instead (the worker could not start). */
  private inline = false;

  constructor(
    private readonly workerScript: string | undefined,
    private readonly log: (msg: string) => void = () => {},
    /** Verbose tracing (LSP `$/logTrace`, only when the client turned tracing on). */
    private readonly trace: (msg: string) => void = () => {},
  ) {
    if (!workerScript) this.inline = true;
  }

  /** Plans `text` as the manifest `file`; resolves undefined when a newer request for the same key replaced it. */
  analyze(key: string, file: string, text: string): Promise<PlanSummary | undefined> {
    return new Promise((resolve) => {
      // Newer wins: drop queued requests for this key, and stop a running one.
      for (let i = this.queue.length - 1; i >= 0; i--) {
        if (this.queue[i].key === key) this.queue.splice(i, 1)[0].resolve(undefined);
      }
      this.queue.push({ key, file, text, resolve });
      if (this.running?.key === key) this.restart();
      this.pump();
    });
  }

  /** Forgets a document: cancels its queued and running plans. */
  cancel(key: string): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i].key === key) this.queue.splice(i, 1)[0].resolve(undefined);
    }
    if (this.running?.key === key) {
      this.restart();
      this.pump();
    }
  }

  /** Sources changed on disk: scans made before are not reused. */
  private sourcesGeneration = 0;

  sourcesChanged(): void {
    this.sourcesGeneration++;
  }

  dispose(): void {
    this.disposed = true;
    for (const p of this.queue.splice(0)) p.resolve(undefined);
    this.restart();
  }

  private restart(): void {
    const r = this.running;
    this.running = undefined;
    if (r) this.log(`stopped the plan of ${r.key}: superseded`);
    r?.resolve(undefined);
    if (this.worker) {
      const w = this.worker;
      this.worker = undefined;
      w.removeAllListeners();
      w.on('error', () => {});
      void w.terminate();
    }
  }

  private pump(): void {
    if (this.running || this.disposed) return;
    const next = this.queue.shift();
    if (!next) return;
    this.trace(`planning ${next.key}`);
    if (this.inline) {
      // Still asynchronous for the caller; no cancellation of a plan already started.
      setImmediate(() => next.resolve(this.planHere(next)));
      setImmediate(() => this.pump());
      return;
    }
    const id = this.nextId++;
    this.running = { ...next, id };
    const w = this.ensureWorker();
    w.postMessage({ id, file: next.file, text: next.text, generation: this.sourcesGeneration });
  }

  private planHere(p: Pending): PlanSummary {
    return planSummary(p.file, p.text, this.sourcesGeneration);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerScript!, { workerData: { [WORKER_MARK]: true } });
    w.unref();
    w.on('message', (m: { id: number; summary?: PlanSummary; error?: string }) => {
      const r = this.running;
      if (!r || r.id !== m.id) return;
      this.running = undefined;
      if (m.summary) r.resolve(m.summary);
      else {
        this.log(`planning in the worker failed: ${m.error}; planning here`);
        r.resolve(this.planHere(r));
      }
      this.pump();
    });
    w.on('error', (err) => {
      this.log(`plan worker failed: ${err.message}; planning in the server thread from now on`);
      const r = this.running;
      this.running = undefined;
      this.worker = undefined;
      this.inline = true;
      if (r) r.resolve(this.planHere(r));
      this.pump();
    });
    this.worker = w;
    return w;
  }
}

/** The worker's side: answers `{ id, file, text }` with a PlanSummary. */
export function runPlanWorker(port: { on(ev: 'message', f: (m: { id: number; file: string; text: string; generation?: number }) => void): void; postMessage(m: unknown): void }): void {
  port.on('message', (m) => {
    try {
      port.postMessage({ id: m.id, summary: planSummary(m.file, m.text, m.generation ?? 0) });
    } catch (err) {
      port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}
