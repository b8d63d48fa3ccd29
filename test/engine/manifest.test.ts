/** Manifest loading: JSONC syntax and schema problems land on the exact node, with 1-based line:column. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseManifest } from '../../server/src/engine/manifest/load';

const at = (text: string, needle: string) => {
  const offset = text.indexOf(needle);
  assert.ok(offset >= 0, `needle ${needle} not in text`);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
};

test('a valid manifest with comments and trailing commas loads', () => {
  const text = `// my disc
{
  "kind": "data", /* block comment */
  "volume": { "label": "X", "created": "2026-01-01T00:00:00Z" },
  "files": [ { "source": "a", "target": "/b", }, { "directory": "/empty" }, ],
}`;
  const r = parseManifest('m.disc.json', text);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.project?.files?.length, 2);
  assert.equal(r.project?.volume?.label, 'X');
});

test('syntax errors point at the offending token', () => {
  const text = '{\n  "kind": "data",\n  "files": [ { "source": "a" } }\n}';
  const r = parseManifest('m.disc.json', text);
  assert.equal(r.project, undefined);
  assert.ok(r.diagnostics.length > 0);
  assert.equal(r.diagnostics[0].code, 'json-syntax');
  assert.equal(r.diagnostics[0].range.start.line, 3);
  assert.equal(r.diagnostics[0].file, 'm.disc.json');
});

test('unknown properties are reported on the key', () => {
  const text = '{\n  "kind": "data",\n  "files": [],\n  "volum": {}\n}';
  const r = parseManifest('m.disc.json', text);
  assert.equal(r.diagnostics.length, 1);
  assert.match(r.diagnostics[0].message, /unknown property "volum"/);
  assert.deepEqual({ line: r.diagnostics[0].range.start.line, column: r.diagnostics[0].range.start.column }, at(text, '"volum"'));
});

test('wrong enum values and types are reported on the value', () => {
  const text = '{\n  "kind": "data",\n  "media": "dvd+q",\n  "iso9660": { "level": 5 },\n  "files": []\n}';
  const r = parseManifest('m.disc.json', text);
  const media = r.diagnostics.find((d) => d.message.includes('"media"'));
  assert.ok(media, JSON.stringify(r.diagnostics));
  assert.deepEqual({ line: media.range.start.line, column: media.range.start.column }, at(text, '"dvd+q"'));
  const level = r.diagnostics.find((d) => d.message.includes('"level"'));
  assert.ok(level);
  assert.deepEqual({ line: level.range.start.line, column: level.range.start.column }, at(text, '5 }'));
});

test('a files entry gets one precise message, not both oneOf branches', () => {
  const text = '{\n  "kind": "data",\n  "files": [\n    { "source": "a", "exclude": "x" },\n    { "targte": "/x" }\n  ]\n}';
  const r = parseManifest('m.disc.json', text);
  const messages = r.diagnostics.map((d) => `${d.range.start.line}: ${d.message}`);
  assert.ok(messages.some((m) => m.startsWith('4: ') && /"exclude" must be array/.test(m)), messages.join('\n'));
  assert.ok(!messages.some((m) => /directory/.test(m) && m.startsWith('4: ')), messages.join('\n'));
  assert.ok(messages.some((m) => m.startsWith('5: ') && /either "source"/.test(m)), messages.join('\n'));
});

test('created must be an RFC 3339 date-time', () => {
  const r = parseManifest('m.disc.json', '{"kind":"data","files":[],"volume":{"created":"yesterday"}}');
  assert.equal(r.diagnostics.length, 1);
  assert.match(r.diagnostics[0].message, /date-time/);
});

test('the generated TypeScript types match the schema', () => {
  const root = path.resolve(__dirname, '..', '..', '..');
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'gen-types.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
