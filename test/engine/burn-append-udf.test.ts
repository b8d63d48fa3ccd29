// Appended sessions on write-once media (CD-R, DVD+R, DVD-R, BD-R) keep UDF: with the default file systems, a
// session added to a disc whose last session has UDF is a whole bridge (ISO 9660 + Joliet + Rock Ridge + UDF),
// its UDF volume self-contained in the session (recognition sequence after its ISO set, anchor at its start + 256,
// a read-only partition reaching down to the earliest kept file data, closing anchor in its last block), every
// address absolute, nothing copied to blocks 16 or 256 (a write-once disc takes no rewrite). Readers take the
// volume from the last session's start. Judged by readers we did not write — the Linux kernel's udf driver under
// QEMU (mount -o session=START, every file's checksum), udfinfo --startblock START, xorriso -load sbsector START
// (the Rock Ridge tree), 7-Zip's UDF handler — and by our inspector; by full verification and the media state.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { BurnResult } from '../../server/src/engine/burn/engine';
import { readMediaState } from '../../server/src/engine/burn/media';
import { importSession } from '../../server/src/engine/burn/multisession';
import { recorders } from '../../server/src/engine/burn/registry';
import { inspectImage } from '../../server/src/engine/inspect';
import { appendTo, sessionView, udfinfoAt, xorrisoRead } from '../util/burn-fixtures';
import { runCli, seededBytes } from '../util/fixtures';
import { compareTrees, sevenZipExtractAs, sourceTree } from '../util/udf-oracles';
import { tmpdir, writeTree } from '../util/tmpdir';
import { ensureGuest, LISTING_SH, parseListing, parseSections, runGuest } from '../guest/guest';

const root = tmpdir('df-append-udf-');
const CREATED = '2026-01-01T00:00:00Z';
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const pseudo = seededBytes;

/** A manifest with the default file systems (no "fileSystems": the UDF bridge for a first session). */
function manifest(name: string, files: Record<string, string | Buffer>, extra: Record<string, unknown> = {}): string {
  writeTree(path.join(root, name), files);
  const m = path.join(root, `${name}.disc.json`);
  fs.writeFileSync(m, JSON.stringify({ kind: 'data', volume: { label: name.toUpperCase().replace(/\W/g, '_'), created: CREATED }, files: [{ source: name, target: '/' }], ...extra }));
  return m;
}

const big = pseudo('big', 1_200_000 + 5);
const s1: Record<string, string | Buffer> = { 'keep.txt': 'kept since session 1\n', 'old.txt': 'old version\n', 'dir/a.txt': 'a in dir\n', 'big.bin': big };
const s2: Record<string, string | Buffer> = { 'old.txt': 'new version from session 2\n', 'dir/b.txt': 'b added in session 2\n', 'second.txt': 'second\n' };
const s3: Record<string, string | Buffer> = { 'third.txt': 'third\n', 'dir/b.txt': 'b replaced in session 3\n' };
const after2 = { ...s1, ...s2 };
const after3: Record<string, string | Buffer> = { ...after2, ...s3 };
delete after3['dir/a.txt'];
delete after3['second.txt'];
const shas = (files: Record<string, string | Buffer>) => new Map(Object.entries(files).map(([k, v]) => [k, sha(v)] as [string, string]).sort());

function expectedTree(name: string, files: Record<string, string | Buffer>) {
  const dir = path.join(root, `expect-${name}`);
  if (!fs.existsSync(dir)) writeTree(dir, files);
  return sourceTree(dir);
}

/**
 * Every reader's view of the session at `start` of the disc file `file` (whose last block is that session's last
 * block): udfinfo --startblock, xorriso -load sbsector, our inspector and 7-Zip (those two on a copy that hands
 * them the session's descriptors at 16 and 256, see sessionView: they have no notion of sessions).
 */
async function checkSession(tag: string, file: string, start: number, blocks: number, files: Record<string, string | Buffer>, o: { rev: string; firstDataLba: number; view?: boolean }) {
  const n = fs.statSync(file).size / 2048;
  assert.equal(n, start + blocks, `${tag}: the disc file ends with the session (${n} blocks, session ${start}+${blocks})`);
  const last = start + blocks - 1;
  // udfinfo: the volume found from the anchor at start + 256; its closing anchor is the session's last block.
  const u = udfinfoAt(file, start);
  assert.equal(u.status, 0, `${tag}: udfinfo --startblock ${start}: ${u.stderr}`);
  assert.equal(u.fields.udfwriterev, o.rev, `${tag}: ${JSON.stringify(u.fields)}`);
  assert.equal(u.fields.numfiles, String(Object.keys(files).length), `${tag}: ${JSON.stringify(u.fields)}`);
  const anchors = u.layout.filter((l) => l.type === 'ANCHOR').map((l) => l.start);
  assert.deepEqual(anchors, [start + 256, last], `${tag}: anchors ${anchors}`);
  const vds = u.layout.filter((l) => l.type === 'MVDS' || l.type === 'RVDS').map((l) => l.start);
  assert.deepEqual(vds, [start + 32, start + 48], `${tag}: ${JSON.stringify(u.layout)}`);
  const pspace = u.layout.find((l) => l.type === 'PSPACE');
  assert.ok(pspace, `${tag}: no partition space in ${JSON.stringify(u.layout)}`);
  assert.ok(pspace.start <= o.firstDataLba, `${tag}: the partition starts at ${pspace.start}, above the first session's data at ${o.firstDataLba}`);
  assert.equal(pspace.start + pspace.blocks, last, `${tag}: the partition ends before the closing anchor`);
  // The partition spans the earlier sessions (and the gaps between sessions): udfinfo says so; nothing else.
  assert.deepEqual(u.stderr.trim().split('\n').filter((l) => l && !/Partition Space overlaps with other blocks/.test(l)), [], `${tag}: udfinfo: ${u.stderr}`);
  // xorriso: the Rock Ridge tree of the session.
  assert.deepEqual(xorrisoRead(file, ['-load', 'sbsector', String(start)]).files, shas(files), `${tag}: xorriso`);
  // Our inspector and 7-Zip on the session's view: UDF and the ISO views, every file, no problems.
  if (o.view === false) return;
  const view = sessionView(file, start, path.join(root, `view-${tag.replace(/\W+/g, '_')}.img`));
  try {
    const report = await inspectImage(view);
    assert.deepEqual(report.problems, [], tag);
    assert.deepEqual(report.fileSystems.map((f) => f.type).sort(), ['iso9660', 'joliet', 'rockridge', 'udf'], tag);
    for (const f of report.fileSystems.filter((x) => x.type === 'udf' || x.type === 'rockridge')) {
      assert.deepEqual(f.entries.filter((e) => e.kind === 'file').map((e) => e.path.slice(1)).sort(), Object.keys(files).sort(), `${tag} ${f.type}`);
    }
    const udf = report.fileSystems.find((f) => f.type === 'udf')!;
    assert.deepEqual(udf.udf?.anchors, [256, last], tag);
    assert.deepEqual(udf.udf?.partitions.map((p) => [p.start, p.start + p.length, p.accessType]), [[pspace.start, last, 'read-only']], tag);
    const got = sevenZipExtractAs(view, 'udf', path.join(root, `7z-${tag.replace(/\W+/g, '_')}`));
    assert.deepEqual(compareTrees(`${tag} 7z udf`, got, expectedTree(tag.replace(/\W+/g, '_'), files)), []);
  } finally {
    fs.rmSync(view, { force: true });
  }
}

interface Disc {
  name: string;
  /** The disc file (and the sessions it is mounted at) as it was after each append. */
  mounts: Mount[];
  /** Mounted as iso9660 too (mount -o sbsector=START). */
  iso: Mount;
}

interface Mount {
  file: string;
  session: number;
  files: Record<string, string | Buffer>;
}

const cases = [
  { profile: 'cd-r', rev: '2.01' },
  { profile: 'dvd+r', rev: '2.01' },
  { profile: 'dvd-r', rev: '2.50', udf: { revision: '2.50' } },
  { profile: 'bd-r', rev: '2.60', udf: { revision: '2.60', redundantMetadata: true } },
];
/** What the kernel mounts at the end (one boot for every disc). */
const discs: Disc[] = [];

describe('appended sessions on write-once media keep UDF', () => {
  for (const c of cases) {
    test(`${c.profile}, UDF ${c.rev}: two appends (add, replace, delete), each session read by udfinfo, xorriso, 7-Zip and inspect`, async (t) => {
      const extra = c.udf ? { udf: c.udf } : {};
      const name = c.profile.replace('+', 'plus').replace(/\W/g, '');
      const file = path.join(root, `${name}.img`);
      const spec = `virtual:${c.profile}:${file}`;
      const r1 = await appendTo(spec, manifest(`one-${name}`, s1, extra));
      assert.equal(r1.startLba, 0);
      const first = (await inspectImage(file)).fileSystems.find((f) => f.type === 'udf')!;
      /** The lowest block of session 1's data still referenced by a session holding `files`. */
      const keptLow = (files: Record<string, string | Buffer>) =>
        Math.min(...first.entries.filter((e) => e.kind === 'file' && files[e.path.slice(1)] === s1[e.path.slice(1)]).map((e) => e.extents[0].lba));

      const check = async (r: BurnResult, prevStart: number, counts: RegExp, files: Record<string, string | Buffer>, label: string) => {
        const notes = r.notes.join('\n');
        t.diagnostic(`${c.profile}: session at ${r.startLba}, ${r.blocks} blocks (${r.writeMode})`);
        assert.equal(r.verified, 'full');
        assert.match(notes, new RegExp(`previous session at block ${prevStart} \\(`));
        assert.match(notes, counts);
        const firstDataLba = keptLow(files);
        assert.match(notes, new RegExp(`the new session carries its own UDF volume: recognition sequence at block \\d+, anchor at block ${r.startLba + 256} \\(its start \\+ 256\\), closing anchor at block ${r.startLba + r.blocks - 1} \\(its last block\\), partition reaching down to block ${firstDataLba} `));
        assert.doesNotMatch(notes, /not written|no UDF|cleared/);
        assert.ok(r.blocks * 2048 < big.length, `big.bin is not written again (${r.blocks} blocks)`);
        await checkSession(`${c.profile} session ${label}`, file, r.startLba, r.blocks, files, { rev: c.rev, firstDataLba });
      };

      const r2 = await appendTo(spec, manifest(`two-${name}`, s2, extra));
      assert.ok(r2.startLba >= r1.blocks, `session 2 at ${r2.startLba}`);
      await check(r2, 0, /3 kept, 2 added, 1 replaced, 0 deleted/, after2, '2');
      const snapshot = path.join(root, `${name}-after2.img`);
      fs.copyFileSync(file, snapshot);

      const r3 = await appendTo(spec, manifest(`three-${name}`, s3, extra), ['/dir/a.txt', '/second.txt']);
      assert.ok(r3.startLba >= r2.startLba + r2.blocks, `session 3 at ${r3.startLba}`);
      await check(r3, r2.startLba, /3 kept, 1 added, 1 replaced, 2 deleted/, after3, '3');

      // The media state and `discforge media` list the three sessions; our walker reads the last one through the
      // drive; big.bin still points into session 1.
      const lease = await recorders.query(spec);
      try {
        const m = await readMediaState(lease.dev);
        assert.equal(m.status, 'appendable');
        assert.deepEqual(m.sessions.map((s) => s.start), [0, r2.startLba, r3.startLba]);
        assert.equal(m.startOfPreviousSession, r3.startLba);
        const imported = await importSession(lease.dev, r3.startLba);
        assert.equal(imported.rockRidge, true);
        const b = imported.root.children.get('big.bin');
        const bigLba = first.entries.find((e) => e.path === '/big.bin')!.extents[0].lba;
        assert.ok(b?.kind === 'file' && b.recorded?.[0].lba === bigLba, 'big.bin still points into session 1');
      } finally {
        await lease.release();
      }
      const media = runCli(['media', '--drive', spec]);
      assert.equal(media.status, 0, media.stderr);
      assert.match(media.stdout, new RegExp(`sessions: 3\\n  session 1: blocks 0–\\d+ .*\\n  session 2: blocks ${r2.startLba}–\\d+ .*\\n  session 3: blocks ${r3.startLba}–${r3.startLba + r3.blocks - 1} `));
      // Session 1 is still there, as it was: xorriso reads it from block 16.
      assert.deepEqual(xorrisoRead(file).files, shas(s1));

      discs.push({
        name,
        mounts: [
          { file: snapshot, session: r2.startLba, files: after2 },
          { file, session: r3.startLba, files: after3 },
          { file, session: 0, files: s1 },
        ],
        iso: { file, session: r3.startLba, files: after3 },
      });
    });
  }
});

describe('which file systems an appended session gets', () => {
  test('an ISO-only first session: the default stays ISO 9660 (with a note); "udf" in the manifest adds a UDF volume', async () => {
    const iso = { fileSystems: ['iso9660', 'joliet', 'rockridge'] };
    const file = path.join(root, 'iso-first.img');
    const spec = `virtual:dvd+r:${file}`;
    await appendTo(spec, manifest('isoone', s1, iso));
    const one = (await inspectImage(file)).fileSystems.find((f) => f.type === 'rockridge')!;
    const keptLow = Math.min(...one.entries.filter((e) => e.path === '/keep.txt' || e.path === '/big.bin').map((e) => e.extents[0].lba));
    assert.ok(keptLow <= 256 && Number.isFinite(keptLow), `session 1's data from block ${keptLow}`);
    const r2 = await appendTo(spec, manifest('isotwo', s2));
    assert.match(r2.notes.join('\n'), /the previous session has no UDF: the new session has ISO 9660, Joliet and Rock Ridge/);
    assert.doesNotMatch(r2.notes.join('\n'), /carries its own UDF/);
    assert.notEqual(udfinfoAt(file, r2.startLba).status, 0, 'no UDF in session 2');
    assert.deepEqual(xorrisoRead(file, ['-load', 'sbsector', String(r2.startLba)]).files, shas(after2));
    // The manifest asks for UDF: session 3 has it, its partition reaching down to session 1's ISO-only data.
    const r3 = await appendTo(spec, manifest('isothree', s3, { fileSystems: ['iso9660', 'joliet', 'rockridge', 'udf'] }), ['/dir/a.txt', '/second.txt']);
    assert.match(r3.notes.join('\n'), /the new session carries its own UDF volume/);
    const u = udfinfoAt(file, r3.startLba);
    assert.equal(u.status, 0, u.stderr);
    assert.equal(u.fields.numfiles, String(Object.keys(after3).length));
    // No session view for inspect and 7-Zip here: session 1 (ISO 9660 only) has big.bin's data at block 256,
    // where the view would put the anchor (that is why such a volume cannot grow in place; a later session's own
    // anchor at its start + 256 has no such conflict). The kernel reads this session too (below).
    await checkSession('iso-first session 3', file, r3.startLba, r3.blocks, after3, { rev: '2.01', firstDataLba: keptLow, view: false });
    const last = { file, session: r3.startLba, files: after3 };
    discs.push({ name: 'isofirst', mounts: [last], iso: last });
  });

  test('a bridge disc and a manifest without "udf": the new session has none, and says what that means', async () => {
    const file = path.join(root, 'drop-udf.img');
    const spec = `virtual:bd-r:${file}`;
    await appendTo(spec, manifest('dropone', s1));
    const r2 = await appendTo(spec, manifest('droptwo', s2, { fileSystems: ['iso9660', 'joliet', 'rockridge'] }));
    assert.match(r2.notes.join('\n'), /the new session has no UDF \(not among the manifest's file systems\): UDF readers, which read the last session, find no UDF volume/);
    assert.notEqual(udfinfoAt(file, r2.startLba).status, 0);
    assert.deepEqual(xorrisoRead(file, ['-load', 'sbsector', String(r2.startLba)]).files, shas(after2));
    // Without ISO 9660 an appended session cannot be written (the previous session is imported through it).
    await assert.rejects(appendTo(spec, manifest('dropthree', s3, { fileSystems: ['udf'] })), /"iso9660" must be among the file systems/);
  });
});

describe('the Linux kernel reads the appended sessions', () => {
  test('the Linux kernel mounts each session as udf (mount -o session=START) and reads every file', async (t) => {
    assert.equal(discs.length, cases.length + 1, 'the append tests ran first');
    await ensureGuest();
    const files = [...new Set(discs.flatMap((d) => d.mounts.map((m) => m.file)))];
    const dev = (f: string) => `/dev/vd${String.fromCharCode(97 + files.indexOf(f))}`;
    let script = `${LISTING_SH}\nrc=0\n`;
    for (const d of discs) {
      for (const m of d.mounts) script += `mount_list ${d.name}_udf_${m.session} ${dev(m.file)} udf session=${m.session} || rc=1\n`;
      script += `mount_list ${d.name}_iso_${d.iso.session} ${dev(d.iso.file)} iso9660 sbsector=${d.iso.session} || rc=1\n`;
    }
    script += 'dmesg | grep -i -E "udf|isofs" | sed "s/^/DMESG /"\nexit $rc\n';
    const r = await runGuest(script, { roDisks: files, timeoutSec: 300 });
    t.diagnostic(`guest: ${files.length} disc files, ${discs.reduce((n, d) => n + d.mounts.length + 1, 0)} mounts in ${r.seconds.toFixed(1)} s`);
    assert.equal(r.status, 0, r.output);
    const sections = parseSections(r.output);
    for (const d of discs) {
      const expect = [...d.mounts.map((m) => ({ key: `${d.name}_udf_${m.session}`, files: m.files })), { key: `${d.name}_iso_${d.iso.session}`, files: d.iso.files }];
      for (const e of expect) {
        const s = sections.get(e.key);
        assert.ok(s && !s.mountFailed && s.status === 0, `${e.key}: ${s?.mountFailed ?? 'no listing'}\n${r.output}`);
        const got = new Map([...parseListing(s)].filter(([, x]) => x.type === 'file').map(([p, x]) => [p, x.sha256] as [string, string | undefined]).sort());
        assert.deepEqual(got, shas(e.files), e.key);
      }
    }
    assert.doesNotMatch(r.output, /UDF-fs: (error|warning)|I\/O error|bad (tag|checksum)|location mismatch/i, r.output);
  });
});
