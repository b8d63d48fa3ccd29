// End-to-end tests of reproducible builds: with volume.created set every timestamp in the image is that
// instant, building twice gives byte-identical images, the order in which the file system lists the sources
// (readdir order), their mtimes and their location do not matter, and changing `created` changes the bytes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sha256FileSync } from '../util/oracles';
import { Expected, assertImage, buildOk, makeTmp, writeManifest, writeTree, type TreeSpec } from '../util/fixtures';

const CREATED = '2026-01-01T00:00:00Z';

/** Fixed contents (not random): two trees made from this spec must give the same image. */
function spec(reverse: boolean): TreeSpec {
  const names = ['zeta.txt', 'Alpha.txt', 'beta.TXT', 'a-b.txt', 'a_b.txt', 'Grüße.txt', '日本.txt', 'mid', '0first.bin', 'empty'];
  const ordered = reverse ? [...names].reverse() : names;
  const out: TreeSpec = {};
  for (const n of ordered) {
    if (n === 'mid') {
      const inner = ['z.dat', 'y.dat', 'x.dat', 'deeper'];
      const sub: TreeSpec = {};
      for (const m of reverse ? [...inner].reverse() : inner) sub[m] = m === 'deeper' ? { 'leaf.txt': 'leaf\n' } : `content of ${m}\n`.repeat(100);
      out[n] = sub;
    } else if (n === 'empty') out[n] = {};
    else out[n] = `content of ${n}\n`.repeat(n.length * 37);
  }
  return out;
}

/** Entries in the order the file system gives them (fs.readdirSync sorts them; a Dir does not). */
function rawOrder(dir: string): string[] {
  const d = fs.opendirSync(dir);
  const out: string[] = [];
  try {
    for (let e = d.readSync(); e; e = d.readSync()) out.push(e.name);
  } finally {
    d.closeSync();
  }
  return out;
}

function manifestText(created: string, output: string): string {
  return `{
  "kind": "data",
  // reproducible: every timestamp is "created"
  "volume": { "label": "REPRO", "created": "${created}" },
  "files": [ { "source": "src", "target": "/" }, { "directory": "/made/by/manifest" } ],
  "output": "${output}"
}
`;
}

describe('discforge build: reproducible images', () => {
  let tmp: ReturnType<typeof makeTmp>;
  before(() => {
    tmp = makeTmp();
  });
  after(() => tmp.cleanup());

  test('every timestamp is volume.created, in every view, through several readers', () => {
    const proj = path.join(tmp.dir, 'times');
    writeTree(path.join(proj, 'src'), spec(false));
    // Sources with assorted mtimes: none of them may show.
    fs.utimesSync(path.join(proj, 'src', 'zeta.txt'), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
    fs.utimesSync(path.join(proj, 'src', 'mid'), new Date('2030-07-08T09:10:11Z'), new Date('2030-07-08T09:10:11Z'));
    const manifest = writeManifest(proj, manifestText(CREATED, 'times.iso'));
    const image = path.join(proj, 'times.iso');
    buildOk(manifest, image);
    const exp = new Expected().folder('/', path.join(proj, 'src')).dir('/made/by/manifest');
    assertImage(image, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3, created: new Date(CREATED) });
  });

  test('building twice, from differently ordered and dated copies elsewhere, gives byte-identical images', () => {
    // Three copies of the same tree: on the default temp folder, and twice on tmpfs (/dev/shm) created in
    // opposite orders: tmpfs lists a folder newest first, so the two tmpfs copies have reversed readdir orders.
    const shmBase = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
    const shm = makeTmp(shmBase);
    try {
      const copies = [path.join(tmp.dir, 'c1'), path.join(shm.dir, 'c2'), path.join(shm.dir, 'c3')];
      writeTree(path.join(copies[0]!, 'src'), spec(false));
      writeTree(path.join(copies[1]!, 'src'), spec(false));
      writeTree(path.join(copies[2]!, 'src'), spec(true));
      const t = new Date('2011-11-11T11:11:11Z');
      fs.utimesSync(path.join(copies[2]!, 'src', 'Alpha.txt'), t, t);
      if (shmBase === '/dev/shm') {
        const o2 = rawOrder(path.join(copies[1]!, 'src'));
        const o3 = rawOrder(path.join(copies[2]!, 'src'));
        assert.notDeepEqual(o2, o3, 'the two tmpfs copies should list their entries in different orders');
        assert.deepEqual([...o2].sort(), [...o3].sort());
      }
      const hashes: string[] = [];
      const images: string[] = [];
      for (const [i, c] of copies.entries()) {
        const manifest = writeManifest(c, manifestText(CREATED, `repro${i}.iso`));
        const image = path.join(c, `repro${i}.iso`);
        buildOk(manifest, image);
        hashes.push(sha256FileSync(image));
        images.push(image);
      }
      // And the first one again.
      const again = path.join(copies[0]!, 'again.iso');
      buildOk(path.join(copies[0]!, 'project.disc.json'), again, ['--output', again]);
      hashes.push(sha256FileSync(again));
      assert.deepEqual(hashes, [hashes[0], hashes[0], hashes[0], hashes[0]], 'images differ between builds of the same inputs');
      // The image is also right (not just stable).
      const exp = new Expected().folder('/', path.join(copies[0]!, 'src')).dir('/made/by/manifest');
      assertImage(images[0]!, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3, created: new Date(CREATED) });
    } finally {
      shm.cleanup();
    }
  });

  test('changing volume.created changes the bytes (and the times readers show)', () => {
    const proj = path.join(tmp.dir, 'created');
    writeTree(path.join(proj, 'src'), spec(false));
    const a = path.join(proj, 'a.iso');
    const b = path.join(proj, 'b.iso');
    buildOk(writeManifest(proj, manifestText(CREATED, 'a.iso'), 'a.disc.json'), a);
    const later = '2027-06-15T12:34:56Z';
    buildOk(writeManifest(proj, manifestText(later, 'b.iso'), 'b.disc.json'), b);
    assert.notEqual(sha256FileSync(a), sha256FileSync(b), 'a different "created" gave the same image');
    const exp = new Expected().folder('/', path.join(proj, 'src')).dir('/made/by/manifest');
    assertImage(b, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3, created: new Date(later), perFile: false });
  });
});
