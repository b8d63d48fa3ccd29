/**
 * Errors and diagnostics shared by the whole engine. The engine never prints and never exits: it returns
 * diagnostics or throws one of these, and the CLI / language server decide how to show them.
 */

export type Severity = 'error' | 'warning' | 'info';

/** A position in a text file: 1-based line and column, plus the 0-based character offset. */
export interface Position {
  line: number;
  column: number;
  offset: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** A problem found in a manifest (or in what it refers to), attached to the manifest node that causes it. */
export interface Diagnostic {
  severity: Severity;
  /** Stable machine-readable code, e.g. `source-missing`, `target-collision`, `capacity`. */
  code: string;
  message: string;
  /** The manifest file the position refers to. */
  file: string;
  range: Range;
}

/** `file:line:col: severity: message` — the form compilers use, which editors and terminals link. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.range.start.line}:${d.range.start.column}: ${d.severity}: ${d.message} [${d.code}]`;
}

/** Bad input from the user: a manifest, a source tree or an image that cannot be used. CLI exit code 2. */
export class InputError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(message: string, diagnostics: Diagnostic[] = []) {
    super(message);
    this.name = 'InputError';
    this.diagnostics = diagnostics;
  }
}

/** The operation was cancelled (Ctrl-C, editor cancellation). */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}
