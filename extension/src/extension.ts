/**
 * The VS Code client of DiscForge. `activate` creates the one context object that owns every disposable and hands
 * it to each feature's `activate(ctx)`: the language client, jobs and the panel, commands, drives, burning, tasks.
 * Activation happens only on need (a manifest opened or present in the workspace, a DiscForge command, view or
 * task).
 */
import type { ExtensionContext } from 'vscode';
import * as burn from './burn';
import * as client from './client';
import * as commands from './commands';
import { DiscForge } from './context';
import * as drives from './drives';
import { JobTracker } from './jobs';
import * as tasks from './tasks';

let current: DiscForge | undefined;

export async function activate(context: ExtensionContext): Promise<void> {
  const ctx = new DiscForge(context);
  current = ctx;
  context.subscriptions.push(ctx);
  const jobs = ctx.own(new JobTracker(ctx));
  // Commands, views and tasks are registered before the server starts, so that nothing VS Code asks for is missing.
  commands.activate(ctx, jobs);
  const drivesView = drives.activate(ctx);
  burn.activate(ctx, jobs, drivesView);
  tasks.activate(ctx, jobs);
  await client.activate(ctx);
}

export function deactivate(): void {
  current?.dispose();
  current = undefined;
}
