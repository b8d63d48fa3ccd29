/**
 * Hover: on an enumerated value, what it means; on a `files` entry, what it resolves to (files, folders, bytes);
 * elsewhere, the schema's description of the property and the planned image: its size and the share of the
 * target media it fills.
 */
import { findNodeAtOffset, getNodePath, parseTree, type Node } from 'jsonc-parser';
import type { Hover, HoverParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { formatBytes } from '../engine/media';
import type { ServerContext } from './context';
import { meaningOf } from './meanings';
import type { BootEntrySummary, EntrySummary, PlanSummary } from './planSummary';

const SECTOR = 2048;

export class HoverHandler {
  constructor(private readonly ctx: ServerContext) {
    ctx.connection.onHover((p) => this.hover(p));
  }

  async hover(p: HoverParams): Promise<Hover | null> {
    const doc = this.ctx.documents.get(p.textDocument.uri);
    if (!doc) return null;
    const offset = doc.offsetAt(p.position);
    const root = parseTree(doc.getText(), [], { allowTrailingComma: true });
    const node = root ? findNodeAtOffset(root, offset, true) : undefined;
    const nodePath = node ? getNodePath(node) : [];
    const isKey = node?.parent?.type === 'property' && node.parent.children?.[0] === node;
    const range = node && node.type !== 'object' && node.type !== 'array' ? rangeOf(doc, node) : undefined;

    // 1. An enumerated value.
    if (node && !isKey && (node.type === 'string' || node.type === 'number')) {
      const meaning = meaningOf(nodePath, node.value);
      if (meaning) return { contents: { kind: 'markdown', value: meaning }, range };
    }
    const plan = await this.ctx.planNow(doc);

    // 2. Inside a files entry.
    if (nodePath[0] === 'files' && typeof nodePath[1] === 'number') {
      const i = nodePath[1];
      const entryNode = root && findChild(root, ['files', i]);
      const entry = entryNode && entryValue(entryNode);
      const lines = [entryTitle(i, entry)];
      const s = plan?.entries[i];
      if (!plan) lines.push('(not planned yet)');
      else if (entry && 'directory' in entry && !('source' in entry)) lines.push(`An empty folder on the disc${s ? '' : ' (it already exists)'}.`);
      else lines.push(entrySummary(s, entry?.target));
      const errors = plan?.diagnostics.filter((d) => d.severity === 'error' && entryNode && d.range.start.offset >= entryNode.offset && d.range.end.offset <= entryNode.offset + entryNode.length);
      if (errors?.length) lines.push(`⚠ ${errors.length} problem${errors.length > 1 ? 's' : ''}: ${errors[0].message}`);
      return { contents: { kind: 'markdown', value: lines.join('\n\n') }, range };
    }

    // 3. Inside a boot entry: what the firmware loads, from where.
    if (nodePath[0] === 'boot' && typeof nodePath[1] === 'number') {
      const i = nodePath[1];
      const lines = [bootText(i, plan?.boot?.[i])];
      const entryNode = root && findChild(root, ['boot', i]);
      const errors = plan?.diagnostics.filter((d) => d.severity !== 'info' && entryNode && d.range.start.offset >= entryNode.offset && d.range.end.offset <= entryNode.offset + entryNode.length);
      if (errors?.length) lines.push(`⚠ ${errors.length} problem${errors.length > 1 ? 's' : ''}: ${errors[0].message}`);
      return { contents: { kind: 'markdown', value: lines.join('\n\n') }, range };
    }

    // 4. The document: schema description (if any) and the planned image.
    const parts: string[] = [];
    if (isKey || nodePath.length > 0) {
      const schemaHover = await this.ctx.json.ls.doHover(doc, p.position, this.ctx.json.parse(doc));
      const text = schemaHover ? hoverText(schemaHover.contents) : '';
      if (text) parts.push(text);
    }
    parts.push(planText(plan));
    return { contents: { kind: 'markdown', value: parts.join('\n\n---\n\n') }, range };
  }
}

interface EntryValue {
  source?: string;
  target?: string;
  directory?: string;
}

function findChild(root: Node, path: (string | number)[]): Node | undefined {
  let n: Node | undefined = root;
  for (const seg of path) {
    if (!n) return undefined;
    if (typeof seg === 'number') n = n.type === 'array' ? n.children?.[seg] : undefined;
    else n = n.type === 'object' ? n.children?.find((c) => c.children?.[0]?.value === seg)?.children?.[1] : undefined;
  }
  return n;
}

function entryValue(n: Node): EntryValue | undefined {
  if (n.type !== 'object') return undefined;
  const v: EntryValue = {};
  for (const prop of n.children ?? []) {
    const [k, val] = prop.children ?? [];
    if (k && val && val.type === 'string' && (k.value === 'source' || k.value === 'target' || k.value === 'directory')) v[k.value as keyof EntryValue] = val.value as string;
  }
  return v;
}

function entryTitle(i: number, e: EntryValue | undefined): string {
  if (e?.source !== undefined) return `**files[${i}]**: \`${e.source}\` → \`${e.target ?? '/'}\``;
  if (e?.directory !== undefined) return `**files[${i}]**: folder \`${e.directory}\``;
  return `**files[${i}]**`;
}

export function entrySummary(s: EntrySummary | undefined, target?: string): string {
  if (!s) return 'Resolves to nothing on the disc.';
  const parts = [`${s.files} file${s.files === 1 ? '' : 's'}`];
  if (s.directories) parts.push(`${s.directories} folder${s.directories === 1 ? '' : 's'}`);
  if (s.symlinks) parts.push(`${s.symlinks} symbolic link${s.symlinks === 1 ? '' : 's'}`);
  return `Resolves to ${parts.join(', ')}: ${formatBytes(s.bytes)} (${s.bytes.toLocaleString('en-US')} bytes)${target ? ` under \`${target}\`` : ''}.`;
}

const PLATFORM_NAMES: Record<string, string> = { bios: 'BIOS', efi: 'UEFI', ppc: 'PowerPC', mac: 'Mac' };

export function bootText(i: number, b: BootEntrySummary | undefined): string {
  if (!b) return `**boot[${i}]**: not planned (see the problems)`;
  const what = b.emulation === 'none' ? 'no emulation' : `${b.emulation} emulation`;
  const lines = [`**boot[${i}]**: ${PLATFORM_NAMES[b.platform] ?? b.platform}, ${what}${b.isDefault ? ' (the default entry)' : ''}`];
  const image = b.esp
    ? `A generated EFI system partition: FAT${b.esp.fatType}, ${formatBytes(b.bytes)} (${b.bytes.toLocaleString('en-US')} bytes), ${b.esp.clusterBytes}-byte clusters`
    : `Boot image of ${formatBytes(b.bytes)} (${b.bytes.toLocaleString('en-US')} bytes)`;
  lines.push(`${image}${b.lba !== undefined ? ` at block ${b.lba.toLocaleString('en-US')}` : ''}${b.hidden ? ', hidden from the folders' : ''}.`);
  if (b.emulation === 'none') lines.push(`The firmware loads ${b.sectorCount} × 512 bytes (${formatBytes(b.sectorCount * 512)})${b.bootInfoTable ? '; a boot info table is patched in at byte 8' : ''}.`);
  return lines.join('\n\n');
}

export function planText(plan: PlanSummary | undefined): string {
  if (!plan) return '**Planned image:** not planned yet';
  if (plan.bytes === undefined || plan.blocks === undefined) {
    const n = plan.diagnostics.filter((d) => d.severity === 'error').length;
    return `**Planned image:** none — the manifest has ${n} error${n === 1 ? '' : 's'}`;
  }
  const lines = [
    `**Planned image:** ${formatBytes(plan.bytes)} (${plan.bytes.toLocaleString('en-US')} bytes, ${plan.blocks.toLocaleString('en-US')} blocks)`,
    `${plan.files ?? 0} files, ${plan.directories ?? 0} folders, ${formatBytes(plan.dataBytes ?? 0)} of file data`,
  ];
  if (plan.media) {
    const share = (plan.blocks / plan.media.blocks) * 100;
    const free = (plan.media.blocks - plan.blocks) * SECTOR;
    lines.push(share <= 100
      ? `Fills ${share >= 10 ? share.toFixed(1) : share.toFixed(2)}% of a ${plan.media.name} (${formatBytes(free)} left)`
      : `Does not fit a ${plan.media.name}: ${share.toFixed(1)}% of its capacity, ${formatBytes(-free)} too much`);
  }
  if (plan.output) lines.push(`Output: \`${plan.output}\``);
  return lines.join('\n\n');
}

function rangeOf(doc: TextDocument, n: Node) {
  return { start: doc.positionAt(n.offset), end: doc.positionAt(n.offset + n.length) };
}

function hoverText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map(hoverText).filter(Boolean).join('\n\n');
  if (c && typeof c === 'object' && 'value' in c) return String((c as { value: unknown }).value);
  return '';
}
