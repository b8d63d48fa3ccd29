/** Reusing a scan between plans (the editor re-plans on every edit) — and never reusing a stale one. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { planProject } from '../../server/src/engine/build';
import { ScanCache } from '../../server/src/engine/resolve/cache';
import { tmpdir, writeTree } from '../util/tmpdir';

const root = tmpdir();
writeTree(root, { 'src/a.txt': 'a', 'src/sub/b.txt': 'bb' });
const manifest = path.join(root, 'm.disc.json');
const text = (label: string, comment = '') =>
  `{\n${comment}  "kind": "data",\n  "volume": { "label": "${label}" },\n  "fileSystems": ["iso9660", "joliet", "rockridge"],\n  "files": [ { "source": "src" }, { "source": "missing.txt" } ]\n}`;

test('an edit that does not touch "files" reuses the scan, and its problems move with the text', () => {
  const cache = new ScanCache();
  const first = planProject(manifest, { text: text('A'), scanCache: cache });
  const second = planProject(manifest, { text: text('B', '  // a new line above\n'), scanCache: cache });
  assert.equal(second.root, first.root, 'the same scanned tree');
  const missing = (p: typeof first) => p.diagnostics.find((d) => d.code === 'source-missing')!;
  assert.equal(missing(second).range.start.line, missing(first).range.start.line + 1);
});

test('a new file in a scanned folder, a reported change on disk, or other entries mean a fresh scan', () => {
  const cache = new ScanCache();
  const first = planProject(manifest, { text: text('A'), scanCache: cache });
  assert.equal(first.stats!.files, 2);
  const dir = path.join(root, 'src', 'sub');
  fs.writeFileSync(path.join(dir, 'c.txt'), 'ccc');
  fs.utimesSync(dir, new Date(), new Date(Date.now() + 5000)); // a folder mtime that surely differs
  const second = planProject(manifest, { text: text('A'), scanCache: cache });
  assert.notEqual(second.root, first.root);
  assert.equal(second.stats!.files, 3);
  const third = planProject(manifest, { text: text('A'), scanCache: cache, scanGeneration: 1 });
  assert.notEqual(third.root, second.root);
  const fourth = planProject(manifest, { text: text('A').replace('"missing.txt"', '"src/a.txt", "target": "/x"'), scanCache: cache, scanGeneration: 1 });
  assert.notEqual(fourth.root, third.root);
  assert.ok(fourth.root!.children.has('x'));
});

test('an old scan expires', async () => {
  const cache = new ScanCache(20);
  const first = planProject(manifest, { text: text('A'), scanCache: cache });
  await new Promise((r) => setTimeout(r, 40));
  const second = planProject(manifest, { text: text('A'), scanCache: cache });
  assert.notEqual(second.root, first.root);
});
