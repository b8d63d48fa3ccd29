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
