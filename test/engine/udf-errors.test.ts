// Bad UDF input: exit 2 with `FILE:LINE:COL: error: …` at the offending manifest node (a revision that does not
// exist, options of the wrong type or name, duplicated metadata below UDF 2.50, Joliet or Rock Ridge without
// ISO 9660, a symbolic link UDF cannot record), no image and no .partial left; UDF options without UDF warn.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertInputError, buildOk, diagnostics, makeTmp, positionOf, runCli, writeManifest, writeTree, type Pos } from '../util/fixtures';

describe('UDF: bad input (exit 2, FILE:LINE:COL at the offending node)', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  let n = 0;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    writeTree(proj, { 'a.txt': 'a\n', links: { ok: 'ok\n' } });
    fs.symlinkSync('x'.repeat(300), path.join(proj, 'links', 'long-component'));
  });
  after(() => tmp.cleanup());

  function expectError(text: string, at: (string | [string, number] | Pos)[], message: RegExp): string {
    const name = `e${++n}`;
    const manifest = writeManifest(proj, text.replace('OUTPUT', `${name}.iso`), `${name}.disc.json`);
    const written = fs.readFileSync(manifest, 'utf8');
    const accept = at.map((a) => (typeof a === 'string' ? positionOf(written, a) : Array.isArray(a) ? positionOf(written, a[0], a[1]) : a));
    const r = runCli(['build', manifest], { cwd: proj });
    return assertInputError(r, manifest, accept, { image: path.join(proj, `${name}.iso`), cwd: proj, message });
  }

  test('a revision that does not exist (position of the value)', () => {
    expectError(`{
  "kind": "data",
  "udf": { "revision": "2.02" },
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`, ['"2.02"'], /"revision" must be one of "1\.02", "1\.50", "2\.00", "2\.01", "2\.50", "2\.60"/);
  });

  test('a revision given as a number', () => {
    expectError(`{
  "kind": "data",
  "fileSystems": ["udf"],
  "udf": {
    "revision": 2.01
  },
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`, ['2.01'], /revision/);
  });

  test('an unknown UDF option (position of the key)', () => {
    expectError(`{
  "kind": "data",
  "udf": { "revision": "2.50", "mirror": true },
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`, ['"mirror"'], /unknown property "mirror"/);
  });

  test('"udf" that is not an object', () => {
    expectError(`{
  "kind": "data",
  "udf": "2.01",
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`, ['"2.01"'], /object/);
  });

  test('"udf" twice in fileSystems', () => {
    expectError(`{
  "kind": "data",
  "fileSystems": ["udf", "iso9660", "udf"],
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`, ['["udf"'], /duplicate|identical/);
  });

  for (const rev of ['1.02', '1.50', '2.00', '2.01', undefined]) {
    test(`redundantMetadata with UDF ${rev ?? '(default 2.01)'}: it needs the metadata partition of 2.50+`, () => {
      expectError(`{
  "kind": "data",
  "udf": { ${rev ? `"revision": "${rev}", ` : ''}"redundantMetadata": true },
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`, ['true'], /"redundantMetadata" needs UDF 2\.50 or later/);
    });
  }

  for (const other of ['joliet', 'rockridge']) {
    test(`"${other}" without "iso9660" (UDF only): the entry is named`, () => {
      expectError(`{
  "kind": "data",
  "fileSystems": ["udf", "${other}"],
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`, [`"${other}"`], new RegExp(`"${other}" needs "iso9660"`));
    });
  }

  test('neither ISO 9660 nor UDF', () => {
    expectError(`{
  "kind": "data",
  "fileSystems": ["joliet"],
  "files": [ { "source": "a.txt" } ],
  "output": "OUTPUT"
}
`, ['["joliet"]'], /"iso9660" or "udf"/);
  });

  test('a symbolic link with a path component UDF cannot record (more than 255 bytes)', () => {
    expectError(`{
  "kind": "data",
  "fileSystems": ["udf"],
  "files": [
    { "source": "links", "target": "/" }
  ],
  "output": "OUTPUT"
}
`, ['{ "source": "links"', '"links"'], /long-component.*longer than UDF records/);
  });

  test('UDF options without UDF: a warning at "udf", and the image is built', () => {
    const text = `{
  "kind": "data",
  "fileSystems": ["iso9660"],
  "udf": { "revision": "2.50" },
  "files": [ { "source": "a.txt" } ],
  "output": "warn.iso"
}
`;
    const m = writeManifest(proj, text, 'warn.disc.json');
    const r = buildOk(m, path.join(proj, 'warn.iso'), [], { cwd: proj });
    const w = diagnostics(r.stderr).filter((d) => d.severity === 'warning');
    const at = positionOf(text, '{ "revision"');
    assert.ok(w.some((d) => d.line === at.line && d.column === at.column && /"udf" options are ignored/.test(d.message)), r.stderr);
    // There is no UDF in it.
    const fd = fs.openSync(path.join(proj, 'warn.iso'), 'r');
    const b = Buffer.alloc(5);
    fs.readSync(fd, b, 0, 5, 18 * 2048 + 1);
    fs.closeSync(fd);
    assert.notEqual(b.toString('latin1'), 'BEA01');
  });
});
