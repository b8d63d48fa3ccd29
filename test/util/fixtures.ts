/**
 * Fixtures for the end-to-end tests of `discforge build`: temporary folders, source trees, manifests,
 * running the CLI, and the expected image tree computed from the sources (never from the engine).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import type { Expect, ExpectedTree, VerifyOptions, VerifyReport } from './oracles';
import { sha256FileSync, verifyImage } from './oracles';

/** The repository root (tests run bundled from out/test/**, sources live in test/**). */
export const repoRoot: string = (() => {
  let d = __dirname;
  for (;;) {
    const pj = path.join(d, 'package.json');
    if (fs.existsSync(pj) && /"name":\s*"discforge"/.test(fs.readFileSync(pj, 'utf8'))) return d;
    const up = path.dirname(d);
    if (up === d) throw new Error(`cannot find the repository root above ${__dirname}`);
    d = up;
  }
})();

export const cliPath = path.join(repoRoot, 'dist', 'cli.js');

// ------------------------------------------------------------------------------------------------
// Temporary folders

/** A fresh folder under the OS temp dir (df-XXXXXX); `cleanup()` removes it. */
export function makeTmp(base: string = os.tmpdir()): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(base, 'df-'));
  return {
    dir,
    cleanup: () => {
      if (process.env['DF_KEEP_TMP']) {
        console.error(`(kept ${dir})`);
        return;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Free bytes in the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

// ------------------------------------------------------------------------------------------------
// Source trees

export type TreeSpec = {
  [name: string]: string | Buffer | TreeSpec | { symlink: string } | { content: string | Buffer; mode: number } | { dirMode: number; entries: TreeSpec };
};

/** Unique content for a file, so that files can be told apart by their content alone. */
export function uniqueContent(label: string, extra = 0): Buffer {
  const rnd = crypto.randomBytes(16 + extra);
  return Buffer.concat([Buffer.from(`${label}\n`), rnd, Buffer.from('\n')]);
}

/** `n` deterministic, incompressible bytes: the same `seed` gives the same bytes in every run (SHA-256 blocks). */
export function seededBytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, off = 0; off < n; i++, off += 32) crypto.createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

/**
 * Writes a tree: string/Buffer = file content, object = folder, { symlink } = symlink,
 * { content, mode } = file with permission bits, { dirMode, entries } = folder with permission bits.
 * Entries are created in the order given (relevant for readdir order on tmpfs).
 */
export function writeTree(root: string, spec: TreeSpec): void {
  fs.mkdirSync(root, { recursive: true });
  for (const [name, v] of Object.entries(spec)) {
    const p = path.join(root, name);
    if (typeof v === 'string' || Buffer.isBuffer(v)) fs.writeFileSync(p, v);
    else if ('symlink' in v && typeof v.symlink === 'string') fs.symlinkSync(v.symlink, p);
    else if ('content' in v && 'mode' in v && typeof v.mode === 'number') {
      fs.writeFileSync(p, v.content as string | Buffer);
      fs.chmodSync(p, v.mode);
    } else if ('dirMode' in v && typeof v.dirMode === 'number') {
      writeTree(p, v.entries as TreeSpec);
      fs.chmodSync(p, v.dirMode);
    } else writeTree(p, v as TreeSpec);
  }
}

// ------------------------------------------------------------------------------------------------
// Expected trees (what the image must contain, by exact Rock Ridge path)

export class Expected {
  readonly tree: ExpectedTree = new Map();

  private addParents(imagePath: string): void {
    let p = path.posix.dirname(imagePath);
    const chain: string[] = [];
    while (p !== '/' && p !== '.') {
      chain.push(p);
      p = path.posix.dirname(p);
    }
    for (const d of chain.reverse()) {
      const e = this.tree.get(d);
      if (!e) this.tree.set(d, { kind: 'dir' });
      else if (e.kind !== 'dir') throw new Error(`expected tree: ${d} is a ${e.kind} and a folder`);
    }
  }

  private set(imagePath: string, e: Expect): void {
    if (!imagePath.startsWith('/')) throw new Error(`expected tree: ${imagePath} is not absolute`);
    this.addParents(imagePath);
    const prev = this.tree.get(imagePath);
    if (prev && !(prev.kind === 'dir' && e.kind === 'dir')) throw new Error(`expected tree: ${imagePath} twice`);
    this.tree.set(imagePath, e);
  }

  /** A folder (empty or not). */
  dir(imagePath: string, mode?: number): this {
    this.set(imagePath, mode === undefined ? { kind: 'dir' } : { kind: 'dir', mode });
    return this;
  }

  /** A file whose content and mode come from `source` (followed if it is a symlink). */
  file(imagePath: string, source: string): this {
    const st = fs.statSync(source);
    this.set(imagePath, { kind: 'file', size: st.size, sha256: sha256FileSync(source), mode: st.mode & 0o7777 });
    return this;
  }

  /** A file with known content (mode unchecked unless given). */
  content(imagePath: string, data: string | Buffer, mode?: number): this {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const e: Expect = { kind: 'file', size: buf.length, sha256: crypto.createHash('sha256').update(buf).digest('hex') };
    if (mode !== undefined) e.mode = mode;
    this.set(imagePath, e);
    return this;
  }

  symlink(imagePath: string, target: string): this {
    this.set(imagePath, { kind: 'symlink', target });
    return this;
  }

  /**
   * A source folder's contents under `imagePath` (recursively): symlinks stay symlinks unless `follow`.
   * `exclude(relPath)` leaves entries out.
   */
  folder(imagePath: string, source: string, opts: { follow?: boolean; exclude?: (rel: string) => boolean } = {}): this {
    const walk = (src: string, dst: string, rel: string) => {
      for (const name of fs.readdirSync(src)) {
        const s = path.join(src, name);
        const d = dst === '/' ? `/${name}` : `${dst}/${name}`;
        const r = rel ? `${rel}/${name}` : name;
        if (opts.exclude?.(r)) continue;
        const lst = fs.lstatSync(s);
        if (lst.isSymbolicLink() && !opts.follow) this.symlink(d, fs.readlinkSync(s));
        else {
          const st = fs.statSync(s);
          if (st.isDirectory()) {
            this.dir(d);
            walk(s, d, r);
          } else this.file(d, s);
        }
      }
    };
    if (imagePath !== '/') this.dir(imagePath);
    walk(source, imagePath, '');
    return this;
  }

  /** The files (not folders) in the expected tree. */
  get files(): [string, Expect][] {
    return [...this.tree].filter(([, e]) => e.kind === 'file');
  }
}

// ------------------------------------------------------------------------------------------------
// Manifests

/** Writes a manifest text (JSON with comments, written by the test as is) and returns its path. */
export function writeManifest(dir: string, text: string, name = 'project.disc.json'): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

/** 1-based line and column of the `occurrence`-th (1-based) occurrence of `needle` in `text`. */
export function positionOf(text: string, needle: string, occurrence = 1): { line: number; column: number } {
  let idx = -1;
  for (let i = 0; i < occurrence; i++) {
    idx = text.indexOf(needle, idx + 1);
    if (idx < 0) throw new Error(`positionOf: ${JSON.stringify(needle)} occurs fewer than ${occurrence} times`);
  }
  const before = text.slice(0, idx);
  const line = before.split('\n').length;
  const column = idx - before.lastIndexOf('\n');
  return { line, column };
}

// ------------------------------------------------------------------------------------------------
// Running the CLI

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Makes sure dist/cli.js exists (it is built by `node scripts/build.mjs`, which `npm test` runs). */
export function requireCli(): void {
  if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} does not exist: run \`node scripts/build.mjs\` first`);
}

/** Runs `node dist/cli.js ARGS` (synchronously; for builds up to a few hundred MB). */
export function runCli(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  requireCli();
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: opts.cwd ?? os.tmpdir(),
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

/** The same, without blocking the event loop (for long builds). */
export function runCliAsync(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  requireCli();
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: opts.cwd ?? os.tmpdir(),
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s.length + stderr.length < 8 << 20 ? s : ''));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** A short description of a CLI run for assertion messages. */
export function describeRun(r: CliResult): string {
  return `exit ${r.status}${r.signal ? ` (signal ${r.signal})` : ''} after ${r.ms} ms\n--- stderr:\n${r.stderr.slice(0, 3000)}\n--- stdout:\n${r.stdout.slice(0, 1000)}`;
}

/** A Node.js stack trace or an uncaught-exception dump in some output. */
export function stackTraceIn(text: string): string | null {
  const m = /^\s+at\s+(?:.*\(.*:\d+:\d+\)|\S+:\d+:\d+|node:\S+)\s*$/m.exec(text) ?? /node:internal|Uncaught|^\s*throw\s/m.exec(text);
  return m ? m[0] : null;
}

/** `FILE:LINE:COL: error: MESSAGE` lines in stderr. */
export function diagnostics(stderr: string): { file: string; line: number; column: number; severity: string; message: string }[] {
  const out: { file: string; line: number; column: number; severity: string; message: string }[] = [];
  for (const l of stderr.split('\n')) {
    const m = /^(.+?):(\d+):(\d+): (error|warning|info): (.*)$/.exec(l);
    if (m) out.push({ file: m[1]!, line: Number(m[2]), column: Number(m[3]), severity: m[4]!, message: m[5]! });
  }
  return out;
}

/** Every *.partial file below `dir`. */
export function partialFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.partial')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Makes a sparse file of `size` bytes with a few distinctive bytes written at the given offsets. */
export function sparseFile(file: string, size: number, marks: { offset: number; data: Buffer }[] = []): void {
  fs.writeFileSync(file, '');
  fs.truncateSync(file, size);
  const fd = fs.openSync(file, 'r+');
  try {
    for (const m of marks) fs.writeSync(fd, m.data, 0, m.data.length, m.offset);
  } finally {
    fs.closeSync(fd);
  }
}

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

// ------------------------------------------------------------------------------------------------
// Assertions shared by the build tests


/** Runs `build` and asserts it succeeded cleanly: exit 0, no stack trace, the image there, no .partial left. */
export function buildOk(manifest: string, image: string, extra: string[] = [], opts: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = runCli(['build', manifest, ...extra], opts);
  assert.equal(r.status, 0, `build failed: ${describeRun(r)}`);
  assert.equal(stackTraceIn(r.stderr + r.stdout), null, `stack trace in output: ${describeRun(r)}`);
  assert.ok(fs.existsSync(image), `no image at ${image}: ${describeRun(r)}`);
  assert.deepEqual(partialFiles(path.dirname(image)), [], 'a .partial file was left next to the image');
  assert.ok(fs.statSync(image).size % 2048 === 0, `image size ${fs.statSync(image).size} is not a multiple of 2048`);
  return r;
}

/** Reads the image back with every reader and asserts it holds exactly `expected`. */
export function assertImage(image: string, expected: Expected | ExpectedTree, opts: Omit<VerifyOptions, 'work'>): VerifyReport {
  const work = fs.mkdtempSync(path.join(path.dirname(image), 'verify-'));
  try {
    const report = verifyImage(image, expected instanceof Expected ? expected.tree : expected, { ...opts, work });
    if (report.problems.length > 0) {
      assert.fail(`${path.basename(image)}: readers disagree with the sources (${report.problems.length} problems):\n  ${report.problems.join('\n  ')}`);
    }
    const readers = new Set(report.extracted.map((x) => x.split('/')[0]));
    if (opts.extract !== false) assert.ok(readers.size >= 3, `only ${[...readers].join(', ')} extracted the image`);
    return report;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export interface Pos {
  line: number;
  column: number;
}

/**
 * Asserts a bad-input failure: exit 2, no stack trace, a `FILE:LINE:COL: error:` line naming the manifest at
 * one of the `accept`ed positions (the offending JSON node), no image written and no .partial left.
 * Returns the diagnostic's message.
 */
export function assertInputError(r: CliResult, manifest: string, accept: Pos[], opts: { image?: string; cwd?: string; message?: RegExp } = {}): string {
  const run = describeRun(r);
  assert.equal(r.status, 2, `expected exit 2 (bad input): ${run}`);
  assert.equal(stackTraceIn(r.stderr + r.stdout), null, `stack trace in output: ${run}`);
  const diags = diagnostics(r.stderr).filter((d) => d.severity === 'error');
  assert.ok(diags.length > 0, `no FILE:LINE:COL: error: line on stderr: ${run}`);
  const mine = diags.filter((d) => path.resolve(opts.cwd ?? os.tmpdir(), d.file) === manifest || d.file === manifest);
  assert.ok(mine.length > 0, `no error names the manifest ${manifest} (got files ${diags.map((d) => d.file).join(', ')}): ${run}`);
  const at = mine.find((d) => accept.some((a) => a.line === d.line && a.column === d.column));
  assert.ok(at, `error at ${mine.map((d) => `${d.line}:${d.column}`).join(', ')}, expected at ${accept.map((a) => `${a.line}:${a.column}`).join(' or ')}: ${run}`);
  if (opts.message) assert.match(at.message, opts.message, run);
  if (opts.image) {
    assert.ok(!fs.existsSync(opts.image), `an image was written despite the error: ${opts.image}`);
    if (fs.existsSync(path.dirname(opts.image))) assert.deepEqual(partialFiles(path.dirname(opts.image)), [], '.partial left after a failure');
  }
  return at.message;
}
