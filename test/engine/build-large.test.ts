// End-to-end test of a file of 4 GiB and more: at level 3 it is stored as several extents and reads back
// whole (size and content, streamed through three readers into sha256); at levels 1 and 2 it is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bsdtarHashFile, bsdtarList, isoInfoList, isoinfoList, sevenZipHashFile, sevenZipList, sha256File, xorrisoExtents, xorrisoHashFile, xorrisoList } from '../util/oracles';
import { Expected, GiB, MiB, assertImage, assertInputError, describeRun, freeBytes, makeTmp, partialFiles, positionOf, runCli, runCliAsync, sparseFile, stackTraceIn, uniqueContent, writeManifest, writeTree } from '../util/fixtures';

const HUGE = 4 * GiB + 512 * MiB;
const MARKS = [
  { offset: 0, data: Buffer.from('START of the huge file\n') },
  { offset: 4 * GiB - 11, data: Buffer.from('just below 4 GiB') }, // crosses the 4 GiB boundary
  { offset: 4 * GiB + 4097, data: Buffer.from('just above 4 GiB') },
  { offset: HUGE - 8, data: Buffer.from('THE END\n') },
];

describe('discforge build: files of 4 GiB and more', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    writeTree(proj, { small: { 'before.txt': uniqueContent('before'), 'after.txt': uniqueContent('after') } });
    sparseFile(path.join(proj, 'huge.bin'), HUGE, MARKS);
    sparseFile(path.join(proj, 'exactly4g.bin'), 4 * GiB, [{ offset: 0, data: Buffer.from('x') }]);
  });
  after(() => tmp.cleanup());

  test('level 3: a 4.5 GiB file is stored as several extents and reads back whole through three readers', { timeout: 20 * 60_000 }, async () => {
    // The source and the image are sparse (zero runs are not written), so they take little real space.
    const free = freeBytes(tmp.dir);
    assert.ok(free >= GiB, `needs at least 1 GiB free in ${tmp.dir} (the sparse image still takes some), has ${(free / GiB).toFixed(1)} GiB`);
    const manifest = writeManifest(
      proj,
      `{
  "kind": "data",
  "iso9660": { "level": 3 }, // files of 4 GiB and more need level 3
  "media": "dvd+r-dl",
  "files": [
    { "source": "small/before.txt" },
    { "source": "huge.bin", "target": "/data/huge.bin" },
    { "source": "small/after.txt", "target": "/data/zz-after.txt" }
  ],
  "output": "huge.iso"
}
`,
      'huge.disc.json',
    );
    const image = path.join(proj, 'huge.iso');
    const [r, sourceHash] = await Promise.all([runCliAsync(['build', manifest], { timeoutMs: 15 * 60_000 }), sha256File(path.join(proj, 'huge.bin'))]);
    assert.equal(r.status, 0, describeRun(r));
    assert.equal(stackTraceIn(r.stderr + r.stdout), null, describeRun(r));
    assert.deepEqual(partialFiles(proj), []);
    const st = fs.statSync(image);
    assert.ok(st.size > HUGE, `image of ${st.size} bytes cannot hold a ${HUGE}-byte file`);
    assert.equal(st.size % 2048, 0);
    assert.ok(st.blocks * 512 < 1 * GiB, `the image was not written sparse: ${(st.blocks * 512 / GiB).toFixed(2)} GiB allocated for ${(st.size / GiB).toFixed(2)} GiB of mostly zeros`);

    // Listings: every reader sees one file of the full size, in every view.
    const exp = new Expected()
      .file('/before.txt', path.join(proj, 'small/before.txt'))
      .file('/data/huge.bin', path.join(proj, 'huge.bin'))
      .file('/data/zz-after.txt', path.join(proj, 'small/after.txt'));
    // (sha256 of the big file is streamed below, not extracted to disk.)
    exp.tree.get('/data/huge.bin')!.sha256 = sourceHash;
    assertImage(image, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3, extract: false });
    for (const l of [xorrisoList(image, 'rockridge'), isoinfoList(image, 'rockridge'), bsdtarList(image, 'rockridge'), isoInfoList(image, 'joliet'), sevenZipList(image, 'joliet')]) {
      assert.equal(l.entries.get('/data/huge.bin')?.size, HUGE, `[${l.reader}/${l.view}] size of /data/huge.bin`);
    }
    // Several extents, each below 4 GiB, covering the file.
    const extents = xorrisoExtents(image, '/data/huge.bin');
    assert.ok(extents.length >= 2, `expected several extents, xorriso reports ${JSON.stringify(extents)}`);
    assert.ok(extents.every((e) => e.blocks * 2048 < 4 * GiB), JSON.stringify(extents));
    assert.ok(extents.reduce((s, e) => s + e.blocks, 0) * 2048 >= HUGE, `extents too short: ${JSON.stringify(extents)}`);

    // Content: streamed through three readers (two at a time: the machine has two cores).
    const [x, z] = await Promise.all([xorrisoHashFile(image, 'rockridge', '/data/huge.bin'), sevenZipHashFile(image, 'data/huge.bin')]);
    const b = await bsdtarHashFile(image, 'rockridge', 'data/huge.bin');
    const got = { xorriso: [x.size, x.sha256], '7z (Joliet)': [z.size, z.sha256], bsdtar: [b.size, b.sha256] };
    assert.deepEqual(got, { xorriso: [HUGE, sourceHash], '7z (Joliet)': [HUGE, sourceHash], bsdtar: [HUGE, sourceHash] }, `stderr: ${x.stderr.slice(0, 300)} ${z.stderr.slice(0, 300)} ${b.stderr.slice(0, 300)}`);
    // The small files around it are intact (their data sits before and after the big one).
    for (const [p, rel] of [['/before.txt', 'small/before.txt'], ['/data/zz-after.txt', 'small/after.txt']] as const) {
      const h = await xorrisoHashFile(image, 'joliet', p);
      assert.equal(h.sha256, await sha256File(path.join(proj, rel)), `[xorriso/joliet] ${p}`);
    }
    fs.rmSync(image);
  });

  for (const level of [1, 2] as const) {
    test(`level ${level}: a file of exactly 4 GiB is refused (it needs level 3)`, () => {
      const text = `{
  "kind": "data",
  "iso9660": { "level": ${level} },
  "files": [
    { "source": "small/before.txt" },
    { "source": "exactly4g.bin" }
  ],
  "output": "refused${level}.iso"
}
`;
      const manifest = writeManifest(proj, text, `refused${level}.disc.json`);
      const r = runCli(['build', manifest], { timeoutMs: 60_000 });
      const msg = assertInputError(r, manifest, [positionOf(text, '"exactly4g.bin"'), positionOf(text, '{ "source": "exactly4g.bin"'), positionOf(text, `${level} }`)], {
        image: path.join(proj, `refused${level}.iso`),
      });
      assert.match(msg, /level/i, 'the message should say that the level is the problem');
    });
  }
});
