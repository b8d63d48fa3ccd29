/**
 * The client's view of the server's jobs (builds now; burns and erases when the engine has them): fed by the
 * DiscForge job notifications, read by the panel, the task terminals and the commands.
 */
import * as vscode from 'vscode';
import {
  BuildRequest,
  CancelJobNotification,
  JobFinishedNotification,
  JobProgressNotification,
  JobStartedNotification,
  sendNotification,
  sendRequest,
  type JobProgressParams,
  type JobResult,
  type JobStartedParams,
} from '../../server/src/protocol';
import { newJobId, type DiscForge } from './context';

export interface JobView {
  info: JobStartedParams;
  progress?: JobProgressParams;
  result?: JobResult;
}

export class JobTracker implements vscode.Disposable {
  private readonly jobs = new Map<string, JobView>();
  private readonly changed = new vscode.EventEmitter<JobView>();
  readonly onDidChange = this.changed.event;
  private readonly subs: vscode.Disposable[] = [this.changed];

  constructor(private readonly ctx: DiscForge) {
    void ctx.languageClient().then((client) => {
      this.subs.push(
        client.onNotification(JobStartedNotification.method, (p: JobStartedParams) => {
          const view: JobView = { info: p };
          this.jobs.set(p.jobId, view);
          this.changed.fire(view);
        }),
        client.onNotification(JobProgressNotification.method, (p: JobProgressParams) => {
          const view = this.jobs.get(p.jobId);
          if (!view || view.result) return;
          view.progress = p;
          this.changed.fire(view);
        }),
        client.onNotification(JobFinishedNotification.method, (r: JobResult) => this.finished(r)),
      );
    }, () => {});
  }

  private finished(r: JobResult): void {
    const view = this.jobs.get(r.jobId);
    if (!view) return;
    view.result = r;
    this.changed.fire(view);
  }

  all(): JobView[] {
    return [...this.jobs.values()];
  }

  get(jobId: string): JobView | undefined {
    return this.jobs.get(jobId);
  }

  running(): JobView[] {
    return this.all().filter((j) => !j.result);
  }

  /** Forgets finished jobs (the panel's "Clear"). */
  clearFinished(): void {
    for (const [id, j] of this.jobs) if (j.result) this.jobs.delete(id);
    this.changed.fire(undefined as unknown as JobView);
  }

  async cancel(jobId: string): Promise<void> {
    const client = await this.ctx.languageClient();
    this.ctx.log.info(`cancelling ${jobId}`);
    await sendNotification(client, CancelJobNotification, { jobId });
  }

  /** Builds the image of a manifest in the server; resolves with the job's result. */
  async build(manifest: vscode.Uri, opts: { jobId?: string; output?: string; token?: vscode.CancellationToken } = {}): Promise<JobResult> {
    const client = await this.ctx.languageClient();
    const jobId = opts.jobId ?? newJobId('build');
    const sub = opts.token?.onCancellationRequested(() => void this.cancel(jobId));
    try {
      const r = await sendRequest(client, BuildRequest, { jobId, uri: manifest.toString(), output: opts.output });
      this.finished(r); // the notification may not have arrived yet
      return r;
    } finally {
      sub?.dispose();
    }
  }

  dispose(): void {
    for (const s of this.subs.splice(0)) s.dispose();
  }
}
