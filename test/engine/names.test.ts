/** Name mapping per file system and the record order of ECMA-119 9.3. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoName, joinName, jolietName, uniquify, type MappedName } from '../../server/src/engine/iso9660/names';
import { compareIds } from '../../server/src/engine/iso9660/tree';

const iso = (n: string, level: 1 | 2 | 3 | 4, dir = false) => joinName(isoName(n, dir, level), dir, level);

test('level 1: 8.3 d-characters, directories of 8', () => {
  assert.equal(iso('readme.md', 1), 'README.MD');
  assert.equal(iso('VeryLongFileName.text', 1), 'VERYLONG.TEX');
  assert.equal(iso('Grüße 日本.txt', 1), 'GR_SSE__.TXT');
  assert.equal(iso('archive.tar.gz', 1), 'ARCHIVE_.GZ');
  assert.equal(iso('Makefile', 1), 'MAKEFILE.');
  assert.equal(iso('.bashrc', 1), '_BASHRC.');
  assert.equal(iso('photos.2026', 1, true), 'PHOTOS_2');
});

test('levels 2 and 3: 30 characters for name and extension, 31 for directories', () => {
  const long = 'a'.repeat(40);
  assert.equal(iso(`${long}.txt`, 2), `${'A'.repeat(27)}.TXT`);
  assert.equal(iso(long, 3, true), 'A'.repeat(31));
  assert.equal(iso('a-b c.d.e', 3), 'A_B_C_D.E');
});

test('level 4 (ISO 9660:1999) keeps names up to 207 characters of printable ASCII, without version', () => {
  assert.equal(iso('Read Me (v2).txt', 4), 'Read Me (v2).txt');
  assert.equal(iso('Grüße 日本;x.txt', 4), 'Gr__e ___x.txt');
  const n = iso('x'.repeat(300) + '.txt', 4);
  assert.equal(Buffer.byteLength(n), 207);
  assert.ok(n.endsWith('.txt'));
});

test('Joliet keeps names up to 64 units, replaces forbidden characters, never splits a surrogate pair', () => {
  const j = (n: string, max = 64) => joinName(jolietName(n, false, max), false, 'joliet');
  assert.equal(j('a:b*c?.txt'), 'a_b_c_.txt');
  const long = j('n'.repeat(100) + '.jpeg');
  assert.equal(long.length, 64);
  assert.ok(long.endsWith('.jpeg'));
  assert.equal(j('n'.repeat(100), 103).length, 100);
  const emoji = j('😀'.repeat(40));
  assert.ok(emoji.length <= 64);
  assert.ok(!/[\ud800-\udbff]$/.test(emoji));
});

test('collisions after mapping are made unique, deterministically, keeping the extension', () => {
  const names = ['A_B.TXT', 'a-b.txt', 'a_b.txt'].map((n) => isoName(n, false, 1));
  const u = uniquify(names, [false, false, false], () => 8, (m: MappedName) => joinName(m, false, 1), (s) => s);
  const ids = u.map((m) => joinName(m, false, 1));
  assert.deepEqual(ids, ['A_B.TXT', 'A_B1.TXT', 'A_B2.TXT']);
  const long = ['verylongname1.txt', 'verylongname2.txt', 'VERYLONG.TXT'].map((n) => isoName(n, false, 1));
  const ids2 = uniquify(long, [false, false, false], () => 8, (m: MappedName) => joinName(m, false, 1), (s) => s).map((m) => joinName(m, false, 1));
  assert.equal(new Set(ids2).size, 3);
  for (const id of ids2) assert.match(id, /^[A-Z0-9_]{1,8}\.TXT$/);
});

test('ECMA-119 9.3 order: name, then extension (space-padded), then version descending', () => {
  const ids = ['A.B;1', 'A;1', 'AB;1', 'A.A;2', 'A.A;1', 'A_;1', '0;1'].map((s) => Buffer.from(s));
  const sorted = [...ids].sort((a, b) => compareIds(a, b, 1)).map((b) => b.toString());
  assert.deepEqual(sorted, ['0;1', 'A;1', 'A.A;2', 'A.A;1', 'A.B;1', 'AB;1', 'A_;1']);
});
