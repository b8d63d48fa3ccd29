// `discforge inspect` on a multisession disc reads one session: readers use the last one, whose volume descriptor
// set (and the UDF recognition sequence after it) is at its start + 16 and whose UDF anchor is at its start + 256;
// every other address is absolute. For an emulated disc (IMAGE.state.json) inspect reads the last session by
// default; --session-start LBA picks another. Three-session CD-R and BD-R bridges (ISO 9660 + Joliet + Rock Ridge
// + UDF; files added, replaced and deleted between sessions) are judged by xorriso reading the same session
// (-load sbsector START; -read_fs ecma119 / norock / default for the ISO, Joliet and Rock Ridge trees: every
// path, kind, size and data block) and by udfinfo --startblock (UDF file and folder counts). A plain image is
// read as before; bad starts are clear errors (exit 2) or, when the start holds no descriptors, a problem.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { BurnResult } from '../../server/src/engine/burn/engine';
import { inspectImage, readBoot, type FileSystemReport, type InspectReport } from '../../server/src/engine/inspect';
import { appendTo, makeProject, run, udfinfoAt, type Project } from '../util/burn-fixtures';
import { describeRun, runCli, stackTraceIn } from '../util/fixtures';
import { tmpdir, writeTree } from '../util/tmpdir';

const root = tmpdir('df-inspect-session-');
const CREATED = '2026-01-01T00:00:00Z';

/** A later session's manifest (the default file systems: the bridge, as the first session has UDF). */
function manifest(name: string, files: Record<string, string | Buffer>): string {
  writeTree(path.join(root, name), files);
  const m = path.join(root, `${name}.disc.json`);
  fs.writeFileSync(m, JSON.stringify({ kind: 'data', volume: { label: name.toUpperCase().replace(/\W/g, '_'), created: CREATED }, files: [{ source: name, target: '/' }] }));
  return m;
}

/** One entry as both sides can state it: path (no trailing /), kind, size of a file, first data block. */
interface Item {
  path: string;
  kind: 'dir' | 'file' | 'symlink';
  size: number | null;
  lba: number | null;
}

/**
 * xorriso's view of the session at `start`: `fsView` ecma119 (ISO 9660 names), norock (Joliet) or any (Rock Ridge).
 * Files without data (empty) get no block (ours have no extent).
 */
function xorrisoTree(image: string, start: number, fsView: 'ecma119' | 'norock' | 'any'): Item[] {
  const base = ['-abort_on', 'FAILURE', '-read_fs', fsView, '-load', 'sbsector', String(start), '-indev', image];
  const ls = run('xorriso', [...base, '-find', '/', '-exec', 'lsdl']);
  assert.equal(ls.status, 0, `xorriso ${base.join(' ')}: ${ls.stderr}`);
  const lba = run('xorriso', [...base, '-find', '/', '-exec', 'report_lba']);
  assert.equal(lba.status, 0, `xorriso report_lba: ${lba.stderr}`);
  const blocks = new Map<string, number>();
  for (const m of lba.stdout.matchAll(/^File data lba:\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*'(.*)'$/gm)) {
    if (m[1] === '0') blocks.set(m[5], Number(m[2]));
  }
  const out: Item[] = [];
  for (const m of ls.stdout.matchAll(/^([dl-])\S*\s+\d+\s+\S+\s+\S+\s+(\d+)\s+\w{3}\s+\d+\s+\S+\s+'(.*?)'(?: -> .*)?$/gm)) {
    const kind = m[1] === 'd' ? 'dir' : m[1] === 'l' ? 'symlink' : 'file';
    const size = kind === 'file' ? Number(m[2]) : null;
    out.push({ path: m[3], kind, size, lba: size ? (blocks.get(m[3]) ?? null) : null });
  }
  assert.ok(out.some((i) => i.path === '/'), `xorriso listed no root: ${ls.stdout}`);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Our report's tree in the same terms (ISO 9660 names without ";1" and a trailing "."). */
function ourTree(f: FileSystemReport): Item[] {
  const clean = (p: string) =>
    f.type === 'iso9660' ? p.split('/').map((c) => c.replace(/;\d+$/, '').replace(/\.$/, '')).join('/') : p;
  return f.entries
    .map((e) => ({
      path: clean(e.path.length > 1 ? e.path.replace(/\/$/, '') : e.path),
      kind: e.kind,
      size: e.kind === 'file' ? e.size : null,
      lba: e.kind === 'file' && e.size > 0 && e.extents.length > 0 && !(e as { embedded?: boolean }).embedded ? e.extents[0].lba : null,
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Rock Ridge items without the blocks of files whose data UDF keeps in the file entry. */
function withoutEmbedded(rr: Item[], udf: FileSystemReport): Item[] {
  const embedded = new Set(udf.entries.filter((e) => (e as { embedded?: boolean }).embedded).map((e) => e.path));
  return rr.map((i) => (embedded.has(i.path) ? { ...i, lba: null } : i));
}

function parseJson(r: ReturnType<typeof runCli>): InspectReport & { session?: { number: number | null; of: number; start: number; end: number | null; from: string; sessions: number[] } } {
  assert.equal(r.status, 0, describeRun(r));
  assert.equal(stackTraceIn(r.stderr + r.stdout), null, describeRun(r));
  return JSON.parse(r.stdout);
}

/** Every tree of the report is the session's as xorriso (and, for UDF, udfinfo) reads it; no problems. */
function checkSession(tag: string, image: string, report: InspectReport, start: number, end: number, files: string[]): void {
  assert.deepEqual(report.problems, [], `${tag}: problems`);
  assert.equal(report.sessionStart, start, tag);
  const byType = new Map(report.fileSystems.map((f) => [f.type, f]));
  assert.deepEqual([...byType.keys()].sort(), ['iso9660', 'joliet', 'rockridge', 'udf'], tag);
  const pvd = report.volumeDescriptors.find((d) => d.kind === 'primary');
  assert.equal(pvd?.lba, start + 16, `${tag}: the primary volume descriptor is the session's`);
  const rr = xorrisoTree(image, start, 'any');
  assert.deepEqual(rr.filter((i) => i.kind === 'file').map((i) => i.path.slice(1)), [...files].sort(), `${tag}: xorriso's files`);
  assert.deepEqual(ourTree(byType.get('rockridge')!), rr, `${tag}: Rock Ridge`);
  assert.deepEqual(ourTree(byType.get('joliet')!), xorrisoTree(image, start, 'norock'), `${tag}: Joliet`);
  assert.deepEqual(ourTree(byType.get('iso9660')!), xorrisoTree(image, start, 'ecma119'), `${tag}: ISO 9660`);
  // UDF: the same tree as Rock Ridge (the bridge stores each file's data once), anchors of this session.
  const udf = byType.get('udf')!;
  assert.deepEqual(ourTree(udf), withoutEmbedded(rr, udf), `${tag}: UDF`);
  assert.deepEqual(udf.udf?.anchors, [start + 256, end], `${tag}: UDF anchors`);
  assert.equal(udf.udf?.recognition.find((x) => x.id === 'NSR02' || x.id === 'NSR03')!.lba > start + 16, true, tag);
  const u = udfinfoAt(image, start);
  assert.equal(u.status, 0, `${tag}: udfinfo --startblock ${start}: ${u.stderr}`);
  assert.equal(u.fields.numfiles, String(udf.files), `${tag}: udfinfo ${JSON.stringify(u.fields)}`);
  assert.equal(u.fields.numdirs, String(udf.directories), `${tag}: udfinfo ${JSON.stringify(u.fields)}`);
  assert.equal(u.fields.lvid, udf.udf?.logicalVolumeId, `${tag}: udfinfo ${JSON.stringify(u.fields)}`);
}

interface Disc {
  file: string;
  project: Project;
  sessions: { start: number; end: number; files: string[] }[];
}

/** Three sessions: the project, then add/replace, then add/replace/delete (a file and a folder). */
async function threeSessions(profile: string): Promise<Disc> {
  const name = profile.replace(/\W/g, '');
  const project = await makeProject(root, `one${name}`, 400_000);
  const file = path.join(root, `${name}.img`);
  const spec = `virtual:${profile}:${file}`;
  const s1 = Object.keys(project.files);
  const s2 = { 'docs/readme.txt': `${name}: replaced in session 2\n`, 'added2.txt': 'added in session 2\n', 'docs/new/two.bin': Buffer.alloc(70_000, 2) };
  const s3 = { 'third.txt': 'third\n', 'big.bin': `${name}: big.bin replaced by a small file\n` };
  const after2 = [...new Set([...s1, ...Object.keys(s2)])];
  const after3 = [...new Set([...after2, ...Object.keys(s3)])].filter((f) => !f.startsWith('docs/deep/') && f !== 'empty.dat');
  const rs: BurnResult[] = [];
  rs.push(await appendTo(spec, project.manifest));
  rs.push(await appendTo(spec, manifest(`two${name}`, s2)));
  rs.push(await appendTo(spec, manifest(`three${name}`, s3), ['/docs/deep', '/empty.dat']));
  assert.equal(rs[0].startLba, 0);
  assert.ok(rs[1].startLba >= rs[0].blocks && rs[2].startLba >= rs[1].startLba + rs[1].blocks, JSON.stringify(rs.map((r) => [r.startLba, r.blocks])));
  const files = [s1, after2, after3];
  return { file, project, sessions: rs.map((r, i) => ({ start: r.startLba, end: r.startLba + r.blocks - 1, files: files[i] })) };
}

describe('inspect reads the last session of a multisession disc', () => {
  for (const profile of ['cd-r', 'bd-r']) {
    test(`${profile}: three bridge sessions; inspect shows the last (ISO 9660, Joliet, Rock Ridge, UDF), --session-start the others; xorriso and udfinfo agree`, async (t) => {
      const disc = await threeSessions(profile);
      const { file, sessions } = disc;
      t.diagnostic(`${profile}: sessions ${sessions.map((s) => `${s.start}–${s.end}`).join(', ')}`);
      assert.equal(fs.statSync(file).size / 2048, sessions[2].end + 1);

      // Default: the emulated disc's state says three sessions; the last one is read.
      const last = parseJson(runCli(['inspect', file, '--json']));
      assert.deepEqual(last.session, { number: 3, of: 3, start: sessions[2].start, end: sessions[2].end, from: 'emulated disc state', sessions: sessions.map((s) => s.start) });
      assert.equal(last.sessionEnd, sessions[2].end);
      checkSession(`${profile} default (session 3)`, file, last, sessions[2].start, sessions[2].end, sessions[2].files);

      // --session-start: the first and the middle session, each with its own closing anchor (from the state).
      for (const [i, s] of sessions.entries()) {
        const r = parseJson(runCli(['inspect', file, '--session-start', String(s.start), '--json']));
        assert.equal(r.session?.number, i + 1);
        assert.equal(r.session?.from, '--session-start');
        checkSession(`${profile} --session-start ${s.start} (session ${i + 1})`, file, r, s.start, s.end, s.files);
      }

      // The text output says which session it read and how to get the first.
      const text = runCli(['inspect', file]);
      assert.equal(text.status, 0, describeRun(text));
      assert.ok(text.stdout.includes(`\nSession 3 of 3, from block ${sessions[2].start} (from the emulated disc's state); --session-start 0 for the first\n`), text.stdout);
      assert.match(text.stdout, /\nNo problems found\.\n$/);
      const first = runCli(['inspect', file, '--session-start', '0']);
      assert.ok(first.stdout.includes(`\nSession 1 of 3, from block 0 (--session-start)\n`), first.stdout);
      assert.match(first.stdout, /\/docs\/deep\/notes\.md/);

      // The engine alone (no state): descriptors at start + 16, anchor at start + 256, closing anchor at the end
      // of the image, which is the last session's last block.
      const engine = await inspectImage(file, { sessionStart: sessions[2].start });
      assert.deepEqual(engine.problems, []);
      assert.equal(engine.sessionEnd, undefined);
      assert.deepEqual(engine.fileSystems.map((f) => f.entries.length), last.fileSystems.map((f) => f.entries.length));
      assert.deepEqual(engine.fileSystems.find((f) => f.type === 'udf')?.udf?.anchors, [sessions[2].start + 256, sessions[2].end]);
      // readBoot takes the session too: no boot record in these sessions, and no complaint.
      assert.deepEqual(await readBoot(file, { sessionStart: sessions[2].start }), { problems: [] });

      // A start that holds no descriptors: a report with the problem, not a crash.
      const empty = sessions[1].start - 100;
      const none = parseJson(runCli(['inspect', file, '--session-start', String(empty), '--json']));
      assert.deepEqual(none.volumeDescriptors, []);
      assert.deepEqual(none.fileSystems, []);
      assert.equal(none.problems.length, 1, JSON.stringify(none.problems));
      assert.match(none.problems[0], new RegExp(`^session start ${empty}: no usable ISO 9660 volume descriptor set at sector ${empty + 16} .*is ${empty} where a session starts\\?$`));
      const noneText = runCli(['inspect', file, '--session-start', String(empty)]);
      assert.equal(noneText.status, 0, describeRun(noneText));
      assert.match(noneText.stdout, new RegExp(`\nSession from block ${empty} \\(--session-start; the emulated disc's sessions start at ${sessions.map((s) => s.start).join(', ')}\\)\n`));
      assert.match(noneText.stdout, /none \(no ISO 9660 volume descriptor set\)\n/);
    });
  }
});

describe('inspect --session-start: plain images and bad values', () => {
  test('a plain image (no state file) is read from block 0 as before; --session-start 0 is the same', async () => {
    const p = await makeProject(root, 'plain', 100_000);
    assert.equal(fs.existsSync(`${p.image}.state.json`), false);
    const engine = await inspectImage(p.image);
    assert.equal(engine.sessionStart, 0);
    assert.equal('sessionEnd' in engine, false);
    const cli = parseJson(runCli(['inspect', p.image, '--json']));
    assert.equal('session' in cli, false);
    assert.deepEqual(cli, JSON.parse(JSON.stringify(engine)));
    assert.deepEqual(parseJson(runCli(['inspect', p.image, '--json', '--session-start', '0'])), cli);
    const text = runCli(['inspect', p.image]);
    assert.equal(text.status, 0, describeRun(text));
    assert.doesNotMatch(text.stdout, /^Session/m);
    assert.equal(runCli(['inspect', p.image, '--session-start', '0']).stdout, text.stdout);
    assert.equal(cli.volumeDescriptors.find((d) => d.kind === 'primary')?.lba, 16);
    // The same image inspected from a later start: whatever is at start + 16 is not a descriptor set.
    const off = parseJson(runCli(['inspect', p.image, '--session-start', '20', '--json']));
    assert.equal(off.sessionStart, 20);
    assert.match(off.problems.join('\n'), /^session start 20: no usable ISO 9660 volume descriptor set at sector 36 /m);
  });

  test('bad --session-start values: exit 2, one clear message, no stack trace', async () => {
    const p = await makeProject(root, 'bad', 10_000);
    const sectors = fs.statSync(p.image).size / 2048;
    const cases: [string[], RegExp][] = [
      [['--session-start', '-5'], /--session-start takes a block number \(an integer ≥ 0\), got "-5"/],
      [['--session-start', 'abc'], /--session-start takes a block number \(an integer ≥ 0\), got "abc"/],
      [['--session-start', '12.5'], /--session-start takes a block number \(an integer ≥ 0\), got "12\.5"/],
      [['--session-start='], /--session-start takes a block number \(an integer ≥ 0\), got ""/],
      [['--session-start', '99999999999999999999'], /--session-start takes a block number/],
      [['--session-start'], /--session-start needs a value/],
      [['--session-start', String(sectors)], new RegExp(`session start ${sectors} is past the end of the image: its volume descriptors would be at sector ${sectors + 16}, the image has ${sectors} sectors`)],
      [['--session-start', String(sectors - 16)], /is past the end of the image/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(['inspect', p.image, ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${describeRun(r)}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(stackTraceIn(r.stderr + r.stdout), null, describeRun(r));
      assert.equal(r.stdout, '', args.join(' '));
    }
    // The engine: the same checks as InputErrors.
    await assert.rejects(inspectImage(p.image, { sessionStart: -1 }), { name: 'InputError', message: /session start must be a block number/ });
    await assert.rejects(inspectImage(p.image, { sessionStart: 1.5 }), { name: 'InputError' });
    await assert.rejects(inspectImage(p.image, { sessionStart: sectors }), { name: 'InputError', message: /past the end of the image/ });
    await assert.rejects(readBoot(p.image, { sessionStart: -1 }), { name: 'InputError' });
  });
});
