/**
 * Building UDF images with engine options the CLI does not offer (tests only): a model tree made by hand, as
 * the resolver would make it, written by the UDF-only image writer.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ImageSink } from '../../server/src/engine/image/sink';
import type { DirNode, FileNode } from '../../server/src/engine/model';
import { IsoImage } from '../../server/src/engine/iso9660/image';
import { attachIso, bridgeHooks, UdfImage } from '../../server/src/engine/udf/image';
import { UdfFileSystem, type UdfRevision } from '../../server/src/engine/udf/volume';

const CREATED = Date.parse('2026-01-01T00:00:00Z');

export function modelTree(files: { name: string; source: string }[]): DirNode {
  const root: DirNode = { kind: 'dir', name: '', parent: undefined, mode: 0o755, mtimeMs: CREATED, origin: [], children: new Map() };
  for (const f of files) {
    const st = fs.statSync(f.source);
    const node: FileNode = { kind: 'file', name: f.name, parent: root, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, origin: [], source: f.source, size: st.size };
    root.children.set(f.name, node);
  }
  return root;
}

/** A UDF-only image whose allocation descriptors describe at most `maxExtentBytes` bytes each. */
export async function buildWithSmallExtents(image: string, rev: UdfRevision, files: { name: string; source: string }[], maxExtentBytes: number): Promise<void> {
  const root = modelTree(files);
  const udf = new UdfFileSystem(root, {
    revision: rev, redundantMetadata: false, nowMs: CREATED, volume: { label: 'AED', createdMs: CREATED }, embedSmallFiles: true, maxExtentBytes,
  });
  assert.deepEqual(udf.problems, []);
  const img = new UdfImage(root, udf);
  const fd = fs.openSync(image, 'w');
  try {
    const sink = new ImageSink(fd, { sparse: true });
    await img.write(sink);
    sink.finish(true);
  } finally {
    fs.closeSync(fd);
  }
  assert.equal(fs.statSync(image).size, img.bytes);
}

/**
 * Two sessions (a multisession disc as one file): the first an ISO 9660 image holding `old`, the second an
 * ISO 9660/Joliet/Rock Ridge/UDF bridge at the block after it that refers to `old`'s data where the first
 * session recorded it (FileNode.recorded) and adds `added`. Returns the disc and where the second session starts.
 */
export async function buildTwoSessions(disc: string, rev: UdfRevision, old: string, added: string): Promise<{ base: number; oldLba: number }> {
  const volume = { label: 'SESSIONS', createdMs: CREATED };
  const node = (name: string, source: string, parent: DirNode): FileNode => {
    const st = fs.statSync(source);
    const f: FileNode = { kind: 'file', name, parent, mode: 0o644, mtimeMs: st.mtimeMs, origin: [], source, size: st.size };
    parent.children.set(name, f);
    return f;
  };
  const dir = (): DirNode => ({ kind: 'dir', name: '', parent: undefined, mode: 0o755, mtimeMs: CREATED, origin: [], children: new Map() });
  const write = async (img: { write(s: ImageSink): Promise<void> }, fd: number, at: number) => {
    // The sink writes from file offset 0: write the session to its own file, then append it.
    const tmp = `${disc}.session`;
    const t = fs.openSync(tmp, 'w');
    const sink = new ImageSink(t);
    await img.write(sink);
    sink.finish(true);
    fs.closeSync(t);
    const data = fs.readFileSync(tmp);
    fs.writeSync(fd, data, 0, data.length, at);
    fs.rmSync(tmp);
  };
  const r1 = dir();
  const old1 = node('old.bin', old, r1);
  const s1 = new IsoImage(r1, { level: 3, joliet: true, jolietMaxName: 64, rockRidge: true, volume, nowMs: CREATED });
  const oldExtents = s1.extentsOf(old1)!.extents;
  const base = s1.blocks;
  const r2 = dir();
  node('old.bin', old, r2).recorded = oldExtents;
  node('added.bin', added, r2);
  const udf = new UdfFileSystem(r2, { revision: rev, redundantMetadata: false, volume, nowMs: CREATED, baseLba: base, embedSmallFiles: false });
  const s2 = new IsoImage(r2, { level: 3, joliet: true, jolietMaxName: 64, rockRidge: true, volume, nowMs: CREATED, baseLba: base, hooks: bridgeHooks(udf) });
  attachIso(udf, s2);
  assert.deepEqual(udf.problems, []);
  const fd = fs.openSync(disc, 'w');
  try {
    await write(s1, fd, 0);
    await write(s2, fd, base * 2048);
  } finally {
    fs.closeSync(fd);
  }
  assert.equal(fs.statSync(disc).size, (base + s2.blocks) * 2048);
  return { base, oldLba: oldExtents[0]!.lba };
}
