/**
 * Reusing a scan of the sources between plans of the same manifest (an editor re-plans on every edit; scanning
 * 100,000 files costs most of a plan). A scan is reused only when the manifest's `files` entries (and the
 * options that change what a scan records) are the same, the caller has not reported a change on disk since
 * (its `generation`), every folder the scan read still has the modification time it had (so no entry was added,
 * removed or renamed), and it is younger than `maxAgeMs` (files changed in place in unwatched folders are seen
 * after that). A build never uses a cache: it always scans afresh.
 */
import * as fs from 'node:fs';
import type { ResolvedTree } from './resolve';

export class ScanCache {
  private entry: { key: string; generation: number; at: number; tree: ResolvedTree } | undefined;

  constructor(readonly maxAgeMs = 60_000) {}

  get(key: string, generation: number): ResolvedTree | undefined {
    const e = this.entry;
    if (!e || e.key !== key || e.generation !== generation || Date.now() - e.at > this.maxAgeMs) return undefined;
    for (const [folder, mtimeMs] of e.tree.folders) {
      let now: number | undefined;
      try {
        now = fs.statSync(folder).mtimeMs;
      } catch {
        now = undefined;
      }
      if (now !== mtimeMs) {
        this.entry = undefined;
        return undefined;
      }
    }
    return e.tree;
  }

  set(key: string, generation: number, tree: ResolvedTree): void {
    this.entry = { key, generation, at: Date.now(), tree };
  }

  clear(): void {
    this.entry = undefined;
  }
}
