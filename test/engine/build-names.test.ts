// End-to-end tests of names: exact Rock Ridge names (any UTF-8, long), Joliet names (exact up to 64 UTF-16
// units, truncated to 64 keeping the extension with a warning, 103 with longNames), plain ISO 9660 names that
// collide after mapping, empty files and folders.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { xorrisoList, type ExpectedTree, type Listing } from '../util/oracles';
import { Expected, assertImage, buildOk, makeTmp, uniqueContent, writeManifest, writeTree, type TreeSpec } from '../util/fixtures';

const LONG120 = `${'Long name with spaces and ümlauts '.repeat(4).slice(0, 116)}.txt`; // 120 UTF-16 units
const LONG100 = `${'x'.repeat(96)}.txt`;
const EXACT64 = `${'s'.repeat(60)}.txt`;

describe('discforge build: names', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
  });
  after(() => tmp.cleanup());

  test('non-ASCII, punctuation, multiple dots, hidden files, case-only differences: exact in Rock Ridge and Joliet', () => {
    const spec: TreeSpec = {
      'Grüße 日本 ✓.txt': uniqueContent('gruss'),
      'Ελληνικά': { 'Ωμέγα.md': uniqueContent('omega'), 'ñandú.txt': uniqueContent('nandu') },
      'archive.tar.gz': uniqueContent('tgz'),
      '.hidden': uniqueContent('hidden'),
      'no extension': uniqueContent('noext'),
      "it's (1) [copy] {x} #1 & more!.txt": uniqueContent('punct'),
      'Readme.md': uniqueContent('Readme'),
      'README.md': uniqueContent('README'),
      'empty.txt': '',
      'also-empty': '',
      'empty folder': {},
      'a': { 'b': { 'c': { 'empty leaf': {} } } },
      [EXACT64]: uniqueContent('exact64'),
      '200%.txt': uniqueContent('percent'),
    };
    writeTree(path.join(proj, 'names'), spec);
    const manifest = writeManifest(
      proj,
      `{
  "kind": "data",
  // a folder full of awkward names, plus renames to awkward targets
  "files": [
    { "source": "names", "target": "/Nämes ✓" },
    { "source": "names/archive.tar.gz", "target": "/Ziel mit Leerzeichen/日本語のファイル名.tar.gz" },
    { "directory": "/empty ünïcode ☃" }
  ],
  "output": "names.iso"
}
`,
      'names.disc.json',
    );
    const image = path.join(proj, 'names.iso');
    buildOk(manifest, image);
    const exp = new Expected()
      .folder('/Nämes ✓', path.join(proj, 'names'))
      .file('/Ziel mit Leerzeichen/日本語のファイル名.tar.gz', path.join(proj, 'names/archive.tar.gz'))
      .dir('/empty ünïcode ☃');
    assertImage(image, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3 });
  });

  test('names longer than 64: exact in Rock Ridge, Joliet truncated to 64 keeping the extension, with a warning', () => {
    writeTree(path.join(proj, 'long'), { [LONG120]: uniqueContent('long120'), [LONG100]: uniqueContent('long100'), [EXACT64]: uniqueContent('exact64') });
    const manifest = writeManifest(proj, `{ "kind": "data", "files": [ { "source": "long", "target": "/long" } ], "output": "long.iso" } // default Joliet\n`, 'long.disc.json');
    const image = path.join(proj, 'long.iso');
    const r = buildOk(manifest, image);
    assert.match(r.stderr, /warning/i, 'no warning about truncated Joliet names on stderr');
    const exp = new Expected().folder('/long', path.join(proj, 'long'));
    const jmap = jolietMapFrom(xorrisoList(image, 'joliet'), exp.tree, 64);
    assertImage(image, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3, jolietName: (p) => jmap.get(p) ?? p });
    assert.equal(jmap.get(`/long/${EXACT64}`), `/long/${EXACT64}`, 'a 64-unit name must be kept as is');
  });

  test('"joliet": { "longNames": true }: names up to 103 exact, longer ones truncated to 103', () => {
    const manifest = writeManifest(
      proj,
      `{ "kind": "data", "joliet": { "longNames": true }, "files": [ { "source": "long", "target": "/long" } ], "output": "long103.iso" }\n`,
      'long103.disc.json',
    );
    const image = path.join(proj, 'long103.iso');
    buildOk(manifest, image);
    const exp = new Expected().folder('/long', path.join(proj, 'long'));
    const jmap = jolietMapFrom(xorrisoList(image, 'joliet'), exp.tree, 103);
    assert.equal(jmap.get(`/long/${LONG100}`), `/long/${LONG100}`, 'a 100-character name must be kept with longNames');
    assert.notEqual(jmap.get(`/long/${LONG120}`), `/long/${LONG120}`);
    assertImage(image, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3, jolietName: (p) => jmap.get(p) ?? p });
  });

  test('names that collide after ISO 9660 mapping are made unique (files and folders, levels 1 and 3)', () => {
    writeTree(path.join(proj, 'coll'), {
      'a-b.txt': uniqueContent('a-b'),
      'a_b.txt': uniqueContent('a_b'),
      'A_B.TXT': uniqueContent('A_B'),
      'a b.txt': uniqueContent('a b'),
      'verylongname1.txt': uniqueContent('vl1'),
      'verylongname2.txt': uniqueContent('vl2'),
      'verylongname3.txt': uniqueContent('vl3'),
      'same.name.one.txt': uniqueContent('dots1'),
      'same_name_one.txt': uniqueContent('dots2'),
      'my-dir': { 'x.txt': uniqueContent('my-dir/x') },
      'my_dir': { 'x.txt': uniqueContent('my_dir/x') },
      'MY DIR': { 'x.txt': uniqueContent('MY DIR/x') },
      'longfoldername1': { 'f.txt': uniqueContent('lf1') },
      'longfoldername2': { 'f.txt': uniqueContent('lf2') },
      'x.txt': uniqueContent('x.txt'),
    });
    for (const level of [1, 3] as const) {
      const manifest = writeManifest(
        proj,
        `{
  "kind": "data",
  "iso9660": { "level": ${level} }, // ${level === 1 ? '8.3 names' : '30-character names'}
  "files": [ { "source": "coll" } ],
  "output": "coll${level}.iso"
}
`,
        `coll${level}.disc.json`,
      );
      const image = path.join(proj, `coll${level}.iso`);
      buildOk(manifest, image);
      const exp = new Expected().folder('/coll', path.join(proj, 'coll'));
      assertImage(image, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level });
    }
  });
});

/**
 * Works out which Joliet name stands for each expected path, checking the promise on the way: a name that
 * fits (<= limit UTF-16 units) is kept exactly; a longer one is shortened to exactly `limit` units, keeps its
 * extension and begins like the original. Every reader is then checked against this one mapping.
 */
function jolietMapFrom(j: Listing, expected: ExpectedTree, limit: number): Map<string, string> {
  const map = new Map<string, string>();
  const problems: string[] = [];
  const taken = new Set<string>();
  const paths = [...expected.keys()].sort((a, b) => a.split('/').length - b.split('/').length);
  for (const p of paths) {
    const e = expected.get(p)!;
    if (e.kind === 'symlink') continue;
    const parent = p.slice(0, p.lastIndexOf('/')) || '/';
    const jparent = parent === '/' ? '' : map.get(parent) ?? parent;
    const name = p.slice(p.lastIndexOf('/') + 1);
    if (name.length <= limit) {
      map.set(p, `${jparent}/${name}`);
      continue;
    }
    const dot = name.lastIndexOf('.');
    const ext = e.kind === 'file' && dot > 0 ? name.slice(dot) : '';
    const candidates = [...j.entries.values()].filter((x) => {
      const xp = x.path.slice(0, x.path.lastIndexOf('/'));
      const xn = x.path.slice(x.path.lastIndexOf('/') + 1);
      return xp === jparent && x.kind === e.kind && !taken.has(x.path) && xn !== name && xn.endsWith(ext) && name.startsWith(xn.slice(0, Math.min(20, xn.length - ext.length)));
    });
    if (candidates.length !== 1) {
      problems.push(`${p}: ${candidates.length} Joliet candidates (${candidates.map((c) => c.path).join(', ')}) in ${[...j.entries.keys()].filter((k) => k.startsWith(jparent + '/')).join(', ')}`);
      continue;
    }
    const got = candidates[0]!.path;
    const gotName = got.slice(got.lastIndexOf('/') + 1);
    if (gotName.length !== limit) problems.push(`${p}: Joliet name ${JSON.stringify(gotName)} is ${gotName.length} UTF-16 units, expected ${limit}`);
    if (ext && !gotName.endsWith(ext)) problems.push(`${p}: Joliet name ${JSON.stringify(gotName)} lost the extension ${ext}`);
    taken.add(got);
    map.set(p, got);
  }
  assert.deepEqual(problems, [], 'Joliet names do not follow the truncation promise');
  return map;
}
