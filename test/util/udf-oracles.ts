/**
 * Independent UDF readers for the UDF tests: udfinfo (udftools) for the volume structures and 7-Zip's UDF handler
 * (`7zz -tudf`) for listings and contents; plus the source tree as the model of what an image must hold.
 *
 * Quirks found while writing these (documented here, handled by the tests):
 * - 7-Zip (26.02) opens a UDF volume only if every file entry is a directory or a regular file (ICB file types 4
 *   and 5): one symbolic link (type 12) and `-tudf` fails with "Cannot open the file as [Udf] archive". Without
 *   `-t`, 7-Zip then falls back to the ISO 9660 handler. Trees read by 7-Zip through UDF have no symlinks.
 * - 7-Zip takes any non-zero data between the end of what the file system references and the closing anchor
 *   for "data after the end of the archive" (a warning, exit status 1).
 * - udfinfo prints `udfrev` = the LVID's minimum read revision and `udfwriterev` = its maximum write revision:
 *   for UDF 2.60 the minimum read revision is 2.50 (UDF 2.60 2.2.6.4), so `udfwriterev` names the revision.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from './fixtures';
import { hashCommandOutput, parseSevenZipSlt, readTree, run, SEVEN_ZIP, type ExtractedEntry } from './oracles';

export const REVISIONS = ['1.02', '1.50', '2.00', '2.01', '2.50', '2.60'] as const;
export type Revision = (typeof REVISIONS)[number];

export interface UdfInfo {
  fields: Record<string, string>;
  /** The "start=…, blocks=…, type=…" lines: where udfinfo found each structure. */
  layout: { start: number; blocks: number; type: string }[];
  stderr: string;
}

/** udfinfo IMAGE: exits 0 for a UDF volume it accepts. */
export function udfinfo(image: string): UdfInfo {
  const r = run('udfinfo', [image], { allowFail: true });
  const out = r.stdout.toString('utf8');
  assert.equal(r.status, 0, `udfinfo ${image} exited ${r.status}:\n${r.stderr}\n${out}`);
  const fields: Record<string, string> = {};
  const layout: UdfInfo['layout'] = [];
  for (const line of out.split('\n')) {
    const m = /^start=(\d+), blocks=(\d+), type=(\S+)$/.exec(line);
    if (m) layout.push({ start: Number(m[1]), blocks: Number(m[2]), type: m[3]! });
    else {
      const i = line.indexOf('=');
      if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1);
    }
  }
  return { fields, layout, stderr: r.stderr };
}

/** What udfinfo must say for a revision: [udfrev (minimum read), udfwriterev (maximum write)]. */
export function udfinfoRevisions(rev: Revision): [string, string] {
  return [rev === '2.60' ? '2.50' : rev, rev];
}

function sevenZip(args: string[]): string {
  const r = run(SEVEN_ZIP, args, { allowFail: true });
  const out = r.stdout.toString('utf8');
  assert.equal(r.status, 0, `7z ${args.join(' ')} exited ${r.status}:\n${r.stderr}\n${out.slice(-3000)}`);
  assert.doesNotMatch(out, /^(ERRORS|WARNINGS):/m, `7z ${args.join(' ')} reported errors or warnings:\n${out.slice(-3000)}`);
  return out;
}

/** 7-Zip's listing through its UDF handler: path ("/a/b") → kind, size, mtime. */
export function sevenZipUdfList(image: string): Map<string, { kind: string; size: number; mtime?: string }> {
  const out = sevenZip(['l', '-slt', '-sccUTF-8', '-tudf', image]);
  assert.match(out, /^Type = Udf$/m, `7z did not read ${image} as UDF:\n${out.slice(0, 2000)}`);
  return parseSevenZipSlt(out);
}

/** Everything 7-Zip extracts through one handler (`udf` or `iso`), as a tree on disk. */
export function sevenZipExtractAs(image: string, type: 'udf' | 'iso', dest: string): Map<string, ExtractedEntry> {
  fs.mkdirSync(dest, { recursive: true });
  sevenZip(['x', '-y', '-bd', `-t${type}`, `-o${dest}`, image]);
  return readTree(dest);
}

/** One file streamed out of the image by 7-Zip's UDF handler into sha256 (for files too big to extract). */
export async function sevenZipUdfHash(image: string, relPath: string): Promise<{ sha256: string; size: number }> {
  const r = await hashCommandOutput(SEVEN_ZIP, ['x', '-so', '-bd', '-tudf', image, relPath]);
  assert.equal(r.status, 0, `7z x -so -tudf ${relPath}: exit ${r.status}: ${r.stderr.slice(0, 1000)}`);
  return { sha256: r.sha256, size: r.size };
}

/**
 * Compares a tree a reader produced with the source tree: same paths, kinds, sizes and contents (and symlink
 * targets when `symlinks`). Modes are not compared (7-Zip does not restore them). Returns the differences.
 */
export function compareTrees(tag: string, got: Map<string, ExtractedEntry>, expected: Map<string, ExtractedEntry>, opts: { symlinks?: boolean } = {}): string[] {
  const problems: string[] = [];
  for (const [p, e] of expected) {
    if (e.kind === 'symlink' && !opts.symlinks) continue;
    const g = got.get(p);
    if (!g) {
      problems.push(`[${tag}] ${p}: missing (expected ${e.kind})`);
      continue;
    }
    if (g.kind !== e.kind) problems.push(`[${tag}] ${p}: ${g.kind}, expected ${e.kind}`);
    else if (e.kind === 'file' && (g.size !== e.size || g.sha256 !== e.sha256)) problems.push(`[${tag}] ${p}: ${g.size} bytes sha256 ${g.sha256?.slice(0, 12)}, expected ${e.size} bytes ${e.sha256?.slice(0, 12)}`);
    else if (e.kind === 'symlink' && g.target !== e.target) problems.push(`[${tag}] ${p}: -> ${g.target}, expected -> ${e.target}`);
  }
  for (const p of got.keys()) if (!expected.has(p)) problems.push(`[${tag}] ${p}: unexpected ${got.get(p)!.kind}`);
  return problems;
}

/** The source tree (symlinks as symlinks) as readTree gives it, rooted at "/" of the image. */
export function sourceTree(dir: string): Map<string, ExtractedEntry> {
  return readTree(path.resolve(dir));
}

export interface UdfFsJson {
  type: string;
  problems: string[];
  entries: { path: string; kind: string; size: number; mode?: number; embedded: boolean; icb: number; extents: { lba: number; length: number }[]; recorded: string | null }[];
  udf: {
    revision: string;
    minReadRevision: string;
    partitionMaps: { type: number; kind?: string; duplicated?: boolean; readFrom?: string }[];
    partitions: { start: number; length: number; accessType: string; contents: string }[];
    anchors: number[];
    recognition: { lba: number; id: string }[];
    integrity: { type: string; files: number; directories: number; nextUniqueId: number };
  };
}

/** `discforge inspect --json` (our own reader): the report and its UDF file system. */
export function inspectUdfJson(image: string): { report: { problems: string[]; fileSystems: { type: string }[] }; udf: UdfFsJson } {
  const r = runCli(['inspect', '--json', image]);
  assert.equal(r.status, 0, `inspect failed: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as { problems: string[]; fileSystems: UdfFsJson[] };
  const udf = report.fileSystems.find((f) => f.type === 'udf');
  assert.ok(udf, `inspect found no UDF file system in ${image}`);
  return { report, udf };
}
