/** Resolving sources into the disc tree, and the semantic errors, each on its manifest node. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildImage, planProject, type Plan } from '../../server/src/engine/build';
import { inspectImage } from '../../server/src/engine/inspect';
import { pathOf, type DirNode, type TreeNode } from '../../server/src/engine/model';
import { tmpdir, writeTree } from '../util/tmpdir';

const root = tmpdir();
writeTree(root, {
  'photos/a.jpg': 'A',
  'photos/sub/b.jpg': 'BB',
  'photos/.hidden': 'h',
  'build/x.bin': 'x',
  'build/y.bin': 'y',
  'build/z.tmp': 'z',
  'build/deep/w.bin': 'w',
  'README.md': 'readme',
  'docs/guide.txt': 'g',
});

function plan(manifest: object | string, name = 'p.disc.json'): Plan {
  const file = path.join(root, name);
  fs.writeFileSync(file, typeof manifest === 'string' ? manifest : JSON.stringify(manifest, null, 2));
  return planProject(file, { nowMs: 0 });
}

function paths(dir: DirNode): string[] {
  const out: string[] = [];
  const walk = (n: TreeNode) => {
    if (n.parent) out.push(pathOf(n) + (n.kind === 'dir' ? '/' : ''));
    if (n.kind === 'dir') for (const c of n.children.values()) walk(c);
  };
  walk(dir);
  return out.sort();
}

const errors = (p: Plan) => p.diagnostics.filter((d) => d.severity === 'error');

test('folders, globs, renamed files, default targets and empty folders', () => {
  const p = plan({
    kind: 'data',
    files: [
      { source: 'photos', target: '/Photos' },
      { source: 'build/*.bin', target: '/firmware/', exclude: ['**/*.tmp'] },
      { source: 'README.md', target: '/README.TXT' },
      { source: 'README.md' },
      { source: 'docs', target: '/manual/' },
      { directory: '/empty/inner' },
    ],
  });
  assert.deepEqual(errors(p), []);
  assert.deepEqual(paths(p.root!), [
    '/Photos/', '/Photos/.hidden', '/Photos/a.jpg', '/Photos/sub/', '/Photos/sub/b.jpg',
    '/README.TXT', '/README.md', '/empty/', '/empty/inner/',
    '/firmware/', '/firmware/x.bin', '/firmware/y.bin',
    '/manual/', '/manual/docs/', '/manual/docs/guide.txt',
  ]);
  assert.equal(p.stats!.files, 8);
});

test('a folder with target "/" puts its contents in the root; ** globs keep relative paths; excludes by base name', () => {
  const p = plan({ kind: 'data', files: [{ source: 'photos', target: '/' }, { source: 'build/**/*.bin', target: '/fw', exclude: ['y.bin'] }] });
  assert.deepEqual(errors(p), []);
  assert.deepEqual(paths(p.root!), ['/.hidden', '/a.jpg', '/fw/', '/fw/deep/', '/fw/deep/w.bin', '/fw/x.bin', '/sub/', '/sub/b.jpg']);
});

test('a missing source is an error on its "source" value', () => {
  const text = '{\n  "kind": "data",\n  "files": [\n    { "source": "nope/file.txt" }\n  ]\n}';
  const p = plan(text);
  const e = errors(p);
  assert.equal(e.length, 1);
  assert.equal(e[0].code, 'source-missing');
  assert.equal(e[0].range.start.line, 4);
  assert.equal(e[0].range.start.column, 17);
  assert.match(e[0].message, /nope\/file\.txt" does not exist/);
});

test('a glob that matches nothing is an error', () => {
  const p = plan({ kind: 'data', files: [{ source: 'build/*.exe' }] });
  assert.deepEqual(errors(p).map((d) => d.code), ['glob-empty']);
});

test('two entries on one target: the second entry is the error, naming the first', () => {
  const text = '{\n  "kind": "data",\n  "files": [\n    { "source": "README.md", "target": "/A.TXT" },\n    { "source": "docs/guide.txt", "target": "/A.TXT" }\n  ]\n}';
  const p = plan(text);
  const e = errors(p);
  assert.equal(e.length, 1);
  assert.equal(e[0].code, 'target-collision');
  assert.equal(e[0].range.start.line, 5);
  assert.match(e[0].message, /placed by the entry at line 4/);
});

test('a file where a folder must go collides too', () => {
  const p = plan({ kind: 'data', files: [{ source: 'README.md', target: '/x' }, { directory: '/x/y' }] });
  assert.deepEqual(errors(p).map((d) => d.code), ['target-collision']);
});

test('names that cannot be represented are errors', () => {
  for (const target of ['/a/../b', '/a//b', '/bad\u0001name', '/' + 'n'.repeat(256)]) {
    const p = plan({ kind: 'data', files: [{ source: 'README.md', target }] });
    assert.deepEqual(errors(p).map((d) => d.code), ['name-invalid'], target);
  }
});

test('symbolic links are kept with Rock Ridge and followed without it', () => {
  fs.mkdirSync(path.join(root, 'links'), { recursive: true });
  fs.symlinkSync('../README.md', path.join(root, 'links', 'l'));
  const withRr = plan({ kind: 'data', files: [{ source: 'links', target: '/l' }] });
  const node = (withRr.root!.children.get('l') as DirNode).children.get('l')!;
  assert.equal(node.kind, 'symlink');
  assert.equal(node.kind === 'symlink' && node.target, '../README.md');
  const followed = plan({ kind: 'data', files: [{ source: 'links', target: '/l', followSymlinks: true }] });
  assert.equal((followed.root!.children.get('l') as DirNode).children.get('l')!.kind, 'file');
  const noRr = plan({ kind: 'data', fileSystems: ['iso9660', 'joliet'], files: [{ source: 'links', target: '/l' }] });
  assert.equal((noRr.root!.children.get('l') as DirNode).children.get('l')!.kind, 'file');
});

test('a tree deeper than 8 levels is refused without Rock Ridge at levels 1-3, relocated with it', () => {
  fs.mkdirSync(path.join(root, 'deep/1/2/3/4/5/6/7/8/9'), { recursive: true });
  fs.writeFileSync(path.join(root, 'deep/1/2/3/4/5/6/7/8/9/f'), 'f');
  const text = '{\n  "kind": "data",\n  "fileSystems": ["iso9660", "joliet"],\n  "files": [\n    { "source": "deep" }\n  ]\n}';
  const refused = plan(text);
  assert.deepEqual(errors(refused).map((d) => d.code), ['tree-too-deep']);
  assert.equal(errors(refused)[0].range.start.line, 5);
  assert.deepEqual(errors(plan({ kind: 'data', files: [{ source: 'deep' }] })), []);
  assert.deepEqual(errors(plan({ kind: 'data', fileSystems: ['iso9660'], iso9660: { level: 4 }, files: [{ source: 'deep' }] })), []);
});

test('capacity: a tree larger than the media is an error on "media", saying by how much', () => {
  const big = path.join(root, 'big.bin');
  fs.closeSync(fs.openSync(big, 'w'));
  fs.truncateSync(big, 800 * 1024 * 1024);
  const text = '{\n  "kind": "data",\n  "media": "cd-r",\n  "files": [ { "source": "big.bin" } ]\n}';
  const p = plan(text);
  const e = errors(p);
  assert.equal(e.length, 1);
  assert.equal(e[0].code, 'capacity');
  assert.equal(e[0].range.start.line, 3);
  const over = p.image!.blocks - 360_000;
  assert.ok(over > 0);
  assert.match(e[0].message, new RegExp(`\\(${over * 2048} bytes\\) too much`));
  assert.deepEqual(errors(plan(text.replace('cd-r', 'dvd+r'))), []);
  fs.rmSync(big);
});

test('level 1 and 2 refuse files of 4 GiB and more', () => {
  const big = path.join(root, 'huge.bin');
  fs.closeSync(fs.openSync(big, 'w'));
  fs.truncateSync(big, 4 * 1024 ** 3);
  for (const level of [1, 2]) {
    const p = plan({ kind: 'data', iso9660: { level }, files: [{ source: 'huge.bin' }] });
    assert.deepEqual(errors(p).map((d) => d.code), ['file-too-large']);
  }
  const p3 = plan({ kind: 'data', iso9660: { level: 3 }, files: [{ source: 'huge.bin' }] });
  assert.deepEqual(errors(p3), []);
  fs.rmSync(big);
});

test('the planned size is exact: the written image has exactly that many bytes', async () => {
  const file = path.join(root, 'exact.disc.json');
  fs.writeFileSync(file, JSON.stringify({ kind: 'data', files: [{ source: 'photos' }, { source: 'build' }], output: 'exact.iso' }));
  const planned = planProject(file).bytes!;
  const r = await buildImage(file);
  assert.equal(r.bytes, planned);
  assert.equal(fs.statSync(path.join(root, 'exact.iso')).size, planned);
});

test('a symbolic link whose target is too long for readers is an error', () => {
  fs.mkdirSync(path.join(root, 'longlinks'), { recursive: true });
  fs.symlinkSync('../' + 'x/'.repeat(600) + 'README.md', path.join(root, 'longlinks', 'far'));
  const p = plan({ kind: 'data', files: [{ source: 'longlinks', target: '/ll' }] });
  const e = errors(p);
  assert.deepEqual(e.map((d) => d.code), ['symlink-too-long']);
  assert.match(e[0].message, /1212 bytes; readers accept at most 1023/);
});

test('our own inspector finds no problem in a built image (path tables agree with the directories, etc.)', async () => {
  const file = path.join(root, 'clean.disc.json');
  fs.mkdirSync(path.join(root, 'cleansrc/a/b/c/d/e/f/g/h/i'), { recursive: true });
  fs.writeFileSync(path.join(root, 'cleansrc/a/b/c/d/e/f/g/h/i/deep.txt'), 'deep');
  fs.writeFileSync(path.join(root, 'cleansrc', 'n'.repeat(200) + '.txt'), 'long');
  fs.writeFileSync(file, JSON.stringify({ kind: 'data', fileSystems: ['iso9660', 'joliet', 'rockridge'], files: [{ source: 'cleansrc', target: '/' }, { source: 'photos' }], output: 'clean.iso' }));
  const r = await buildImage(file);
  const report = await inspectImage(r.output);
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.fileSystems.map((f) => f.type).sort(), ['iso9660', 'joliet', 'rockridge']);
  const rr = report.fileSystems.find((f) => f.type === 'rockridge')!;
  const paths = rr.entries.map((e) => e.path);
  assert.ok(paths.includes('/a/b/c/d/e/f/g/h/i/deep.txt'), paths.join('\n'));
  assert.ok(paths.includes('/' + 'n'.repeat(200) + '.txt'));
});
