/**
 * The "Drives" view: each recorder (vendor, model) with its loaded media (type, state, used/free), inline Eject and
 * Erase actions; virtual (emulated) recorders from the `discforge.drives.virtual` setting too. While the server has
 * no burning engine the view says so instead of listing anything.
 */
import * as vscode from 'vscode';
import { DrivesChangedNotification, DrivesRequest, sendRequest, type DriveInfo } from '../../server/src/protocol';
import { config, type DiscForge } from './context';

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

export function mediaText(d: DriveInfo): string {
  const m = d.media;
  if (!m || m.state === 'none') return 'no disc';
  return `${m.type}, ${m.state}${m.writeProtected ? ', write-protected' : ''} — ${bytes(m.usedBytes)} used, ${bytes(m.freeBytes)} free`;
}

export class DrivesProvider implements vscode.TreeDataProvider<DriveInfo>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private drives: DriveInfo[] = [];
  view: vscode.TreeView<DriveInfo> | undefined;

  constructor(private readonly ctx: DiscForge) {}

  /** Asks the server for the drives again. Returns them (empty when burning is not available). */
  async refresh(): Promise<DriveInfo[]> {
    const client = await this.ctx.languageClient();
    if (!this.ctx.features.burn) {
      this.drives = [];
      if (this.view) this.view.message = `Burning is not available yet: ${this.ctx.features.burnUnavailableReason ?? 'this DiscForge has no burning engine'}.`;
    } else {
      try {
        const virtual = config().get<string[]>('drives.virtual', []);
        this.drives = (await sendRequest(client, DrivesRequest, { virtual })).drives;
        if (this.view) this.view.message = this.drives.length ? undefined : 'No recorders found. Add an emulated one with the "discforge.drives.virtual" setting (virtual:cd-r:/tmp/disc.img).';
      } catch (err) {
        this.drives = [];
        if (this.view) this.view.message = `Cannot list the drives: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    this.changed.fire();
    return this.drives;
  }

  getTreeItem(d: DriveInfo): vscode.TreeItem {
    const item = new vscode.TreeItem(`${d.vendor} ${d.model}`.trim() || d.id, vscode.TreeItemCollapsibleState.None);
    item.id = d.id;
    item.description = mediaText(d);
    item.tooltip = new vscode.MarkdownString(`**${d.id}**${d.virtual ? ' (emulated)' : ''}\n\n${mediaText(d)}${d.busyWith ? `\n\nBusy: ${d.busyWith}` : ''}`);
    item.iconPath = new vscode.ThemeIcon(d.virtual ? 'vm' : 'record');
    item.contextValue = `drive${d.virtual ? '.virtual' : ''}${d.busyWith ? '.busy' : ''}`;
    return item;
  }

  getChildren(parent?: DriveInfo): DriveInfo[] {
    return parent ? [] : this.drives;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function activate(ctx: DiscForge): DrivesProvider {
  const provider = ctx.own(new DrivesProvider(ctx));
  provider.view = ctx.own(vscode.window.createTreeView('discforge.drives', { treeDataProvider: provider, showCollapseAll: false }));
  ctx.own(provider.view.onDidChangeVisibility((e) => e.visible && void provider.refresh()));
  ctx.own(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('discforge.drives') && void provider.refresh()));
  void ctx.languageClient().then((client) => {
    ctx.own(client.onNotification(DrivesChangedNotification.method, () => void provider.refresh()));
    if (provider.view?.visible) void provider.refresh();
  }, () => {});
  return provider;
}
