/**
 * `discforge inspect`: read an ISO 9660 image (with Joliet, Rock Ridge, ISO 9660:1999) and report its volume
 * descriptors and every file system tree in it, with the problems found on the way.
 *
 * Only node built-ins; the image is read with positional reads, never loaded whole. A file that is not an
 * ISO 9660 image, or whose descriptor set is unusable, gives an InputError naming the image; damage inside a
 * tree gives a report whose `problems` say what and where. Work is bounded by maxEntries / maxDepth and
 * fixed byte budgets, whatever the image claims.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { InputError } from '../util/errors';
import { readBootCatalog, readSystemArea } from './boot';
import { FIRST_DESCRIPTOR, readVolumeDescriptors } from './descriptors';
import { checkPathTables } from './pathtable';
import { Problems } from './problems';
import { ImageReader, SECTOR } from './reader';
import { isDot, parseDirRecord } from './records';
import { detectSharingProtocol, parseExtensions, readSuspFields, RRIP_IDS, RRIP_SIGNATURES } from './susp';
import { walkTree } from './tree';
import { inspectUdf, isUdfWithoutIso } from './udf';
import type { FileSystemReport, FileSystemType, InspectOptions, InspectReport, VolumeDescriptorVolume } from './types';

export { formatInspectText } from './format';
/** El Torito boot catalog and system area (MBR, GPT, APM) alone, e.g. for tests of El Torito images. */
export { readBoot, type BootInspection } from './boot';
/** BIN/CUE images (audio and mixed-mode CDs): `inspect album.cue` reads the cue sheet and its BIN. */
export { formatCueText, inspectCue, type CueReport } from '../cd/inspect';
export const isCueSheet = (file: string): boolean => /\.cue$/i.test(file);
export type * from './types';

export const DEFAULT_MAX_ENTRIES = 1_000_000;
export const DEFAULT_MAX_DEPTH = 64;

export async function inspectImage(path: string, opts: InspectOptions = {}): Promise<InspectReport> {
  const maxEntries = positiveInt(opts.maxEntries, DEFAULT_MAX_ENTRIES, 'maxEntries');
  const maxDepth = positiveInt(opts.maxDepth, DEFAULT_MAX_DEPTH, 'maxDepth');
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new InputError(`${path}: cannot open image: ${errorText(e)}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InputError(`${path}: not a regular file`);
    const session = sessionOf(path, st.size, opts);
    return await inspect(new ImageReader(fh, path, st.size), { maxEntries, maxDepth }, session);
  } catch (e) {
    if (e instanceof InputError) throw e;
    // I/O errors (EIO, a file that vanished) and anything a malformed image provoked: still the input's fault.
    throw new InputError(`${path}: cannot read image: ${errorText(e)}`);
  } finally {
    await fh.close();
  }
}

/**
 * The session to read (InspectOptions.sessionStart / sessionEnd), checked against the image: a start that is not
 * a whole block number, or whose descriptor area (start + 16) is past the end of the image, is an InputError.
 */
function sessionOf(path: string, size: number, opts: InspectOptions): { start: number; end?: number } {
  const { sessionStart: start = 0, sessionEnd: end } = opts;
  if (!Number.isSafeInteger(start) || start < 0) throw new InputError(`inspect: the session start must be a block number (an integer ≥ 0), got ${start}`);
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw new InputError(`inspect: the session end must be a block number not below the session start ${start}, got ${end}`);
  }
  const sectors = Math.floor(size / SECTOR);
  if (start > 0 && start + FIRST_DESCRIPTOR >= sectors) {
    throw new InputError(
      `${path}: session start ${start} is past the end of the image: its volume descriptors would be at sector ${start + FIRST_DESCRIPTOR}, the image has ${sectors} sectors`,
    );
  }
  return end === undefined ? { start } : { start, end };
}

async function inspect(
  reader: ImageReader,
  limits: { maxEntries: number; maxDepth: number },
  session: { start: number; end?: number },
): Promise<InspectReport> {
  const problems = new Problems();
  if (reader.size % SECTOR !== 0) {
    problems.add(`image size ${reader.size} is not a multiple of ${SECTOR} bytes: the last sector is partial (truncated?)`);
  }
  const base = session.start;
  // A UDF-only image has no ISO 9660 descriptors: its recognition sequence starts at sector 16 with BEA01.
  let descriptors: Awaited<ReturnType<typeof readVolumeDescriptors>> = [];
  if (!(await isUdfWithoutIso(reader, base))) {
    try {
      descriptors = await readVolumeDescriptors(reader, problems, base);
    } catch (e) {
      // A later session chosen by the caller that holds no descriptor set: say so in the report (any UDF volume
      // there is still read). At block 0 this stays an error: the file is not an image we can read.
      if (!(e instanceof InputError) || base === 0) throw e;
      problems.add(
        `session start ${base}: no usable ISO 9660 volume descriptor set at sector ${base + FIRST_DESCRIPTOR} (its start + 16, ECMA-119 6.2.1) — ${e.message.replace(`${reader.name}: `, '').replace(/:? ?not an ISO 9660 image:? ?/, ' ').trim()}; is ${base} where a session starts?`,
      );
    }
  }
  const volumes = descriptors.filter((d): d is VolumeDescriptorVolume => 'rootDirectory' in d);
  const pvd = volumes.find((d) => d.kind === 'primary');
  if (pvd && pvd.volumeSpaceSize * pvd.logicalBlockSize > reader.size) {
    problems.add(
      `image is truncated: the primary volume descriptor says ${pvd.volumeSpaceSize} blocks (${
        pvd.volumeSpaceSize * pvd.logicalBlockSize
      } bytes) but the file has ${reader.size} bytes (ECMA-119 8.4.8)`,
    );
  }

  // El Torito boot catalog (the first boot record that names one) and the hybrid partition tables.
  const bootRecord = descriptors.find((d) => d.kind === 'boot' && d.elTorito !== null);
  const boot =
    bootRecord?.kind === 'boot' && bootRecord.elTorito
      ? await readBootCatalog(reader, bootRecord.elTorito.catalogLba, pvd?.lba ?? base + FIRST_DESCRIPTOR, problems)
      : null;
  const systemArea = await readSystemArea(reader, problems);

  const fileSystems: FileSystemReport[] = [];
  if (pvd) {
    fileSystems.push(await buildFileSystem(reader, pvd, 'iso9660', limits));
    const rr = await buildRockRidge(reader, pvd, limits);
    if (rr) fileSystems.push(rr);
  }
  for (const vd of volumes) {
    if (vd.kind === 'supplementary' && vd.joliet) fileSystems.push(await buildFileSystem(reader, vd, 'joliet', limits));
    if (vd.kind === 'enhanced') fileSystems.push(await buildFileSystem(reader, vd, 'iso9660:1999', limits));
  }
  const udf = await inspectUdf(reader, limits, session);
  if (udf) fileSystems.push(udf);

  return {
    image: reader.name,
    size: reader.size,
    sectorSize: SECTOR,
    sectors: Math.floor(reader.size / SECTOR),
    sessionStart: base,
    ...(session.end !== undefined ? { sessionEnd: session.end } : {}),
    volumeDescriptors: descriptors,
    ...(boot ? { boot } : {}),
    ...(systemArea ? { systemArea } : {}),
    fileSystems,
    problems: [...problems.toArray(), ...fileSystems.flatMap((fs) => fs.problems.map((p) => `[${fs.type}] ${p}`))],
    limits,
  };
}

async function buildFileSystem(
  reader: ImageReader,
  vd: VolumeDescriptorVolume,
  type: FileSystemType,
  limits: { maxEntries: number; maxDepth: number },
  rockRidge?: NonNullable<FileSystemReport['rockRidge']>,
  problems = new Problems(),
): Promise<FileSystemReport> {
  const bs = vd.logicalBlockSize;
  const fs: FileSystemReport = {
    type,
    label: '',
    descriptorLba: vd.lba,
    blockSize: bs,
    root: vd.rootDirectory,
    ...(type === 'iso9660' ? { interchangeLevel: null } : {}),
    ...(type === 'joliet' && vd.joliet ? { jolietLevel: vd.joliet.level } : {}),
    ...(rockRidge ? { rockRidge } : {}),
    directories: 0,
    files: 0,
    symlinks: 0,
    totalFileBytes: 0,
    complete: false,
    entries: [],
    problems: [],
  };
  fs.label = label(fs, vd);
  // ECMA-119 6.2.2: a logical block is 2^(n+9) bytes and no larger than a logical sector.
  if (bs !== 512 && bs !== 1024 && bs !== 2048) {
    problems.add(`${vd.kind} volume descriptor at sector ${vd.lba}: logical block size ${bs} is not 512, 1024 or 2048 (ECMA-119 6.2.2); tree not read`);
    fs.problems = problems.toArray();
    return fs;
  }
  if (vd.rootDirectory.length === 0) {
    problems.add(`${vd.kind} volume descriptor at sector ${vd.lba}: no usable root directory record (ECMA-119 8.4.18); tree not read`);
    fs.problems = problems.toArray();
    return fs;
  }
  const walk = await walkTree(
    reader,
    {
      view: type,
      blockSize: bs,
      root: { ...vd.rootDirectory, recorded: null },
      maxEntries: limits.maxEntries,
      maxDepth: limits.maxDepth,
      suspSkip: rockRidge?.skipBytes,
    },
    problems,
  );
  if (type !== 'rockridge') await checkPathTables(reader, vd, walk.dirs, walk.complete, problems);
  fs.entries = walk.entries;
  fs.complete = walk.complete;
  for (const e of walk.entries) {
    if (e.kind === 'dir') fs.directories++;
    else if (e.kind === 'symlink') fs.symlinks++;
    else {
      fs.files++;
      fs.totalFileBytes += e.size;
    }
  }
  if (type === 'iso9660') {
    fs.interchangeLevel = interchangeLevel(walk.entries, walk.multiExtent);
    fs.label = label(fs, vd);
  }
  fs.problems = problems.toArray();
  return fs;
}

/**
 * Rock Ridge is present when the root's "." record starts with an SP field (SUSP 5.3) and either an ER field
 * names RRIP (SUSP 5.5; RRIP 1.12 5) or RRIP fields are there anyway (RRIP 1.09 had no ER).
 */
async function buildRockRidge(
  reader: ImageReader,
  pvd: VolumeDescriptorVolume,
  limits: { maxEntries: number; maxDepth: number },
): Promise<FileSystemReport | null> {
  const bs = pvd.logicalBlockSize;
  const { lba, length } = pvd.rootDirectory;
  if (length === 0 || (bs !== 512 && bs !== 1024 && bs !== 2048)) return null;
  const start = lba * bs;
  const buf = await reader.bytes(start, Math.min(255, Math.max(0, reader.size - start)));
  if (buf.length < 34 || buf[0] > buf.length) return null;
  const dot = parseDirRecord(buf, 0, start);
  if (typeof dot === 'string' || !isDot(dot)) return null;
  const sp = detectSharingProtocol(dot.systemUse);
  if (!sp) return null;
  const problems = new Problems();
  const fields = await readSuspFields(
    { reader, blockSize: bs, problem: (m) => problems.add(m), budget: { ceBytes: 1024 * 1024 } },
    dot.systemUse,
    0,
    '/ (".")',
  );
  const extensions = parseExtensions(fields, '/ (".")', (m) => problems.add(m));
  const rrip = extensions.find((e) => RRIP_IDS.includes(e.id));
  if (!rrip && !fields.some((f) => RRIP_SIGNATURES.has(f.sig))) return null;
  return buildFileSystem(
    reader,
    pvd,
    'rockridge',
    limits,
    { version: rrip ? rrip.id : 'unidentified', skipBytes: sp.skip, extensions },
    problems,
  );
}

function label(fs: FileSystemReport, vd: VolumeDescriptorVolume): string {
  switch (fs.type) {
    case 'iso9660': {
      const level = fs.interchangeLevel;
      const names = level === undefined || fs.entries.length === 0 ? '' : level === null ? ', non-conforming names' : `, level ${level} names`;
      return `ISO 9660 (primary${names})`;
    }
    case 'rockridge':
      return `Rock Ridge (${fs.rockRidge?.version ?? 'unidentified'})`;
    case 'joliet':
      return `Joliet (supplementary at sector ${vd.lba}, UCS-2 level ${vd.joliet?.level ?? '?'})`;
    case 'iso9660:1999':
      return `ISO 9660:1999 (enhanced at sector ${vd.lba})`;
    case 'udf':
      return 'UDF';
  }
}

/**
 * ECMA-119 10: level 1 = file names of at most 8 + 3 d-characters and directory names of at most 8; level 2 =
 * identifiers up to 31 characters (7.5.1, 7.6.3: name + extension at most 30); level 3 = level 2 names plus files
 * in several extents (9.1.6). d-characters are A-Z 0-9 _ (7.4.1). The ";version" and "." are tolerated missing,
 * as many tools omit them. Returns null when a name is outside d-characters.
 */
function interchangeLevel(entries: { name: string; kind: string; depth: number; flags: number }[], multiExtent: boolean): 1 | 2 | 3 | null {
  let level: 1 | 2 = 1;
  for (const e of entries) {
    if (e.depth === 0) continue;
    if (e.flags & 0x02) {
      if (!/^[A-Z0-9_]{1,31}$/u.test(e.name)) return null;
      if (e.name.length > 8) level = 2;
      continue;
    }
    const m = /^([A-Z0-9_]*)(?:\.([A-Z0-9_]*))?(?:;([0-9]{1,5}))?$/u.exec(e.name);
    if (!m) return null;
    const base = m[1];
    const ext = m[2] ?? '';
    if (base.length + ext.length === 0 || base.length + ext.length > 30) return null;
    if (base.length > 8 || ext.length > 3) level = 2;
  }
  return multiExtent ? 3 : level;
}

function positiveInt(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) throw new InputError(`inspect: ${name} must be a positive integer, got ${v}`);
  return v;
}

function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    const err = e as { code: string; message?: string };
    return err.code === 'ENOENT' ? 'no such file' : (err.message ?? err.code);
  }
  return e instanceof Error ? e.message : String(e);
}
