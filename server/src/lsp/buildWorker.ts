/**
 * Builds run in a worker thread, so that the language server's own thread stays free while one runs: planning
 * 100,000 files is seconds of synchronous work, and the image writer's work between its yields adds up too —
 * completion, hover and diagnostics must not wait for either. The worker is this same bundle (dist/server.js)
 * started with workerData `{ discforgeBuildWorker: true, manifest, output }` (see server.ts). Cancelling aborts the
 * build inside the worker (the engine removes OUT.partial); a worker that does not stop within a few seconds is
 * terminated and the .partial removed here. The server terminates the worker once it has its answer.
 */
import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { buildImage, type Plan, type Progress } from '../engine/build';
import { CancelledError, InputError, type Diagnostic } from '../engine/util/errors';

export const BUILD_WORKER_MARK = 'discforgeBuildWorker';

export interface WorkerBuildResult {
  output: string;
  bytes: number;
  diagnostics: Diagnostic[];
  stats?: Plan['stats'];
}

type ToServer =
  | { type: 'progress'; progress: Progress }
  | { type: 'done'; result: WorkerBuildResult }
  | { type: 'failed'; kind: 'cancelled' | 'input' | 'other'; message: string; diagnostics?: Diagnostic[] };

/** Builds `manifest` in a worker thread running `script`; rejects with CancelledError / InputError / Error. */
export function buildInWorker(
  script: string,
  manifest: string,
  opts: { output?: string; expectedOutput?: string; onProgress?: (p: Progress) => void; signal?: AbortSignal },
): Promise<WorkerBuildResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(script, { workerData: { [BUILD_WORKER_MARK]: true, manifest, output: opts.output } });
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      w.removeAllListeners();
      w.on('error', () => {});
      void w.terminate();
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = () => {
      w.postMessage({ type: 'abort' });
      // The engine checks the signal between writes; a worker stuck in planning is stopped the hard way.
      killTimer = setTimeout(() => {
        void w.terminate();
        if (opts.expectedOutput) fs.rmSync(opts.expectedOutput + '.partial', { force: true });
        finish(() => reject(new CancelledError()));
      }, 3000);
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    w.on('message', (m: ToServer) => {
      if (m.type === 'progress') opts.onProgress?.(m.progress);
      else if (m.type === 'done') finish(() => resolve(m.result));
      else if (m.kind === 'cancelled') finish(() => reject(new CancelledError(m.message)));
      else if (m.kind === 'input') finish(() => reject(new InputError(m.message, m.diagnostics ?? [])));
      else finish(() => reject(new Error(m.message)));
    });
    w.on('error', (err) => finish(() => reject(err)));
    w.on('exit', (code) => {
      if (opts.expectedOutput && opts.signal?.aborted) fs.rmSync(opts.expectedOutput + '.partial', { force: true });
      finish(() => reject(opts.signal?.aborted ? new CancelledError() : new Error(`the build worker stopped (exit code ${code})`)));
    });
  });
}

/** The worker's side: one build, then the thread ends. */
export function runBuildWorker(
  port: { on(ev: 'message', f: (m: { type: string }) => void): void; postMessage(m: ToServer): void },
  data: { manifest: string; output?: string },
): void {
  const controller = new AbortController();
  port.on('message', (m) => {
    if (m.type === 'abort') controller.abort();
  });
  const post = (m: ToServer) => port.postMessage(m);
  buildImage(data.manifest, { output: data.output, signal: controller.signal, onProgress: (progress) => post({ type: 'progress', progress }) })
    .then((r) => post({ type: 'done', result: { output: r.output, bytes: r.bytes, diagnostics: r.plan.diagnostics, stats: r.plan.stats } }))
    .catch((err: unknown) => {
      if (err instanceof CancelledError || controller.signal.aborted) post({ type: 'failed', kind: 'cancelled', message: err instanceof Error ? err.message : 'cancelled' });
      else if (err instanceof InputError) post({ type: 'failed', kind: 'input', message: err.message, diagnostics: err.diagnostics });
      else post({ type: 'failed', kind: 'other', message: err instanceof Error ? err.message : String(err) });
    });
}
