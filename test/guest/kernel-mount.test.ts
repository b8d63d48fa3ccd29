/**
 * The Linux kernel's isofs driver reads our images correctly. A source tree (deep folders, symlinks, modes, a
 * 100-character name, a non-ASCII name, an empty file, random data) goes into an image, which a real kernel under
 * QEMU (test/guest/guest.ts) mounts three ways in one boot: Rock Ridge (default), Joliet (-o norock) and plain
 * ISO 9660 (-o norock,nojoliet), each listed with type, mode, size, mtime, inode, symlink target and SHA-256.
 * The listings are compared with the source tree, as each file system should show it.
 * The image built with xorriso is a control: it proves the harness and the checks.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  ensureGuest, Entry, EntryType, LISTING_SH, parseListing, parseSections, repoRoot, runGuest, Section,
} from './guest';

const CREATED = '2026-01-01T00:00:00Z';
/** Every timestamp in the images: the source tree's mtimes are set to it, and the manifest's `created` is it. */
const T = Date.parse(CREATED) / 1000;
const LONG_NAME = `${'A_long_file_name_'.repeat(6)}1234.txt`; // 100 characters
const UTF8_NAME = 'Grüße_日本.txt';
/** What isofs shows as the mode of everything when it does not read Rock Ridge (no mode= / dmode= options). */
const NO_RR_MODE = 0o555;

interface Src {
  path: string;
  type: EntryType;
  mode: number;
  size: number;
  sha256?: string;
  target?: string;
  /** Made by the manifest (no source): the writer picks its mode, 0755 or 0555. */
  synthesized?: boolean;
}

let work = '';
let tree = '';
let src = new Map<string, Src>();

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Deterministic pseudo-random bytes (SHA-256 in counter mode). */
function pseudoRandom(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, off = 0; off < n; i++, off += 32) {
    createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  }
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
  await file('run.sh', '#!/bin/sh\necho run\n', 0o755);
  await file('readonly.txt', 'read only\n', 0o444);
  await file('noext', 'a file without an extension\n');
  await file(LONG_NAME, 'a name of 100 characters\n');
  await file(UTF8_NAME, 'non-ASCII name\n');
  await file('Mixed Case Name.TXT', 'spaces and mixed case\n');
  // Two names alike in their first 40 characters: whatever an ISO 9660 level shortens them to must stay apart.
  await file('collision_test_with_a_long_common_prefix_1.dat', 'first\n');
  await file('collision_test_with_a_long_common_prefix_2.dat', 'second\n');
  await file('docs/r5k.bin', pseudoRandom('r5k', 5000));
  await file('docs/README', 'docs\n');
  await file('data/rand_1m.bin', pseudoRandom('1m', 1048576 + 3));
  await file('data/rand_300k.bin', pseudoRandom('300k', 300_000));
  await file('data/block_2048.bin', pseudoRandom('2048', 2048));
  await file('secret/key.txt', 'private\n', 0o600);
  // 10 nested folders: deeper than ISO 9660's 8 levels (the root is level 1), so d8 has to be relocated.
  await file('d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/deep.txt', 'deep\n');
  await file('d1/d2/d3/d4/d5/d6/d7/seven.txt', 'level 8\n');
  await fsp.symlink('hello.txt', path.join(root, 'link_to_hello'));
  await fsp.symlink('../d1/d2', path.join(root, 'docs/link_to_dir'));
  await fsp.chmod(path.join(root, 'secret'), 0o700);
  // Every timestamp T, deepest first (creating entries changed their folders' mtimes).
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

/** The source tree as the model of what the images hold. */
async function readTree(root: string): Promise<Map<string, Src>> {
  const out = new Map<string, Src>();
  const walk = async (rel: string): Promise<void> => {
    for (const n of (await fsp.readdir(path.join(root, rel))).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const p = path.join(root, r);
      const st = await fsp.lstat(p);
      const mode = st.mode & 0o7777;
      if (st.isSymbolicLink()) out.set(r, { path: r, type: 'symlink', mode, size: 0, target: await fsp.readlink(p) });
      else if (st.isDirectory()) {
        out.set(r, { path: r, type: 'dir', mode, size: 0 });
        await walk(r);
      } else out.set(r, { path: r, type: 'file', mode, size: st.size, sha256: sha256(await fsp.readFile(p)) });
    }
  };
  await walk('');
  return out;
}

const GUEST_SCRIPT = `${LISTING_SH}
rc=0
mount_list rr /dev/sr0 iso9660 '' || rc=1
mount_list joliet /dev/sr0 iso9660 norock || rc=1
mount_list plain /dev/sr0 iso9660 norock,nojoliet || rc=1
mount_list rr_vda /dev/vda iso9660 '' || rc=1
echo "@@@ BEGIN volume_id"; dd if=/dev/sr0 bs=2048 skip=16 count=1 2>/dev/null | dd bs=1 skip=40 count=32 2>/dev/null; echo; echo "@@@ END volume_id $?"
echo "@@@ BEGIN dmesg"; dmesg; echo "@@@ END dmesg 0"
exit $rc
`;

interface Views {
  rr: Map<string, Entry>;
  joliet: Map<string, Entry>;
  plain: Map<string, Entry>;
  rrVda: Map<string, Entry>;
  sections: Map<string, Section>;
  log: string;
}

/** Boots the guest once with the image as /dev/sr0 (SCSI CD-ROM) and /dev/vda (virtio disk); all mounts. */
async function mountViews(iso: string, diag: (msg: string) => void): Promise<Views> {
  const r = await runGuest(GUEST_SCRIPT, { cdroms: [iso], roDisks: [iso], timeoutSec: 300 });
  diag(`guest: boot, 4 mounts and power-off in ${r.seconds.toFixed(1)} s`);
  const sections = parseSections(r.output);
  const view = (name: string): Map<string, Entry> => {
    const s = sections.get(name);
    assert.ok(s, `no ${name} section in the guest's output:\n${r.output}\n--- console:\n${r.log}`);
    assert.equal(s.mountFailed, undefined, `mount (${name}) failed: ${s.mountFailed}\n--- console:\n${r.log}`);
    assert.equal(s.status, 0, `listing (${name}) failed:\n${s.lines.join('\n')}`);
    return parseListing(s);
  };
  assert.equal(r.status, 0, `guest command failed (status ${r.status}):\n${r.output}\n--- console:\n${r.log}`);
  return { rr: view('rr'), joliet: view('joliet'), plain: view('plain'), rrVda: view('rr_vda'), sections, log: r.log };
}

const fmtMode = (m: number): string => `0${m.toString(8)}`;
const depth = (p: string): number => p.split('/').length;
const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const parent = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

/** Rock Ridge: exactly the source tree, names, types, modes, sizes, symlink targets, contents, mtimes. */
function checkRockRidge(rr: Map<string, Entry>): string[] {
  const problems: string[] = [];
  for (const s of src.values()) {
    const a = rr.get(s.path);
    if (!a) {
      problems.push(`missing: ${s.path}`);
      continue;
    }
    if (a.type !== s.type) problems.push(`${s.path}: type ${a.type}, want ${s.type}`);
    const modeOk = s.synthesized ? a.mode === 0o755 || a.mode === 0o555 : a.mode === s.mode;
    if (!modeOk) problems.push(`${s.path}: mode ${fmtMode(a.mode)}, want ${fmtMode(s.mode)}`);
    if (s.type === 'file') {
      if (a.size !== s.size) problems.push(`${s.path}: size ${a.size}, want ${s.size}`);
      if (a.sha256 !== s.sha256) problems.push(`${s.path}: content differs (sha256 ${a.sha256})`);
    }
    if (s.type === 'symlink' && a.target !== s.target) problems.push(`${s.path}: -> ${a.target}, want -> ${s.target}`);
    if (a.mtime !== T) problems.push(`${s.path}: mtime ${a.mtime}, want ${T}`);
  }
  for (const [p, a] of rr) {
    if (src.has(p)) continue;
    const hint = a.type === 'dir' && /rr_moved/i.test(p) && !p.includes('/')
      ? ' (the relocation folder: libisofs hides its rr_moved from Rock Ridge readers with an RE entry of its own)'
      : '';
    problems.push(`unexpected: ${p}${hint}`);
  }
  return problems;
}

const utf16Len = (s: string): number => s.length;
const extOf = (n: string): string => (n.lastIndexOf('.') > 0 ? n.slice(n.lastIndexOf('.')) : '');

/**
 * Joliet: the source names exactly (UTF-16, up to 64 characters); a longer name is shortened to at most 64,
 * keeps its start and its extension. Joliet has no symlinks (a writer may leave them out) and no modes (isofs
 * shows 0555). `relocDirs`: names of the writer's Rock Ridge relocation folders, which may appear here empty.
 */
function checkJoliet(j: Map<string, Entry>, relocDirs: Set<string>, maxLen: number): string[] {
  const problems: string[] = [];
  const matched = new Set<string>();
  const long: Src[] = [];
  for (const s of src.values()) {
    if (s.type === 'symlink') {
      const a = j.get(s.path);
      if (a) {
        matched.add(s.path);
        if (a.type !== 'file') problems.push(`${s.path}: a symlink shows as ${a.type}`);
      }
      continue;
    }
    if (s.path.split('/').some((c) => utf16Len(c) > maxLen)) {
      long.push(s);
      continue;
    }
    const a = j.get(s.path);
    if (!a) {
      problems.push(`missing: ${s.path}`);
      continue;
    }
    matched.add(s.path);
    if (a.type !== s.type) problems.push(`${s.path}: type ${a.type}, want ${s.type}`);
    if (a.mode !== NO_RR_MODE) problems.push(`${s.path}: mode ${fmtMode(a.mode)}, want ${fmtMode(NO_RR_MODE)}`);
    if (s.type === 'file') {
      if (a.size !== s.size) problems.push(`${s.path}: size ${a.size}, want ${s.size}`);
      if (a.sha256 !== s.sha256) problems.push(`${s.path}: content differs`);
    }
    if (a.mtime !== T) problems.push(`${s.path}: mtime ${a.mtime}, want ${T}`);
  }
  for (const s of long) {
    // (our tree has long names only on files, so the parent folder's Joliet path is its source path)
    const name = base(s.path);
    const cands = [...j.values()].filter(
      (a) =>
        !matched.has(a.path) && parent(a.path) === parent(s.path) && a.type === s.type &&
        utf16Len(base(a.path)) <= maxLen && base(a.path).startsWith(name.slice(0, 32)) &&
        base(a.path).endsWith(extOf(name)),
    );
    if (cands.length !== 1) {
      problems.push(`${s.path}: want one name of ≤ ${maxLen} characters with its start and extension, found ${JSON.stringify(cands.map((c) => c.path))}`);
      continue;
    }
    const a = cands[0];
    matched.add(a.path);
    if (a.size !== s.size || a.sha256 !== s.sha256) problems.push(`${a.path} (for ${s.path}): content differs`);
  }
  for (const a of j.values()) {
    if (matched.has(a.path)) continue;
    const top = a.path.split('/')[0].toLowerCase();
    if (a.type === 'dir' && relocDirs.has(top) && !a.path.includes('/')) continue; // the writer's rr_moved, empty
    problems.push(`unexpected: ${a.path} (${a.type})`);
  }
  return problems;
}

/** Whether `name` is an ISO 9660 identifier of this level as it is, but for case (then it must not change). */
function isoCompliant(name: string, isDir: boolean, level: number): boolean {
  const up = name.toUpperCase();
  if (isDir) return /^[A-Z0-9_]+$/.test(up) && up.length <= (level === 1 ? 8 : 31);
  const m = /^([A-Z0-9_]*)(?:\.([A-Z0-9_]*))?$/.exec(up);
  if (!m || (m[1] + (m[2] ?? '')).length === 0) return false;
  return level === 1 ? m[1].length <= 8 && (m[2] ?? '').length <= 3 : m[1].length + (m[2] ?? '').length <= 30;
}

/** What Linux shows (map=normal: lower case, ";1" and a bare trailing "." dropped) for a valid identifier. */
function plainNameValid(name: string, isDir: boolean, level: number): boolean {
  if (isDir) return /^[a-z0-9_]+$/.test(name) && name.length <= (level === 1 ? 8 : 31);
  const m = /^([a-z0-9_]*)(?:\.([a-z0-9_]+))?$/.exec(name);
  if (!m || name.length === 0) return false;
  return level === 1 ? m[1].length <= 8 && (m[2] ?? '').length <= 3 : m[1].length + (m[2] ?? '').length <= 30;
}

/**
 * Plain ISO 9660 at `level`: the directory records are the ones Rock Ridge reads, so isofs gives an entry the
 * same inode number in both views; that pairs each source entry with its ISO 9660 name. Every name must be a
 * valid identifier (d-characters, lengths of the level) as Linux shows it: lower case, without ";1". A name that
 * is valid as it is must stay itself; every file's content must be there; no path may have more than 8 levels
 * (ECMA-119 6.8.2.1), so deeper folders are relocated (a Rock Ridge relocation folder in the root).
 */
function checkPlain(plain: Map<string, Entry>, rr: Map<string, Entry>, level: number): string[] {
  const problems: string[] = [];
  const byIno = new Map<number, Entry>();
  for (const a of plain.values()) byIno.set(a.ino, a);
  const paired = new Set<string>();
  for (const r of rr.values()) {
    const s = src.get(r.path);
    const a = byIno.get(r.ino);
    if (!s) continue; // reported by the Rock Ridge check
    if (!a) {
      problems.push(`${r.path}: no ISO 9660 record (inode ${r.ino})`);
      continue;
    }
    paired.add(a.path);
    if (s.type === 'dir' && a.type === 'file' && a.size === 0 && depth(s.path) >= 8) continue; // relocated: placeholder
    const want: EntryType = s.type === 'symlink' ? 'file' : s.type;
    if (a.type !== want) problems.push(`${r.path} (ISO 9660 ${a.path}): type ${a.type}, want ${want}`);
    if (s.type === 'file' && (a.size !== s.size || a.sha256 !== s.sha256)) {
      problems.push(`${r.path} (ISO 9660 ${a.path}): size ${a.size} / content differ`);
    }
    if (s.type === 'symlink' && a.size !== 0) problems.push(`${r.path}: symlink record has size ${a.size}`);
    if (isoCompliant(base(s.path), s.type === 'dir', level) && base(a.path) !== base(s.path).toLowerCase()) {
      problems.push(`${r.path}: valid ISO 9660 name shows as ${a.path}, want ${base(s.path).toLowerCase()}`);
    }
    const allCompliant = s.path.split('/').every((c, i, all) => isoCompliant(c, i < all.length - 1 || s.type === 'dir', level));
    if (allCompliant && depth(s.path) <= 8 && a.path !== s.path.toLowerCase()) {
      problems.push(`${r.path}: shows as ${a.path}, want ${s.path.toLowerCase()}`);
    }
    if (a.mtime !== T) problems.push(`${a.path}: mtime ${a.mtime}, want ${T}`);
  }
  const relocDirs = relocationDirs(plain, rr);
  for (const a of plain.values()) {
    if (!plainNameValid(base(a.path), a.type === 'dir', level)) problems.push(`${a.path}: not a level ${level} name`);
    if (depth(a.path) > 8 || a.path.length + 1 > 255) problems.push(`${a.path}: deeper than ISO 9660 allows`);
    if (a.mode !== NO_RR_MODE) problems.push(`${a.path}: mode ${fmtMode(a.mode)}, want ${fmtMode(NO_RR_MODE)}`);
    if (!paired.has(a.path) && !(a.type === 'dir' && relocDirs.has(a.path.split('/')[0]))) {
      problems.push(`unexpected: ${a.path} (${a.type}, inode ${a.ino})`);
    }
  }
  if (plain.size < [...src.values()].filter((s) => s.type !== 'dir').length) problems.push('fewer ISO 9660 entries than files');
  return problems;
}

/** Root folders of the ISO 9660 view that hold no source entry: the writer's relocation folders (rr_moved). */
function relocationDirs(plain: Map<string, Entry>, rr: Map<string, Entry>): Set<string> {
  const rrInos = new Set([...rr.values()].filter((e) => src.has(e.path)).map((e) => e.ino));
  return new Set([...plain.values()].filter((a) => a.type === 'dir' && !a.path.includes('/') && !rrInos.has(a.ino)).map((a) => a.path));
}

/** isofs recognised the extensions and logged no error (I/O errors, bad records). */
function checkKernelLog(v: Views): string[] {
  const dmesg = v.sections.get('dmesg')?.lines ?? [];
  const problems: string[] = [];
  if (!dmesg.some((l) => /ISO 9660 Extensions: RRIP_1991A/.test(l))) problems.push('isofs did not report Rock Ridge (RRIP_1991A)');
  if (!dmesg.some((l) => /ISO 9660 Extensions: Microsoft Joliet Level [123]/.test(l))) problems.push('isofs did not report Joliet');
  for (const l of [...dmesg, ...v.log.split('\n')]) {
    if (/ISO 9660 Extensions:/.test(l)) continue;
    if (/isofs|iso9660|rock ?ridge|joliet|I\/O error|critical|corrupt|unable to read/i.test(l)) problems.push(`kernel: ${l}`);
  }
  return problems;
}

/** The three views plus the disk attachment, each a subtest. */
/** `jolietMax`: the longest Joliet name the writer makes (64; libisofs does not count the dot: 65). */
async function checkImage(t: TestContext, iso: string, level: number, jolietMax: number): Promise<void> {
  const v = await mountViews(iso, (m) => t.diagnostic(m));
  const relocDirs = relocationDirs(v.plain, v.rr);
  await t.test('Rock Ridge (default mount): exact names, modes, symlinks, sizes, contents, mtimes', () => {
    assert.deepEqual(checkRockRidge(v.rr), []);
  });
  await t.test(`Joliet (-o norock): exact names (≤ ${jolietMax}), a long name shortened with its extension, contents`, () => {
    assert.deepEqual(checkJoliet(v.joliet, relocDirs, jolietMax), []);
  });
  await t.test(`plain ISO 9660 (-o norock,nojoliet): level ${level} names, ≤ 8 levels, every file's content`, () => {
    assert.deepEqual(checkPlain(v.plain, v.rr, level), []);
  });
  await t.test('as a virtio disk (/dev/vda): the same Rock Ridge listing', () => {
    assert.deepEqual([...v.rrVda.values()], [...v.rr.values()]);
  });
  await t.test('volume label and kernel log', () => {
    // the primary volume descriptor (sector 16) read through the guest's /dev/sr0: volume identifier, 32 a-characters
    assert.equal(v.sections.get('volume_id')?.lines[0], 'KTEST'.padEnd(32, ' '));
    assert.deepEqual(checkKernelLog(v), []);
  });
}

describe('kernel mount: Linux isofs (under QEMU) reads the images', { timeout: 20 * 60_000 }, () => {
  before(async () => {
    work = await fsp.mkdtemp(path.join(os.tmpdir(), 'discforge-kmount-'));
    tree = path.join(work, 'tree');
    await makeTree(tree);
    src = await readTree(tree);
    src.set('empty', { path: 'empty', type: 'dir', mode: 0o755, size: 0, synthesized: true });
    const t0 = Date.now();
    await ensureGuest();
    const s = (Date.now() - t0) / 1000;
    if (s > 1) console.log(`# guest built in ${s.toFixed(1)} s`);
  });
  after(async () => {
    if (work) await fsp.rm(work, { recursive: true, force: true });
  });

  it('control: xorriso -as mkisofs -R -J -iso-level 3 (relocating deep folders to rr_moved)', async (t) => {
    const empty = path.join(work, 'empty-dir');
    await fsp.mkdir(empty);
    await fsp.chmod(empty, 0o755);
    await fsp.utimes(empty, T, T);
    const iso = path.join(work, 'xorriso.iso');
    const r = spawnSync('xorriso', [
      '-as', 'mkisofs', '-quiet', '-R', '-J', '-iso-level', '3', '-rr_reloc_dir', 'rr_moved', '-V', 'KTEST',
      '-graft-points', '-o', iso, `/=${tree}`, `/empty=${empty}`,
    ], { encoding: 'utf8' });
    assert.equal(r.status, 0, `xorriso failed: ${r.stderr}`);
    await checkImage(t, iso, 3, 65);
  });

  it('DiscForge CLI: discforge build (iso9660 level 3 + Joliet + Rock Ridge)', async (t) => {
    const cli = path.join(repoRoot(), 'dist', 'cli.js');
    assert.ok(existsSync(cli), `${cli} is missing: build it with node scripts/build.mjs`);
    const manifest = path.join(work, 'ktest.disc.json');
    await fsp.writeFile(manifest, `// the kernel-mount test's image (test/guest/kernel-mount.test.ts)
{
  "kind": "data",
  "volume": { "label": "KTEST", "created": "${CREATED}" },
  "fileSystems": ["iso9660", "joliet", "rockridge"],
  "iso9660": { "level": 3 },
  "files": [
    { "source": "tree", "target": "/" },   // the folder's contents go into the root
    { "directory": "/empty" }
  ]
}
`);
    const iso = path.join(work, 'discforge.iso');
    const r = spawnSync(process.execPath, [cli, 'build', manifest, '--output', iso], { encoding: 'utf8', cwd: work, timeout: 120_000 });
    assert.equal(r.status, 0, `discforge build failed (status ${r.status}):\n${r.stdout}${r.stderr}`);
    assert.ok(existsSync(iso), 'discforge build wrote no image');
    await checkImage(t, iso, 3, 64);
  });
});
