/**
 * The image commands (category "DiscForge"): New Disc Project, Build Image, Inspect Image…, Show Burn Panel.
 * Each returns what it did (a JobResult, a URI, a report), which the extension-host tests use.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { InspectRequest, sendRequest, type JobResult } from '../../server/src/protocol';
import { config, newJobId, type DiscForge } from './context';
import type { JobTracker } from './jobs';
import { pickManifest, saveIfDirty, toUri } from './manifests';
import { JobsPanel, VIEW_TYPE } from './panel';
import { supportedTemplates } from './templates';

export const INSPECT_SCHEME = 'discforge-inspect';

export function activate(ctx: DiscForge, jobs: JobTracker): void {
  const reg = (id: string, f: (...args: unknown[]) => unknown) => ctx.own(vscode.commands.registerCommand(id, f));
  reg('discforge.build', (arg) => buildImage(ctx, jobs, arg));
  reg('discforge.newProject', (arg) => newProject(ctx, arg));
  reg('discforge.inspect', (arg) => inspectImage(ctx, arg));
  reg('discforge.showPanel', () => JobsPanel.show(ctx, jobs) && undefined);
  reg('discforge.cancelJob', (jobId) => typeof jobId === 'string' && jobs.cancel(jobId));
  ctx.own(vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
    deserializeWebviewPanel: async (panel) => JobsPanel.restore(ctx, jobs, panel),
  }));

  // Inspect reports open as read-only documents: discforge-inspect:/path/to/image.iso
  const reports = new Map<string, string>();
  ctx.own(vscode.workspace.registerTextDocumentContentProvider(INSPECT_SCHEME, {
    provideTextDocumentContent: (uri) => reports.get(uri.path) ?? '',
  }));
  inspectReports = reports;
}

let inspectReports: Map<string, string> | undefined;

export async function buildImage(ctx: DiscForge, jobs: JobTracker, arg: unknown): Promise<JobResult | undefined> {
  if (!ctx.requireTrust('build images')) return undefined;
  const manifest = await pickManifest(arg, 'build');
  if (!manifest) return undefined;
  await saveIfDirty(manifest);
  const jobId = newJobId('build');
  if (config().get<boolean>('panel.revealOnJob', true)) JobsPanel.show(ctx, jobs, true);
  const name = path.basename(manifest.fsPath);
  ctx.log.info(`build ${manifest.fsPath}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: `DiscForge: building ${name}` },
    () => jobs.build(manifest, { jobId }),
  );
  for (const p of result.problems) ctx.log.info(`${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.message} [${p.code}]`);
  ctx.log.info(`build ${result.status}: ${result.message}`);
  if (result.status === 'done' && result.output) {
    const output = result.output;
    void vscode.window.showInformationMessage(`DiscForge: built ${path.basename(output)} — ${result.message.replace(`wrote ${output}: `, '')}`, 'Inspect', 'Reveal in Explorer').then((pick) => {
      if (pick === 'Inspect') void vscode.commands.executeCommand('discforge.inspect', vscode.Uri.file(output));
      else if (pick === 'Reveal in Explorer') void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(output));
    });
  } else if (result.status === 'failed') {
    void vscode.window.showErrorMessage(`DiscForge: ${name} was not built: ${result.message}`, ...(result.problems.length ? ['Show Problems'] : [])).then((pick) => {
      if (pick) void vscode.commands.executeCommand('workbench.actions.view.problems');
    });
  } else {
    void vscode.window.showWarningMessage(`DiscForge: the build of ${name} was cancelled; no image was written.`);
  }
  return result;
}

export async function inspectImage(ctx: DiscForge, arg: unknown): Promise<{ text: string; problems: string[] } | undefined> {
  let image = toUri(arg);
  if (!image) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Inspect',
      title: 'Inspect a disc image',
      filters: { 'Disc images': ['iso', 'img', 'udf'], 'All files': ['*'] },
    });
    image = picked?.[0];
  }
  if (!image) return undefined;
  if (!fs.existsSync(image.fsPath)) {
    void vscode.window.showWarningMessage(`DiscForge: ${path.basename(image.fsPath)} does not exist yet. Build the image first.`);
    return undefined;
  }
  const client = await ctx.languageClient();
  try {
    const report = await sendRequest(client, InspectRequest, { uri: image.toString() });
    inspectReports?.set(image.path, report.text);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: INSPECT_SCHEME, path: image.path }));
    await vscode.window.showTextDocument(doc, { preview: true });
    if (report.problems.length) void vscode.window.showWarningMessage(`DiscForge: ${path.basename(image.fsPath)} has ${report.problems.length} problem(s): ${report.problems[0]}`);
    return report;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    void vscode.window.showErrorMessage(`DiscForge: cannot inspect ${path.basename(image.fsPath)}: ${message}`);
    return undefined;
  }
}

/** New Disc Project: a kind, a name, a folder → NAME.disc.json (and its source folders), opened. */
export async function newProject(ctx: DiscForge, arg: unknown): Promise<vscode.Uri | undefined> {
  const opts = (arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) ? arg : {}) as { kind?: string; name?: string; folder?: string };
  const schema = JSON.parse(fs.readFileSync(ctx.asAbsolutePath('media-schema/disc-project.schema.json'), 'utf8')) as Parameters<typeof supportedTemplates>[0];
  const templates = supportedTemplates(schema);
  const template = opts.kind
    ? templates.find((t) => t.id === opts.kind)
    : templates.length === 1
      ? templates[0]
      : (await vscode.window.showQuickPick(templates.map((t) => ({ label: t.label, detail: t.detail, t })), { placeHolder: 'What kind of disc?' }))?.t;
  if (!template) {
    if (opts.kind) void vscode.window.showErrorMessage(`DiscForge: this version cannot make "${opts.kind}" discs yet.`);
    return undefined;
  }
  const name = opts.name ?? (await vscode.window.showInputBox({
    prompt: 'Name of the disc project',
    value: 'my-disc',
    validateInput: (v) => (/^[\w.-]+$/.test(v) ? undefined : 'Letters, digits, ".", "_" and "-" only'),
  }));
  if (!name) return undefined;
  let folder = opts.folder ?? (arg instanceof vscode.Uri ? arg.fsPath : undefined);
  if (!folder) {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 1) folder = folders[0].uri.fsPath;
    else if (folders.length > 1) folder = (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Where to create the project?' }))?.uri.fsPath;
    else folder = (await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, openLabel: 'Create Here' }))?.[0]?.fsPath;
  }
  if (!folder) return undefined;
  const file = path.join(folder, `${name}.disc.json`);
  if (fs.existsSync(file)) {
    void vscode.window.showErrorMessage(`DiscForge: ${file} already exists.`);
    return undefined;
  }
  for (const f of template.folders) fs.mkdirSync(path.join(folder, f), { recursive: true });
  // The $schema is for other editors: a relative path to the schema when it is in this workspace, else its URL.
  const wsSchema = findSchemaFrom(folder);
  const schemaRef = wsSchema ? path.relative(folder, wsSchema).split(path.sep).join('/') : (schema as { $id?: string }).$id ?? '';
  fs.writeFileSync(file, template.text(name, schemaRef));
  ctx.log.info(`new ${template.id} project: ${file}`);
  const uri = vscode.Uri.file(file);
  await vscode.window.showTextDocument(uri);
  return uri;
}

function findSchemaFrom(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    const s = path.join(d, 'media-schema', 'disc-project.schema.json');
    if (fs.existsSync(s)) return s;
    if (path.dirname(d) === d) return undefined;
  }
}
