// UDF images of every revision (1.02, 1.50, 2.00, 2.01, 2.50, 2.60; 2.50 and 2.60 also with the metadata
// duplicated), UDF-only and as an ISO 9660/Joliet/Rock Ridge/UDF bridge, judged by readers we did not write:
// udfinfo (udftools) must accept each image and report the revision asked for, 7-Zip must list and extract every
// file through its UDF handler (and, for bridges, through its ISO handler) with the sources' exact contents.
// Our own inspector must read them without a single problem. The planned size is the written size.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildOk, makeTmp, runCli, writeManifest, writeTree, type TreeSpec } from '../util/fixtures';
import { REVISIONS, compareTrees, inspectUdfJson, sevenZipExtractAs, sevenZipUdfList, sourceTree, udfinfo, udfinfoRevisions, type Revision } from '../util/udf-oracles';

const CREATED = '2026-01-01T00:00:00Z';
const rand = (n: number, seed: string) => {
  const out = Buffer.alloc(n);
  for (let i = 0, off = 0; off < n; i++, off += 32) crypto.createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
};

/** No symbolic links here: 7-Zip's UDF handler refuses a volume with one (see test/util/udf-oracles.ts). */
const TREE: TreeSpec = {
  'hello.txt': 'Hello, UDF!\n',
  'empty.txt': '',
  'block.bin': rand(2048, 'block'),
  'three.bin': rand(5000, 'three'),
  // The most data an extended file entry (216-byte header) and a file entry (176) can hold: stored inside the
  // entry in UDF-only images; one byte more goes to the data area.
  'fits-efe.bin': rand(1832, 'efe'),
  'fits-fe.bin': rand(1872, 'fe'),
  'one-more.bin': rand(1873, 'more'),
  'Grüße aus Köln.txt': 'Latin-1: 8-bit OSTA compressed Unicode\n',
  '日本語のファイル.txt': 'CJK: 16-bit OSTA compressed Unicode\n',
  'emoji 😀 name.txt': 'outside the BMP: a surrogate pair\n',
  'run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
  'secret.txt': { content: 'mode 0600\n', mode: 0o600 },
  docs: { 'readme.md': '# docs\n', deep: { er: { est: { 'leaf.txt': 'leaf\n' } } } },
  'private dir': { dirMode: 0o700, entries: { 'inside.txt': 'inside\n' } },
  'empty dir': {},
};

interface Case {
  rev: Revision;
  bridge: boolean;
  redundant: boolean;
}

const CASES: Case[] = [];
for (const rev of REVISIONS) {
  for (const bridge of [false, true]) {
    CASES.push({ rev, bridge, redundant: false });
    if (rev >= '2.50') CASES.push({ rev, bridge, redundant: true });
  }
}

const caseName = (c: Case) => `UDF ${c.rev}${c.redundant ? ' (redundant metadata)' : ''} ${c.bridge ? 'ISO 9660/Joliet/Rock Ridge/UDF bridge' : 'UDF only'}`;

describe('UDF revisions: udfinfo, 7-Zip and the inspector read every file', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  let src: string;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    src = path.join(proj, 'src');
    writeTree(src, TREE);
    for (const p of ['', 'docs', 'docs/deep', 'private dir']) fs.utimesSync(path.join(src, p), new Date(CREATED), new Date(CREATED));
  });
  after(() => tmp.cleanup());

  for (const c of CASES) {
    test(caseName(c), () => {
      const tag = `${c.rev.replace('.', '')}${c.redundant ? 'r' : ''}${c.bridge ? 'b' : 'u'}`;
      const text = `{
  "kind": "data",
  "volume": { "label": "UDF_${tag}", "created": "${CREATED}" },
  "fileSystems": ${c.bridge ? '["iso9660", "joliet", "rockridge", "udf"]' : '["udf"]'},
  "udf": { "revision": "${c.rev}"${c.redundant ? ', "redundantMetadata": true' : ''} },
  "files": [ { "source": "src", "target": "/" } ],
  "output": "${tag}.iso"
}
`;
      const manifest = writeManifest(proj, text, `${tag}.disc.json`);
      const image = path.join(proj, `${tag}.iso`);
      buildOk(manifest, image);
      const size = fs.statSync(image).size;

      // The size planned (what `check` and capacity diagnostics count) is the size written.
      const chk = runCli(['check', '--json', manifest]);
      assert.equal(chk.status, 0, chk.stderr);
      assert.equal(JSON.parse(chk.stdout).bytes, size, 'planned size != written size');

      // udfinfo: the revision asked for, closed integrity, read-only partition, anchors at 256 and in the last block.
      const info = udfinfo(image);
      const [udfrev, udfwriterev] = udfinfoRevisions(c.rev);
      assert.equal(info.fields['udfrev'], udfrev, JSON.stringify(info.fields));
      assert.equal(info.fields['udfwriterev'], udfwriterev);
      assert.equal(info.fields['integrity'], 'closed');
      assert.equal(info.fields['accesstype'], 'readonly');
      assert.equal(info.fields['vid'], `UDF_${tag}`);
      assert.equal(info.fields['numdirs'], '7');
      assert.equal(info.fields['numfiles'], '15');
      assert.equal(Number(info.fields['blocks']), size / 2048);
      const anchors = info.layout.filter((l) => l.type === 'ANCHOR').map((l) => l.start);
      assert.deepEqual(anchors, [256, size / 2048 - 1], JSON.stringify(info.layout));
      assert.ok(info.layout.some((l) => l.type === 'VRS' && l.start === 16), JSON.stringify(info.layout));
      assert.ok(info.layout.some((l) => l.type === 'MVDS') && info.layout.some((l) => l.type === 'RVDS') && info.layout.some((l) => l.type === 'LVID'));

      // 7-Zip through UDF: every path, every byte; timestamps are `created`.
      const expected = sourceTree(src);
      const listing = sevenZipUdfList(image);
      assert.deepEqual([...listing.keys()].sort(), [...expected.keys()].sort(), '7-Zip (UDF) lists other paths than the sources');
      for (const [p, e] of listing) {
        assert.equal(e.mtime, CREATED, `[7z/udf] ${p}: mtime`);
        if (e.kind === 'file') assert.equal(e.size, expected.get(p)!.size, `[7z/udf] ${p}: size`);
      }
      const problems = compareTrees('7z/udf', sevenZipExtractAs(image, 'udf', path.join(proj, `${tag}-x-udf`)), expected);
      if (c.bridge) problems.push(...compareTrees('7z/iso', sevenZipExtractAs(image, 'iso', path.join(proj, `${tag}-x-iso`)), expected));
      assert.deepEqual(problems, []);

      // Our inspector: no problems; revision, partition maps, modes, and where the data is.
      const { report, udf } = inspectUdfJson(image);
      assert.deepEqual(report.problems, []);
      assert.equal(udf.udf.revision, c.rev);
      assert.equal(udf.udf.minReadRevision, udfrev);
      assert.deepEqual(udf.udf.anchors, [256, size / 2048 - 1]);
      assert.deepEqual(udf.udf.recognition.map((r) => r.id).filter((id) => id !== 'CD001'), ['BEA01', c.rev >= '2.00' ? 'NSR03' : 'NSR02', 'TEA01']);
      assert.equal(udf.udf.recognition[0]!.lba, 16);
      assert.equal(udf.udf.recognition[0]!.id, c.bridge ? 'CD001' : 'BEA01');
      assert.deepEqual(udf.udf.partitions.map((p) => [p.accessType, p.contents]), [['read-only', c.rev >= '2.00' ? '+NSR03' : '+NSR02']]);
      const maps = udf.udf.partitionMaps.map((m) => (m.type === 1 ? 'type 1' : `${m.kind}${m.duplicated ? ' duplicated' : ''}`));
      assert.deepEqual(maps, c.rev >= '2.50' ? ['type 1', `metadata${c.redundant ? ' duplicated' : ''}`] : ['type 1']);
      assert.deepEqual(udf.udf.integrity.type, 'close');
      assert.equal(udf.udf.integrity.files, 15);
      assert.equal(udf.udf.integrity.directories, 7);
      const entries = new Map(udf.entries.map((e) => [e.path, e]));
      for (const [p, e] of expected) {
        const got = entries.get(p);
        assert.ok(got, `[inspect] ${p} missing`);
        assert.equal(got.kind, e.kind, `[inspect] ${p}`);
        assert.equal(got.mode! & 0o7777, e.mode, `[inspect] ${p}: mode 0${(got.mode! & 0o7777).toString(8)}, source 0${e.mode!.toString(8)}`);
        assert.equal(got.recorded, CREATED, `[inspect] ${p}: time`);
        if (e.kind === 'file') {
          assert.equal(got.size, e.size, `[inspect] ${p}: size`);
          // Inside the entry: empty files always; small files only when no other file system shares the data.
          const limit = c.rev >= '2.00' ? 1832 : 1872;
          assert.equal(got.embedded, e.size === 0 || (!c.bridge && e.size! <= limit), `[inspect] ${p}: embedded`);
        }
      }
      assert.equal(entries.size, expected.size + 1, 'inspect lists other entries than the sources');
      // File entries (4/14.9) up to UDF 1.50, extended file entries (4/14.17) from 2.00 on: the root's tag.
      const rootIcb = entries.get('/')!.icb;
      const fd = fs.openSync(image, 'r');
      const t = Buffer.alloc(2);
      fs.readSync(fd, t, 0, 2, rootIcb * 2048);
      fs.closeSync(fd);
      assert.equal(t.readUInt16LE(0), c.rev >= '2.00' ? 266 : 261);
      fs.rmSync(image);
    });
  }
});
