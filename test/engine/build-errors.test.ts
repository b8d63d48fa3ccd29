// End-to-end tests of `discforge build` failures: exit 2 with `FILE:LINE:COL: error: …` at the offending
// JSON node for bad input, exit 1 for other failures, never a stack trace, never an image or a .partial
// left behind (and an existing image is not touched).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256FileSync } from '../util/oracles';
import { assertInputError, describeRun, GiB, makeTmp, MiB, partialFiles, positionOf, runCli, sparseFile, stackTraceIn, uniqueContent, writeManifest, writeTree, type Pos } from '../util/fixtures';

describe('discforge build: bad input (exit 2, FILE:LINE:COL at the offending node)', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  let n = 0;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    writeTree(proj, {
      'a.txt': uniqueContent('a'),
      'b.txt': uniqueContent('b'),
      dir: { 'a.txt': uniqueContent('dir/a'), 'c.txt': uniqueContent('dir/c') },
      build: { 'x.bin': uniqueContent('x') },
    });
  });
  after(() => tmp.cleanup());

  /** Writes the manifest, runs build, checks the failure; `at` gives needles whose positions are acceptable. */
  function expectError(text: string, at: (string | [string, number] | Pos)[], opts: { message?: RegExp } = {}): string {
    const name = `e${++n}`;
    const manifest = writeManifest(proj, text.replace('OUTPUT', `${name}.iso`), `${name}.disc.json`);
    const written = fs.readFileSync(manifest, 'utf8');
    const accept = at.map((a) => (typeof a === 'string' ? positionOf(written, a) : Array.isArray(a) ? positionOf(written, a[0], a[1]) : a));
    const r = runCli(['build', manifest], { cwd: proj });
    return assertInputError(r, manifest, accept, { image: path.join(proj, `${name}.iso`), cwd: proj, ...opts });
  }

  test('JSON syntax error: a missing comma', () => {
    expectError(
      `{
  "kind": "data" // the comma after this value is missing
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`,
      ['"files"', { line: 2, column: 17 }],
    );
  });

  test('JSON syntax error: an unterminated array', () => {
    expectError(
      `{
  "kind": "data",
  "files": [ { "source": "a.txt" } ,
  "output": "OUTPUT"
}
`,
      ['"output"', ':', '}', { line: 5, column: 2 }, { line: 6, column: 1 }],
    );
  });

  test('schema: an unknown key (position of the key or its value)', () => {
    expectError(
      `{
  "kind": "data",
  "volume": { "label": "X", "colour": "red" }, // no such key
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`,
      ['"colour"', '"red"'],
    );
  });

  test('schema: an unknown key in a file entry', () => {
    expectError(
      `{
  "kind": "data",
  "files": [
    { "source": "a.txt", "targt": "/x.txt" }
  ],
  "output": "OUTPUT"
}
`,
      ['"targt"', '"/x.txt"', '{ "source"'],
    );
  });

  test('schema: a wrong type (position of the value)', () => {
    expectError(
      `{
  "kind": "data",
  "iso9660": { "level": "3" }, // a string, not a number
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`,
      ['"3"'],
    );
  });

  test('schema: a bad enum value (position of the value)', () => {
    expectError(
      `{
  "kind": "data",
  "media": "floppy",
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`,
      ['"floppy"'],
    );
    expectError(
      `{
  "kind": "data",
  "iso9660": { "level": 5 },
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`,
      ['5 }'],
    );
    expectError(
      `{
  "kind": "data",
  "fileSystems": ["iso9660", "hfs"],
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`,
      ['"hfs"'],
    );
  });

  test('schema: a missing required key (position of the object)', () => {
    expectError(
      `{
  "kind": "data",
  "output": "OUTPUT"
}
`,
      [{ line: 1, column: 1 }],
    );
  });

  test('a missing source (position of the "source" value or of the entry)', () => {
    const msg = expectError(
      `{
  "kind": "data",
  "files": [
    { "source": "a.txt" },
    { "source": "does-not-exist.txt", "target": "/x.txt" }
  ],
  "output": "OUTPUT"
}
`,
      ['"does-not-exist.txt"', '{ "source": "does-not-exist.txt"'],
    );
    assert.match(msg, /does-not-exist\.txt/);
  });

  test('a glob matching nothing', () => {
    expectError(
      `{
  "kind": "data",
  "files": [
    { "source": "a.txt" },
    { "source": "build/*.nothing", "target": "/fw/" }
  ],
  "output": "OUTPUT"
}
`,
      ['"build/*.nothing"', '{ "source": "build/*.nothing"'],
    );
  });

  test('a glob whose every match is excluded', () => {
    expectError(
      `{
  "kind": "data",
  "files": [
    { "source": "build/*.bin", "target": "/fw/", "exclude": ["*.bin"] }
  ],
  "output": "OUTPUT"
}
`,
      ['"build/*.bin"', '{ "source": "build/*.bin"'],
    );
  });

  test('two entries landing on the same file: the second one is reported', () => {
    const text = `{
  "kind": "data",
  "files": [
    { "source": "a.txt", "target": "/same.txt" },
    { "source": "b.txt", "target": "/same.txt" }
  ],
  "output": "OUTPUT"
}
`;
    expectError(text, [['{ "source"', 2], '"b.txt"', ['"/same.txt"', 2]]);
  });

  test('a folder bringing a file that an earlier entry already put there', () => {
    expectError(
      `{
  "kind": "data",
  "files": [
    { "source": "a.txt", "target": "/d/a.txt" },
    { "source": "dir", "target": "/d" }
  ],
  "output": "OUTPUT"
}
`,
      [['{ "source"', 2], '"dir"', '"/d"'],
    );
  });

  test('a file where a folder is needed (and the other way round)', () => {
    expectError(
      `{
  "kind": "data",
  "files": [
    { "source": "a.txt", "target": "/x" },
    { "source": "b.txt", "target": "/x/b.txt" }
  ],
  "output": "OUTPUT"
}
`,
      [['{ "source"', 2], '"b.txt"', '"/x/b.txt"'],
    );
    expectError(
      `{
  "kind": "data",
  "files": [
    { "directory": "/y" },
    { "source": "a.txt", "target": "/y" }
  ],
  "output": "OUTPUT"
}
`,
      ['{ "source"', '"a.txt"', '"/y" }'],
    );
  });

  test('names that cannot be represented: "..", ".", a control character, an empty component', () => {
    for (const target of ['/up/../escape.txt', '/./dot.txt', '/bad\\u0001name.txt', '/tab\\there.txt', '/double//slash.txt']) {
      expectError(
        `{
  "kind": "data",
  "files": [
    { "source": "a.txt", "target": "${target}" }
  ],
  "output": "OUTPUT"
}
`,
        [`"${target}"`, '{ "source"'],
      );
    }
  });

  test('a source file whose name has a control character', () => {
    const bad = path.join(proj, 'ctl');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'line\nbreak.txt'), 'x');
    expectError(
      `{
  "kind": "data",
  "files": [
    { "source": "ctl", "target": "/ctl" }
  ],
  "output": "OUTPUT"
}
`,
      ['"ctl"', '{ "source"'],
    );
  });

  test('the planned image does not fit the media: refused, saying by how much', () => {
    // 800 MiB of sparse files: far more than a 74-minute CD (333,000 sectors of 2048 bytes).
    const big = path.join(proj, 'big');
    fs.mkdirSync(big);
    for (let i = 0; i < 8; i++) sparseFile(path.join(big, `part${i}.bin`), 100 * MiB, [{ offset: 0, data: Buffer.from(`part ${i}`) }]);
    const t0 = Date.now();
    const msg = expectError(
      `{
  "kind": "data",
  "media": "cd-r-74",
  "files": [ { "source": "big" } ],
  "output": "OUTPUT"
}
`,
      ['"cd-r-74"', '"media"', { line: 1, column: 1 }],
    );
    assert.ok(Date.now() - t0 < 20_000, 'the capacity check should not need to write the image');
    const capacity = 333_000 * 2048;
    const data = 800 * MiB;
    const excess = data - capacity; // at least this much too big; overhead adds a little
    const amounts = amountsIn(msg);
    assert.ok(
      amounts.some((a) => a >= excess * 0.97 && a <= excess + 4 * MiB),
      `the message should say by how much (about ${(excess / 1e6).toFixed(1)} MB = ${(excess / MiB).toFixed(1)} MiB): ${msg} (amounts read: ${amounts.join(', ')})`,
    );
    // The same with plain "cd-r": refused too, with an amount.
    const msg2 = expectError(
      `{
  "kind": "data",
  "media": "cd-r",
  "files": [ { "source": "big" } ],
  "output": "OUTPUT"
}
`,
      ['"cd-r"', '"media"', { line: 1, column: 1 }],
    );
    assert.ok(amountsIn(msg2).some((a) => a > 50 * MiB && a < 200 * MiB), `no plausible excess in: ${msg2}`);
  });
});

/** Byte amounts mentioned in a message: "123,456 bytes", "150.2 MiB", "157 MB", "76,800 sectors". */
function amountsIn(msg: string): number[] {
  const out: number[] = [];
  const units: Record<string, number> = {
    b: 1, byte: 1, bytes: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: MiB, gb: 1e9, gib: GiB, sector: 2048, sectors: 2048, block: 2048, blocks: 2048,
  };
  for (const m of msg.matchAll(/(\d[\d,_ ]*(?:\.\d+)?)\s*([KMG]i?B|bytes?|B|sectors?|blocks?)\b/gi)) {
    const v = Number(m[1]!.replace(/[,_ ]/g, ''));
    const u = units[m[2]!.toLowerCase()];
    if (u !== undefined && Number.isFinite(v)) out.push(v * u);
  }
  return out;
}

describe('discforge build: other failures and what is left behind', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    writeTree(proj, { 'a.txt': uniqueContent('a'), 'b.txt': uniqueContent('b') });
  });
  after(() => tmp.cleanup());

  test('an output that cannot be written (its folder is a file): exit 1, no stack trace, no .partial', () => {
    fs.writeFileSync(path.join(proj, 'not-a-dir'), 'x');
    const manifest = writeManifest(proj, `{ "kind": "data", "files": [ { "source": "a.txt" } ], "output": "not-a-dir/out.iso" }\n`, 'io.disc.json');
    const r = runCli(['build', manifest]);
    assert.equal(r.status, 1, describeRun(r));
    assert.equal(stackTraceIn(r.stderr + r.stdout), null, describeRun(r));
    assert.ok(r.stderr.trim().length > 0, 'no message on stderr');
    assert.deepEqual(partialFiles(proj), []);
  });

  test('a missing manifest: a message, no stack trace', () => {
    const r = runCli(['build', path.join(proj, 'nope.disc.json')]);
    assert.ok(r.status === 1 || r.status === 2, describeRun(r));
    assert.equal(stackTraceIn(r.stderr + r.stdout), null, describeRun(r));
    assert.match(r.stderr, /nope\.disc\.json/);
  });

  test('a failed build leaves an existing image untouched and no .partial', () => {
    const manifest = writeManifest(proj, `{ "kind": "data", "files": [ { "source": "a.txt" } ], "output": "keep.iso" }\n`, 'keep.disc.json');
    const r0 = runCli(['build', manifest]);
    assert.equal(r0.status, 0, describeRun(r0));
    const image = path.join(proj, 'keep.iso');
    const before = sha256FileSync(image);
    // Now the same output, but a source is missing.
    const text = `{
  "kind": "data",
  "files": [ { "source": "a.txt" }, { "source": "gone.txt" } ],
  "output": "keep.iso"
}
`;
    const bad = writeManifest(proj, text, 'keep-bad.disc.json');
    const r = runCli(['build', bad]);
    assertInputError(r, bad, [positionOf(text, '"gone.txt"'), positionOf(text, '{ "source": "gone.txt"')]);
    assert.equal(sha256FileSync(image), before, 'the existing image was changed by a failed build');
    assert.deepEqual(partialFiles(proj), []);
  });

  test('a dangling symlink to follow is named, not crashed on', () => {
    fs.mkdirSync(path.join(proj, 'dl'));
    fs.symlinkSync('nowhere.txt', path.join(proj, 'dl', 'dangling.txt'));
    const text = `{
  "kind": "data",
  "files": [ { "source": "dl", "followSymlinks": true } ], // cannot follow a dangling link
  "output": "dl.iso"
}
`;
    const manifest = writeManifest(proj, text, 'dl.disc.json');
    const r = runCli(['build', manifest]);
    // Not specified whether this is an error or a skipped file with a warning: either way it is named,
    // and there is no crash.
    assert.ok(r.status === 0 || r.status === 1 || r.status === 2, describeRun(r));
    assert.equal(stackTraceIn(r.stderr + r.stdout), null, describeRun(r));
    assert.match(r.stderr, /dangling\.txt/, 'the message should name the file');
    if (r.status !== 0) assert.ok(!fs.existsSync(path.join(proj, 'dl.iso')));
    else assert.match(r.stderr, /warning/);
    assert.deepEqual(partialFiles(proj), []);
  });
});
