// Completion, hover, code lenses and document symbols from the bundled language server.
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CodeLens, CompletionItem, CompletionList, DocumentSymbol, Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { LspClient, posOf } from './client';
import { makeProject, type Project } from './fixture';

describe('language server: completion, hover, code lenses, symbols', () => {
  let c: LspClient;
  let proj: Project;
  let n = 0;
  before(async () => {
    proj = makeProject();
    c = await LspClient.start();
  });
  after(async () => {
    await c.stop();
    proj.cleanup();
  });

  async function open(text: string): Promise<string> {
    const uri = c.open(proj.manifest(`f${++n}.disc.json`, text));
    await c.diagnostics(uri);
    return uri;
  }

  async function complete(text: string, needle: string, delta: number): Promise<CompletionItem[]> {
    const uri = await open(text);
    const r = await c.request<CompletionList | CompletionItem[] | null>('textDocument/completion', { textDocument: { uri }, position: posOf(text, needle, 0, delta) });
    assert.ok(r, 'a completion result');
    return Array.isArray(r) ? r : r.items;
  }

  async function hover(text: string, needle: string, delta = 1): Promise<string> {
    const uri = await open(text);
    const h = await c.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: posOf(text, needle, 0, delta) });
    assert.ok(h, 'a hover');
    return (h.contents as MarkupContent).value;
  }

  test('the server announces its features and DiscForge capabilities', () => {
    const caps = c.initializeResult.capabilities;
    assert.ok(caps.completionProvider && caps.hoverProvider && caps.codeLensProvider && caps.documentSymbolProvider);
    const df = (caps.experimental as { discforge: { protocolVersion: number; burn: boolean } }).discforge;
    assert.equal(df.protocolVersion, 1);
    assert.equal(df.burn, true);
  });

  test('completion: top-level keys from the schema', async () => {
    const text = `{\n  "kind": "data",\n  \n  "files": []\n}\n`;
    const items = await complete(text, '"kind": "data",\n  ', '"kind": "data",\n  '.length);
    const labels = items.map((i) => i.label);
    for (const k of ['media', 'volume', 'fileSystems', 'iso9660', 'output']) assert.ok(labels.includes(k), `${k} in ${labels.join(', ')}`);
    assert.ok(!labels.includes('kind'), 'a key already present is not offered again');
  });

  test('completion: enum values of "media"', async () => {
    const text = `{ "kind": "data", "media": , "files": [] }`;
    const items = await complete(text, '"media": ', '"media": '.length);
    const labels = items.map((i) => i.label);
    for (const m of ['"cd-r"', '"dvd+r"', '"bd-r"']) assert.ok(labels.includes(m), `${m} in ${labels.join(', ')}`);
  });

  test('completion: file and folder paths for "source", relative to the manifest', async () => {
    const text = `{ "kind": "data", "files": [ { "source": "con" } ] }`;
    const items = await complete(text, '"con"', 4);
    const folder = items.find((i) => i.label === 'content/');
    assert.ok(folder, `content/ in ${items.map((i) => i.label).join(', ')}`);
    assert.equal(folder.kind, 19 /* Folder */);
    const edit = folder.textEdit as { range: { start: { character: number }; end: { character: number } }; newText: string };
    assert.equal(edit.newText, 'content/');
    assert.equal(edit.range.start.character, text.indexOf('"con"') + 1, 'replaces what was typed of the name');
    assert.equal(edit.range.end.character, text.indexOf('"con"') + 4);
  });

  test('completion: inside a folder, its files and subfolders (dot files only when asked)', async () => {
    const text = `{ "kind": "data", "files": [ { "source": "content/" } ] }`;
    const items = await complete(text, '"content/"', 9);
    const labels = items.map((i) => i.label).sort();
    assert.deepEqual(labels, ['README.md', 'docs/', 'photos/']);
    const readme = items.find((i) => i.label === 'README.md')!;
    assert.equal(readme.kind, 17 /* File */);
    const dot = await complete(`{ "kind": "data", "files": [ { "source": "content/." } ] }`, '"content/."', 10);
    assert.ok(dot.some((i) => i.label === '.hidden'));
  });

  test('hover on a files entry: what it resolves to', async () => {
    const text = `{ "kind": "data", "files": [ { "source": "content/photos", "target": "/Photos" } ] }`;
    const v = await hover(text, '"content/photos"', 3);
    assert.match(v, /content\/photos/);
    assert.match(v, /3 files/);
    assert.match(v, /2 folders/); // Photos and Photos/more
    assert.match(v, /6,000 bytes/);
  });

  test('hover on the document: the planned image size and the share of the media', async () => {
    const text = `{\n  "kind": "data",\n  "media": "cd-r",\n  "volume": { "created": "2026-01-01T00:00:00Z" },\n  "files": [ { "source": "content" } ]\n}\n`;
    const v = await hover(text, '"kind"', 2);
    assert.match(v, /Planned image:\*\* [\d.]+ KiB \(([\d,]+) bytes, ([\d,]+) blocks\)/);
    const m = /\(([\d,]+) bytes, ([\d,]+) blocks\)/.exec(v)!;
    const bytes = Number(m[1].replace(/,/g, ''));
    const blocks = Number(m[2].replace(/,/g, ''));
    assert.equal(bytes, blocks * 2048);
    assert.match(v, /7 files/);
    assert.match(v, new RegExp(`Fills ${((blocks / 360000) * 100).toFixed(2)}% of a CD-R 80 min`));
    // The schema's description of the property is there too.
    assert.match(v, /What sort of disc/);
  });

  test('hover on an enum value: its meaning', async () => {
    const text = `{ "kind": "data", "media": "dvd+r", "iso9660": { "level": 1 }, "files": [] }`;
    const media = await hover(text, '"dvd+r"', 2);
    assert.match(media, /DVD\+R/);
    assert.match(media, /2,295,104 blocks/);
    const level = await hover(text, '"level": 1', 9);
    assert.match(level, /8\.3/);
    const fsText = `{ "kind": "data", "fileSystems": ["iso9660", "joliet"], "files": [] }`;
    assert.match(await hover(fsText, '"joliet"', 2), /Unicode/);
  });

  test('code lenses: Build image, Burn…, Inspect (with the image path)', async () => {
    const text = `// a comment first\n{ "kind": "data", "output": "out/x.iso", "files": [] }`;
    const uri = await open(text);
    const lenses = await c.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    assert.deepEqual(lenses.map((l) => l.command?.title), ['Build image', 'Burn…', 'Inspect']);
    assert.deepEqual(lenses.map((l) => l.command?.command), ['discforge.build', 'discforge.burn', 'discforge.inspect']);
    for (const l of lenses) assert.equal(l.range.start.line, 1, 'on the line where the manifest object starts');
    assert.equal(lenses[0].command?.arguments?.[0], uri);
    assert.equal(lenses[2].command?.arguments?.[0], pathToFileURL(path.join(proj.dir, 'out', 'x.iso')).toString());
  });

  test('document symbols: an outline with the files entries and what they resolve to', async () => {
    const text = `{\n  "kind": "data",\n  "volume": { "label": "HELLO" },\n  "files": [\n    { "source": "content/photos", "target": "/Photos" },\n    { "directory": "/empty" }\n  ]\n}\n`;
    const uri = await open(text);
    const syms = await c.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.deepEqual(syms.map((s) => s.name), ['kind', 'volume', 'files']);
    assert.deepEqual(syms[1].children?.map((s) => s.name), ['label']);
    const files = syms[2];
    assert.equal(files.detail, '2 entries');
    assert.deepEqual(files.children?.map((s) => s.name), ['content/photos → /Photos', '/empty']);
    assert.equal(files.children?.[0].detail, '3 files, 5.86 KiB');
    assert.equal(files.children?.[0].range.start.line, 4);
    assert.deepEqual(files.children?.[0].selectionRange.start, posOf(text, '{ "source": "content/photos"'));
  });
});
