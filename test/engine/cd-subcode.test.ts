// Sub-channel Q (positions, MCN, ISRC) and CD-TEXT packs, checked with the independent CRC of
// test/util/ecma130-check.ts and decoded back field by field from the standard's bit layouts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { packCrcOk, qCrcOk } from '../util/ecma130-check';
import { buildPacks, cdTextFile, parsePacks } from '../../server/src/engine/cd/cdtext';
import { deinterleaveQ, formattedQ, interleave, qIsrc, qMcn, qPosition } from '../../server/src/engine/cd/subcode';
import { SubcodeGenerator, type CdLayout } from '../../server/src/engine/cd/layout';
import { formatMsf, parseTime } from '../../server/src/engine/cd/msf';

const bcd = (b: number) => (b >> 4) * 10 + (b & 15);

describe('Q sub-channel', () => {
  test('mode 1 position: fields in BCD, pause counting down, CRC', () => {
    const q = new Uint8Array(12);
    qPosition(q, 0x2, 7, 0, -75, 12_345);
    assert.equal(q[0], 0x21);
    assert.equal(bcd(q[1]), 7);
    assert.equal(bcd(q[2]), 0);
    assert.deepEqual([bcd(q[3]), bcd(q[4]), bcd(q[5])], [0, 1, 0]); // 75 frames to index 1
    const abs = 12_345 + 150;
    assert.deepEqual([bcd(q[7]), bcd(q[8]), bcd(q[9])], [Math.floor(abs / 4500), Math.floor(abs / 75) % 60, abs % 75]);
    assert.ok(qCrcOk(q));
    q[5] ^= 1;
    assert.equal(qCrcOk(q), false);
  });

  test('mode 2 MCN: 13 BCD digits, absolute frame, CRC', () => {
    const q = new Uint8Array(12);
    qMcn(q, 0, '0123456789012', 1000);
    assert.equal(q[0] & 0x0f, 2);
    let digits = '';
    for (let i = 0; i < 13; i++) digits += String((q[1 + (i >> 1)] >> (i & 1 ? 0 : 4)) & 15);
    assert.equal(digits, '0123456789012');
    assert.equal(q[7] & 0x0f, 0);
    assert.equal(q[8], 0);
    assert.equal(bcd(q[9]), (1000 + 150) % 75);
    assert.ok(qCrcOk(q));
  });

  test('mode 3 ISRC: five 6-bit characters, 2 zero bits, seven BCD digits, CRC', () => {
    const q = new Uint8Array(12);
    qIsrc(q, 0, 'USABC2600001', 0);
    assert.equal(q[0] & 0x0f, 3);
    let bits = '';
    for (let i = 1; i <= 8; i++) bits += q[i].toString(2).padStart(8, '0');
    const chars = [0, 1, 2, 3, 4].map((k) => parseInt(bits.slice(k * 6, k * 6 + 6), 2));
    const decode = (v: number) => (v <= 9 ? String(v) : String.fromCharCode(65 + v - 0x11));
    assert.equal(chars.map(decode).join(''), 'USABC');
    assert.equal(bits.slice(30, 32), '00');
    const digits = [0, 1, 2, 3, 4, 5, 6].map((k) => parseInt(bits.slice(32 + k * 4, 36 + k * 4), 2)).join('');
    assert.equal(digits, '2600001');
    assert.equal(bits.slice(60), '0000');
    assert.ok(qCrcOk(q));
  });

  test('raw P–W interleaving and the 16-byte formatted Q round-trip', () => {
    const q = new Uint8Array(12);
    qPosition(q, 0, 1, 1, 10, 10);
    const raw = new Uint8Array(96);
    interleave(raw, 0, true, q);
    const back = deinterleaveQ(raw, 0);
    assert.deepEqual(Buffer.from(back.q), Buffer.from(q));
    assert.equal(back.p, true);
    for (const b of raw) assert.equal(b & 0x3f, 0);
    const f = new Uint8Array(16);
    formattedQ(f, 0, true, q);
    assert.deepEqual(Buffer.from(f.subarray(0, 12)), Buffer.from(q));
    assert.equal(f[15], 0x80);
  });

  test('the generator: positions everywhere, MCN and ISRC once per 100 sectors, never on an index change; P in pauses', () => {
    const L: CdLayout = {
      sectorSize: 2448,
      mcn: '0123456789012',
      leadOut: 1000,
      tracks: [
        { number: 1, mode: 'audio', flags: { data: false, copy: true, preEmphasis: false }, isrc: 'USABC2600001', pregap: -150, indexes: [0, 300], end: 500 },
        { number: 2, mode: 'audio', flags: { data: false, copy: false, preEmphasis: true }, isrc: 'GBXYZ2600002', pregap: 500, indexes: [650], end: 1000 },
      ],
    };
    const g = new SubcodeGenerator(L);
    const seen = { mcn: 0, isrc1: 0, isrc2: 0 };
    for (let lba = -150; lba < 1100; lba++) {
      const { q, p } = g.qp(lba);
      assert.ok(qCrcOk(q), `CRC at ${lba}`);
      const adr = q[0] & 15;
      if (adr === 2) seen.mcn++;
      if (adr === 3) {
        if (lba < 500) seen.isrc1++;
        else seen.isrc2++;
        assert.ok(!(lba >= 500 && lba < 650), 'no ISRC in a pause');
      }
      if (adr === 1 && lba < 1000) {
        const t = lba < 500 ? L.tracks[0] : L.tracks[1];
        assert.equal(bcd(q[1]), t.number, `track at ${lba}`);
        const index = lba < t.indexes[0] ? 0 : lba >= 300 && t.number === 1 ? 2 : 1;
        assert.equal(bcd(q[2]), index, `index at ${lba}`);
        assert.equal(q[0] >> 4, t.number === 1 ? 0x2 : 0x1, 'control: DCP on track 1, PRE on track 2');
        assert.equal(p, lba < t.indexes[0], `P at ${lba}`);
        const rel = (bcd(q[3]) * 60 + bcd(q[4])) * 75 + bcd(q[5]);
        assert.equal(rel, Math.abs(lba - t.indexes[0]));
      }
      if (lba >= 1000) {
        assert.equal(q[1], 0xaa, 'lead-out track AA');
      }
      if ([0, 300, 500, 650].includes(lba)) assert.equal(adr, 1, `sector ${lba} starts an index: mode 1`);
    }
    assert.ok(seen.mcn === 10 && seen.isrc1 >= 4 && seen.isrc2 >= 3, JSON.stringify(seen));
  });
});

describe('CD-TEXT packs', () => {
  test('packs: types, track numbers, sequence, character positions, size information, CRC; parsed back', () => {
    const packs = buildPacks({
      fields: { title: ['A very long album title', 'One', 'Two and a half', ''], performer: ['Band', 'Band', 'Guest', 'Band'] },
      firstTrack: 1,
      lastTrack: 3,
      language: 0x09,
    });
    assert.equal(packs.length % 18, 0);
    const n = packs.length / 18;
    for (let i = 0; i < n; i++) {
      const p = packs.subarray(i * 18, i * 18 + 18);
      assert.ok(packCrcOk(p), `pack ${i} CRC`);
      assert.equal(p[2], i, 'sequence number');
    }
    // Size information: the last three packs; counts per type; last sequence number; language.
    const size = Buffer.concat([0, 1, 2].map((k) => packs.subarray((n - 3 + k) * 18 + 4, (n - 3 + k) * 18 + 16)));
    assert.equal(packs[(n - 3) * 18], 0x8f);
    assert.equal(size[1], 1);
    assert.equal(size[2], 3);
    const titles = packs.filter((_, i) => i % 18 === 0 && packs[i] === 0x80).length;
    assert.equal(size[4], titles);
    assert.equal(size[4 + 15], 3);
    assert.equal(size[20], n - 1);
    assert.equal(size[28], 0x09);
    // The second title pack starts inside the album title: track 0, character position 12.
    const second = packs.subarray(18, 36);
    assert.equal(second[0], 0x80);
    assert.equal(second[1], 0);
    assert.equal(second[3] & 0x0f, 12);
    const parsed = parsePacks(packs);
    assert.equal(parsed.badCrc, 0);
    assert.deepEqual(parsed.fields.title, ['A very long album title', 'One', 'Two and a half', '']);
    assert.deepEqual(parsed.fields.performer, ['Band', 'Band', 'Guest', 'Band']);
    const file = cdTextFile(packs);
    assert.equal(file.readUInt16BE(0), packs.length + 2);
    const broken = Buffer.from(packs);
    broken[40] ^= 1;
    assert.equal(parsePacks(broken).badCrc, 1);
  });

  test('times: seconds and MM:SS:FF to frames and samples', () => {
    assert.deepEqual(parseTime(95.5), { frames: 7163, samples: 4_211_550, rounded: true });
    assert.deepEqual(parseTime('01:02:03'), { frames: 4653, samples: 4653 * 588, rounded: false });
    assert.deepEqual(parseTime(2), { frames: 150, samples: 88_200, rounded: false });
    assert.equal(parseTime('1:60:00'), undefined);
    assert.equal(parseTime(-1), undefined);
    assert.equal(formatMsf(4653), '01:02:03');
  });
});
