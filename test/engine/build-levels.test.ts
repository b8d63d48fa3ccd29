// End-to-end tests of ISO 9660 interchange levels 1-4 (names obey each level's rules, every file is present
// with the right content in every view) and of trees deeper than 8 levels (relocated with Rock Ridge,
// refused without it at levels 1-3, kept at level 4).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bsdtarList, isoinfoList, xorrisoList, type View } from '../util/oracles';
import { Expected, assertImage, assertInputError, buildOk, makeTmp, positionOf, runCli, uniqueContent, writeManifest, writeTree, type TreeSpec } from '../util/fixtures';

const ALL: View[] = ['iso9660', 'joliet', 'rockridge'];

function namesTree(): TreeSpec {
  return {
    'short.txt': uniqueContent('short'),
    'UPPER.TXT': uniqueContent('UPPER'),
    'lower case name.text': uniqueContent('lower'),
    'a name that is rather long for iso 9660.document': uniqueContent('long-doc'),
    [`${'p'.repeat(60)}.dat`]: uniqueContent('sixty'),
    'many.dots.in.this.name.tar.gz': uniqueContent('dots'),
    'no_extension_but_quite_long_indeed': uniqueContent('noext'),
    'café crème.txt': uniqueContent('cafe'),
    'x': uniqueContent('x'),
    '.dotfile': uniqueContent('dotfile'),
    'empty.bin': '',
    'a folder with a long name indeed': { 'inside.txt': uniqueContent('inside'), 'empty sub folder': {} },
    'd1': { 'd2': { 'd3': { 'd4': { 'd5': { 'd6': { 'at-level-7.txt': uniqueContent('l7') } } } } } },
  };
}

describe('discforge build: ISO 9660 levels', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    writeTree(path.join(proj, 'src'), namesTree());
  });
  after(() => tmp.cleanup());

  for (const level of [1, 2, 3, 4] as const) {
    for (const fss of [ALL, ['iso9660'] as View[]]) {
      test(`level ${level}, fileSystems ${JSON.stringify(fss)}: names follow the level's rules, all content right in every view`, () => {
        const name = `l${level}-${fss.length}`;
        const manifest = writeManifest(
          proj,
          `{
  "kind": "data",
  "iso9660": { "level": ${level} }, // interchange level under test
  "fileSystems": ${JSON.stringify(fss)},
  "files": [ { "source": "src", "target": "/" } ],
  "output": "${name}.iso"
}
`,
          `${name}.disc.json`,
        );
        const image = path.join(proj, `${name}.iso`);
        buildOk(manifest, image);
        const exp = new Expected().folder('/', path.join(proj, 'src'));
        assertImage(image, exp, { fileSystems: fss, level });
        if (level === 4) {
          // ISO 9660:1999 allows long plain names: a 64-character source name must not be cut to 30.
          for (const l of [xorrisoList(image, 'iso9660'), isoinfoList(image, 'iso9660')]) {
            const longest = Math.max(...[...l.entries.keys()].map((p) => p.slice(p.lastIndexOf('/') + 1).length));
            assert.ok(longest > 31, `[${l.reader}] longest plain name at level 4 has ${longest} characters`);
          }
        }
      });
    }
  }
});

/** A chain of `depth` folders d01/d02/... with a file in each and an empty folder at the bottom. */
function deepTree(depth: number): { spec: TreeSpec; dirs: string[] } {
  const dirs: string[] = [];
  const make = (i: number): TreeSpec => {
    const name = `d${String(i).padStart(2, '0')}`;
    const spec: TreeSpec = { [`file-at-${i}.txt`]: uniqueContent(`deep${i}`) };
    if (i < depth) spec[`d${String(i + 1).padStart(2, '0')}`] = make(i + 1);
    else spec['empty-bottom'] = {};
    void name;
    return spec;
  };
  for (let i = 1; i <= depth; i++) dirs.push(`d${String(i).padStart(2, '0')}`);
  return { spec: { d01: make(1) }, dirs };
}

describe('discforge build: trees deeper than 8 levels', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    writeTree(path.join(proj, 'deep'), deepTree(12).spec);
    fs.writeFileSync(path.join(proj, 'top.txt'), uniqueContent('top'));
  });
  after(() => tmp.cleanup());

  for (const level of [1, 3] as const) {
    test(`level ${level} with Rock Ridge: relocated in the plain view, full depth through Rock Ridge and Joliet`, () => {
      const manifest = writeManifest(
        proj,
        `{
  "kind": "data",
  "iso9660": { "level": ${level} },
  // 13 levels of folders (root, deep, d01..d12): deeper than ISO 9660's 8
  "files": [ { "source": "deep", "target": "/deep" }, { "source": "top.txt" } ],
  "output": "deep${level}.iso"
}
`,
        `deep${level}.disc.json`,
      );
      const image = path.join(proj, `deep${level}.iso`);
      buildOk(manifest, image);
      const exp = new Expected().folder('/deep', path.join(proj, 'deep')).file('/top.txt', path.join(proj, 'top.txt'));
      const deepest = [...exp.tree.keys()].reduce((a, b) => (b.split('/').length > a.split('/').length ? b : a));
      assert.ok(deepest.split('/').length - 1 >= 13, deepest);
      assertImage(image, exp, { fileSystems: ALL, level, relocation: true });
      // The plain view really is relocated: some folder moved out of its parent (RR_MOVED or similar).
      for (const l of [xorrisoList(image, 'iso9660'), isoinfoList(image, 'iso9660'), bsdtarList(image, 'iso9660')]) {
        const maxDirLevel = Math.max(...[...l.entries.values()].filter((e) => e.kind === 'dir').map((e) => e.path.split('/').length));
        assert.ok(maxDirLevel <= 8, `[${l.reader}/iso9660] a folder at level ${maxDirLevel} (root = 1)`);
        const topDirs = [...l.entries.values()].filter((e) => e.kind === 'dir' && e.path.split('/').length === 2);
        assert.equal(topDirs.length, 2, `[${l.reader}/iso9660] expected DEEP and a relocation folder at the top, got ${topDirs.map((e) => e.path).join(', ')}`);
      }
    });
  }

  test('one level too deep (a single relocation, nothing nested): full depth through every reader that follows Rock Ridge relocation', () => {
    writeTree(path.join(proj, 'deep9'), deepTree(8).spec);
    const manifest = writeManifest(
      proj,
      `{
  "kind": "data",
  "files": [ { "source": "deep9", "target": "/deep" } ], // root, deep, d01..d08: 10 levels
  "output": "deep9.iso"
}
`,
      'deep9.disc.json',
    );
    const image = path.join(proj, 'deep9.iso');
    buildOk(manifest, image);
    const exp = new Expected().folder('/deep', path.join(proj, 'deep9'));
    assertImage(image, exp, { fileSystems: ALL, level: 3, relocation: true });
  });

  for (const level of [1, 2, 3] as const) {
    test(`level ${level} without Rock Ridge: a tree deeper than 8 levels is refused at the entry that brings it`, () => {
      const text = `{
  "kind": "data",
  "iso9660": { "level": ${level} },
  "fileSystems": ["iso9660", "joliet"], // no Rock Ridge: no relocation possible
  "files": [
    { "source": "top.txt" },
    { "source": "deep", "target": "/deep" }
  ],
  "output": "refused${level}.iso"
}
`;
      const manifest = writeManifest(proj, text, `refused${level}.disc.json`);
      const r = runCli(['build', manifest]);
      const entryLine = positionOf(text, '{ "source": "deep"').line;
      assertInputError(
        r,
        manifest,
        [positionOf(text, '{ "source": "deep"'), positionOf(text, '"deep", "target"'), positionOf(text, '"/deep"'), { line: entryLine, column: positionOf(text, '{ "source": "deep"').column }],
        { image: path.join(proj, `refused${level}.iso`) },
      );
    });
  }

  test('level 4 without Rock Ridge: the deep tree is kept as it is in the plain view', () => {
    const manifest = writeManifest(
      proj,
      `{
  "kind": "data",
  "iso9660": { "level": 4 }, // ISO 9660:1999 has no depth limit
  "fileSystems": ["iso9660", "joliet"],
  "files": [ { "source": "deep", "target": "/deep" } ],
  "output": "deep4.iso"
}
`,
      'deep4.disc.json',
    );
    const image = path.join(proj, 'deep4.iso');
    buildOk(manifest, image);
    const exp = new Expected().folder('/deep', path.join(proj, 'deep'));
    assertImage(image, exp, { fileSystems: ['iso9660', 'joliet'], level: 4 });
  });
});
