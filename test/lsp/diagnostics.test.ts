// Diagnostics from the bundled language server, through a real JSON-RPC client: each kind of error on its exact
// manifest node, no duplicates between the JSON service and the engine, and debounced latest-wins publishing.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { LspClient, rangeOf } from './client';
import { makeProject, type Project } from './fixture';

describe('language server: diagnostics', () => {
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

  async function diagnose(text: string) {
    const uri = c.open(proj.manifest(`m${++n}.disc.json`, text));
    return c.diagnostics(uri);
  }

  test('a valid manifest has no diagnostics', async () => {
    const d = await diagnose(`{ "kind": "data", "files": [ { "source": "content/photos", "target": "/Photos" } ] }`);
    assert.deepEqual(d, []);
  });

  test('JSON syntax: a missing comma, on the token where the comma was expected', async () => {
    const text = `{\n  "kind": "data"\n  "files": []\n}\n`;
    const d = await diagnose(text);
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0].code, 'json-syntax');
    assert.equal(d[0].severity, 1);
    assert.match(d[0].message, /comma/i);
    assert.deepEqual(d[0].range, rangeOf(text, '"files"'));
  });

  test('JSON syntax: an unterminated string', async () => {
    const text = `{ "kind": "data", "files": [], "output": "x.iso }\n`;
    const d = await diagnose(text);
    assert.ok(d.some((x) => x.code === 'json-syntax' && x.range.start.character === text.indexOf('"x.iso')), JSON.stringify(d));
  });

  test('schema: a bad enum value on the value, an unknown property on its key, each reported once', async () => {
    const text = `{\n  "kind": "data",\n  "media": "dvd+x",\n  "colour": 1,\n  "files": []\n}\n`;
    const d = await diagnose(text);
    assert.equal(d.length, 2, JSON.stringify(d, null, 1));
    const media = d.find((x) => x.range.start.line === 2)!;
    assert.equal(media.code, 'schema');
    assert.deepEqual(media.range, rangeOf(text, '"dvd+x"'));
    assert.match(media.message, /dvd\+r/);
    const colour = d.find((x) => x.range.start.line === 3)!;
    assert.equal(colour.code, 'schema');
    assert.deepEqual(colour.range, rangeOf(text, '"colour"'));
    assert.match(colour.message, /colour/);
  });

  test('schema: a missing required property', async () => {
    const text = `{\n  "kind": "data"\n}\n`;
    const d = await diagnose(text);
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0].code, 'schema');
    assert.match(d[0].message, /files/);
    assert.equal(d[0].range.start.line, 0);
  });

  test('a date-time the schema rejects', async () => {
    const text = `{ "kind": "data", "volume": { "created": "yesterday" }, "files": [] }`;
    const d = await diagnose(text);
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0].code, 'schema');
    assert.deepEqual(d[0].range, rangeOf(text, '"yesterday"'));
  });

  test('a source that does not exist, on the source string', async () => {
    const text = `{\n  "kind": "data",\n  "files": [\n    { "source": "content/nope.txt", "target": "/X" }\n  ]\n}\n`;
    const d = await diagnose(text);
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0].code, 'source-missing');
    assert.deepEqual(d[0].range, rangeOf(text, '"content/nope.txt"'));
  });

  test('a glob that matches nothing, on the source string', async () => {
    const text = `{\n  "kind": "data",\n  "files": [ { "source": "content/*.zip" } ]\n}\n`;
    const d = await diagnose(text);
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0].code, 'glob-empty');
    assert.deepEqual(d[0].range, rangeOf(text, '"content/*.zip"'));
  });

  test('two entries on one target: on the later entry', async () => {
    const first = `{ "source": "content/docs/a.txt", "target": "/SAME.TXT" }`;
    const second = `{ "source": "content/docs/b.txt", "target": "/SAME.TXT" }`;
    const text = `{\n  "kind": "data",\n  "files": [\n    ${first},\n    ${second}\n  ]\n}\n`;
    const d = await diagnose(text);
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0].code, 'target-collision');
    assert.deepEqual(d[0].range, rangeOf(text, second));
    assert.match(d[0].message, /line 4/);
  });

  test('a tree too deep for ISO 9660 without Rock Ridge: on the entry', async () => {
    const entry = `{ "source": "deep" }`;
    const text = `{\n  "kind": "data",\n  "fileSystems": ["iso9660"],\n  "files": [ ${entry} ]\n}\n`;
    const d = await diagnose(text);
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0].code, 'tree-too-deep');
    assert.deepEqual(d[0].range, rangeOf(text, entry));
    assert.match(d[0].message, /9 levels/);
  });

  test('an image larger than the media: on "media", saying by how much', async () => {
    const text = `{\n  "kind": "data",\n  "media": "cd-r",\n  "files": [ { "source": "big" } ]\n}\n`;
    const d = await diagnose(text);
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0].code, 'capacity');
    assert.deepEqual(d[0].range, rangeOf(text, '"cd-r"'));
    assert.match(d[0].message, /too much/);
    assert.match(d[0].message, /\d+ bytes\) too much/);
  });

  test('debounced, latest wins: quick edits publish only the last version', async () => {
    const uri = c.open(proj.manifest(`m${++n}.disc.json`, `{ "kind": "data", "files": [] }`));
    await c.diagnostics(uri, 1);
    const base = c.published.length;
    let v = 1;
    for (let i = 0; i < 5; i++) v = c.change(uri, `{ "kind": "data", "files": [ { "source": "missing-${i}" } ] }`);
    const d = await c.diagnostics(uri, v);
    assert.equal(d.length, 1);
    assert.match(d[0].message, /missing-4/);
    await new Promise((r) => setTimeout(r, 400));
    const later = c.published.slice(base).filter((p) => p.uri === uri);
    assert.deepEqual(later.map((p) => p.version), [v], 'only the last version is published');
  });

  test('fixing the manifest clears the diagnostics', async () => {
    const uri = c.open(proj.manifest(`m${++n}.disc.json`, `{ "kind": "data", "files": [ { "source": "nope" } ] }`));
    assert.equal((await c.diagnostics(uri, 1)).length, 1);
    const v = c.change(uri, `{ "kind": "data", "files": [ { "source": "content/README.md" } ] }`);
    assert.deepEqual(await c.diagnostics(uri, v), []);
  });

  test('a source created on disk clears its diagnostic (watched files)', async () => {
    const uri = c.open(proj.manifest(`m${++n}.disc.json`, `{ "kind": "data", "files": [ { "source": "later.txt" } ] }`));
    assert.equal((await c.diagnostics(uri, 1))[0]?.code, 'source-missing');
    const base = c.published.length;
    fs.writeFileSync(path.join(proj.dir, 'later.txt'), 'here now\n');
    c.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(path.join(proj.dir, 'later.txt')).toString(), type: 1 }] });
    await c.waitFor(() => c.published.slice(base).some((p) => p.uri === uri && p.diagnostics.length === 0), 'diagnostics cleared after the file appeared');
  });

  test('closing a document clears its diagnostics', async () => {
    const uri = c.open(proj.manifest(`m${++n}.disc.json`, `{ "kind": "data", "files": [ { "source": "nope" } ] }`));
    await c.diagnostics(uri, 1);
    const base = c.published.length;
    c.close(uri);
    await c.waitFor(() => c.published.slice(base).some((p) => p.uri === uri && p.diagnostics.length === 0), 'cleared diagnostics');
  });
});
