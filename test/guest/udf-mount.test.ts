/**
 * The Linux kernel's udf driver reads our UDF images, and its isofs driver the ISO 9660 side of our bridges.
 * One source tree (modes with setuid and sticky bits, symbolic links, Unicode and 254-character names, an empty
 * file, files small enough to live in their file entry, random data, a deep tree, a wide directory) goes into a
 * UDF-only image of every revision (1.02 … 2.60, 2.50 also with duplicated metadata) and into two bridges; a guest
 * (test/guest/guest.ts: Debian's kernel under QEMU) mounts each read-only as `udf` (and the bridges as `iso9660`)
 * and lists type, mode, size, mtime, symlink target and SHA-256 of every entry, compared with the sources. Two
 * images whose files continue their allocation descriptors in allocation extent descriptors, and a 4.5 GiB sparse
 * file (five allocation descriptors; read at its marks), complete it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildTwoSessions, buildWithSmallExtents } from '../util/udf-build';
import { ensureGuest, LISTING_SH, parseListing, parseSections, repoRoot, runGuest, type Entry, type EntryType } from './guest';

const CREATED = '2026-01-01T00:00:00Z';
const T = Date.parse(CREATED) / 1000;
const GiB = 1024 ** 3;
const HUGE = 4 * GiB + 512 * 1024 * 1024;
const MARKS = [
  { offset: 0, data: 'START of the huge file' },
  { offset: 0x3ffff800 - 7, data: 'across the first descriptor boundary' },
  { offset: 4 * GiB - 11, data: 'just below 4 GiB' },
  { offset: HUGE - 8, data: 'THE END\n' },
];

interface Src {
  path: string;
  type: EntryType;
  mode: number;
  size: number;
  sha256?: string;
  target?: string;
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
function pseudoRandom(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, off = 0; off < n; i++, off += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

async function makeTree(root: string): Promise<void> {
  const file = async (p: string, content: string | Buffer, mode = 0o644): Promise<void> => {
    await fsp.mkdir(path.dirname(path.join(root, p)), { recursive: true });
    await fsp.writeFile(path.join(root, p), content);
    await fsp.chmod(path.join(root, p), mode);
  };
  await file('hello.txt', 'Hello, kernel!\n');
  await file('empty.txt', '');
  await file('tiny.bin', pseudoRandom('tiny', 100));
  await file('fits.bin', pseudoRandom('fits', 1832));
  await file('block.bin', pseudoRandom('block', 2048));
  await file('rand_1m.bin', pseudoRandom('1m', 1048576 + 3));
  await file('Grüße_日本.txt', 'non-ASCII name\n');
  await file('emoji 😀 name.txt', 'a surrogate pair in the name\n');
  await file('a'.repeat(254), 'the longest Latin-1 name UDF records\n');
  await file('run.sh', '#!/bin/sh\necho run\n', 0o755);
  await file('setuid', 'setuid bit\n', 0o4755);
  await file('secret/key.txt', 'private\n', 0o600);
  await file('d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/deep.txt', 'deep\n');
  for (let i = 0; i < 200; i++) await file(`wide/entry number ${String(i).padStart(3, '0')} of the wide folder.txt`, `${i}\n`);
  await fsp.mkdir(path.join(root, 'sticky'));
  await fsp.chmod(path.join(root, 'sticky'), 0o1777);
  await fsp.chmod(path.join(root, 'secret'), 0o700);
  await fsp.symlink('hello.txt', path.join(root, 'link_to_hello'));
  await fsp.symlink('../d1/d2', path.join(root, 'secret/link_to_dir'));
  await fsp.symlink('/etc/passwd', path.join(root, 'absolute_link'));
  await fsp.symlink('nowhere', path.join(root, 'dangling'));
  const all: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const n of await fsp.readdir(d)) {
      const p = path.join(d, n);
      if ((await fsp.lstat(p)).isDirectory()) await walk(p);
      all.push(p);
    }
  };
  await walk(root);
  for (const p of all) await fsp.lutimes(p, T, T);
  await fsp.utimes(root, T, T);
}

async function readSrc(root: string): Promise<Map<string, Src>> {
  const out = new Map<string, Src>();
  const walk = async (rel: string): Promise<void> => {
    for (const n of (await fsp.readdir(path.join(root, rel))).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const p = path.join(root, r);
      const st = await fsp.lstat(p);
      const mode = st.mode & 0o7777;
      if (st.isSymbolicLink()) out.set(r, { path: r, type: 'symlink', mode: 0o777, size: 0, target: await fsp.readlink(p) });
      else if (st.isDirectory()) {
        out.set(r, { path: r, type: 'dir', mode, size: 0 });
        await walk(r);
      } else out.set(r, { path: r, type: 'file', mode, size: st.size, sha256: sha256(await fsp.readFile(p)) });
    }
  };
  await walk('');
  return out;
}

const fmtMode = (m: number): string => `0${m.toString(8)}`;

/** A listing against the sources: names, types, modes (setuid/sticky included), sizes, contents, targets, mtimes. */
function compare(tag: string, got: Map<string, Entry>, src: Map<string, Src>, opts: { symlinks: boolean; ignore?: (p: string) => boolean }): string[] {
  const problems: string[] = [];
  for (const s of src.values()) {
    if (s.type === 'symlink' && !opts.symlinks) continue;
    if (opts.ignore?.(s.path)) continue;
    const a = got.get(s.path);
    if (!a) {
      problems.push(`[${tag}] missing: ${s.path}`);
      continue;
    }
    if (a.type !== s.type) problems.push(`[${tag}] ${s.path}: type ${a.type}, want ${s.type}`);
    if (a.mode !== s.mode) problems.push(`[${tag}] ${s.path}: mode ${fmtMode(a.mode)}, want ${fmtMode(s.mode)}`);
    if (s.type === 'file' && (a.size !== s.size || a.sha256 !== s.sha256)) problems.push(`[${tag}] ${s.path}: ${a.size} bytes, sha256 ${a.sha256}; want ${s.size}, ${s.sha256}`);
    if (s.type === 'symlink' && a.target !== s.target) problems.push(`[${tag}] ${s.path}: -> ${a.target}, want -> ${s.target}`);
    if (a.mtime !== T) problems.push(`[${tag}] ${s.path}: mtime ${a.mtime}, want ${T}`);
  }
  for (const p of got.keys()) {
    if (opts.ignore?.(p)) continue;
    const s = src.get(p);
    if (!s || (s.type === 'symlink' && !opts.symlinks)) problems.push(`[${tag}] unexpected: ${p}`);
  }
  return problems;
}

describe('kernel mount: Linux udf (and isofs) read our UDF images', { timeout: 30 * 60_000 }, () => {
  let work = '';
  let tree = '';
  let src = new Map<string, Src>();
  before(async () => {
    work = await fsp.mkdtemp(path.join(os.tmpdir(), 'discforge-udfmount-'));
    tree = path.join(work, 'tree');
    await makeTree(tree);
    src = await readSrc(tree);
    await ensureGuest();
  });
  after(async () => {
    if (work) await fsp.rm(work, { recursive: true, force: true });
  });

  const build = (name: string, fileSystems: string | undefined, udf: string, files = '[ { "source": "tree", "target": "/" } ]'): string => {
    const cli = path.join(repoRoot(), 'dist', 'cli.js');
    assert.ok(existsSync(cli), `${cli} is missing: build it with node scripts/build.mjs`);
    const manifest = path.join(work, `${name}.disc.json`);
    fs.writeFileSync(manifest, `{ "kind": "data", "volume": { "label": "${name.toUpperCase()}", "created": "${CREATED}" },
  ${fileSystems ? `"fileSystems": ${fileSystems},` : ''} "udf": ${udf}, "files": ${files}, "output": "${name}.iso" }\n`);
    const r = spawnSync(process.execPath, [cli, 'build', manifest], { encoding: 'utf8', timeout: 15 * 60_000 });
    assert.equal(r.status, 0, `build ${name}: ${r.stderr}${r.stdout}`);
    return path.join(work, `${name}.iso`);
  };

  it('every revision UDF-only, two bridges (udf and iso9660 mounts), allocation extent descriptors', async (t) => {
    const images: { name: string; iso: string; mounts: ('udf' | 'iso9660')[] }[] = [];
    for (const rev of ['1.02', '1.50', '2.00', '2.01', '2.50', '2.60']) {
      images.push({ name: `u${rev.replace('.', '')}`, iso: build(`u${rev.replace('.', '')}`, '["udf"]', `{ "revision": "${rev}" }`), mounts: ['udf'] });
    }
    images.push({ name: 'u250r', iso: build('u250r', '["udf"]', '{ "revision": "2.50", "redundantMetadata": true }'), mounts: ['udf'] });
    // The default bridge (ISO 9660 + Joliet + Rock Ridge + UDF 2.01) and a 2.60 bridge with duplicated metadata.
    images.push({ name: 'bdefault', iso: build('bdefault', undefined, '{}'), mounts: ['udf', 'iso9660'] });
    images.push({ name: 'b260r', iso: build('b260r', '["iso9660", "joliet", "rockridge", "udf"]', '{ "revision": "2.60", "redundantMetadata": true }'), mounts: ['udf', 'iso9660'] });
    // 701 allocation descriptors of one block each: the file entry cannot hold them, allocation extent descriptors do.
    const aedSrc = path.join(work, 'aed.bin');
    const aedData = pseudoRandom('aed', 700 * 2048 + 100);
    fs.writeFileSync(aedSrc, aedData);
    for (const rev of ['1.50', '2.01', '2.60'] as const) {
      const iso = path.join(work, `aed${rev}.iso`);
      await buildWithSmallExtents(iso, rev, [{ name: 'aed.bin', source: aedSrc }], 2048);
      images.push({ name: `aed${rev.replace('.', '')}`, iso, mounts: ['udf'] });
    }

    let script = `${LISTING_SH}\nrc=0\n`;
    images.forEach((img, i) => {
      for (const m of img.mounts) script += `mount_list ${img.name}_${m} /dev/sr${i} ${m} '' || rc=1\n`;
    });
    script += 'echo "@@@ BEGIN dmesg"; dmesg; echo "@@@ END dmesg 0"\nexit $rc\n';
    const r = await runGuest(script, { cdroms: images.map((i) => i.iso), timeoutSec: 900, memMiB: 1024 });
    t.diagnostic(`guest: ${images.length} images, ${images.reduce((n, i) => n + i.mounts.length, 0)} mounts in ${r.seconds.toFixed(1)} s`);
    const sections = parseSections(r.output);
    const problems: string[] = [];
    for (const img of images) {
      for (const m of img.mounts) {
        const s = sections.get(`${img.name}_${m}`);
        if (!s) {
          problems.push(`${img.name} (${m}): no listing`);
          continue;
        }
        if (s.mountFailed) {
          problems.push(`${img.name} (${m}): mount failed: ${s.mountFailed}`);
          continue;
        }
        const got = parseListing(s);
        if (img.name.startsWith('aed')) {
          const a = got.get('aed.bin');
          if (!a || a.size !== aedData.length || a.sha256 !== sha256(aedData)) problems.push(`${img.name}: aed.bin reads ${a?.size} bytes sha256 ${a?.sha256}`);
        } else {
          // Linux isofs stops a Rock Ridge name at 253 bytes (fs/isofs/rock.c: "retnamlen + len >= 254" truncates
          // to the NM pieces read so far): the 254-character name is UDF's to show; isofs shows a prefix of it.
          const ignore = m === 'iso9660' ? (p: string) => /^a{50,}$/.test(p) : undefined;
          problems.push(...compare(`${img.name}/${m}`, got, src, { symlinks: true, ignore }));
        }
      }
    }
    const dmesg = sections.get('dmesg')?.lines ?? [];
    for (const l of [...dmesg, ...r.log.split('\n')]) {
      if (/UDF-fs: (error|warning)|I\/O error|corrupt|bad (tag|checksum|crc)/i.test(l)) problems.push(`kernel: ${l}`);
    }
    assert.deepEqual(problems, [], `guest output (end):\n${r.output.slice(-2000)}`);
    assert.equal(r.status, 0);
  });

  it('a second session: UDF refers to a file recorded in the first session (mount -o session=N)', async () => {
    const old = path.join(work, 'old.bin');
    const added = path.join(work, 'added.bin');
    fs.writeFileSync(old, pseudoRandom('old', 5000));
    fs.writeFileSync(added, pseudoRandom('added', 7000));
    const discs = [];
    for (const rev of ['2.01', '2.50'] as const) {
      const disc = path.join(work, `sessions${rev}.iso`);
      const { base } = await buildTwoSessions(disc, rev, old, added);
      discs.push({ disc, base });
    }
    let script = 'mkdir -p /m; rc=0\n';
    discs.forEach((d, i) => {
      script += `mount -t udf -o ro,session=${d.base} /dev/vd${String.fromCharCode(97 + i)} /m || rc=1\n`;
      script += `echo "D${i} $(sha256sum /m/old.bin | cut -d' ' -f1) $(sha256sum /m/added.bin | cut -d' ' -f1)"\numount /m\n`;
    });
    script += 'exit $rc\n';
    const r = await runGuest(script, { roDisks: discs.map((d) => d.disc), timeoutSec: 300 });
    assert.equal(r.status, 0, r.output);
    for (let i = 0; i < discs.length; i++) {
      assert.match(r.output, new RegExp(`^D${i} ${sha256(fs.readFileSync(old))} ${sha256(fs.readFileSync(added))}$`, 'm'), r.output);
    }
  });

  it('a 4.5 GiB sparse file in a 2.50 bridge: size and content at its marks through udf and isofs', async (t) => {
    const big = path.join(work, 'big');
    fs.mkdirSync(big);
    const hugeFile = path.join(big, 'huge.bin');
    fs.writeFileSync(hugeFile, '');
    fs.truncateSync(hugeFile, HUGE);
    const fd = fs.openSync(hugeFile, 'r+');
    for (const m of MARKS) fs.writeSync(fd, Buffer.from(m.data), 0, m.data.length, m.offset);
    fs.closeSync(fd);
    const iso = build('huge', '["iso9660", "joliet", "rockridge", "udf"]', '{ "revision": "2.50" }', '[ { "source": "big", "target": "/" } ]');
    let script = 'mkdir -p /mnt; rc=0\n';
    for (const m of ['udf', 'iso9660']) {
      script += `mount -t ${m} -o ro /dev/sr0 /mnt || rc=1\necho "SIZE ${m} $(stat -c %s /mnt/huge.bin)"\n`;
      MARKS.forEach((mk, i) => {
        script += `echo "MARK ${m} ${i} $(dd if=/mnt/huge.bin bs=1 skip=${mk.offset} count=${mk.data.length} 2>/dev/null | sha256sum | cut -d' ' -f1)"\n`;
      });
      script += 'umount /mnt\n';
    }
    script += 'exit $rc\n';
    const r = await runGuest(script, { cdroms: [iso], timeoutSec: 600 });
    t.diagnostic(`guest: ${r.seconds.toFixed(1)} s`);
    assert.equal(r.status, 0, r.output);
    for (const m of ['udf', 'iso9660']) {
      assert.match(r.output, new RegExp(`^SIZE ${m} ${HUGE}$`, 'm'), r.output);
      MARKS.forEach((mk, i) => assert.match(r.output, new RegExp(`^MARK ${m} ${i} ${sha256(mk.data)}$`, 'm'), `mark ${i} through ${m}:\n${r.output}`));
    }
  });
});
