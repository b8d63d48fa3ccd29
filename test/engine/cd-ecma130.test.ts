// Raw data sectors (ECMA-130): the writer (server/src/engine/cd/sector.ts) judged by an independent checker
// (test/util/ecma130-check.ts, written from the standard's Annexes), and the checker itself judged by a published
// sample: the LBA-0 Mode 1 sector of zeros, whose EDC (c5 13 68 2b) and SHA-256 digests (whole sector, its 276 ECC
// bytes, and the scrambled sector) are pinned in the miniscram project's reference values (computed from the
// standard and cross-checked against a sector of a pressed disc), plus its EDC of a second, patterned sector.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { checkDataSector, edcBitwise, scrambleBytes } from '../util/ecma130-check';
import { encodeMode1, encodeMode2Form1, encodeMode2Form2, scramble, SCRAMBLE_TABLE } from '../../server/src/engine/cd/sector';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const PUBLISHED = {
  edc: 'c513682b',
  sector: 'b4f18ab66709c9b3fdef2721cc323e031b6728f3ca6c57b7c435c96189222250',
  ecc: '619e335e55204ce597079fd54f8df335793665dc098a41cb0c59f36185705394',
  scrambled: 'b2c91211b98919e43eb75d5d1eba18821c607badf31e60af4d166883a96cd68f',
  patternedEdc: 'ee9c2a0e',
};

/** A deterministic byte generator (no Math.random: failures must reproduce). */
function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

describe('ECMA-130 sectors: the published sample', () => {
  test('the checker computes the published EDCs on its own (bit by bit)', () => {
    const s = new Uint8Array(2064);
    s.set([0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x02, 0x00, 0x01]);
    const e = edcBitwise(s, 0, 2064);
    assert.equal(Buffer.from([e & 0xff, (e >>> 8) & 0xff, (e >>> 16) & 0xff, e >>> 24]).toString('hex'), PUBLISHED.edc);
    const p = new Uint8Array(2064);
    p.set([0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x12, 0x34, 0x56, 0x01]);
    for (let i = 16; i < 2064; i++) p[i] = i & 0xff;
    const e2 = edcBitwise(p, 0, 2064);
    assert.equal(Buffer.from([e2 & 0xff, (e2 >>> 8) & 0xff, (e2 >>> 16) & 0xff, e2 >>> 24]).toString('hex'), PUBLISHED.patternedEdc);
  });

  test('the writer produces the published sector; the checker accepts it and its scrambler gives the published scrambled sector', () => {
    const sec = new Uint8Array(2352);
    encodeMode1(sec, 0, new Uint8Array(2048));
    assert.equal(sha(sec), PUBLISHED.sector);
    assert.equal(sha(sec.subarray(2076)), PUBLISHED.ecc);
    const c = checkDataSector(sec, 0);
    assert.deepEqual(c.problems, []);
    assert.ok(c.ok && c.edc && c.p && c.q);
    // The checker's own scrambler (from the shift register) against the published digest, and the writer's.
    const table = scrambleBytes();
    const s1 = sec.slice();
    for (let i = 0; i < 2340; i++) s1[12 + i] ^= table[i];
    assert.equal(sha(s1), PUBLISHED.scrambled);
    assert.deepEqual(Buffer.from(SCRAMBLE_TABLE), Buffer.from(table));
    const s2 = sec.slice();
    scramble(s2);
    assert.equal(sha(s2), PUBLISHED.scrambled);
    scramble(s2);
    assert.equal(sha(s2), PUBLISHED.sector);
  });

  test('the checker rejects the published sector with any one byte changed (every field)', () => {
    const sec = new Uint8Array(2352);
    encodeMode1(sec, 0, new Uint8Array(2048));
    // Header, user data (start, middle, end), EDC, intermediate, P parity, Q parity.
    for (const at of [12, 14, 15, 16, 1000, 2063, 2064, 2067, 2070, 2076, 2200, 2247, 2248, 2300, 2351]) {
      const bad = sec.slice();
      bad[at] ^= 0x01;
      assert.equal(checkDataSector(bad, 0).ok, false, `byte ${at} flipped was not detected`);
    }
  });
});

describe('ECMA-130 sectors: the writer, judged by the independent checker', () => {
  test('Mode 1 sectors with random data at many addresses pass; every single flipped byte is detected', () => {
    const sec = new Uint8Array(2352);
    for (const lba of [0, 1, 74, 75, 149, 4499, 4500, 100_000, 333_000, 449_849]) {
      encodeMode1(sec, lba, bytes(2048, lba + 7));
      const c = checkDataSector(sec, lba);
      assert.ok(c.ok, `LBA ${lba}: ${c.problems.join(', ')}`);
      assert.equal(checkDataSector(sec, lba + 1).ok, false, 'a wrong address must fail the header check');
    }
    encodeMode1(sec, 1234, bytes(2048, 99));
    // Every byte from the header to the end, flipped one at a time (by one bit and by a whole byte).
    for (let at = 12; at < 2352; at++) {
      for (const mask of [0x80, 0xff]) {
        sec[at] ^= mask;
        const c = checkDataSector(sec, 1234);
        sec[at] ^= mask;
        assert.equal(c.ok, false, `flipping byte ${at} by ${mask} was not detected`);
      }
    }
    assert.ok(checkDataSector(sec, 1234).ok);
  });

  test('Mode 2 Form 1 (parities with a zero header) and Form 2 (EDC) pass and detect flips', () => {
    const sec = new Uint8Array(2352);
    encodeMode2Form1(sec, 500, bytes(2048, 5), 0, [1, 2, 0x08, 0]);
    let c = checkDataSector(sec, 500);
    assert.ok(c.ok && c.form === 1, c.problems.join(', '));
    // The header is outside the Form 1 parities: changing the address keeps P/Q valid but fails the header check.
    const moved = sec.slice();
    moved[14] = 0x03;
    const m = checkDataSector(moved, 500);
    assert.ok(m.p && m.q && !m.header);
    for (const at of [16, 20, 24, 2000, 2072, 2100, 2300]) {
      const bad = sec.slice();
      bad[at] ^= 0x10;
      assert.equal(checkDataSector(bad, 500).ok, false, `Form 1 byte ${at}`);
    }
    encodeMode2Form2(sec, 501, bytes(2324, 6));
    c = checkDataSector(sec, 501);
    assert.ok(c.ok && c.form === 2, c.problems.join(', '));
    for (const at of [24, 1500, 2347, 2348]) {
      const bad = sec.slice();
      bad[at] ^= 0x01;
      assert.equal(checkDataSector(bad, 501).ok, false, `Form 2 byte ${at}`);
    }
  });
});
