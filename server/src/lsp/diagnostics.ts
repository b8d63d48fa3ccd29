/**
 * Diagnostics as the user types: JSON syntax and the JSON Schema (vscode-json-languageservice), then what only the
 * engine knows (missing sources, empty globs, collisions, names, depth, capacity…), each on its manifest node.
 *
 * Debounced (settings.diagnosticsDelay after the last edit), cancellable and latest-wins: an edit cancels the
 * pending run, and a plan still running for an older version is stopped (see PlanAnalyzer); results of a version
 * that is no longer current are never published.
 *
 * Both sources check the same schema: the engine's own schema/syntax findings are dropped when the JSON service
 * reported a problem on the same node (one range inside the other), so each mistake is reported once, with the
 * JSON service's wording; the engine's are kept where it alone saw something.
 */
import type { Diagnostic as LspDiagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { filePath, type ServerContext } from './context';
import { nested, SOURCE, toLspDiagnostic } from './convert';
import { jsonCodeKind } from './jsonService';
import type { PlanSummary } from './planSummary';

export class DiagnosticsHandler {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly ctx: ServerContext) {
    const { documents, connection } = ctx;
    documents.onDidOpen((e) => this.schedule(e.document, 0));
    documents.onDidChangeContent((e) => this.schedule(e.document, ctx.settings.diagnosticsDelay));
    documents.onDidClose((e) => {
      clearTimeout(this.timers.get(e.document.uri));
      this.timers.delete(e.document.uri);
      ctx.analyzer.cancel(e.document.uri);
      ctx.plans.delete(e.document.uri);
      ctx.json.forget(e.document.uri);
      void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    });
  }

  /** Re-validates every open document (settings or files on disk changed) after `delay` ms of quiet. */
  revalidateAll(delay = 0): void {
    for (const doc of this.ctx.documents.all()) this.schedule(doc, delay);
  }

  private schedule(doc: TextDocument, delay: number): void {
    clearTimeout(this.timers.get(doc.uri));
    this.timers.set(doc.uri, setTimeout(() => void this.validate(doc.uri), delay));
  }

  private async validate(uri: string): Promise<void> {
    this.timers.delete(uri);
    const doc = this.ctx.documents.get(uri);
    if (!doc) return;
    const version = doc.version;
    const [jsonDiags, plan] = await Promise.all([this.ctx.json.validate(doc), this.ctx.planNow(doc)]);
    const current = this.ctx.documents.get(uri);
    if (!current || current.version !== version) return; // a newer edit has its own run coming
    if (filePath(uri) !== undefined && !plan) return; // superseded
    const diagnostics = merge(jsonDiags, plan);
    void this.ctx.connection.sendDiagnostics({ uri, version, diagnostics });
  }
}

export function merge(jsonDiags: LspDiagnostic[], plan: PlanSummary | undefined): LspDiagnostic[] {
  const out: LspDiagnostic[] = [];
  for (const d of jsonDiags) {
    const kind = jsonCodeKind(d.code);
    out.push({ ...d, source: SOURCE, code: kind === 'syntax' ? 'json-syntax' : kind === 'schema-load' ? 'schema-load' : 'schema' });
  }
  for (const e of plan?.diagnostics ?? []) {
    const d = toLspDiagnostic(e);
    if ((e.code === 'schema' || e.code === 'json-syntax') && out.some((j) => j.code === e.code && nested(j.range, d.range))) continue;
    out.push(d);
  }
  return out;
}
