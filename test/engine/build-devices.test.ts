// Building onto a device (`--output /dev/sdX` to write a hybrid image to a USB stick): the image is written in
// place, never as OUT.partial renamed over the device node (which, as root, would replace /dev/null or the stick's
// node with a regular file). Other non-files as output are refused with a clear message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeRun, makeTmp, runCli, stackTraceIn, writeManifest, writeTree } from '../util/fixtures';

describe('build onto a device', () => {
  let tmp: ReturnType<typeof makeTmp>;
  let manifest: string;
  before(() => {
    tmp = makeTmp();
    writeTree(path.join(tmp.dir, 'src'), { 'a.txt': 'a\n' });
    manifest = writeManifest(tmp.dir, '{ "kind": "data", "files": [ { "source": "src", "target": "/" } ] }\n', 'd.disc.json');
  });
  after(() => tmp.cleanup());

  test('--output /dev/null writes through the device and leaves the node a character device', () => {
    const r = runCli(['build', manifest, '--output', '/dev/null']);
    assert.equal(r.status, 0, describeRun(r));
    const st = fs.statSync('/dev/null');
    assert.ok(st.isCharacterDevice(), '/dev/null is no longer a character device');
    assert.ok(!fs.existsSync('/dev/null.partial'));
  });

  test('a folder as output is refused (exit 2, no stack trace)', () => {
    const dir = path.join(tmp.dir, 'a-folder');
    fs.mkdirSync(dir);
    const r = runCli(['build', manifest, '--output', dir]);
    assert.equal(r.status, 2, describeRun(r));
    assert.match(r.stderr, /not a file or a device/);
    assert.equal(stackTraceIn(r.stderr + r.stdout), null);
  });
});
