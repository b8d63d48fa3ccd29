/**
 * Diagnostics and document hover for manifests: runs the engine's planner on the editor's text (debounced,
 * latest edit wins) and converts its diagnostics to LSP. The only LSP-aware layer; the engine knows nothing
 * of LSP.
 */
import { fileURLToPath } from 'node:url';
import {
  DiagnosticSeverity,
  type Connection,
  type Diagnostic as LspDiagnostic,
  type Hover,
  type HoverParams,
  type TextDocuments,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { planProject, type Plan } from '../engine/build';
import { formatBytes, MEDIA } from '../engine/media';
import type { Diagnostic } from '../engine/util/errors';

const DEBOUNCE_MS = 250;

export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  return {
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : d.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
    code: d.code,
    source: 'discforge',
    message: d.message,
    range: {
      start: { line: d.range.start.line - 1, character: d.range.start.column - 1 },
      end: { line: d.range.end.line - 1, character: d.range.end.column - 1 },
    },
  };
}

export class DiagnosticsHandler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly plans = new Map<string, { version: number; plan: Plan }>();

  constructor(private readonly connection: Connection, private readonly documents: TextDocuments<TextDocument>) {
    documents.onDidOpen((e) => this.schedule(e.document, 0));
    documents.onDidChangeContent((e) => this.schedule(e.document, DEBOUNCE_MS));
    documents.onDidClose((e) => {
      clearTimeout(this.timers.get(e.document.uri));
      this.timers.delete(e.document.uri);
      this.plans.delete(e.document.uri);
      void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    });
    connection.onHover((p) => this.hover(p));
  }

  private schedule(doc: TextDocument, delay: number): void {
    clearTimeout(this.timers.get(doc.uri));
    this.timers.set(doc.uri, setTimeout(() => this.validate(doc.uri), delay));
  }

  /** Plans the current text of a document (cached per version). */
  planFor(doc: TextDocument): Plan | undefined {
    if (!doc.uri.startsWith('file:')) return undefined;
    const cached = this.plans.get(doc.uri);
    if (cached?.version === doc.version) return cached.plan;
    const plan = planProject(fileURLToPath(doc.uri), { text: doc.getText() });
    this.plans.set(doc.uri, { version: doc.version, plan });
    return plan;
  }

  private validate(uri: string): void {
    this.timers.delete(uri);
    const doc = this.documents.get(uri);
    if (!doc) return;
    const plan = this.planFor(doc);
    if (!plan) return;
    void this.connection.sendDiagnostics({ uri, version: doc.version, diagnostics: plan.diagnostics.map(toLspDiagnostic) });
  }

  private hover(p: HoverParams): Hover | undefined {
    const doc = this.documents.get(p.textDocument.uri);
    if (!doc) return undefined;
    const plan = this.planFor(doc);
    if (!plan?.image || plan.bytes === undefined) return undefined;
    const s = plan.stats!;
    const lines = [`**Planned image:** ${formatBytes(plan.bytes)} (${plan.bytes} bytes, ${plan.image.blocks} blocks)`, `${s.files} files, ${s.directories} folders, ${formatBytes(s.bytes)} of file data`];
    const media = plan.project?.media ? MEDIA[plan.project.media] : undefined;
    if (media) lines.push(`Fills ${((plan.image.blocks / media.blocks) * 100).toFixed(1)}% of a ${media.name}`);
    return { contents: { kind: 'markdown', value: lines.join('\n\n') } };
  }
}
