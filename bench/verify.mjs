// @ts-check
// A quick check that an image really holds the tree it was built from, so that a broken fast build is
// not reported as fast. Independent of the image's author: it reads the image with xorriso and by hand.
//  1. Volume descriptors: a primary volume descriptor and a Joliet supplementary one (escape %/@ %/C %/E).
//  2. Rock Ridge tree (xorriso's default reading): exactly the source's file paths, each with its size.
//  3. Joliet tree (xorriso -read_fs norock): exactly the source's file paths.
//  4. Plain ISO 9660 tree (xorriso -read_fs ecma119): the source's number of files.
//  5. Content: sampled byte ranges of sampled files (every large file: start, end and two inner 1 MiB
//     ranges; up to 300 small files whole) read from the image at the extents xorriso reports
//     (report_lba), compared with the source.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { capture } from './measure.mjs';

/** @typedef {import('./trees.mjs').TreeInfo} TreeInfo */
/** @typedef {{ lba: number, size: number }} Extent */

const SECTOR = 2048;
const MiB = 1024 * 1024;

/**
 * @param {string} image
 * @param {TreeInfo} tree
 * @returns {Promise<{ ok: boolean, problems: string[], checked: string }>}
 */
export async function verifyImage(image, tree) {
  /** @type {string[]} */
  const problems = [];
  const fd = openSync(image, 'r');
  try {
    // 1. Volume descriptors.
    const vds = volumeDescriptors(fd);
    if (!vds.includes('primary')) problems.push('no ISO 9660 primary volume descriptor');
    if (!vds.includes('joliet')) problems.push('no Joliet supplementary volume descriptor');

    // 2. Rock Ridge names, sizes and extents.
    const rr = await xorrisoFiles(image, []);
    if (rr.error) problems.push(`xorriso (Rock Ridge): ${rr.error}`);
    comparePaths('Rock Ridge', rr.files, tree, problems);
    for (const [path, extents] of rr.files) {
      const want = tree.sizes.get(path);
      const got = extents.reduce((s, e) => s + e.size, 0);
      if (want !== undefined && want !== got && problems.length < 20) problems.push(`${path}: size ${got} in image, ${want} in source`);
    }

    // 3. Joliet names.
    const joliet = await xorrisoFiles(image, ['-read_fs', 'norock']);
    if (joliet.error) problems.push(`xorriso (Joliet): ${joliet.error}`);
    comparePaths('Joliet', joliet.files, tree, problems);

    // 4. Plain ISO 9660 file count (names are mapped there, so only the count can be compared).
    const iso = await xorrisoFiles(image, ['-read_fs', 'ecma119']);
    if (iso.error) problems.push(`xorriso (ISO 9660): ${iso.error}`);
    if (iso.files.size !== tree.files) problems.push(`ISO 9660 tree has ${iso.files.size} files, source has ${tree.files}`);

    // 5. Content samples.
    const paths = [...rr.files.keys()].filter((p) => tree.sizes.has(p)).sort();
    const step = Math.max(1, Math.floor(paths.length / 300));
    let compared = 0;
    for (let i = 0; i < paths.length && problems.length < 20; i += step) {
      const path = paths[i];
      const size = /** @type {number} */ (tree.sizes.get(path));
      const ranges =
        size <= 4 * MiB
          ? [[0, size]]
          : [0, Math.floor(size / 3), Math.floor((2 * size) / 3), size - MiB].map((o) => [o, MiB]);
      const src = openSync(join(tree.dir, path), 'r');
      try {
        for (const [off, len] of ranges) {
          const want = Buffer.alloc(len);
          readSync(src, want, 0, len, off);
          const got = readFromExtents(fd, /** @type {Extent[]} */ (rr.files.get(path)), off, len);
          if (!got.equals(want)) {
            problems.push(`${path}: bytes ${off}–${off + len} differ from the source`);
            break;
          }
        }
      } finally {
        closeSync(src);
      }
      compared++;
    }
    return {
      ok: problems.length === 0,
      problems,
      checked: `descriptors [${vds.join(', ')}]; RR ${rr.files.size}, Joliet ${joliet.files.size}, ISO ${iso.files.size} files; content of ${compared} sampled files`,
    };
  } finally {
    closeSync(fd);
  }
}

/** @param {number} fd @returns {string[]} */
function volumeDescriptors(fd) {
  /** @type {string[]} */
  const found = [];
  const buf = Buffer.alloc(SECTOR);
  for (let s = 16; s < 16 + 64; s++) {
    if (readSync(fd, buf, 0, SECTOR, s * SECTOR) < SECTOR) break;
    if (buf.toString('latin1', 1, 6) !== 'CD001') break;
    const type = buf[0];
    if (type === 255) break;
    if (type === 1) found.push('primary');
    else if (type === 0) found.push('boot');
    else if (type === 2) {
      const esc = buf.toString('latin1', 88, 91);
      found.push(['%/@', '%/C', '%/E'].includes(esc) ? 'joliet' : 'supplementary');
    } else found.push(`type ${type}`);
  }
  return found;
}

/**
 * The image's files as xorriso reads them: path → extents, ordered.
 * @param {string} image @param {string[]} loadOpts
 * @returns {Promise<{ files: Map<string, Extent[]>, error?: string }>}
 */
async function xorrisoFiles(image, loadOpts) {
  const r = await capture('xorriso', [...loadOpts, '-indev', image, '-find', '/', '-type', 'f', '-exec', 'report_lba', '--']);
  /** @type {Map<string, {xt: number, lba: number, size: number}[]>} */
  const raw = new Map();
  for (const line of r.stdout.split('\n')) {
    const m = /^File data lba:\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*'(.*)'\s*$/.exec(line);
    if (!m) continue;
    const path = m[5].replaceAll(`'"'"'`, `'`);
    const list = raw.get(path) ?? [];
    list.push({ xt: Number(m[1]), lba: Number(m[2]), size: Number(m[4]) });
    raw.set(path, list);
  }
  /** @type {Map<string, Extent[]>} */
  const files = new Map();
  for (const [p, list] of raw) files.set(p, list.sort((a, b) => a.xt - b.xt).map(({ lba, size }) => ({ lba, size })));
  const error = r.code !== 0 ? `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` : undefined;
  return { files, error };
}

/** @param {string} what @param {Map<string, unknown>} got @param {TreeInfo} tree @param {string[]} problems */
function comparePaths(what, got, tree, problems) {
  const missing = [...tree.sizes.keys()].filter((p) => !got.has(p));
  const extra = [...got.keys()].filter((p) => !tree.sizes.has(p));
  if (missing.length) problems.push(`${what}: ${missing.length} source files missing, e.g. ${missing.slice(0, 3).join(', ')}`);
  if (extra.length) problems.push(`${what}: ${extra.length} files not in the source, e.g. ${extra.slice(0, 3).join(', ')}`);
}

/** Reads file bytes [off, off+len) from the image, following the file's extents. @param {number} fd @param {Extent[]} extents @param {number} off @param {number} len */
function readFromExtents(fd, extents, off, len) {
  const out = Buffer.alloc(len);
  let base = 0;
  let done = 0;
  for (const e of extents) {
    const start = off + done;
    if (done < len && start < base + e.size) {
      const n = Math.min(len - done, base + e.size - start);
      readSync(fd, out, done, n, e.lba * SECTOR + (start - base));
      done += n;
    }
    base += e.size;
  }
  return out;
}
