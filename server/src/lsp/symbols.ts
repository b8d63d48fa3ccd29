/**
 * Document symbols: the outline of a manifest. Top-level properties; each `files` entry as "source → target"
 * (with what it resolves to), each `boot` entry and each audio track; the objects' own properties.
 */
import { parseTree, type Node } from 'jsonc-parser';
import { SymbolKind, type DocumentSymbol, type DocumentSymbolParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { formatBytes } from '../engine/media';
import type { ServerContext } from './context';
import type { PlanSummary } from './planSummary';

export class SymbolsHandler {
  constructor(private readonly ctx: ServerContext) {
    ctx.connection.onDocumentSymbol((p) => this.symbols(p));
  }

  symbols(p: DocumentSymbolParams): DocumentSymbol[] {
    const doc = this.ctx.documents.get(p.textDocument.uri);
    if (!doc) return [];
    const root = parseTree(doc.getText(), [], { allowTrailingComma: true });
    if (root?.type !== 'object') return [];
    const cached = this.ctx.plans.get(doc.uri);
    return outline(doc, root, cached?.version === doc.version ? cached.summary : undefined);
  }
}

export function outline(doc: TextDocument, root: Node, plan: PlanSummary | undefined): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const prop of root.children ?? []) {
    const [k, v] = prop.children ?? [];
    if (!k || !v) continue;
    const key = String(k.value);
    const sym = symbol(doc, key, prop, k, kindOf(v), v.type === 'array' || v.type === 'object' ? undefined : scalar(v));
    if (v.type === 'array') {
      sym.children = (v.children ?? []).map((item, i) => arrayItem(doc, key, item, i, plan));
      sym.detail = `${v.children?.length ?? 0} entr${v.children?.length === 1 ? 'y' : 'ies'}`;
    } else if (v.type === 'object') {
      sym.children = properties(doc, v);
    }
    out.push(sym);
  }
  return out;
}

function arrayItem(doc: TextDocument, key: string, item: Node, i: number, plan: PlanSummary | undefined): DocumentSymbol {
  const get = (name: string): string | undefined => {
    const p = item.type === 'object' ? item.children?.find((c) => c.children?.[0]?.value === name) : undefined;
    const v = p?.children?.[1];
    return v && (v.type === 'string' || v.type === 'number' || v.type === 'boolean') ? String(v.value) : undefined;
  };
  let name: string;
  let detail: string | undefined;
  let kind: SymbolKind = SymbolKind.Object;
  if (key === 'files') {
    const source = get('source');
    const directory = get('directory');
    if (source !== undefined) {
      name = `${source} → ${get('target') ?? '/'}`;
      kind = SymbolKind.File;
      const s = plan?.entries[i];
      if (plan) detail = s ? `${s.files} file${s.files === 1 ? '' : 's'}, ${formatBytes(s.bytes)}` : 'nothing';
    } else if (directory !== undefined) {
      name = directory;
      kind = SymbolKind.Namespace;
      detail = 'folder';
    } else name = `entry ${i + 1}`;
  } else if (key === 'boot') {
    name = `${get('platform') ?? 'boot'}: ${get('image') ?? get('efiDirectory') ?? '?'}`;
    detail = get('emulation');
    kind = SymbolKind.Event;
  } else if (key === 'tracks') {
    name = `${i + 1}. ${get('title') ?? get('source') ?? 'track'}`;
    detail = get('title') !== undefined ? get('source') : undefined;
    kind = SymbolKind.Event;
  } else {
    name = item.type === 'object' || item.type === 'array' ? `${key}[${i}]` : String(item.value);
    kind = kindOf(item);
  }
  const sym = symbol(doc, name || `entry ${i + 1}`, item, item, kind, detail);
  if (item.type === 'object' && key !== 'files') sym.children = properties(doc, item);
  return sym;
}

function properties(doc: TextDocument, obj: Node): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const prop of obj.children ?? []) {
    const [k, v] = prop.children ?? [];
    if (!k || !v) continue;
    const sym = symbol(doc, String(k.value), prop, k, kindOf(v), v.type === 'object' || v.type === 'array' ? undefined : scalar(v));
    if (v.type === 'object') sym.children = properties(doc, v);
    out.push(sym);
  }
  return out;
}

function symbol(doc: TextDocument, name: string, whole: Node, sel: Node, kind: SymbolKind, detail?: string): DocumentSymbol {
  return {
    name,
    detail,
    kind,
    range: { start: doc.positionAt(whole.offset), end: doc.positionAt(whole.offset + whole.length) },
    selectionRange: { start: doc.positionAt(sel.offset), end: doc.positionAt(sel.offset + sel.length) },
  };
}

function kindOf(v: Node): SymbolKind {
  switch (v.type) {
    case 'array':
      return SymbolKind.Array;
    case 'object':
      return SymbolKind.Module;
    case 'number':
      return SymbolKind.Number;
    case 'boolean':
      return SymbolKind.Boolean;
    case 'null':
      return SymbolKind.Null;
    default:
      return SymbolKind.String;
  }
}

function scalar(v: Node): string {
  return v.type === 'string' ? String(v.value) : String(v.value);
}
