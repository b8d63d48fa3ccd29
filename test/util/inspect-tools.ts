/**
 * Helpers for the inspect tests: run the third-party tools (xorriso, genisoimage, isoinfo, 7zz), parse their
 * listings into comparable maps, and patch bytes of an image in place. Independent of the reader under test.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function tempDir(prefix = 'discforge-inspect-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

/** Runs a tool; returns stdout as bytes. Throws with its stderr when it fails. */
export function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Buffer {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.toString('utf8').slice(0, 2000)}`);
  }
  return r.stdout;
}

/**
 * Runs `xorriso -as mkisofs ... -o -` and writes its output sparsely: all-zero 1 MiB blocks become holes,
 * so a > 4 GiB image of a mostly-sparse file costs a few MiB of disk.
 */
export function xorrisoSparse(args: string[], out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('xorriso', ['-as', 'mkisofs', ...args, '-o', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const fd = fs.openSync(out, 'w');
    const BLOCK = 1024 * 1024;
    let pos = 0;
    let stderr = '';
    const zero = Buffer.alloc(BLOCK);
    let parts: Buffer[] = [];
    let partsLength = 0;
    const flush = (b: Buffer): void => {
      if (!b.equals(zero.subarray(0, b.length))) fs.writeSync(fd, b, 0, b.length, pos);
      pos += b.length;
    };
    child.stdout.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      partsLength += chunk.length;
      if (partsLength < BLOCK) return;
      let all = Buffer.concat(parts, partsLength);
      while (all.length >= BLOCK) {
        flush(all.subarray(0, BLOCK));
        all = all.subarray(BLOCK);
      }
      parts = all.length ? [all] : [];
      partsLength = all.length;
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        if (partsLength) flush(Buffer.concat(parts, partsLength));
        fs.ftruncateSync(fd, pos);
        fs.closeSync(fd);
      } catch (e) {
        reject(e);
        return;
      }
      if (code === 0) resolve();
      else reject(new Error(`xorriso failed (${code}): ${stderr.slice(0, 2000)}`));
    });
  });
}

export interface ListedEntry {
  path: string;
  dir: boolean;
  size: number;
  lba?: number;
  mode?: string;
  uid?: number;
  gid?: number;
  target?: string;
}

/**
 * `isoinfo -l [-R|-J] -i image`: "Directory listing of /DIR/" headers, then ls-like lines
 * `drwxr-xr-x   1    0    0            2048 Nov 23 2026 [     28 02]  NAME` ("." and ".." skipped).
 * -J output is Latin-1, -R and plain output are the names' own bytes (UTF-8 here).
 */
export function parseIsoinfo(out: string): Map<string, ListedEntry> {
  const map = new Map<string, ListedEntry>();
  let dir = '/';
  for (const line of out.split('\n')) {
    const head = /^Directory listing of (.*)$/.exec(line);
    if (head) {
      dir = head[1];
      continue;
    }
    const m = /^([-dlcbps?][-rwxsStT]{9})\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+) \w{3} [ \d]\d \d{4} \[\s*(\d+) ([0-9A-F]{2})\]  (.*)$/.exec(line);
    if (!m) continue;
    let name = m[8].replace(/ $/, '');
    if (name === '.' || name === '..') continue;
    let target: string | undefined;
    const arrow = name.indexOf(' -> ');
    if (m[1][0] === 'l' && arrow >= 0) {
      target = name.slice(arrow + 4);
      name = name.slice(0, arrow);
    }
    const isDir = (parseInt(m[7], 16) & 2) !== 0;
    map.set(dir + name, {
      path: dir + name,
      dir: isDir,
      size: Number(m[5]),
      lba: Number(m[6]),
      mode: m[1],
      uid: Number(m[3]),
      gid: Number(m[4]),
      target,
    });
  }
  return map;
}

/** `xorriso -indev X -find / -exec lsdl`: `-rw-r--r--    1 0        0     6 Nov 23 22:12 '/README.txt'`. */
export function parseXorrisoLsdl(out: string): Map<string, ListedEntry> {
  const map = new Map<string, ListedEntry>();
  for (const line of out.split('\n')) {
    const m = /^(\S{10})\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\w{3}\s+\d+\s+[\d:]+\s+'(.*?)'(?: -> '(.*)')?$/.exec(line);
    if (!m) continue;
    map.set(m[6], {
      path: m[6],
      dir: m[1][0] === 'd',
      size: Number(m[5]),
      mode: m[1],
      uid: Number(m[3]),
      gid: Number(m[4]),
      target: m[7],
    });
  }
  return map;
}

/** `7zz l -slt image`: blocks of `Path = a/b`, `Folder = +|-`, `Size = N` after the "----------" line. */
export function parse7z(out: string): Map<string, ListedEntry> {
  const map = new Map<string, ListedEntry>();
  const body = out.split('\n----------\n')[1] ?? '';
  for (const block of body.split(/\n\s*\n/)) {
    const get = (k: string): string | undefined => new RegExp(`^${k} = (.*)$`, 'm').exec(block)?.[1];
    const p = get('Path');
    if (p === undefined) continue;
    const dir = get('Folder') === '+';
    map.set(`/${p}`, { path: `/${p}`, dir, size: dir ? 0 : Number(get('Size') ?? 'NaN') });
  }
  return map;
}

// ---- byte patching ----------------------------------------------------------------------------------------

export function readAt(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(length);
    fs.readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

export function writeAt(file: string, offset: number, bytes: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/** ECMA-119 7.3.3 both-byte-order 32-bit value. */
export function both32(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(v >>> 0, 0);
  b.writeUInt32BE(v >>> 0, 4);
  return b;
}

export interface FoundRecord {
  /** Absolute offset of the directory record in the image. */
  offset: number;
  length: number;
  idLength: number;
  /** Absolute offset of the record's System Use Area. */
  suOffset: number;
  suLength: number;
}

/** Finds the directory record named `id` (raw ISO identifier, e.g. "README.TXT;1") in the directory at `lba`. */
export function findRecord(file: string, lba: number, id: string | Buffer): FoundRecord {
  const want = typeof id === 'string' ? Buffer.from(id, 'latin1') : id;
  // The "." record (first in the directory) holds the directory's own data length.
  const sectors = Math.ceil(readAt(file, lba * 2048, 34).readUInt32LE(10) / 2048);
  const buf = readAt(file, lba * 2048, sectors * 2048);
  for (let s = 0; s < sectors; s++) {
    let pos = s * 2048;
    while (pos < (s + 1) * 2048 && buf[pos] !== 0) {
      const len = buf[pos];
      const idLen = buf[pos + 32];
      if (buf.subarray(pos + 33, pos + 33 + idLen).equals(want)) {
        const su = 33 + idLen + (idLen % 2 === 0 ? 1 : 0);
        return { offset: lba * 2048 + pos, length: len, idLength: idLen, suOffset: lba * 2048 + pos + su, suLength: len - su };
      }
      pos += len;
    }
  }
  throw new Error(`no record ${want.toString('latin1')} in directory at LBA ${lba}`);
}

/** Offsets (absolute) of each SUSP field of a record's System Use Area, by signature. */
export function suspFields(file: string, rec: FoundRecord): { sig: string; offset: number; length: number }[] {
  const su = readAt(file, rec.suOffset, rec.suLength);
  const out: { sig: string; offset: number; length: number }[] = [];
  let pos = 0;
  while (pos + 4 <= su.length && su[pos] !== 0) {
    const len = su[pos + 2];
    if (len < 4) break;
    out.push({ sig: su.toString('latin1', pos, pos + 2), offset: rec.suOffset + pos, length: len });
    pos += len;
  }
  return out;
}

/** Deterministic PRNG (mulberry32) for the fuzz test. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
