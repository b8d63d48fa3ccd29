// End-to-end tests of `discforge build`: what each kind of manifest entry puts where, file system
// selection, volume identifiers, Rock Ridge modes/owners/symlinks, --output, --progress json.
// Every image is read back by independent readers (test/util/oracles.ts) and compared with the sources.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isoinfoVolume, run, xorrisoPvdInfo, type View } from '../util/oracles';
import { Expected, assertImage, buildOk, describeRun, makeTmp, runCli, stackTraceIn, uniqueContent, writeManifest, writeTree } from '../util/fixtures';

const CREATED = new Date('2026-01-01T00:00:00Z');

describe('discforge build: manifest entries', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'project');
    writeTree(proj, {
      photos: {
        'beach.jpg': uniqueContent('beach', 3000),
        'IMG 0001.JPG': uniqueContent('img1'),
        2025: { 'summer.png': uniqueContent('summer'), deeper: { 'x.raw': uniqueContent('raw', 70000) } },
        'empty-album': {},
      },
      build: {
        'app.bin': uniqueContent('app'),
        'boot.bin': uniqueContent('boot'),
        'boot.tmp': uniqueContent('boot-tmp'),
        'notes.md': uniqueContent('build-notes'),
        arm: { 'fw.bin': uniqueContent('arm-fw'), 'fw.bin.tmp': uniqueContent('arm-tmp'), 'x.tmp': uniqueContent('x-tmp') },
      },
      'README.md': uniqueContent('readme'),
      'notes.txt': uniqueContent('notes'),
      docs: { 'guide.html': uniqueContent('guide'), img: { 'fig1.svg': uniqueContent('fig1') } },
    });
  });
  after(() => tmp.cleanup());

  test('the documented example: folder, glob, renamed file, file without target, folder into a folder, empty folder', () => {
    const manifest = writeManifest(
      proj,
      `// The example from the manifest documentation, with comments.
{
  "$schema": "../media-schema/disc-project.schema.json",
  "kind": "data",
  /* volume identification */
  "volume": { "label": "HOLIDAY_2026", "publisher": "P", "preparer": "Q", "application": "A", "system": "S", "created": "2026-01-01T00:00:00Z" },
  "media": "dvd+r",                                   // capacity check
  // no "fileSystems": all three by default
  "iso9660": { "level": 3 },
  "joliet": { "longNames": false },
  "files": [
    { "source": "photos", "target": "/Photos" },       // a folder: its contents go under /Photos
    { "source": "build/*.bin", "target": "/firmware/", "exclude": ["**/*.tmp"] },
    { "source": "README.md", "target": "/README.TXT" }, // one file, renamed
    { "source": "notes.txt" },                          // no target: /notes.txt
    { "source": "docs", "target": "/manual/" },         // into that folder: /manual/docs/...
    { "directory": "/empty" }                           // an empty folder
  ],
  "output": "out/holiday.iso"                           // relative to the manifest
}
`,
    );
    const image = path.join(proj, 'out', 'holiday.iso');
    // Run from another folder: sources and output are relative to the manifest, not to the cwd.
    buildOk(manifest, image, [], { cwd: tmp.dir });
    const exp = new Expected()
      .folder('/Photos', path.join(proj, 'photos'))
      .file('/firmware/app.bin', path.join(proj, 'build/app.bin'))
      .file('/firmware/boot.bin', path.join(proj, 'build/boot.bin'))
      .file('/README.TXT', path.join(proj, 'README.md'))
      .file('/notes.txt', path.join(proj, 'notes.txt'))
      .folder('/manual/docs', path.join(proj, 'docs'))
      .dir('/empty');
    assertImage(image, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3, created: CREATED });

    // Volume identifiers, through three readers.
    const v = isoinfoVolume(image);
    assert.deepEqual(
      { volumeId: v.volumeId, publisherId: v.publisherId, preparerId: v.preparerId, applicationId: v.applicationId, systemId: v.systemId },
      { volumeId: 'HOLIDAY_2026', publisherId: 'P', preparerId: 'Q', applicationId: 'A', systemId: 'S' },
    );
    const pvd = xorrisoPvdInfo(image);
    assert.deepEqual(
      { vol: pvd['Volume Id'], pub: pvd['Publisher Id'], prep: pvd['Preparer Id'], app: pvd['App Id'], sys: pvd['System Id'] },
      { vol: 'HOLIDAY_2026', pub: 'P', prep: 'Q', app: 'A', sys: 'S' },
    );
    const header = run('iso-info', ['-i', image, '-l']).stdout.toString('utf8');
    assert.match(header, /^Volume\s*: HOLIDAY_2026$/m);
    assert.match(header, /^Preparer\s*: Q$/m);
  });

  test('globs keep paths relative to their static base; exclude patterns with and without "/"', () => {
    const manifest = writeManifest(
      proj,
      `{
  "kind": "data",
  "volume": { "label": "GLOBS", "created": "2026-01-01T00:00:00Z" },
  "files": [
    // ** matches across folders: build/arm/fw.bin lands at /fw/arm/fw.bin
    { "source": "build/**/*.bin", "target": "/fw/" },
    // everything under build except *.tmp (a pattern without / matches any base name) and notes.md
    { "source": "build/**", "target": "/all/", "exclude": ["*.tmp", "notes.md"] },
    // a folder source with an exclude: photos without its 2025 folder
    { "source": "photos", "target": "/pics", "exclude": ["2025/**", "2025"] },
    // brace and ? globs
    { "source": "{README.md,notes.txt}", "target": "/txt/" },
    { "source": "build/b??t.bin", "target": "/q/" }
  ],
  "output": "globs.iso"
}
`,
      'globs.disc.json',
    );
    const image = path.join(proj, 'globs.iso');
    buildOk(manifest, image);
    const b = (p: string) => path.join(proj, 'build', p);
    const exp = new Expected()
      .file('/fw/app.bin', b('app.bin'))
      .file('/fw/boot.bin', b('boot.bin'))
      .file('/fw/arm/fw.bin', b('arm/fw.bin'))
      .file('/all/app.bin', b('app.bin'))
      .file('/all/boot.bin', b('boot.bin'))
      .file('/all/arm/fw.bin', b('arm/fw.bin'))
      .folder('/pics', path.join(proj, 'photos'), { exclude: (rel) => rel === '2025' || rel.startsWith('2025/') })
      .file('/txt/README.md', path.join(proj, 'README.md'))
      .file('/txt/notes.txt', path.join(proj, 'notes.txt'))
      .file('/q/boot.bin', b('boot.bin'));
    assertImage(image, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3, created: CREATED });
  });

  test('later entries add to folders made by earlier ones; a target ending in / keeps the source name', () => {
    writeTree(path.join(proj, 'extra'), { 'more.jpg': uniqueContent('more'), 2025: { 'autumn.png': uniqueContent('autumn') } });
    const manifest = writeManifest(
      proj,
      `{
  "kind": "data",
  "files": [
    { "source": "photos", "target": "/Photos" },
    { "source": "extra", "target": "/Photos" },          // merged into the same folder
    { "source": "notes.txt", "target": "/Photos/2025/" }, // into a folder made by the first entry
    { "directory": "/Photos/new/empty" },                 // nested empty folders
    { "source": "README.md", "target": "/a/b/c/readme.md" } // parents made as needed
  ],
  "output": "merge.iso"
}
`,
      'merge.disc.json',
    );
    const image = path.join(proj, 'merge.iso');
    buildOk(manifest, image);
    const exp = new Expected()
      .folder('/Photos', path.join(proj, 'photos'))
      .folder('/Photos', path.join(proj, 'extra'))
      .file('/Photos/2025/notes.txt', path.join(proj, 'notes.txt'))
      .dir('/Photos/new/empty')
      .file('/a/b/c/readme.md', path.join(proj, 'README.md'));
    assertImage(image, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3 });
  });

  test('--output overrides the manifest\'s output (relative to the current folder)', () => {
    const manifest = writeManifest(proj, `{ "kind": "data", "files": [ { "source": "notes.txt" } ], "output": "never.iso" }\n`, 'out.disc.json');
    const outDir = path.join(tmp.dir, 'elsewhere');
    fs.mkdirSync(outDir);
    buildOk(manifest, path.join(outDir, 'given.iso'), ['--output', 'given.iso'], { cwd: outDir });
    assert.ok(!fs.existsSync(path.join(proj, 'never.iso')), 'the manifest\'s output was written despite --output');
    assertImage(path.join(outDir, 'given.iso'), new Expected().file('/notes.txt', path.join(proj, 'notes.txt')), { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3 });
  });

  for (const fss of [['iso9660'], ['iso9660', 'joliet'], ['iso9660', 'rockridge'], ['rockridge', 'iso9660', 'joliet']] as View[][]) {
    test(`fileSystems ${JSON.stringify(fss)}: exactly those trees, all content right`, () => {
      const name = fss.join('-');
      const manifest = writeManifest(
        proj,
        `{
  "kind": "data",
  "fileSystems": ${JSON.stringify(fss)}, // only these
  "files": [ { "source": "photos", "target": "/Photos" }, { "source": "docs" }, { "directory": "/empty" } ],
  "output": "${name}.iso"
}
`,
        `${name}.disc.json`,
      );
      const image = path.join(proj, `${name}.iso`);
      buildOk(manifest, image);
      const exp = new Expected().folder('/Photos', path.join(proj, 'photos')).folder('/docs', path.join(proj, 'docs')).dir('/empty');
      assertImage(image, exp, { fileSystems: fss, level: 3 });
    });
  }
});

describe('discforge build: Rock Ridge modes, owners and symlinks', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let proj: string;
  before(() => {
    tmp = makeTmp();
    proj = path.join(tmp.dir, 'p');
    writeTree(proj, {
      tree: {
        'run.sh': { content: uniqueContent('run'), mode: 0o755 },
        'secret.txt': { content: uniqueContent('secret'), mode: 0o600 },
        'shared.txt': { content: uniqueContent('shared'), mode: 0o664 },
        'ro.txt': { content: uniqueContent('ro'), mode: 0o444 },
        'odd.txt': { content: uniqueContent('odd'), mode: 0o751 },
        lib: { dirMode: 0o750, entries: { 'libx.so.1': uniqueContent('libx') } },
        'libx.so': { symlink: 'lib/libx.so.1' },
        'to-lib': { symlink: 'lib' },
        'abs-link': { symlink: '/etc/hostname' },
        'dangling': { symlink: 'does/not/exist' },
        'up-link': { symlink: '../outside.txt' },
      },
      'outside.txt': uniqueContent('outside'),
    });
    // Owners other than root in the sources: Rock Ridge must still say 0/0.
    for (const f of ['run.sh', 'secret.txt', 'lib', 'lib/libx.so.1']) fs.chownSync(path.join(proj, 'tree', f), 1234, 5678);
    fs.lchownSync(path.join(proj, 'tree', 'libx.so'), 1234, 5678);
  });
  after(() => tmp.cleanup());

  test('permission bits of the sources, uid/gid 0, symlinks kept with their targets (absent from Joliet)', () => {
    const manifest = writeManifest(
      proj,
      `{
  "kind": "data",
  "files": [ { "source": "tree", "target": "/t" } ], // symlinks are kept by default
  "output": "modes.iso"
}
`,
    );
    const image = path.join(proj, 'modes.iso');
    buildOk(manifest, image);
    const exp = new Expected().folder('/t', path.join(proj, 'tree'));
    assert.equal(exp.tree.get('/t/libx.so')?.kind, 'symlink');
    assertImage(image, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3, owner: 0 });
  });

  test('"followSymlinks": true stores what the links point to', () => {
    // Dangling and absolute links cannot be followed into this tree: use a tree without them.
    writeTree(path.join(proj, 'follow'), {
      'real.txt': { content: uniqueContent('real'), mode: 0o640 },
      'link.txt': { symlink: 'real.txt' },
      sub: { 'inner.txt': uniqueContent('inner') },
      'sub-link': { symlink: 'sub' },
      'outside-link.txt': { symlink: '../outside.txt' },
    });
    const manifest = writeManifest(
      proj,
      `{
  "kind": "data",
  "files": [
    { "source": "follow", "target": "/f", "followSymlinks": true }, // links become copies
    { "source": "tree/libx.so", "target": "/single.so", "followSymlinks": true }
  ],
  "output": "follow.iso"
}
`,
      'follow.disc.json',
    );
    const image = path.join(proj, 'follow.iso');
    buildOk(manifest, image);
    const exp = new Expected().folder('/f', path.join(proj, 'follow'), { follow: true }).file('/single.so', path.join(proj, 'tree/libx.so'));
    assert.equal(exp.tree.get('/f/link.txt')?.kind, 'file');
    assert.equal(exp.tree.get('/f/sub-link/inner.txt')?.kind, 'file');
    assertImage(image, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3 });
  });
});

describe('discforge build --progress json', () => {
  test('one JSON object per stderr line; scan, plan and write phases; write reaches its total', () => {
    const tmp = makeTmp();
    try {
      const proj = path.join(tmp.dir, 'p');
      const files: Record<string, Buffer> = {};
      for (let i = 0; i < 40; i++) files[`f${i}.bin`] = uniqueContent(`f${i}`, 50_000);
      writeTree(proj, { data: files });
      const manifest = writeManifest(proj, `{ "kind": "data", "files": [ { "source": "data" } ], "output": "p.iso" }\n`);
      const image = path.join(proj, 'p.iso');
      const r = runCli(['build', manifest, '--progress', 'json']);
      assert.equal(r.status, 0, describeRun(r));
      assert.equal(stackTraceIn(r.stderr), null);
      const events: { phase: string; done: number; total: number }[] = [];
      for (const line of r.stderr.split('\n')) {
        if (line.trim() === '') continue;
        let ev: unknown;
        try {
          ev = JSON.parse(line);
        } catch {
          assert.fail(`stderr line is not JSON: ${JSON.stringify(line)}\n${describeRun(r)}`);
        }
        assert.ok(typeof ev === 'object' && ev !== null && !Array.isArray(ev), `not an object: ${line}`);
        const e = ev as Record<string, unknown>;
        assert.equal(typeof e['phase'], 'string', line);
        assert.ok(Number.isInteger(e['done']) && Number.isInteger(e['total']), `done/total not integers: ${line}`);
        assert.ok((e['done'] as number) >= 0 && (e['done'] as number) <= (e['total'] as number), `done outside 0..total: ${line}`);
        events.push(e as { phase: string; done: number; total: number });
      }
      const phases = [...new Set(events.map((e) => e.phase))];
      for (const p of ['scan', 'plan', 'write']) assert.ok(phases.includes(p), `no "${p}" phase in ${phases.join(', ')}`);
      assert.ok(phases.indexOf('scan') < phases.indexOf('plan') && phases.indexOf('plan') < phases.indexOf('write'), `phases out of order: ${phases.join(', ')}`);
      const writes = events.filter((e) => e.phase === 'write');
      for (let i = 1; i < writes.length; i++) {
        assert.ok(writes[i]!.done >= writes[i - 1]!.done, 'write progress went backwards');
        assert.equal(writes[i]!.total, writes[0]!.total, 'write total changed');
      }
      const last = writes[writes.length - 1]!;
      assert.equal(last.done, last.total, 'write never reached its total');
      assert.ok(last.total > 0);
      const exp = new Expected().folder('/data', path.join(proj, 'data'));
      assertImage(image, exp, { fileSystems: ['iso9660', 'joliet', 'rockridge'], level: 3, perFile: false });
    } finally {
      tmp.cleanup();
    }
  });
});
