/** Finding the manifest a command is about: its argument, the active editor, or a pick among the workspace's. */
import * as path from 'node:path';
import * as vscode from 'vscode';

export const MANIFEST_GLOB = '**/*.disc.json';
export const EXCLUDE_GLOB = '**/{node_modules,.git,.tools}/**';

export function isManifest(uri: vscode.Uri): boolean {
  return uri.scheme === 'file' && /\.disc\.json$/i.test(uri.path);
}

export function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return /^[a-z][\w+.-]*:/i.test(arg) && !/^[a-z]:[\\/]/i.test(arg) ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  if (arg && typeof arg === 'object' && 'uri' in arg) return toUri((arg as { uri: unknown }).uri);
  return undefined;
}

export async function findManifests(): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles(MANIFEST_GLOB, EXCLUDE_GLOB, 1000);
  return found.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

/** The manifest a command applies to; asks when it is not obvious. */
export async function pickManifest(arg: unknown, purpose: string): Promise<vscode.Uri | undefined> {
  const given = toUri(arg);
  if (given) return given;
  const active = vscode.window.activeTextEditor?.document;
  if (active && (active.languageId === 'disc-manifest' || isManifest(active.uri))) return active.uri;
  const all = await findManifests();
  if (all.length === 1) return all[0];
  if (all.length === 0) {
    void vscode.window.showWarningMessage(`DiscForge: there is no disc manifest (*.disc.json) to ${purpose}. Create one with "DiscForge: New Disc Project".`);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    all.map((uri) => ({ label: path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri), uri })),
    { placeHolder: `Which disc manifest to ${purpose}?` },
  );
  return pick?.uri;
}

/** Saves the manifest if it is open with unsaved changes (jobs use what is on disk). */
export async function saveIfDirty(uri: vscode.Uri): Promise<void> {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (doc?.isDirty) await doc.save();
}
