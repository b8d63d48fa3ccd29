// Files of 4 GiB and more in UDF: an allocation descriptor describes at most 2^30 − 2048 bytes (ECMA-167
// 4/14.14.1.1), so a 4.5 GiB file takes five of them, contiguous, in a UDF-only image and in a bridge (where they
// cover the same blocks as the ISO 9660 level 3 extents). The image is written sparse. 7-Zip streams the whole file
// back through its UDF handler. Files with more descriptors than a file entry holds continue them in allocation
// extent descriptors (4/14.5): built here with a lowered extent limit, read back by our inspector byte for byte
// (the kernel reads the same image in test/guest/udf-mount.test.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectImage } from '../../server/src/engine/inspect';
import type { UdfEntry } from '../../server/src/engine/inspect/udf';
import { buildWithSmallExtents } from '../util/udf-build';
import { GiB, MiB, buildOk, freeBytes, makeTmp, sparseFile, writeManifest } from '../util/fixtures';
import { sha256File, sha256FileSync, xorrisoExtents } from '../util/oracles';
import { inspectUdfJson, sevenZipUdfHash, udfinfo } from '../util/udf-oracles';

const HUGE = 4 * GiB + 512 * MiB;
const MAX_AD = 0x3ffff800;
const MARKS = [
  { offset: 0, data: Buffer.from('START of the huge file\n') },
  { offset: MAX_AD - 7, data: Buffer.from('across the first descriptor boundary') },
  { offset: 4 * GiB - 11, data: Buffer.from('just below 4 GiB') },
  { offset: HUGE - 8, data: Buffer.from('THE END\n') },
];

describe('UDF: files of 4 GiB and more, and allocation extent descriptors', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    fs.mkdirSync(path.join(proj, 'small'), { recursive: true });
    fs.writeFileSync(path.join(proj, 'small', 'before.txt'), 'before\n');
    fs.writeFileSync(path.join(proj, 'small', 'after.txt'), 'after\n');
    sparseFile(path.join(proj, 'huge.bin'), HUGE, MARKS);
  });
  after(() => tmp.cleanup());

  for (const [rev, fsys] of [['2.01', '["udf"]'], ['2.50', '["iso9660", "joliet", "rockridge", "udf"]']] as const) {
    test(`UDF ${rev} ${fsys}: a 4.5 GiB file in five contiguous extents, read back whole`, { timeout: 20 * 60_000 }, async () => {
      assert.ok(freeBytes(tmp.dir) > 2 * GiB, `needs 2 GiB free in ${tmp.dir} (the image is sparse)`);
      const name = `huge${rev.replace('.', '')}`;
      const m = writeManifest(proj, `{ "kind": "data", "fileSystems": ${fsys}, "udf": { "revision": "${rev}" }, "media": "dvd+r-dl",
  "files": [ { "source": "small/before.txt" }, { "source": "huge.bin", "target": "/data/huge.bin" }, { "source": "small/after.txt", "target": "/data/zz-after.txt" } ],
  "output": "${name}.iso" }\n`, `${name}.disc.json`);
      const image = path.join(proj, `${name}.iso`);
      const [, sourceHash] = await Promise.all([Promise.resolve(buildOk(m, image, [], { timeoutMs: 15 * 60_000 })), sha256File(path.join(proj, 'huge.bin'))]);
      const st = fs.statSync(image);
      assert.ok(st.size > HUGE);
      assert.ok(st.blocks * 512 < 64 * MiB, `the image was not written sparse: ${(st.blocks * 512 / MiB).toFixed(1)} MiB allocated`);
      udfinfo(image);

      const { report, udf } = inspectUdfJson(image);
      assert.deepEqual(report.problems, []);
      const huge = udf.entries.find((e) => e.path === '/data/huge.bin')!;
      assert.equal(huge.size, HUGE);
      assert.equal(huge.extents.length, 5, JSON.stringify(huge.extents));
      let next = huge.extents[0]!.lba;
      for (const x of huge.extents) {
        assert.equal(x.lba, next, 'extents are not contiguous');
        assert.ok(x.length <= MAX_AD && (x === huge.extents[4] || x.length === MAX_AD), JSON.stringify(x));
        next += Math.ceil(x.length / 2048);
      }
      assert.equal(huge.extents.reduce((s, x) => s + x.length, 0), HUGE);
      if (fsys.includes('iso9660')) {
        // The same blocks hold the file for ISO 9660 (level 3: extents below 4 GiB each).
        const iso = xorrisoExtents(image, '/data/huge.bin');
        assert.ok(iso.length >= 2, JSON.stringify(iso));
        assert.equal(iso[0]!.lba, huge.extents[0]!.lba);
      }
      const h = await sevenZipUdfHash(image, 'data/huge.bin');
      assert.deepEqual([h.size, h.sha256], [HUGE, sourceHash], '7-Zip (UDF) read other bytes');
      const after = await sevenZipUdfHash(image, 'data/zz-after.txt');
      assert.equal(after.sha256, sha256FileSync(path.join(proj, 'small/after.txt')));
      fs.rmSync(image);
    });
  }

  for (const rev of ['1.50', '2.01', '2.60'] as const) {
    test(`UDF ${rev}: more allocation descriptors than a file entry holds continue in allocation extent descriptors`, async () => {
      const src = path.join(proj, 'aed.bin');
      const data = crypto.randomBytes(700 * 2048 + 100);
      fs.writeFileSync(src, data);
      const image = path.join(proj, `aed${rev}.iso`);
      // One block per descriptor: 701 descriptors (short_ad: 229 fit in an extended file entry, 234 in a file
      // entry; long_ad in a metadata partition: 114).
      await buildWithSmallExtents(image, rev, [{ name: 'aed.bin', source: src }, { name: 'small.txt', source: path.join(proj, 'small/before.txt') }], 2048);
      udfinfo(image);
      const report = await inspectImage(image);
      assert.deepEqual(report.problems, []);
      const fsr = report.fileSystems.find((f) => f.type === 'udf')!;
      const e = fsr.entries.find((x) => x.path === '/aed.bin') as UdfEntry;
      assert.equal(e.size, data.length);
      assert.equal(e.extents.length, 701);
      // Read the file back through the extents the descriptors give.
      const fd = fs.openSync(image, 'r');
      const parts = e.extents.map((x) => {
        const b = Buffer.alloc(x.length);
        fs.readSync(fd, b, 0, x.length, x.lba * 2048);
        return b;
      });
      fs.closeSync(fd);
      assert.ok(Buffer.concat(parts).equals(data), 'the data read through the allocation extent descriptors differs');
      // The chain is really there: an AED tag (258) right after the file entry.
      const t = Buffer.alloc(2);
      const fd2 = fs.openSync(image, 'r');
      fs.readSync(fd2, t, 0, 2, (e.icb + 1) * 2048);
      fs.closeSync(fd2);
      assert.equal(t.readUInt16LE(0), 258);
    });
  }
});

