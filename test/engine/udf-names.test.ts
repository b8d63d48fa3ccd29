// UDF names and trees: OSTA compressed Unicode (8-bit when every character is below U+0100, else 16-bit, with
// surrogate pairs), the 255-byte limit (254 Latin-1 characters or 127 UTF-16 units kept exactly; longer names
// shortened keeping the extension, with a warning, and numbered when shortening makes them equal), deep trees
// and wide directories whose identifiers span several blocks. Judged by 7-Zip's UDF handler and udfinfo.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildOk, diagnostics, makeTmp, writeManifest } from '../util/fixtures';
import type { ExtractedEntry } from '../util/oracles';
import { compareTrees, inspectUdfJson, sevenZipExtractAs, sevenZipUdfList, sourceTree, udfinfo } from '../util/udf-oracles';

const CREATED = '2026-01-01T00:00:00Z';

/** Names that fit exactly, and what UDF must show for those that do not. */
const EXACT = [
  'a'.repeat(254), // 8-bit: 1 + 254 = 255 bytes
  'Ā'.repeat(127), // 16-bit: 1 + 2 × 127 = 255 bytes (U+0100 is two bytes of UTF-8 on disk)
  'Grüße, Ünïcödé ñame — no: "—" is U+2014, so this one is 16-bit.txt',
  'Ünïcödé ñame.txt', // 8-bit Latin-1
  '日本語のファイル名.txt',
  'emoji 😀 and 𝄞 clef.txt', // surrogate pairs
  ' leading and trailing spaces ',
  'name.with.many.dots.tar.gz',
  '#$%&()+,;=@[]^`{}~.txt',
];
const SHORTENED: [string, string][] = [
  ['b'.repeat(251) + '.txt', 'b'.repeat(250) + '.txt'], // 255 Latin-1 characters: one too many
  ['Ā'.repeat(124) + '.txt', 'Ā'.repeat(123) + '.txt'], // 128 units: cut to 127, extension kept
  ['Ā'.repeat(122) + '😀.txt', 'Ā'.repeat(122) + '.txt'], // the cut would split the surrogate pair: both halves go
  // Two names equal once shortened: the first (in code unit order) keeps it, the second gets "~1".
  ['d'.repeat(250) + 'A.txt', 'd'.repeat(250) + '.txt'],
  ['d'.repeat(250) + 'B.txt', 'd'.repeat(248) + '~1.txt'],
];

describe('UDF names and trees', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  let src: string;
  const expected = new Map<string, ExtractedEntry>();
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    src = path.join(proj, 'src');
    fs.mkdirSync(path.join(src, 'names'), { recursive: true });
    for (const n of [...EXACT, ...SHORTENED.map(([s]) => s)]) fs.writeFileSync(path.join(src, 'names', n), `content of ${n}\n`);
    // 40 levels deep.
    let d = path.join(src, 'deep');
    for (let i = 1; i <= 40; i++) d = path.join(d, `level${String(i).padStart(2, '0')}`);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'bottom.txt'), 'the bottom\n');
    // 1500 entries: the directory's identifiers take many blocks (some straddle block boundaries).
    fs.mkdirSync(path.join(src, 'wide'));
    for (let i = 0; i < 1500; i++) fs.writeFileSync(path.join(src, 'wide', `file number ${String(i).padStart(4, '0')} with a longer name.txt`), `${i}\n`);
    const tree = sourceTree(src);
    const rename = new Map(SHORTENED.map(([s, t]) => [`/names/${s}`, `/names/${t}`]));
    for (const [p, e] of tree) expected.set(rename.get(p) ?? p, e);
  });
  after(() => tmp.cleanup());

  for (const [rev, fsys] of [['2.01', '["udf"]'], ['1.02', '["udf"]'], ['2.50', '["iso9660", "joliet", "rockridge", "udf"]']] as const) {
    test(`UDF ${rev} ${fsys}: every name exact or shortened as documented, deep and wide trees`, { timeout: 180_000 }, () => {
      const name = `n${rev.replace('.', '')}${fsys.length > 8 ? 'b' : 'u'}`;
      const m = writeManifest(proj, `{ "kind": "data", "volume": { "label": "NAMES", "created": "${CREATED}" }, "fileSystems": ${fsys},
  "udf": { "revision": "${rev}" }, "files": [ { "source": "src", "target": "/" } ], "output": "${name}.iso" }\n`, `${name}.disc.json`);
      const image = path.join(proj, `${name}.iso`);
      const r = buildOk(m, image, [], { timeoutMs: 120_000 });
      // One warning per shortened name, naming it and what UDF shows.
      const warnings = diagnostics(r.stderr).filter((x) => x.severity === 'warning' && x.message.startsWith('UDF shows'));
      assert.equal(warnings.length, SHORTENED.length, r.stderr);
      for (const [s, t] of SHORTENED) assert.ok(warnings.some((w) => w.message.includes(`/names/${s} as "${t}"`)), `no warning for ${s}:\n${r.stderr}`);

      udfinfo(image);
      const listing = sevenZipUdfList(image);
      assert.deepEqual([...listing.keys()].sort(), [...expected.keys()].sort());
      assert.deepEqual(compareTrees('7z/udf', sevenZipExtractAs(image, 'udf', path.join(proj, `${name}-x`)), expected), []);
      const { report, udf } = inspectUdfJson(image);
      assert.deepEqual(report.problems.filter((p) => p.startsWith('[udf]')), []);
      const got = new Set(udf.entries.map((e) => e.path));
      for (const p of expected.keys()) assert.ok(got.has(p), `[inspect] ${p} missing`);
      assert.equal(got.size, expected.size + 1);
      fs.rmSync(image);
      fs.rmSync(path.join(proj, `${name}-x`), { recursive: true });
    });
  }
});
