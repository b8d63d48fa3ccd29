/**
 * The task provider: `"type": "discforge"` with `"manifest"` and `"action": "build" | "burn"`. A task runs its job in
 * the language server (so it shows in the panel and can be cancelled by terminating the task) and prints problems
 * the way the CLI does, `file:line:col: severity: message [code]`, which the `$discforge` problem matcher turns
 * into entries of the Problems view.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BurnRequest, sendRequest, type JobResult } from '../../server/src/protocol';
import { config, newJobId, type DiscForge } from './context';
import type { JobTracker } from './jobs';
import { findManifests } from './manifests';

export const TASK_TYPE = 'discforge';

export interface DiscForgeTaskDefinition extends vscode.TaskDefinition {
  type: typeof TASK_TYPE;
  /** The manifest, relative to the workspace folder (or absolute). */
  manifest: string;
  action?: 'build' | 'burn';
  /** Burn: the drive spec. */
  drive?: string;
  /** Build: where to write the image instead of the manifest's `output`. */
  output?: string;
}

/** One CLI-style line per problem (the format the `$discforge` problem matcher reads). */
export function problemLine(p: JobResult['problems'][number], cwd: string | undefined): string {
  const file = cwd ? path.relative(cwd, p.file) || p.file : p.file;
  return `${file}:${p.line}:${p.column}: ${p.severity}: ${p.message} [${p.code}]`;
}

class JobTerminal implements vscode.Pseudoterminal {
  private readonly write = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.write.event;
  readonly onDidClose = this.closeEmitter.event;
  private readonly jobId: string;
  private closed = false;
  private sub: vscode.Disposable | undefined;

  constructor(private readonly ctx: DiscForge, private readonly jobs: JobTracker, private readonly def: DiscForgeTaskDefinition, private readonly cwd: string | undefined) {
    this.jobId = newJobId(def.action ?? 'build');
  }

  private line(s = ''): void {
    this.write.fire(s.replace(/\r?\n/g, '\r\n') + '\r\n');
  }

  open(): void {
    void this.run().catch((err: unknown) => {
      this.line(`discforge: error: ${err instanceof Error ? err.message : String(err)}`);
      this.finish(1);
    });
  }

  close(): void {
    // The user terminated the task: stop the job.
    if (!this.closed) void this.jobs.cancel(this.jobId);
    this.closed = true;
    this.sub?.dispose();
  }

  private finish(code: number, problemLines = 0): void {
    if (this.closed) return;
    this.closed = true;
    this.sub?.dispose();
    // The terminal parses what was written asynchronously, and the problem matcher reads the parsed lines until the
    // task exits: closing at once can lose the last lines (more so on a busy machine). Give it time, more when
    // there are problems to match.
    setTimeout(() => this.closeEmitter.fire(code), problemLines > 0 ? 1500 : 300);
  }

  private async run(): Promise<void> {
    const manifest = path.resolve(this.cwd ?? '', this.def.manifest);
    const action = this.def.action ?? 'build';
    if (!vscode.workspace.isTrusted) {
      this.line(`discforge: not run: the workspace is not trusted`);
      return this.finish(1);
    }
    this.line(`discforge ${action} ${this.def.manifest}`);
    let lastPhase = '';
    let lastTenth = -1;
    this.sub = this.jobs.onDidChange((j) => {
      if (j?.info.jobId !== this.jobId || !j.progress || j.result) return;
      const p = j.progress;
      const tenth = Math.floor(p.percent / 10);
      if (p.phase !== lastPhase || (p.phase === 'write' && tenth !== lastTenth)) {
        lastPhase = p.phase;
        lastTenth = tenth;
        this.line(`  ${p.phase.padEnd(6)} ${p.percent.toFixed(0).padStart(3)}%`);
      }
    });
    let result: JobResult;
    if (action === 'burn') {
      if (!this.ctx.features.burn) {
        this.line(`discforge: burning is not available yet: ${this.ctx.features.burnUnavailableReason ?? 'no burning engine'}`);
        return this.finish(1);
      }
      if (!this.def.drive) {
        this.line('discforge: a burn task needs "drive" (for example "virtual:cd-r:/tmp/disc.img")');
        return this.finish(2);
      }
      const client = await this.ctx.languageClient();
      result = await sendRequest(client, BurnRequest, {
        jobId: this.jobId,
        uri: vscode.Uri.file(manifest).toString(),
        drive: this.def.drive,
        verify: config().get<'none' | 'quick' | 'full'>('burn.verify', 'quick'),
      });
    } else {
      result = await this.jobs.build(vscode.Uri.file(manifest), {
        jobId: this.jobId,
        output: this.def.output ? path.resolve(this.cwd ?? '', this.def.output) : undefined,
      });
    }
    for (const p of result.problems) this.line(problemLine(p, this.cwd));
    this.line(result.status === 'done' ? result.message : `discforge: ${result.status}: ${result.message}`);
    this.finish(result.status === 'done' ? 0 : result.status === 'cancelled' ? 130 : result.problems.some((p) => p.severity === 'error') ? 2 : 1, result.problems.length);
  }
}

export class DiscForgeTaskProvider implements vscode.TaskProvider {
  constructor(private readonly ctx: DiscForge, private readonly jobs: JobTracker) {}

  async provideTasks(): Promise<vscode.Task[]> {
    if (!vscode.workspace.isTrusted) return [];
    const tasks: vscode.Task[] = [];
    for (const uri of await findManifests()) {
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      if (!folder) continue;
      const manifest = path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
      tasks.push(this.task({ type: TASK_TYPE, manifest, action: 'build' }, folder));
      // Burn tasks for the emulated recorders the user configured (real drives: "drive" in tasks.json).
      if (this.ctx.features.burn) {
        for (const drive of config().get<string[]>('drives.virtual', [])) tasks.push(this.task({ type: TASK_TYPE, manifest, action: 'burn', drive }, folder));
      }
    }
    return tasks;
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition as DiscForgeTaskDefinition;
    if (def.type !== TASK_TYPE || typeof def.manifest !== 'string') return undefined;
    const folder = task.scope && typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
    // Keep the definition object VS Code gave us (it identifies a tasks.json task).
    return this.task(def, folder, task.name);
  }

  task(def: DiscForgeTaskDefinition, folder: vscode.WorkspaceFolder | undefined, name?: string): vscode.Task {
    const action = def.action ?? 'build';
    const task = new vscode.Task(
      def,
      folder ?? vscode.TaskScope.Workspace,
      name ?? (action === 'burn' ? `burn ${def.manifest} to ${def.drive ?? '?'}` : `build ${def.manifest}`),
      TASK_TYPE,
      new vscode.CustomExecution(async (resolved) => new JobTerminal(this.ctx, this.jobs, resolved as DiscForgeTaskDefinition, folder?.uri.fsPath)),
      ['$discforge'],
    );
    if (action === 'build') task.group = vscode.TaskGroup.Build;
    task.detail = action === 'build' ? 'Build the disc image' : `Burn to ${def.drive ?? 'a recorder'}`;
    return task;
  }
}

export function activate(ctx: DiscForge, jobs: JobTracker): void {
  ctx.own(vscode.tasks.registerTaskProvider(TASK_TYPE, new DiscForgeTaskProvider(ctx, jobs)));
}
