/**
 * What every handler shares: the connection, the open documents, the JSON service, the planner, the settings and
 * the latest plan of each document. Handlers are classes, one per concern, each registering its own handlers.
 */
import { fileURLToPath } from 'node:url';
import type { Connection, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { PlanAnalyzer } from './analyzer';
import type { JsonService } from './jsonService';
import type { PlanSummary } from './planSummary';

export interface Settings {
  /** Pause after the last keystroke before diagnostics are recomputed (ms). */
  diagnosticsDelay: number;
}

export const DEFAULT_SETTINGS: Settings = { diagnosticsDelay: 250 };

export interface ServerContext {
  connection: Connection;
  documents: TextDocuments<TextDocument>;
  json: JsonService;
  analyzer: PlanAnalyzer;
  settings: Settings;
  /** The newest plan computed for each open document (possibly of an older version). */
  plans: Map<string, { version: number; summary: PlanSummary }>;
  /** Plans the current text of a document now (or returns the cached plan of this version). */
  planNow(doc: TextDocument): Promise<PlanSummary | undefined>;
  log(message: string): void;
}

/** The file system path of a file: URI, or undefined for other schemes (untitled documents cannot be planned). */
export function filePath(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}
