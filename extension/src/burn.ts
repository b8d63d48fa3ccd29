/**
 * Burning commands: Burn…, Erase Disc…, Eject, Refresh Drives. They speak the protocol's drive and burn requests;
 * while the server has no burning engine (ServerFeatures.burn is false) each says plainly that burning is not
 * available yet and does nothing else.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BurnRequest, EjectRequest, EraseRequest, PlanRequest, sendRequest, type DriveInfo, type JobResult } from '../../server/src/protocol';
import { config, newJobId, type DiscForge } from './context';
import { mediaText, type DrivesProvider } from './drives';
import type { JobTracker } from './jobs';
import { pickManifest, saveIfDirty, toUri } from './manifests';
import { JobsPanel } from './panel';

export interface Unavailable {
  status: 'unavailable';
  message: string;
}

/** Tells the user that burning is not available yet; returns what the command returns then. */
async function unavailable(ctx: DiscForge, what: string): Promise<Unavailable | undefined> {
  await ctx.languageClient().catch(() => undefined);
  if (ctx.features.burn) return undefined;
  const message = `DiscForge: ${what} — burning is not available yet: ${ctx.features.burnUnavailableReason ?? 'this DiscForge has no burning engine'}.`;
  ctx.log.warn(message);
  void vscode.window.showWarningMessage(message);
  return { status: 'unavailable', message };
}

async function pickDrives(drives: DriveInfo[], many: boolean, title: string): Promise<DriveInfo[]> {
  const items = drives.map((d) => ({
    label: `${d.vendor} ${d.model}`.trim() || d.id,
    description: mediaText(d),
    detail: d.id + (d.busyWith ? ` — busy: ${d.busyWith}` : ''),
    d,
  }));
  if (many) return ((await vscode.window.showQuickPick(items, { canPickMany: true, title, placeHolder: 'Choose the recorder(s)' })) ?? []).map((i) => i.d);
  const one = await vscode.window.showQuickPick(items, { title, placeHolder: 'Choose the recorder' });
  return one ? [one.d] : [];
}

function driveArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && 'id' in arg) return String((arg as { id: unknown }).id);
  return undefined;
}

export function activate(ctx: DiscForge, jobs: JobTracker, drives: DrivesProvider): void {
  const reg = (id: string, f: (...args: unknown[]) => unknown) => ctx.own(vscode.commands.registerCommand(id, f));

  reg('discforge.refreshDrives', async () => (await unavailable(ctx, 'cannot list drives')) ?? drives.refresh());

  reg('discforge.burn', async (arg: unknown, driveIds?: unknown): Promise<JobResult[] | Unavailable | undefined> => {
    const na = await unavailable(ctx, 'cannot burn');
    if (na) {
      void drives.refresh();
      return na;
    }
    if (!ctx.requireTrust('burn discs')) return undefined;
    const source = toUri(arg) ?? (await pickManifest(undefined, 'burn'));
    if (!source) return undefined;
    await saveIfDirty(source);
    const client = await ctx.languageClient();
    let size = '';
    if (/\.json$/i.test(source.path)) {
      const plan = await sendRequest(client, PlanRequest, { uri: source.toString() });
      if (!plan.ok) {
        void vscode.window.showErrorMessage(`DiscForge: ${path.basename(source.fsPath)} has errors; fix them before burning.`);
        return undefined;
      }
      size = plan.bytes !== undefined ? ` (${(plan.bytes / 1048576).toFixed(1)} MiB)` : '';
    }
    const all = await drives.refresh();
    const chosen = Array.isArray(driveIds) ? all.filter((d) => driveIds.includes(d.id)) : await pickDrives(all, true, `Burn ${path.basename(source.fsPath)}${size}`);
    if (chosen.length === 0) return undefined;
    if (config().get<boolean>('panel.revealOnJob', true)) JobsPanel.show(ctx, jobs, true);
    const verify = config().get<'none' | 'quick' | 'full'>('burn.verify', 'quick');
    const speedX = config().get<number | null>('burn.speed', null) ?? undefined;
    const results = await Promise.all(chosen.map((d) => sendRequest(client, BurnRequest, { jobId: newJobId('burn'), uri: source.toString(), drive: d.id, verify, speedX })));
    for (const r of results) {
      const show = r.status === 'done' ? vscode.window.showInformationMessage : r.status === 'failed' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
      const verified = r.verification?.length ? ` (verification ${r.verification.map((v) => v.result).join(', ')})` : '';
      void show(`DiscForge: ${r.title}: ${r.status === 'done' ? 'done' : r.status}${verified}${r.status === 'done' ? '' : ` — ${r.message}`}`);
      ctx.log.info(`${r.title}: ${r.status}: ${r.message}`);
    }
    void drives.refresh();
    return results;
  });

  reg('discforge.erase', async (arg: unknown, options?: unknown): Promise<JobResult | Unavailable | undefined> => {
    const opts = options as { full?: boolean } | undefined;
    const na = await unavailable(ctx, 'cannot erase discs');
    if (na) return na;
    if (!ctx.requireTrust('erase discs')) return undefined;
    const id = driveArg(arg) ?? (await pickDrives((await drives.refresh()).filter((d) => d.media && d.media.state !== 'none'), false, 'Erase a rewritable disc'))[0]?.id;
    if (!id) return undefined;
    const full = typeof opts?.full === 'boolean'
      ? opts.full
      : await vscode.window.showQuickPick(['Quick erase', 'Full erase'], { title: `Erase the disc in ${id}? Everything on it is lost.` }).then((m) => (m ? m === 'Full erase' : undefined));
    if (full === undefined) return undefined;
    const client = await ctx.languageClient();
    if (config().get<boolean>('panel.revealOnJob', true)) JobsPanel.show(ctx, jobs, true);
    const r = await sendRequest(client, EraseRequest, { jobId: newJobId('erase'), drive: id, full });
    const show = r.status === 'done' ? vscode.window.showInformationMessage : vscode.window.showErrorMessage;
    void show(`DiscForge: ${r.message}`);
    void drives.refresh();
    return r;
  });

  reg('discforge.eject', async (arg: unknown): Promise<{ ok: true } | Unavailable | undefined> => {
    const na = await unavailable(ctx, 'cannot eject');
    if (na) return na;
    const id = driveArg(arg) ?? (await pickDrives(await drives.refresh(), false, 'Eject'))[0]?.id;
    if (!id) return undefined;
    const client = await ctx.languageClient();
    try {
      const r = await sendRequest(client, EjectRequest, { drive: id });
      void drives.refresh();
      return r;
    } catch (err) {
      void vscode.window.showErrorMessage(`DiscForge: cannot eject ${id}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  });
}
