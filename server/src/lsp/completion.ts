/**
 * Completion: the schema's keys and values (vscode-json-languageservice), and file system paths for the values
 * that name files relative to the manifest: `files[].source`, `boot[].efiDirectory` (folders only),
 * `tracks[].source`; and paths on the disc for `boot[].image` (a file that `files` put on the disc), from the plan.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getLocation, type JSONPath } from 'jsonc-parser';
import {
  CompletionItemKind,
  type CompletionItem,
  type CompletionList,
  type CompletionParams,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { filePath, type ServerContext } from './context';

/** Which string values are paths, and of what. */
export function pathKind(p: JSONPath): 'any' | 'folder' | 'disc' | undefined {
  if (p.length !== 3 || typeof p[1] !== 'number') return undefined;
  if ((p[0] === 'files' || p[0] === 'tracks') && p[2] === 'source') return 'any';
  if (p[0] === 'boot' && (p[2] === 'image' || p[2] === 'catalogPath')) return 'disc';
  if (p[0] === 'boot' && p[2] === 'efiDirectory') return 'folder';
  return undefined;
}

const MAX_ITEMS = 500;

export class CompletionHandler {
  constructor(private readonly ctx: ServerContext) {
    ctx.connection.onCompletion((p) => this.complete(p));
  }

  async complete(p: CompletionParams): Promise<CompletionList | null> {
    const doc = this.ctx.documents.get(p.textDocument.uri);
    if (!doc) return null;
    const paths = await this.pathCompletion(doc, doc.offsetAt(p.position));
    if (paths) return paths;
    return this.ctx.json.ls.doComplete(doc, p.position, this.ctx.json.parse(doc));
  }

  private async pathCompletion(doc: TextDocument, offset: number): Promise<CompletionList | undefined> {
    const text = doc.getText();
    const loc = getLocation(text, offset);
    const node = loc.previousNode;
    if (loc.isAtPropertyKey || !node || node.type !== 'string') return undefined;
    const kind = pathKind(loc.path);
    if (!kind) return undefined;
    // The cursor must be inside the string's quotes.
    if (offset <= node.offset || offset >= node.offset + node.length + (text[node.offset + node.length - 1] === '"' ? 0 : 1)) return undefined;
    const manifest = filePath(doc.uri);
    if (!manifest) return undefined;
    const typed = text.slice(node.offset + 1, offset);
    if (typed.includes('\\') || /[*?[\]{}]/.test(typed)) return { isIncomplete: false, items: [] };
    const slash = typed.lastIndexOf('/');
    const dirPart = typed.slice(0, slash + 1);
    const namePart = typed.slice(slash + 1);
    if (kind === 'disc') return this.discCompletion(doc, offset, dirPart, namePart);
    const dir = path.resolve(path.dirname(manifest), dirPart || '.');
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return { isIncomplete: false, items: [] };
    }
    const start = doc.positionAt(offset - namePart.length);
    const end = doc.positionAt(offset);
    const items: CompletionItem[] = [];
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.') && !namePart.startsWith('.')) continue;
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        try {
          isDir = fs.statSync(path.join(dir, e.name)).isDirectory();
        } catch {
          /* a broken link: offer it as a file */
        }
      }
      if (kind === 'folder' && !isDir) continue;
      const insert = isDir ? e.name + '/' : e.name;
      items.push({
        label: insert,
        kind: isDir ? CompletionItemKind.Folder : CompletionItemKind.File,
        detail: path.join(dirPart, insert),
        filterText: insert,
        sortText: (isDir ? '0' : '1') + e.name,
        textEdit: { range: { start, end }, newText: insert },
        command: isDir ? { title: 'Suggest', command: 'editor.action.triggerSuggest' } : undefined,
      });
      if (items.length >= MAX_ITEMS) break;
    }
    return { isIncomplete: items.length >= MAX_ITEMS, items };
  }

  /** Paths on the disc (boot images are files that `files` put there), from the planned tree. */
  private async discCompletion(doc: TextDocument, offset: number, dirPart: string, namePart: string): Promise<CompletionList> {
    const plan = await this.ctx.planNow(doc);
    const folder = dirPart.replace(/^\/+/, '').replace(/\/+$/, '');
    const names = plan?.discFolders?.[folder ? '/' + folder : ''] ?? [];
    const start = doc.positionAt(offset - namePart.length);
    const end = doc.positionAt(offset);
    const items: CompletionItem[] = names.slice(0, MAX_ITEMS).map((name) => {
      const isDir = name.endsWith('/');
      const prefix = dirPart.startsWith('/') || dirPart === '' ? '' : '/';
      return {
        label: name,
        kind: isDir ? CompletionItemKind.Folder : CompletionItemKind.File,
        detail: `on the disc: ${prefix}${dirPart}${name}`,
        filterText: name,
        sortText: (isDir ? '0' : '1') + name,
        textEdit: { range: { start, end }, newText: dirPart === '' ? '/' + name : name },
        command: isDir ? { title: 'Suggest', command: 'editor.action.triggerSuggest' } : undefined,
      };
    });
    return { isIncomplete: names.length > MAX_ITEMS, items };
  }
}
