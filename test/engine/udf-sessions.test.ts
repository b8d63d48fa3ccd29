// UDF in a later session of a multisession disc: files imported from an earlier session keep their data where it
// is (FileNode.recorded), so the UDF partition reaches down to that data; the new session's UDF volume (anchor at
// its start + 256 and in the last block) refers to it. Read by udfinfo at the session's start; the Linux kernel
// mounts it too (test/guest/udf-mount.test.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../util/oracles';
import { makeTmp } from '../util/fixtures';
import { buildTwoSessions } from '../util/udf-build';

describe('UDF in a second session', () => {
  let tmp: ReturnType<typeof makeTmp>;
  before(() => {
    tmp = makeTmp();
    fs.writeFileSync(path.join(tmp.dir, 'old.bin'), Buffer.alloc(5000, 0x11));
    fs.writeFileSync(path.join(tmp.dir, 'added.bin'), Buffer.alloc(7000, 0x22));
  });
  after(() => tmp.cleanup());

  for (const rev of ['2.01', '2.50'] as const) {
    test(`UDF ${rev}: the partition covers the first session's data, udfinfo reads the volume at the session start`, async () => {
      const disc = path.join(tmp.dir, `disc${rev}.iso`);
      const { base, oldLba } = await buildTwoSessions(disc, rev, path.join(tmp.dir, 'old.bin'), path.join(tmp.dir, 'added.bin'));
      const r = run('udfinfo', [`--startblock=${base}`, disc], { allowFail: true });
      const out = r.stdout.toString('utf8');
      assert.equal(r.status, 0, `${r.stderr}\n${out}`);
      assert.match(out, new RegExp(`^udfwriterev=${rev.replace('.', '\\.')}$`, 'm'));
      assert.match(out, /^numfiles=2$/m);
      const anchors = [...out.matchAll(/^start=(\d+), blocks=1, type=ANCHOR$/gm)].map((m) => Number(m[1]));
      assert.deepEqual(anchors, [base + 256, fs.statSync(disc).size / 2048 - 1]);
      const pspace = /^start=(\d+), blocks=(\d+), type=PSPACE$/m.exec(out);
      assert.ok(pspace && Number(pspace[1]) <= oldLba, `partition ${pspace?.[0]} does not reach the first session's data at ${oldLba}`);
      // Only the warning that the partition now spans the second session's own volume structures.
      assert.deepEqual(r.stderr.trim().split('\n').filter((l) => l && !/Partition Space overlaps with other blocks/.test(l)), []);
    });
  }
});
