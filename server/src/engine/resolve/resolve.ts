/**
 * Manifest → disc tree. Walks sources (files, folders, globs) relative to the manifest, applies
 * excludes and targets, and reports every problem on the manifest node that causes it:
 * missing sources, globs that match nothing, two entries on one target, names that cannot exist.
 * File data is not read here: only metadata (lstat), so a tree of 100,000 files resolves quickly.
 */
import picomatch from 'picomatch';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JsonPath, ManifestDocument } from '../manifest/load';
import type { DiscProject } from '../manifest/types.generated';
import type { DirNode, FileNode, TreeNode } from '../model';
import type { Diagnostic } from '../util/errors';

/** Longest symbolic link target stored (bytes). */
export const MAX_LINK_TARGET = 1023;

export interface ResolveOptions {
  /** Keep symbolic links as links (Rock Ridge can store them); otherwise store what they point to. */
  keepSymlinks: boolean;
  /** Called now and then with the number of files seen so far. */
  onProgress?: (filesSeen: number) => void;
}

/** A problem found while resolving, by manifest node (so it can be placed again in an edited text). */
export interface ResolveProblem {
  path: JsonPath;
  code: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface ResolvedTree {
  root: DirNode;
  diagnostics: Diagnostic[];
  problems: ResolveProblem[];
  /** Every source folder read, with its modification time (a later scan is still valid while these hold). */
  folders: Map<string, number>;
}

/** Names no file system can hold: empty, `.`, `..`, with `/`, NUL or other control characters. */
export function invalidNameReason(name: string): string | undefined {
  if (name === '') return 'an empty name (two slashes in a row?)';
  if (name === '.' || name === '..') return `"${name}" cannot be a file name on a disc`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return `the name ${JSON.stringify(name)} contains a control character`;
  if (name.includes('\ufffd')) return `the name ${JSON.stringify(name)} is not valid UTF-8`;
  if (Buffer.byteLength(name, 'utf8') > 255) return `the name "${name.slice(0, 40)}…" is longer than 255 bytes`;
  return undefined;
}

export function resolveTree(doc: ManifestDocument, project: DiscProject, opts: ResolveOptions): ResolvedTree {
  return new Resolver(doc, project, opts).run();
}

class Resolver {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly problems: ResolveProblem[] = [];
  private readonly folders = new Map<string, number>();
  private readonly baseDir: string;
  private readonly root: DirNode;
  private filesSeen = 0;
  private readonly now = Date.now();

  constructor(
    private readonly doc: ManifestDocument,
    private readonly project: DiscProject,
    private readonly opts: ResolveOptions,
  ) {
    this.baseDir = path.dirname(path.resolve(doc.file));
    this.root = { kind: 'dir', name: '', parent: undefined, mode: 0o755, mtimeMs: this.now, origin: [], children: new Map() };
  }

  run(): ResolvedTree {
    (this.project.files ?? []).forEach((entry, i) => {
      if ('directory' in entry) {
        this.ensureDir(entry.directory, ['files', i, 'directory'], ['files', i]);
      } else {
        this.addSource(entry, i);
      }
    });
    return { root: this.root, diagnostics: this.diagnostics, problems: this.problems, folders: this.folders };
  }

  private error(p: JsonPath, code: string, message: string): void {
    this.problems.push({ path: p, code, message, severity: 'error' });
    this.diagnostics.push(this.doc.diagnostic(p, code, message));
  }

  private warn(p: JsonPath, code: string, message: string): void {
    this.problems.push({ path: p, code, message, severity: 'warning' });
    this.diagnostics.push(this.doc.diagnostic(p, code, message, 'warning'));
  }

  /** Splits an absolute disc path into checked components; reports at `at` and returns undefined if invalid. */
  private components(target: string, at: JsonPath): string[] | undefined {
    const parts = target.replace(/^\/+/, '').replace(/\/+$/, '').split('/');
    if (parts.length === 1 && parts[0] === '') return [];
    for (const p of parts) {
      const why = invalidNameReason(p);
      if (why) {
        this.error(at, 'name-invalid', `target "${target}": ${why}`);
        return undefined;
      }
    }
    return parts;
  }

  /** mkdir -p on the disc tree; reports a file in the way. */
  private ensureDir(target: string, at: JsonPath, origin: JsonPath, parts = this.components(target, at)): DirNode | undefined {
    if (!parts) return undefined;
    let dir = this.root;
    for (const name of parts) {
      const existing = dir.children.get(name);
      if (existing?.kind === 'dir') {
        dir = existing;
        continue;
      }
      if (existing) {
        this.collision(at, existing, target);
        return undefined;
      }
      const made: DirNode = { kind: 'dir', name, parent: dir, mode: 0o755, mtimeMs: this.now, origin, children: new Map() };
      dir.children.set(name, made);
      dir = made;
    }
    return dir;
  }

  private collision(at: JsonPath, existing: TreeNode, target: string): void {
    const first = this.doc.range(existing.origin);
    const what = existing.kind === 'dir' ? 'a folder' : 'a file';
    this.error(at, 'target-collision',
      `"${target}" is already ${what} on the disc, placed by the entry at line ${first.start.line}:${first.start.column}`);
  }

  private addSource(entry: { source: string; target?: string; exclude?: string[]; followSymlinks?: boolean }, i: number): void {
    const at: JsonPath = ['files', i, 'source'];
    const source = entry.source.replace(/\\/g, '/');
    const scan = picomatch.scan(source);
    const excluded = this.excluder(entry.exclude ?? []);
    const follow = entry.followSymlinks === true || !this.opts.keepSymlinks;
    const targetAt: JsonPath = entry.target !== undefined ? ['files', i, 'target'] : at;

    if (scan.isGlob) {
      const base = path.resolve(this.baseDir, scan.base || '.');
      const isMatch = picomatch(scan.glob, { dot: false });
      const into = this.ensureDir(entry.target ?? '/', targetAt, ['files', i]);
      if (!into) return;
      let matched = 0;
      let baseStat: fs.Stats;
      try {
        baseStat = fs.statSync(base);
      } catch {
        this.error(at, 'glob-empty', `the glob "${entry.source}" matches nothing: "${scan.base}" does not exist`);
        return;
      }
      if (!baseStat.isDirectory()) {
        this.error(at, 'glob-empty', `the glob "${entry.source}" matches nothing: "${scan.base}" is not a folder`);
        return;
      }
      // Walk the glob's static base; a matching folder brings its whole subtree.
      const walk = (dir: string, rel: string, ancestors: Set<string>): void => {
        for (const d of this.readdir(dir, at)) {
          const relPath = rel ? `${rel}/${d}` : d;
          if (excluded(relPath)) continue;
          const abs = path.join(dir, d);
          const st = this.stat(abs, follow, at);
          if (!st) continue;
          if (isMatch(relPath)) {
            matched++;
            const parent = this.ensureDir('/' + relPath.split('/').slice(0, -1).join('/'), targetAt, ['files', i], [
              ...this.pathParts(into), ...relPath.split('/').slice(0, -1),
            ]);
            if (parent) this.addPath(parent, d, abs, st, relPath, { at, origin: ['files', i], excluded, follow, ancestors });
          } else if (st.isDirectory()) {
            const key = `${st.dev}:${st.ino}`;
            if (ancestors.has(key)) continue;
            walk(abs, relPath, new Set(ancestors).add(key));
          }
        }
      };
      walk(base, '', new Set([`${baseStat.dev}:${baseStat.ino}`]));
      if (matched === 0) this.error(at, 'glob-empty', `the glob "${entry.source}" matches nothing`);
      return;
    }

    const abs = path.resolve(this.baseDir, source);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs); // the named source itself is always followed, as cp does
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      this.error(at, 'source-missing',
        code === 'ENOENT' ? `source "${entry.source}" does not exist (looked for ${abs})` : `source "${entry.source}": ${(err as Error).message}`);
      return;
    }
    const name = path.basename(abs);
    let parts: string[] | undefined;
    if (entry.target !== undefined && /^\/+$/.test(entry.target)) {
      // target "/": a folder's contents go into the root; a file goes into the root under its own name.
      parts = st.isDirectory() ? [] : this.components('/' + name, targetAt);
    } else if (entry.target === undefined) parts = this.components('/' + name, at);
    else if (entry.target.endsWith('/')) {
      const dirParts = this.components(entry.target, targetAt);
      parts = dirParts && [...dirParts, name];
    } else parts = this.components(entry.target, targetAt);
    if (!parts) return;
    if (parts.length === 0) {
      this.addChildren(this.root, abs, '', { at, origin: ['files', i], excluded, follow, ancestors: new Set([`${st.dev}:${st.ino}`]) }, st);
      return;
    }
    const parent = this.ensureDir('/' + parts.slice(0, -1).join('/'), targetAt, ['files', i], parts.slice(0, -1));
    if (parent) this.addPath(parent, parts[parts.length - 1], abs, st, '', { at, origin: ['files', i], excluded, follow, ancestors: new Set() });
  }

  private pathParts(dir: DirNode): string[] {
    const parts: string[] = [];
    for (let d: DirNode | undefined = dir; d?.parent; d = d.parent) parts.push(d.name);
    return parts.reverse();
  }

  private excluder(patterns: string[]): (rel: string) => boolean {
    if (patterns.length === 0) return () => false;
    const full = picomatch(patterns.filter((p) => p.includes('/')), { dot: true });
    const base = picomatch(patterns.filter((p) => !p.includes('/')), { dot: true });
    const hasFull = patterns.some((p) => p.includes('/'));
    const hasBase = patterns.some((p) => !p.includes('/'));
    return (rel) => (hasFull && full(rel)) || (hasBase && base(rel.slice(rel.lastIndexOf('/') + 1)));
  }

  private readdir(dir: string, at: JsonPath): string[] {
    try {
      this.folders.set(dir, fs.statSync(dir).mtimeMs);
      return fs.readdirSync(dir);
    } catch (err) {
      this.error(at, 'source-unreadable', `cannot read the folder ${dir}: ${(err as Error).message}`);
      return [];
    }
  }

  private stat(abs: string, follow: boolean, at: JsonPath): fs.Stats | undefined {
    try {
      const st = fs.lstatSync(abs);
      if (st.isSymbolicLink() && follow) {
        try {
          return fs.statSync(abs);
        } catch {
          this.warn(at, 'symlink-broken', `skipped the broken symbolic link ${abs}`);
          return undefined;
        }
      }
      return st;
    } catch (err) {
      this.error(at, 'source-unreadable', `cannot read ${abs}: ${(err as Error).message}`);
      return undefined;
    }
  }

  private addPath(
    parent: DirNode, name: string, abs: string, st: fs.Stats, rel: string,
    ctx: { at: JsonPath; origin: JsonPath; excluded: (rel: string) => boolean; follow: boolean; ancestors: Set<string> },
  ): void {
    const why = invalidNameReason(name);
    if (why) {
      this.error(ctx.at, 'name-invalid', `${abs}: ${why}`);
      return;
    }
    const existing = parent.children.get(name);
    const target = this.pathParts(parent).concat(name).join('/');
    if (st.isDirectory()) {
      if (existing && existing.kind !== 'dir') {
        this.collision(ctx.origin, existing, '/' + target);
        return;
      }
      const key = `${st.dev}:${st.ino}`;
      if (ctx.ancestors.has(key)) {
        this.warn(ctx.at, 'symlink-loop', `skipped ${abs}: it links back to a folder that contains it`);
        return;
      }
      let dir = existing as DirNode | undefined;
      if (!dir) {
        dir = { kind: 'dir', name, parent, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, origin: ctx.origin, children: new Map() };
        parent.children.set(name, dir);
      }
      this.addChildren(dir, abs, rel, { ...ctx, ancestors: new Set(ctx.ancestors).add(key) }, st);
      return;
    }
    if (existing) {
      this.collision(ctx.origin, existing, '/' + target);
      return;
    }
    if (st.isFile()) {
      const file: FileNode = { kind: 'file', name, parent, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, origin: ctx.origin, source: abs, size: st.size };
      parent.children.set(name, file);
      if (++this.filesSeen % 4096 === 0) this.opts.onProgress?.(this.filesSeen);
    } else if (st.isSymbolicLink()) {
      let linkTarget: string;
      try {
        linkTarget = fs.readlinkSync(abs);
      } catch (err) {
        this.error(ctx.at, 'source-unreadable', `cannot read the link ${abs}: ${(err as Error).message}`);
        return;
      }
      if (Buffer.byteLength(linkTarget) > MAX_LINK_TARGET) {
        // Rock Ridge SL has no limit, but libisofs (xorriso) refuses to load an image with a longer one.
        this.error(ctx.at, 'symlink-too-long',
          `the symbolic link ${abs} points to a path of ${Buffer.byteLength(linkTarget)} bytes; readers accept at most ${MAX_LINK_TARGET} (use "followSymlinks": true to store its target instead)`);
        return;
      }
      parent.children.set(name, { kind: 'symlink', name, parent, mode: 0o777, mtimeMs: st.mtimeMs, origin: ctx.origin, target: linkTarget });
    } else {
      this.warn(ctx.at, 'special-file', `skipped ${abs}: not a regular file, folder or link`);
    }
  }

  private addChildren(
    dir: DirNode, abs: string, rel: string,
    ctx: { at: JsonPath; origin: JsonPath; excluded: (rel: string) => boolean; follow: boolean; ancestors: Set<string> },
    st: fs.Stats,
  ): void {
    if (dir.parent !== undefined || dir.children.size === 0) {
      dir.mode = st.mode & 0o7777;
      dir.mtimeMs = st.mtimeMs;
    }
    for (const name of this.readdir(abs, ctx.at)) {
      const childRel = rel ? `${rel}/${name}` : name;
      if (ctx.excluded(childRel)) continue;
      const childAbs = path.join(abs, name);
      const cst = this.stat(childAbs, ctx.follow, ctx.at);
      if (cst) this.addPath(dir, name, childAbs, cst, childRel, ctx);
    }
  }

  get filesCount(): number {
    return this.filesSeen;
  }
}
