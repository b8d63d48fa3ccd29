/**
 * The burn/build panel: a webview listing each job with its phase, a progress bar and percentage, speed, elapsed
 * and remaining time, and a Cancel button (finished jobs: the result, and Inspect for images). Themed with VS Code's
 * CSS variables; strict Content-Security-Policy (no inline script or style; scripts only with a nonce, from
 * extension/media).
 */
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { DiscForge } from './context';
import type { JobTracker, JobView } from './jobs';

export const VIEW_TYPE = 'discforge.jobs';

/** What the webview gets: plain data, one entry per job, newest first. */
export interface PanelJob {
  id: string;
  kind: string;
  title: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  phase: string;
  percent: number;
  bytesPerSecond?: number;
  elapsedMs: number;
  remainingMs?: number;
  bufferPercent?: number;
  message?: string;
  output?: string;
  drive?: string;
  /** Burns: the verification result ("passed", "failed", "skipped"). */
  verification?: string;
}

export function toPanelJob(j: JobView, now = Date.now()): PanelJob {
  const p = j.progress;
  const r = j.result;
  const output = r?.status === 'done' && j.info.kind === 'build' ? r.output : undefined;
  // A finished job shows its average speed; a running one the recent speed.
  const average = r?.status === 'done' && r.bytes && r.elapsedMs > 0 ? (r.bytes * 1000) / r.elapsedMs : undefined;
  return {
    id: j.info.jobId,
    kind: j.info.kind,
    title: j.info.title,
    status: r ? r.status : 'running',
    phase: r ? (r.status === 'done' ? 'done' : r.status) : p?.phase ?? 'starting',
    percent: r?.status === 'done' ? 100 : p?.percent ?? 0,
    bytesPerSecond: r ? average : p?.bytesPerSecond,
    elapsedMs: r ? r.elapsedMs : p?.elapsedMs ?? now - j.info.startedAt,
    remainingMs: r ? undefined : p?.remainingMs,
    bufferPercent: p?.bufferPercent,
    message: shortMessage(j),
    output,
    drive: j.info.drive,
    verification: r?.verification?.map((v) => v.result).join(', '),
  };
}

/** The result's message without what the card already shows (the image path, the drive). */
export function shortMessage(j: JobView): string | undefined {
  const r = j.result;
  if (!r) return undefined;
  let m = r.message;
  if (r.output && m.startsWith(`wrote ${r.output}: `)) m = m.slice(`wrote ${r.output}: `.length);
  if (j.info.drive && m.startsWith(`${j.info.drive}: `)) m = m.slice(j.info.drive.length + 2);
  return m;
}

export class JobsPanel implements vscode.Disposable {
  private static current: JobsPanel | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private pending: NodeJS.Timeout | undefined;

  static show(ctx: DiscForge, jobs: JobTracker, preserveFocus = false): JobsPanel {
    if (JobsPanel.current) {
      JobsPanel.current.panel.reveal(undefined, preserveFocus);
      return JobsPanel.current;
    }
    const media = vscode.Uri.joinPath(ctx.ext.extensionUri, 'extension', 'media');
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      'DiscForge: Burn & Build',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      { enableScripts: true, localResourceRoots: [media], retainContextWhenHidden: true },
    );
    JobsPanel.current = ctx.own(new JobsPanel(jobs, panel, media));
    return JobsPanel.current;
  }

  /** A panel VS Code restores after a reload (registered as the view type's serializer). */
  static restore(ctx: DiscForge, jobs: JobTracker, panel: vscode.WebviewPanel): void {
    const media = vscode.Uri.joinPath(ctx.ext.extensionUri, 'extension', 'media');
    panel.webview.options = { enableScripts: true, localResourceRoots: [media] };
    JobsPanel.current?.dispose();
    JobsPanel.current = ctx.own(new JobsPanel(jobs, panel, media));
  }

  static get visible(): JobsPanel | undefined {
    return JobsPanel.current;
  }

  private constructor(private readonly jobs: JobTracker, readonly panel: vscode.WebviewPanel, media: vscode.Uri) {
    panel.iconPath = vscode.Uri.joinPath(media, 'discforge-tab.svg');
    panel.webview.html = html(panel.webview, media);
    this.subs.push(
      panel.onDidDispose(() => this.dispose()),
      jobs.onDidChange(() => this.schedule()),
      panel.webview.onDidReceiveMessage((m: { type: string; jobId?: string; output?: string }) => this.onMessage(m)),
    );
  }

  private onMessage(m: { type: string; jobId?: string; output?: string }): void {
    switch (m.type) {
      case 'ready':
        this.post();
        break;
      case 'cancel':
        if (m.jobId) void this.jobs.cancel(m.jobId);
        break;
      case 'inspect':
        if (m.output) void vscode.commands.executeCommand('discforge.inspect', vscode.Uri.file(m.output));
        break;
      case 'clear':
        this.jobs.clearFinished();
        break;
    }
  }

  /** At most ~10 updates a second reach the webview. */
  private schedule(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.post();
    }, 100);
  }

  private post(): void {
    const jobs = this.jobs.all().map((j) => toPanelJob(j)).reverse();
    void this.panel.webview.postMessage({ type: 'jobs', jobs });
  }

  dispose(): void {
    if (JobsPanel.current === this) JobsPanel.current = undefined;
    clearTimeout(this.pending);
    for (const s of this.subs.splice(0)) s.dispose();
    this.panel.dispose();
  }
}

function html(webview: vscode.Webview, media: vscode.Uri): string {
  const nonce = crypto.randomBytes(16).toString('base64');
  const css = webview.asWebviewUri(vscode.Uri.joinPath(media, 'panel.css'));
  const js = webview.asWebviewUri(vscode.Uri.joinPath(media, 'panel.js'));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css}">
<title>DiscForge: Burn &amp; Build</title>
</head>
<body>
<header>
  <h1>Burn &amp; Build</h1>
  <button id="clear" class="secondary" type="button" title="Remove finished jobs from the list">Clear Finished</button>
</header>
<p id="empty" class="hint">No jobs yet. Run <strong>DiscForge: Build Image</strong> or <strong>Burn…</strong> and follow it here.</p>
<main id="jobs" aria-live="polite"></main>
<script nonce="${nonce}" src="${js}"></script>
</body>
</html>`;
}
