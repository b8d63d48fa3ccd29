// The ISO 9660/Joliet/UDF bridge and UDF-only images as a whole: UDF 2.01 is in the default image, every file's
// data is stored once (the bridge is the ISO-only image plus a few hundred KiB, and ISO 9660 and UDF point at the
// same blocks, which hold the source's bytes), symbolic links (Rock Ridge and UDF keep them, Joliet leaves them
// out; a bridge without Rock Ridge stores what they point to), reproducible bytes, the same --progress json phases,
// and capacity checks that count UDF's own blocks exactly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildOk, makeTmp, positionOf, runCli, assertInputError, sparseFile, writeManifest, writeTree, MiB } from '../util/fixtures';
import { sha256FileSync, xorrisoExtents, xorrisoList } from '../util/oracles';
import { compareTrees, inspectUdfJson, sevenZipExtractAs, sevenZipUdfList, sourceTree, udfinfo } from '../util/udf-oracles';

const CREATED = '2026-01-01T00:00:00Z';
const rand = (n: number, seed: string) => {
  const out = Buffer.alloc(n);
  for (let i = 0, off = 0; off < n; i++, off += 32) crypto.createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
};

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(length);
    fs.readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

function manifest(dir: string, name: string, body: string): string {
  return writeManifest(dir, `{
  "kind": "data",
  "volume": { "label": "BRIDGE", "created": "${CREATED}" },
${body}
  "output": "${name}.iso"
}
`, `${name}.disc.json`);
}

describe('UDF bridge: one copy of the data for ISO 9660, Joliet and UDF', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    writeTree(proj, {
      big: { 'a.bin': rand(8 * MiB, 'a'), 'b.bin': rand(8 * MiB + 1, 'b'), sub: { 'c.bin': rand(8 * MiB - 1, 'c') } },
      small: { 'x.txt': 'x\n', 'y.txt': rand(3000, 'y'), 'empty.txt': '' },
      links: { 'target.txt': 'the target\n', 'rel-link': { symlink: 'target.txt' }, 'abs-link': { symlink: '/small/x.txt' }, 'dir-link': { symlink: '../small' } },
    });
  });
  after(() => tmp.cleanup());

  test('the default file systems are ISO 9660 + Joliet + Rock Ridge + UDF 2.01', () => {
    const m = manifest(proj, 'default', `  "files": [ { "source": "small", "target": "/" } ],`);
    const image = path.join(proj, 'default.iso');
    buildOk(m, image);
    const info = udfinfo(image);
    assert.equal(info.fields['udfrev'], '2.01');
    assert.equal(info.fields['udfwriterev'], '2.01');
    // ISO 9660 with Rock Ridge and Joliet are there too (xorriso reads both trees).
    assert.deepEqual([...xorrisoList(image, 'rockridge').entries.keys()].sort(), ['/empty.txt', '/x.txt', '/y.txt']);
    assert.deepEqual([...xorrisoList(image, 'joliet').entries.keys()].sort(), ['/empty.txt', '/x.txt', '/y.txt']);
    assert.deepEqual([...sevenZipUdfList(image).keys()].sort(), ['/empty.txt', '/x.txt', '/y.txt']);
    const { udf } = inspectUdfJson(image);
    assert.equal(udf.udf.revision, '2.01');
  });

  test('file data is stored once: same blocks for ISO 9660 and UDF, and the bridge costs only UDF metadata', () => {
    const files = `  "files": [ { "source": "big", "target": "/" } ],`;
    const isoOnly = manifest(proj, 'isoonly', `  "fileSystems": ["iso9660", "joliet", "rockridge"],\n${files}`);
    const bridge = manifest(proj, 'bridge', `  "fileSystems": ["iso9660", "joliet", "rockridge", "udf"],\n${files}`);
    buildOk(isoOnly, path.join(proj, 'isoonly.iso'));
    buildOk(bridge, path.join(proj, 'bridge.iso'));
    const isoSize = fs.statSync(path.join(proj, 'isoonly.iso')).size;
    const bridgeSize = fs.statSync(path.join(proj, 'bridge.iso')).size;
    const data = 24 * MiB;
    assert.ok(isoSize > data, `ISO-only image ${isoSize} < data ${data}`);
    // UDF adds its recognition sequence, the blocks up to its anchor at 256, its descriptors, entries and
    // directories, and the closing anchor: well under 1 MiB, whatever the amount of data.
    const extra = bridgeSize - isoSize;
    assert.ok(extra > 0 && extra < 1 * MiB, `the bridge is ${extra} bytes larger than ISO 9660 alone (data stored twice?)`);

    const image = path.join(proj, 'bridge.iso');
    const { udf } = inspectUdfJson(image);
    const udfEntries = new Map(udf.entries.map((e) => [e.path, e]));
    for (const [p, rel] of [['/a.bin', 'a.bin'], ['/b.bin', 'b.bin'], ['/sub/c.bin', 'sub/c.bin']] as const) {
      const isoX = xorrisoExtents(image, p);
      const udfX = udfEntries.get(p)!.extents;
      assert.equal(isoX.length, 1, `${p}: ISO extents ${JSON.stringify(isoX)}`);
      assert.equal(udfX[0]!.lba, isoX[0]!.lba, `${p}: UDF data at ${udfX[0]!.lba}, ISO 9660 data at ${isoX[0]!.lba}`);
      assert.equal(udfX.reduce((s, x) => s + x.length, 0), fs.statSync(path.join(proj, 'big', rel)).size);
      // The blocks both point at hold the source's bytes.
      const src = path.join(proj, 'big', rel);
      const size = fs.statSync(src).size;
      assert.equal(crypto.createHash('sha256').update(readAt(image, udfX[0]!.lba * 2048, size)).digest('hex'), sha256FileSync(src), `${p}: bytes at the shared extent`);
    }
    // The UDF partition covers the shared data.
    const part = udf.udf.partitions[0]!;
    for (const e of udf.entries) for (const x of e.extents) assert.ok(x.lba >= part.start && x.lba < part.start + part.length, `${e.path}: @${x.lba} outside the partition`);
    assert.deepEqual(compareTrees('7z/udf', sevenZipExtractAs(image, 'udf', path.join(proj, 'bx')), sourceTree(path.join(proj, 'big'))), []);
  });

  test('symbolic links: Rock Ridge and UDF keep them, Joliet leaves them out', () => {
    const m = manifest(proj, 'links', `  "files": [ { "source": "links", "target": "/" } ],`);
    const image = path.join(proj, 'links.iso');
    buildOk(m, image);
    udfinfo(image);
    const { report, udf } = inspectUdfJson(image);
    assert.deepEqual(report.problems, []);
    const links = Object.fromEntries(udf.entries.filter((e) => e.kind === 'symlink').map((e) => [e.path, (e as { target?: string }).target]));
    assert.deepEqual(links, { '/abs-link': '/small/x.txt', '/dir-link': '../small', '/rel-link': 'target.txt' });
    const rr = xorrisoList(image, 'rockridge').entries;
    assert.equal(rr.get('/rel-link')?.kind, 'symlink');
    assert.equal(rr.get('/rel-link')?.target, 'target.txt');
    assert.deepEqual([...xorrisoList(image, 'joliet').entries.keys()], ['/target.txt']);
  });

  test('a bridge without Rock Ridge stores what links point to, in ISO 9660 and UDF alike', () => {
    const m = manifest(proj, 'nolinks', `  "fileSystems": ["iso9660", "joliet", "udf"],\n  "files": [ { "source": "links", "target": "/" }, { "source": "small", "target": "/small" } ],`);
    const image = path.join(proj, 'nolinks.iso');
    buildOk(m, image);
    const got = sevenZipExtractAs(image, 'udf', path.join(proj, 'nl'));
    assert.equal(got.get('/rel-link')?.kind, 'file');
    assert.equal(got.get('/rel-link')?.sha256, sha256FileSync(path.join(proj, 'links/target.txt')));
    assert.equal(got.get('/dir-link')?.kind, 'dir');
    assert.equal(got.get('/dir-link/y.txt')?.sha256, sha256FileSync(path.join(proj, 'small/y.txt')));
  });

  test('UDF only: no ISO 9660 structures, the recognition sequence at 16 after 32 KiB of zeros', () => {
    const m = manifest(proj, 'udfonly', `  "fileSystems": ["udf"],\n  "udf": { "revision": "2.50" },\n  "files": [ { "source": "links", "target": "/" }, { "source": "big/a.bin" } ],`);
    const image = path.join(proj, 'udfonly.iso');
    buildOk(m, image);
    assert.ok(readAt(image, 0, 16 * 2048).every((b) => b === 0), 'the first 16 blocks are not zero');
    for (const [i, id] of ['BEA01', 'NSR03', 'TEA01'].entries()) assert.equal(readAt(image, (16 + i) * 2048 + 1, 5).toString('latin1'), id);
    assert.equal(readAt(image, 19 * 2048, 2048).indexOf('CD001'), -1);
    const r = runCli(['inspect', '--json', image]);
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as { volumeDescriptors: unknown[]; fileSystems: { type: string }[]; problems: string[] };
    assert.deepEqual(rep.volumeDescriptors, []);
    assert.deepEqual(rep.fileSystems.map((f) => f.type), ['udf']);
    assert.deepEqual(rep.problems, []);
    // Symbolic links are kept on a UDF-only disc (there is no Rock Ridge to keep them).
    const { udf } = inspectUdfJson(image);
    assert.equal(udf.entries.find((e) => e.path === '/rel-link')?.kind, 'symlink');
    assert.equal(udfinfo(image).fields['udfwriterev'], '2.50');
  });

  test('the same manifest and inputs give the same bytes; another `created` gives other bytes', () => {
    for (const [name, fsys] of [['r1', '["iso9660", "joliet", "rockridge", "udf"]'], ['r2', '["udf"]']] as const) {
      const body = (created: string) => `{ "kind": "data", "volume": { "label": "R", "created": "${created}" }, "fileSystems": ${fsys},
  "udf": { "revision": "2.60", "redundantMetadata": true }, "files": [ { "source": "small" }, { "source": "links" } ], "output": "${name}.iso" }\n`;
      const m = writeManifest(proj, body(CREATED), `${name}.disc.json`);
      const image = path.join(proj, `${name}.iso`);
      buildOk(m, image);
      const first = sha256FileSync(image);
      // Touch the sources: with `created` set their times do not matter.
      for (const f of ['small/x.txt', 'links/target.txt']) fs.utimesSync(path.join(proj, f), new Date(), new Date());
      buildOk(m, image);
      assert.equal(sha256FileSync(image), first, `${name}: two builds differ`);
      writeManifest(proj, body('2027-06-01T12:00:00Z'), `${name}.disc.json`);
      buildOk(m, image);
      assert.notEqual(sha256FileSync(image), first, `${name}: another creation time gave the same bytes`);
    }
  });

  test('--progress json: the same scan, plan, write and done phases; write counts every byte', () => {
    for (const fsys of ['["udf"]', '["iso9660", "udf"]']) {
      const m = manifest(proj, 'progress', `  "fileSystems": ${fsys},\n  "files": [ { "source": "big", "target": "/" } ],`);
      const r = runCli(['build', m, '--progress', 'json']);
      assert.equal(r.status, 0, r.stderr);
      const events = r.stderr.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { phase: string; done: number; total: number });
      const phases = [...new Set(events.map((e) => e.phase))];
      assert.deepEqual(phases.filter((p) => p !== 'load'), ['scan', 'plan', 'write', 'done']);
      const last = events.filter((e) => e.phase === 'write').pop()!;
      assert.equal(last.done, last.total);
      assert.equal(last.total, fs.statSync(path.join(proj, 'progress.iso')).size);
    }
  });

  test('capacity: UDF blocks are counted exactly (one block too many is reported)', () => {
    // A UDF-only image of one sparse file, sized so that the image is exactly one block more than a CD-R holds.
    const cdr = 360_000;
    const probe = manifest(proj, 'cap', `  "fileSystems": ["udf"],\n  "files": [ { "source": "cap.bin" } ],`);
    sparseFile(path.join(proj, 'cap.bin'), 100 * 2048);
    const planned = JSON.parse(runCli(['check', '--json', probe]).stdout) as { blocks: number };
    const overhead = planned.blocks - 100;
    sparseFile(path.join(proj, 'cap.bin'), (cdr - overhead + 1) * 2048);
    const text = `{ "kind": "data", "media": "cd-r", "fileSystems": ["udf"], "files": [ { "source": "cap.bin" } ], "output": "cap.iso" }\n`;
    const m = writeManifest(proj, text, 'cap2.disc.json');
    const msg = assertInputError(runCli(['build', m]), m, [positionOf(text, '"cd-r"')], { image: path.join(proj, 'cap.iso') });
    assert.match(msg, new RegExp(`${cdr + 1} blocks`), msg);
    assert.match(msg, /2048 bytes\) too much/, msg);
    // One block less fits, and the image is exactly the CD-R's capacity.
    sparseFile(path.join(proj, 'cap.bin'), (cdr - overhead) * 2048);
    buildOk(m, path.join(proj, 'cap.iso'));
    assert.equal(fs.statSync(path.join(proj, 'cap.iso')).size, cdr * 2048);
    fs.rmSync(path.join(proj, 'cap.iso'));
  });
});
