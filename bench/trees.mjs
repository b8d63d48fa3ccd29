// @ts-check
// The benchmark's source trees, generated once and cached under <work>/trees/. Each tree has a stamp
// file next to it (<tree>.params.json, outside the tree so it is not part of any image); a tree is
// regenerated when the stamp is missing or its parameters differ. The stamp is written last, so an
// interrupted generation is redone.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Bump when the generators change, so that cached trees are rebuilt. */
const GENERATOR_VERSION = 2;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/**
 * @typedef {object} TreeInfo
 * @property {string} name
 * @property {string} dir                absolute path of the tree's root folder
 * @property {string} description
 * @property {number} files
 * @property {number} dirs               folders below the root
 * @property {number} bytes              total size of the files
 * @property {number} largestFile
 * @property {Map<string, number>} sizes "/a/b/c" → size, for every file
 */

/**
 * Large files: `gib` GiB in total, split into files of at most 1 GiB. Content is a 16 MiB random block,
 * repeated, with a counter stamped into the first 8 bytes of every 4 KiB page (so no two pages are
 * equal, and nothing is sparse or trivially compressible), written in 16 MiB chunks.
 * @param {string} dir @param {number} gib @param {(msg: string) => void} log
 */
export function ensureLargeTree(dir, gib, log) {
  const total = Math.round(gib * GiB);
  if (!(total > 0)) throw new Error(`BENCH_LARGE_GIB must be > 0 (got ${gib})`);
  const count = Math.max(1, Math.ceil(total / GiB));
  const params = { generator: GENERATOR_VERSION, kind: 'large', totalBytes: total, files: count };
  if (!fresh(dir, params)) {
    log(`generating large-file tree: ${count} file(s), ${fmtBytes(total)} in ${dir}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const block = randomBytes(16 * MiB);
    const chunk = Buffer.allocUnsafe(block.length);
    let page = 0n;
    for (let i = 0; i < count; i++) {
      const size = i < count - 1 ? Math.floor(total / count) : total - Math.floor(total / count) * (count - 1);
      const fd = openSync(join(dir, `large-file-${i + 1}.bin`), 'w');
      for (let done = 0; done < size; ) {
        const n = Math.min(chunk.length, size - done);
        block.copy(chunk, 0, 0, n);
        for (let off = 0; off + 8 <= n; off += 4096) chunk.writeBigUInt64LE(++page, off);
        writeSync(fd, chunk, 0, n);
        done += n;
      }
      closeSync(fd);
    }
    stamp(dir, params);
  }
  return describe('large', dir, `${count} large file(s), ${fmtBytes(total)}`);
}

/**
 * Small files: `count` files of 0–8 KiB (about 4 % empty, a few on 2 KiB sector boundaries, the rest
 * spread evenly), 100 per folder, in folders nested two deep: dir_NNN/sub_N/ (100 × 10 × 100 for
 * 100,000 files). Names vary in length, case and extension. Deterministic for a given count.
 * @param {string} dir @param {number} count @param {(msg: string) => void} log
 */
export function ensureSmallTree(dir, count, log) {
  if (!(count >= 1 && Number.isInteger(count))) throw new Error(`file count must be a positive integer (got ${count})`);
  const perLeaf = 100;
  const subsPerTop = 10;
  const params = { generator: GENERATOR_VERSION, kind: 'small', files: count, perLeaf, subsPerTop };
  if (!fresh(dir, params)) {
    log(`generating small-file tree: ${count.toLocaleString('en-US')} files in ${dir}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const rand = prng(count);
    const pool = randomBytes(MiB);
    const exts = ['.txt', '.json', '.c', '.h', '.md', '.png', '.dat', '.html', '', '.tar.gz'];
    const stems = ['file', 'Report', 'notes', 'IMG', 'readme-copy', 'data_set', 'a', 'Very Long Document Name'];
    const sectorSizes = [2047, 2048, 2049, 4096, 6144, 8192];
    for (let i = 0; i < count; i++) {
      const leaf = Math.floor(i / perLeaf);
      const sub = join(dir, `dir_${String(Math.floor(leaf / subsPerTop)).padStart(3, '0')}`, `sub_${leaf % subsPerTop}`);
      if (i % perLeaf === 0) mkdirSync(sub, { recursive: true });
      const r = rand();
      const size = r < 0.04 ? 0 : r < 0.07 ? sectorSizes[Math.floor(rand() * sectorSizes.length)] : 1 + Math.floor(rand() * 8192);
      const name = `${stems[i % stems.length]}_${String(i).padStart(6, '0')}${exts[(i * 7) % exts.length]}`;
      const off = Math.floor(rand() * (pool.length - size));
      const data = Buffer.from(pool.subarray(off, off + size));
      if (size >= 8) data.writeBigUInt64LE(BigInt(i + 1), 0);
      writeFileSync(join(sub, name), data);
    }
    stamp(dir, params);
  }
  return describe('small', dir, `${count.toLocaleString('en-US')} small files (0–8 KiB) in nested folders`);
}

/** Walks a tree and summarises it. @param {string} name @param {string} dir @param {string} description @returns {TreeInfo} */
function describe(name, dir, description) {
  /** @type {Map<string, number>} */
  const sizes = new Map();
  let dirs = 0;
  let bytes = 0;
  let largestFile = 0;
  /** @param {string} abs @param {string} rel */
  const walk = (abs, rel) => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const p = join(abs, e.name);
      if (e.isDirectory()) {
        dirs++;
        walk(p, `${rel}/${e.name}`);
      } else if (e.isFile()) {
        const size = statSync(p).size;
        sizes.set(`${rel}/${e.name}`, size);
        bytes += size;
        largestFile = Math.max(largestFile, size);
      }
    }
  };
  walk(dir, '');
  return { name, dir, description, files: sizes.size, dirs, bytes, largestFile, sizes };
}

/** @param {string} dir @param {object} params */
function fresh(dir, params) {
  const file = `${dir}.params.json`;
  if (!existsSync(file) || !existsSync(dir)) return false;
  try {
    return JSON.stringify(JSON.parse(readFileSync(file, 'utf8'))) === JSON.stringify(params);
  } catch {
    return false;
  }
}

/** @param {string} dir @param {object} params */
function stamp(dir, params) {
  writeFileSync(`${dir}.params.json`, JSON.stringify(params) + '\n');
}

/** mulberry32: a small deterministic PRNG in [0, 1). @param {number} seed */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** "1.50 GiB", "12.3 MiB", "512 B". @param {number} n */
export function fmtBytes(n) {
  if (n >= GiB) return `${(n / GiB).toFixed(2)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
