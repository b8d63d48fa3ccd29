/**
 * Fixtures for the burn tests: a source tree and a deterministic manifest, the image built from it by
 * `buildImage` (the reference bytes), burning through the engine to a virtual recorder, and readers we did not
 * write (xorriso) for the emulated disc's data file.
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildImage, hasErrors, planProject } from '../../server/src/engine/build';
import { burn, type BurnOptions, type BurnResult } from '../../server/src/engine/burn/engine';
import { planAppend } from '../../server/src/engine/burn/multisession';
import { recorders } from '../../server/src/engine/burn/registry';
import { planSource, type BurnSource } from '../../server/src/engine/burn/source';
import { writeTree } from './tmpdir';

export interface Project {
  dir: string;
  manifest: string;
  /** The image buildImage made from the manifest (what every burn must put on the disc). */
  image: string;
  blocks: number;
  /** Files on the disc: path → content. */
  files: Record<string, Buffer>;
}

/** A project with a few files (one of `bigBytes`), fixed timestamps (byte-identical images). */
export async function makeProject(root: string, name = 'p', bigBytes = 1_500_000): Promise<Project> {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  const files: Record<string, Buffer> = {
    'big.bin': crypto.randomBytes(bigBytes),
    'docs/readme.txt': Buffer.from(`${name}: hello from DiscForge\n`),
    'docs/deep/notes.md': crypto.randomBytes(5000),
    'empty.dat': Buffer.alloc(0),
  };
  writeTree(path.join(dir, 'src'), files);
  const manifest = path.join(dir, `${name}.disc.json`);
  fs.writeFileSync(manifest, JSON.stringify({
    kind: 'data',
    volume: { label: name.toUpperCase(), created: '2026-01-01T00:00:00Z' },
    // The default file systems: a bridge disc (ISO 9660 + Joliet + Rock Ridge + UDF) where UDF is available.
    files: [{ source: 'src', target: '/' }],
    output: `${name}.iso`,
  }));
  const built = await buildImage(manifest);
  return { dir, manifest, image: built.output, blocks: built.bytes / 2048, files };
}

export function sourceOf(manifest: string): () => BurnSource {
  return () => {
    const plan = planProject(manifest);
    if (hasErrors(plan.diagnostics) || !plan.image) throw new Error(`manifest has errors: ${JSON.stringify(plan.diagnostics)}`);
    return planSource(manifest, plan.image, plan.iso?.layout);
  };
}

export const BASE_OPTS: BurnOptions = { verify: 'full', close: false, append: false, force: false, eject: false };

/** Locks the drive, burns, releases (as the CLI does). */
export async function burnTo(spec: string, manifest: string, opts: Partial<BurnOptions> = {}): Promise<BurnResult> {
  const lease = await recorders.lock(spec, `test burn of ${path.basename(manifest)}`);
  try {
    return await burn(lease.dev, { ...BASE_OPTS, ...opts }, sourceOf(manifest));
  } finally {
    await lease.release();
  }
}

/**
 * Burns `manifest` with --append (as the CLI does): the first session on a blank disc, else a later session
 * (write-once media) or a growth in place (overwritable media) that merges the disc's tree with the manifest.
 */
export async function appendTo(spec: string, manifest: string, deletes: string[] = [], opts: Partial<BurnOptions> = {}): Promise<BurnResult> {
  const lease = await recorders.lock(spec, `test append of ${path.basename(manifest)}`);
  try {
    return await burn(lease.dev, { ...BASE_OPTS, ...opts, append: true }, (t) => (t.startLba ? planAppend(manifest, t.dev, t.media, t.startLba, deletes, t.notes) : sourceOf(manifest)()));
  } finally {
    await lease.release();
  }
}

export function sha256(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

/** The first `bytes` of a file. */
export function head(file: string, bytes: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(bytes);
    const n = fs.readSync(fd, b, 0, bytes, 0);
    return b.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

export function run(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** xorriso (libisofs) reads an image file: the Rock Ridge file list and the extracted files' contents. */
export function xorrisoRead(image: string, extraLoad: string[] = []): { files: Map<string, string>; volumeId: string } {
  const dir = fs.mkdtempSync(path.join(path.dirname(image), 'x-'));
  try {
    const out = path.join(dir, 'out');
    const r = run('xorriso', ['-abort_on', 'FAILURE', ...extraLoad, '-indev', image, '-osirrox', 'on', '-extract', '/', out]);
    if (r.status !== 0) throw new Error(`xorriso failed on ${image}: ${r.stderr}`);
    const files = new Map<string, string>();
    const walk = (d: string, rel: string) => {
      for (const n of fs.readdirSync(d)) {
        const p = path.join(d, n);
        const r2 = rel ? `${rel}/${n}` : n;
        if (fs.statSync(p).isDirectory()) walk(p, r2);
        else files.set(r2, sha256(fs.readFileSync(p)));
      }
    };
    if (fs.existsSync(out)) walk(out, '');
    const m = /Volume id\s*:\s*'([^']*)'/.exec(r.stderr + r.stdout);
    return { files, volumeId: m ? m[1] : '' };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function expectedFiles(p: Project): Map<string, string> {
  return new Map(Object.entries(p.files).map(([k, v]) => [k, sha256(v)]));
}

/** udfinfo's view of the UDF volume of the session that starts at `start` (udfinfo --startblock). */
export function udfinfoAt(image: string, start: number): { status: number; fields: Record<string, string>; layout: { start: number; blocks: number; type: string }[]; stderr: string } {
  const r = run('udfinfo', ['--startblock', String(start), image]);
  const fields: Record<string, string> = {};
  const layout: { start: number; blocks: number; type: string }[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^start=(\d+), blocks=(\d+), type=(\S+)$/.exec(line);
    if (m) layout.push({ start: Number(m[1]), blocks: Number(m[2]), type: m[3] });
    else {
      const i = line.indexOf('=');
      if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1);
    }
  }
  return { status: r.status, fields, layout, stderr: r.stderr };
}

/**
 * A copy of a multisession disc `file` as a reader with no idea of sessions must be given it: the volume
 * descriptors of the session at `start` (its ISO 9660 set and the UDF volume recognition sequence after it, from
 * start + 16) over blocks 16…, and its UDF anchor (start + 256) at block 256 with its tag location made 256
 * (ECMA-167 3/7.2.5, checksum 3/7.2.3) — what growing in place does on overwritable media; every other block as
 * it is (all other addresses in the session are absolute). Blocks of the first session's descriptor area that
 * the copied set does not cover are zeroed. Returns `out`.
 */
export function sessionView(file: string, start: number, out: string): string {
  fs.copyFileSync(file, out);
  const VRS = new Set(['CD001', 'BEA01', 'NSR02', 'NSR03', 'TEA01', 'BOOT2', 'CDW02']);
  const fd = fs.openSync(out, 'r+');
  try {
    const read = (lba: number, n = 1) => {
      const b = Buffer.alloc(n * 2048);
      fs.readSync(fd, b, 0, b.length, lba * 2048);
      return b;
    };
    const area = (base: number) => {
      let n = 0;
      while (n < 64 && VRS.has(read(base + 16 + n).toString('latin1', 1, 6))) n++;
      return n;
    };
    const theirs = area(start);
    const ours = area(0);
    if (theirs === 0) throw new Error(`sessionView: no volume descriptors at block ${start + 16}`);
    const set = read(start + 16, theirs);
    fs.writeSync(fd, Buffer.concat([set, Buffer.alloc(Math.max(0, ours - theirs) * 2048)]), 0, undefined, 16 * 2048);
    const anchor = read(start + 256);
    if (anchor.readUInt16LE(0) !== 2 || anchor.readUInt32LE(12) !== start + 256) throw new Error(`sessionView: no UDF anchor at block ${start + 256}`);
    anchor.writeUInt32LE(256, 12);
    let sum = 0;
    for (let i = 0; i < 16; i++) if (i !== 4) sum += anchor[i];
    anchor[4] = sum & 0xff;
    fs.writeSync(fd, anchor, 0, 2048, 256 * 2048);
  } finally {
    fs.closeSync(fd);
  }
  return out;
}
