/** Conversions between the engine's positions (1-based lines and columns) and LSP's (0-based). */
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic, type Range as LspRange } from 'vscode-languageserver';
import type { Diagnostic, Range } from '../engine/util/errors';
import type { ManifestProblem } from '../protocol';

export const SOURCE = 'discforge';

export function toLspRange(r: Range): LspRange {
  return {
    start: { line: r.start.line - 1, character: r.start.column - 1 },
    end: { line: r.end.line - 1, character: r.end.column - 1 },
  };
}

export function toLspSeverity(s: Diagnostic['severity']): DiagnosticSeverity {
  return s === 'error' ? DiagnosticSeverity.Error : s === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information;
}

export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  return { severity: toLspSeverity(d.severity), code: d.code, source: SOURCE, message: d.message, range: toLspRange(d.range) };
}

export function toProblem(d: Diagnostic, file: string): ManifestProblem {
  return {
    severity: d.severity,
    code: d.code,
    message: d.message,
    file,
    line: d.range.start.line,
    column: d.range.start.column,
    endLine: d.range.end.line,
    endColumn: d.range.end.column,
  };
}

/** Does `a` contain `b` (or `b` contain `a`)? Ranges are LSP ranges. */
export function nested(a: LspRange, b: LspRange): boolean {
  return contains(a, b) || contains(b, a);
}

function before(p: LspRange['start'], q: LspRange['start']): boolean {
  return p.line < q.line || (p.line === q.line && p.character <= q.character);
}

function contains(outer: LspRange, inner: LspRange): boolean {
  return before(outer.start, inner.start) && before(inner.end, outer.end);
}
