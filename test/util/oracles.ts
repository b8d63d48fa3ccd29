/**
 * Oracles: wrappers around independent ISO 9660 readers that we did not write, used to judge the images
 * DiscForge builds. Every function runs the real tool as a child process and parses what it prints.
 *
 * Readers and the views ("file system trees") they can show:
 *
 * | reader               | iso9660 (plain names)              | joliet                          | rockridge                   |
 * | -------------------- | ---------------------------------- | ------------------------------- | --------------------------- |
 * | xorriso (libisofs)   | -read_fs ecma119 -ecma119_map unmapped | -read_fs norock             | -read_fs nojoliet           |
 * | isoinfo (genisoimage)| -l                                 | -l -J (see "lossy" below)       | -l -R                       |
 * | bsdtar (libarchive)  | --options iso9660:!rockridge,iso9660:!joliet | --options iso9660:!rockridge | default (RR first) |
 * | iso-info (libcdio)   | not usable (see below)             | default (Joliet first)          | --no-joliet                 |
 * | 7z (7-Zip)           | only when there is neither J nor RR | when present (always preferred) | only when there is no Joliet |
 *
 * Quirks found while validating these wrappers against xorriso- and genisoimage-made images (documented,
 * and handled here rather than hidden):
 * - 7-Zip cannot be told which tree to read: it takes Joliet when present, else Rock Ridge (names, modes,
 *   symlinks), else the plain ISO 9660 names (with ";1" stripped). `sevenZipView()` says which one applies.
 * - isoinfo has no UTF-8 output for Joliet names: we ask for ISO 8859-1 (`-j iso8859-1`) and decode it; any
 *   UTF-16 unit above U+00FF comes out as "_". Listings from it carry `lossyNames: true`, and comparisons map
 *   the expected names the same way (`latin1Lossy`).
 * - isoinfo shows Joliet names as recorded, with a version ";1" when there is one; every other reader (and
 *   Windows and Linux) drops it and a "." before it: the wrapper does the same.
 * - isoinfo lists each extent of a multi-extent file (>= 4 GiB) as its own record (flag 0x80 on all but
 *   the last); we merge them into one entry. `isoinfo -x` extracts only the LAST extent of such a file,
 *   so it is not used for the content of files >= 4 GiB.
 * - iso-info also lists each extent of a multi-extent file separately (without flags): consecutive file
 *   records with the same name are merged. Its plain view (--no-joliet --no-rock-ridge) lowercases names
 *   and cannot enter subdirectories (libcdio 2.1.0 bug), so it is not offered for the iso9660 view.
 * - libcdio and 7-Zip do not follow SUSP continuation areas (CE): of a Rock Ridge name split between the directory
 *   record and a CE area (xorriso does this too, for long names) it shows only the first part.
 *   `libcdioCeFix` maps such a prefix to the one expected sibling name it begins, and iso-read skips those.
 * - iso-read (libcdio) extracts by Rock Ridge name into a file (to a pipe it pads to whole blocks, so
 *   never to stdout).
 * - xorriso's `-extract` REPLACES an existing destination (it once replaced /dev/stdout with a regular
 *   file): only ever extract into a fresh directory, and stream single files with `-concat append -`.
 * - xorriso's lsdl shows sizes 0 for directories and symlinks; bsdtar tvf shows 2048 for directories.
 *   Directory sizes are never compared.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Kind = 'file' | 'dir' | 'symlink';
export type View = 'iso9660' | 'joliet' | 'rockridge';
export type ReaderName = 'xorriso' | 'isoinfo' | '7z' | 'bsdtar' | 'iso-info' | 'iso-read';

/** One node of an image as a reader lists it. `path` is absolute ("/a/b"), the root itself is not listed. */
export interface Entry {
  path: string;
  kind: Kind;
  /** Byte size (files; symlinks and directories: whatever the reader says, never compared). */
  size: number;
  /** Permission bits (& 0o7777), when the reader shows Rock Ridge modes. */
  mode?: number;
  /** Symlink target. */
  target?: string;
  /** Owner and group, when the reader shows Rock Ridge ownership. */
  uid?: number;
  gid?: number;
  /** Modification time as an ISO string without milliseconds ("2026-01-01T00:00:00Z"), when the reader shows seconds. */
  mtime?: string;
  /** Day the reader shows ("2026-01-01"), for readers that only show dates (isoinfo). */
  mday?: string;
  /** Number of directory records merged into this entry (multi-extent files). */
  extents?: number;
}

export interface Listing {
  reader: ReaderName;
  view: View;
  /** True when the reader cannot show every character of a name (isoinfo -J): compare via `latin1Lossy`. */
  lossyNames: boolean;
  /** True when names are shown as recorded, version ";1" included (for checking ISO 9660 naming rules). */
  rawNames: boolean;
  entries: Map<string, Entry>;
}

/** A file or tree a reader extracted: path → entry with the content's sha256 (files). */
export interface ExtractedEntry {
  kind: Kind;
  size: number;
  sha256?: string;
  mode?: number;
  target?: string;
}
export interface Extracted {
  reader: ReaderName;
  view: View;
  entries: Map<string, ExtractedEntry>;
}

// ------------------------------------------------------------------------------------------------
// Running tools

export const SEVEN_ZIP: string = ['/usr/bin/7z', '/usr/bin/7zz', '/usr/bin/7za'].find((p) => fs.existsSync(p)) ?? '7z';

/** All readers run with UTC times and UTF-8 names, whatever the machine is set to. */
export const toolEnv: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };

export interface RunResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { allowFail?: boolean; cwd?: string } = {}): RunResult {
  const r = spawnSync(cmd, args, { env: toolEnv, maxBuffer: 1 << 30, cwd: opts.cwd });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  const res = { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
  if (!opts.allowFail && r.status !== 0) {
    throw new Error(`${cmd} ${args.map((a) => JSON.stringify(a)).join(' ')} exited ${r.status}:\n${res.stderr.slice(0, 4000)}`);
  }
  return res;
}

/** Runs a command and hashes what it writes on stdout (for files too big to hold). */
export function hashCommandOutput(cmd: string, args: string[]): Promise<{ sha256: string; size: number; stderr: string; status: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: toolEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const h = crypto.createHash('sha256');
    let size = 0;
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      h.update(b);
      size += b.length;
    });
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 20000) stderr += b.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ sha256: h.digest('hex'), size, stderr, status }));
  });
}

export function sha256(data: Buffer | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** sha256 of a file, streamed (works for files of any size). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(file, { highWaterMark: 4 << 20 })
      .on('data', (b) => h.update(b))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

export function sha256FileSync(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

// ------------------------------------------------------------------------------------------------
// Small parsing helpers

const MONTHS: Record<string, string> = {
  Jan: '01', Feb: '02', Mar: '03', Apr: '04', May: '05', Jun: '06',
  Jul: '07', Aug: '08', Sep: '09', Oct: '10', Nov: '11', Dec: '12',
};

/** "drwxr-x--x" → kind and permission bits (with setuid/setgid/sticky). */
export function parseModeString(s: string): { kind: Kind | 'other'; mode: number } {
  const kind: Kind | 'other' = s[0] === 'd' ? 'dir' : s[0] === 'l' ? 'symlink' : s[0] === '-' ? 'file' : 'other';
  let mode = 0;
  const bits = [0o400, 0o200, 0o100, 0o040, 0o020, 0o010, 0o004, 0o002, 0o001];
  for (let i = 0; i < 9; i++) {
    const c = s[i + 1];
    if (c !== '-' && c !== 'S' && c !== 'T') mode |= bits[i]!;
  }
  if (s[3] === 's' || s[3] === 'S') mode |= 0o4000;
  if (s[6] === 's' || s[6] === 'S') mode |= 0o2000;
  if (s[9] === 't' || s[9] === 'T') mode |= 0o1000;
  return { kind, mode };
}

/** What isoinfo -J (ISO 8859-1) can show of a name: every UTF-16 unit above U+00FF becomes "_". */
export function latin1Lossy(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) out += name.charCodeAt(i) > 0xff ? '_' : name[i];
  return out;
}

function addEntry(entries: Map<string, Entry>, e: Entry, mergeExtents: boolean, lastPath: { p: string | null; more: boolean }): void {
  const prev = entries.get(e.path);
  if (prev && mergeExtents && e.kind === 'file' && prev.kind === 'file' && lastPath.p === e.path && lastPath.more) {
    prev.size += e.size;
    prev.extents = (prev.extents ?? 1) + 1;
    return;
  }
  if (prev) throw new Error(`reader listed ${JSON.stringify(e.path)} twice`);
  entries.set(e.path, e);
}

// ------------------------------------------------------------------------------------------------
// xorriso

function xorrisoViewArgs(view: View): string[] {
  switch (view) {
    case 'rockridge':
      return ['-read_fs', 'nojoliet'];
    case 'joliet':
      return ['-read_fs', 'norock'];
    case 'iso9660':
      return ['-read_fs', 'ecma119', '-ecma119_map', 'unmapped'];
  }
}

/** Reads one shell-quoted word as xorriso prints it ('abc' and "'" pieces glued together). */
function readQuoted(s: string, pos: number): { value: string; end: number } {
  let value = '';
  let i = pos;
  if (s[i] !== "'" && s[i] !== '"') throw new Error(`xorriso output: expected a quote at ${i}: ${JSON.stringify(s.slice(i, i + 80))}`);
  while (s[i] === "'" || s[i] === '"') {
    const q = s[i]!;
    const close = s.indexOf(q, i + 1);
    if (close < 0) throw new Error('xorriso output: unterminated quote');
    value += s.slice(i + 1, close);
    i = close + 1;
  }
  return { value, end: i };
}

export function parseXorrisoLsdl(out: string): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const head = /([-dlbcps?][-rwxsStT]{9})\s+(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\w{3})\s+(\d+)\s+(\S+)\s+/y;
  let pos = 0;
  while (pos < out.length) {
    if (out[pos] === '\n') {
      pos++;
      continue;
    }
    head.lastIndex = pos;
    const m = head.exec(out);
    if (!m) throw new Error(`xorriso lsdl: cannot parse at ${JSON.stringify(out.slice(pos, pos + 120))}`);
    const name = readQuoted(out, head.lastIndex);
    pos = name.end;
    let target: string | undefined;
    if (out.startsWith(' -> ', pos)) {
      const t = readQuoted(out, pos + 4);
      target = t.value;
      pos = t.end;
    }
    if (out[pos] === '\n') pos++;
    else if (pos < out.length) throw new Error(`xorriso lsdl: junk after name at ${JSON.stringify(out.slice(pos, pos + 80))}`);
    if (name.value === '/') continue;
    const { kind, mode } = parseModeString(m[1]!);
    if (kind === 'other') throw new Error(`xorriso lsdl: unexpected file type ${m[1]} for ${name.value}`);
    const e: Entry = { path: name.value, kind, size: Number(m[5]), mode, uid: Number(m[3]), gid: Number(m[4]) };
    if (target !== undefined) e.target = target;
    entries.set(e.path, e);
  }
  return entries;
}

export function xorrisoList(image: string, view: View): Listing {
  const r = run('xorriso', ['-iso_rr_pattern', 'off', ...xorrisoViewArgs(view), '-indev', image, '-find', '/', '-exec', 'lsdl']);
  const entries = parseXorrisoLsdl(r.stdout.toString('utf8'));
  // Without Rock Ridge xorriso invents modes (r-xr-xr-x): only keep them for the RR view.
  if (view !== 'rockridge') {
    for (const e of entries.values()) {
      delete e.mode;
      delete e.uid;
      delete e.gid;
    }
  }
  return { reader: 'xorriso', view, lossyNames: false, rawNames: view === 'iso9660', entries };
}

/** Extracts the whole view into `dest` (which must not exist yet) and reads it back. */
export function xorrisoExtract(image: string, view: View, dest: string): Extracted {
  if (fs.existsSync(dest)) throw new Error(`xorrisoExtract: ${dest} exists`);
  run('xorriso', ['-osirrox', 'on', '-iso_rr_pattern', 'off', ...xorrisoViewArgs(view), '-indev', image, '-extract', '/', dest]);
  return { reader: 'xorriso', view, entries: readTree(dest) };
}

/** Streams one file's content (by its name in `view`) into a hash. */
export function xorrisoHashFile(image: string, view: View, isoPath: string) {
  return hashCommandOutput('xorriso', ['-osirrox', 'on', '-iso_rr_pattern', 'off', ...xorrisoViewArgs(view), '-indev', image, '-concat', 'append', '-', isoPath, '--']);
}

/** Extents of one file: [{ lba, blocks }] as xorriso reports them (`-exec report_lba`). */
export function xorrisoExtents(image: string, isoPath: string): { lba: number; blocks: number; fileSize: number }[] {
  const r = run('xorriso', ['-iso_rr_pattern', 'off', '-indev', image, '-find', isoPath, '-exec', 'report_lba']);
  const out: { lba: number; blocks: number; fileSize: number }[] = [];
  for (const line of r.stdout.toString('utf8').split('\n')) {
    const m = /^File data lba:\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,/.exec(line);
    if (m) out.push({ lba: Number(m[2]), blocks: Number(m[3]), fileSize: Number(m[4]) });
  }
  return out;
}

/** Primary volume descriptor as xorriso shows it (-pvd_info). Keys as printed: "Volume Id", "Creation Time", ... */
export function xorrisoPvdInfo(image: string): Record<string, string> {
  const r = run('xorriso', ['-indev', image, '-pvd_info']);
  const info: Record<string, string> = {};
  for (const line of r.stdout.toString('utf8').split('\n')) {
    const m = /^([A-Za-z][A-Za-z. ]*?)\s*:\s?(.*)$/.exec(line);
    if (m) info[m[1]!.trim()] = m[2]!;
  }
  return info;
}

// ------------------------------------------------------------------------------------------------
// isoinfo (genisoimage)

function isoinfoViewArgs(view: View): string[] {
  return view === 'rockridge' ? ['-R'] : view === 'joliet' ? ['-J', '-j', 'iso8859-1'] : [];
}

export function parseIsoinfoList(out: string, view: View): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  let dir = '/';
  const last = { p: null as string | null, more: false };
  const re = /^([-dlbcps?][-rwxsStT]{9})\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\w{3})\s+(\d+) (\d{4}) \[\s*(\d+)\s+([0-9A-Fa-f]+)\]?\s?\s?(.*)$/;
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const d = /^Directory listing of (.*)$/.exec(line);
    if (d) {
      dir = d[1]!;
      last.p = null;
      continue;
    }
    const m = re.exec(line);
    if (!m) throw new Error(`isoinfo: cannot parse line ${JSON.stringify(line)}`);
    let name = m[11]!;
    const { kind: k0, mode } = parseModeString(m[1]!);
    let kind = k0;
    let target: string | undefined;
    if (kind === 'symlink') {
      const i = name.indexOf(' -> ');
      if (i < 0) throw new Error(`isoinfo: symlink without target: ${line}`);
      target = name.slice(i + 4);
      name = name.slice(0, i);
    } else {
      // isoinfo prints one space after every name that is not a symlink.
      if (name.endsWith(' ')) name = name.slice(0, -1);
    }
    if (name === '.' || name === '..') continue;
    if (kind === 'other') throw new Error(`isoinfo: unexpected type in ${line}`);
    // Joliet file identifiers may carry the ISO 9660 version (";1"); isoinfo shows it, every other reader
    // (and Windows, and Linux's isofs) drops it, and a "." left before it.
    if (view === 'joliet' && kind !== 'dir') name = name.replace(/;1$/, '').replace(/(.)\.$/, '$1');
    if (view !== 'rockridge' && kind !== 'dir') kind = 'file';
    const flagsHex = m[10]!;
    const flags = parseInt(flagsHex.slice(-2), 16);
    const p = dir + name;
    const e: Entry = { path: p, kind, size: Number(m[5]), mday: `${m[8]}-${MONTHS[m[6]!] ?? '??'}-${m[7]!.padStart(2, '0')}` };
    if (view === 'rockridge') {
      e.mode = mode;
      e.uid = Number(m[3]);
      e.gid = Number(m[4]);
    }
    if (target !== undefined) e.target = target;
    addEntry(entries, e, true, last);
    last.p = p;
    last.more = (flags & 0x80) !== 0;
  }
  return entries;
}

export function isoinfoList(image: string, view: View): Listing {
  const r = run('isoinfo', ['-i', image, '-l', ...isoinfoViewArgs(view)]);
  const text = view === 'joliet' ? r.stdout.toString('latin1') : r.stdout.toString('utf8');
  return { reader: 'isoinfo', view, lossyNames: view === 'joliet', rawNames: view === 'iso9660', entries: parseIsoinfoList(text, view) };
}

/** One file's content through `isoinfo -x` (NOT for multi-extent files: isoinfo extracts only the last extent). */
export function isoinfoExtractFile(image: string, view: View, isoPath: string): Buffer {
  const args = ['-i', image, ...(view === 'rockridge' ? ['-R'] : view === 'joliet' ? ['-J'] : []), '-x', isoPath];
  return run('isoinfo', args).stdout;
}

export interface VolumeInfo {
  volumeId: string;
  systemId: string;
  volumeSetId: string;
  publisherId: string;
  preparerId: string;
  applicationId: string;
  hasJoliet: boolean;
  hasRockRidge: boolean;
  /** "2026 01 01 00:00:00.00" as isoinfo -d -debug prints it. */
  creationDate?: string;
  modificationDate?: string;
  expirationDate?: string;
  effectiveDate?: string;
  volumeBlocks: number;
}

/** Volume descriptor facts through `isoinfo -d -debug`. */
export function isoinfoVolume(image: string): VolumeInfo {
  const out = run('isoinfo', ['-d', '-debug', '-i', image]).stdout.toString('latin1');
  const get = (label: string): string => {
    const m = new RegExp(`^${label}:[ \\t]?(.*)$`, 'm').exec(out);
    return m ? m[1]!.replace(/\s+$/, '') : '';
  };
  const date = (label: string): string | undefined => {
    const m = new RegExp(`^${label}:\\s+(.*)$`, 'm').exec(out);
    return m ? m[1]!.trim() : undefined;
  };
  return {
    volumeId: get('Volume id'),
    systemId: get('System id'),
    volumeSetId: get('Volume set id'),
    publisherId: get('Publisher id'),
    preparerId: get('Data preparer id'),
    applicationId: get('Application id'),
    hasJoliet: /^Joliet with UCS level \d found/m.test(out),
    hasRockRidge: /^Rock Ridge signatures version \d+ found/m.test(out),
    creationDate: date('Creation Date'),
    modificationDate: date('Modification Date'),
    expirationDate: date('Expiration Date'),
    effectiveDate: date('Effective Date'),
    volumeBlocks: Number(get('Volume size is')),
  };
}

// ------------------------------------------------------------------------------------------------
// iso-info / iso-read (libcdio)

export function parseIsoInfoList(out: string): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  let dir: string | null = null;
  const last = { p: null as string | null, more: false };
  const re = /^\s+(?:([-dlbcps?][-rwxsStT]{9})\s+(\d+)\s+(\d+)\s+(\d+)|([-d]))\s+\[LSN\s+(\d+)\]\s+(\d+)\s+(\w{3})\s+(\d+)\s+(\d{4})\s+(\d\d:\d\d:\d\d)  (.*)$/;
  for (const line of out.split('\n')) {
    if (line === '' || line.startsWith('Note:') || line === 'ISO-9660 Information') continue;
    if (/^Error /.test(line)) throw new Error(`iso-info: ${line} (in ${dir})`);
    const h = /^(\/.*):$/.exec(line);
    if (h) {
      dir = h[1]!.endsWith('/') ? h[1]! : h[1]! + '/';
      last.p = null;
      continue;
    }
    if (dir === null) continue; // header lines
    const m = re.exec(line);
    if (!m) throw new Error(`iso-info: cannot parse line ${JSON.stringify(line)}`);
    let name = m[12]!;
    let kind: Kind;
    let mode: number | undefined;
    let owner: { uid: number; gid: number } | undefined;
    if (m[1]) {
      owner = { uid: Number(m[3]), gid: Number(m[4]) };
      const pm = parseModeString(m[1]);
      if (pm.kind === 'other') throw new Error(`iso-info: unexpected type in ${line}`);
      kind = pm.kind;
      mode = pm.mode;
    } else {
      kind = m[5] === 'd' ? 'dir' : 'file';
    }
    let target: string | undefined;
    if (kind === 'symlink') {
      const i = name.indexOf(' -> ');
      if (i >= 0) {
        target = name.slice(i + 4);
        name = name.slice(0, i);
      }
    }
    if (name === '.' || name === '..') continue;
    const p = dir + name;
    const e: Entry = { path: p, kind, size: Number(m[7]), mtime: `${m[10]}-${MONTHS[m[8]!] ?? '??'}-${m[9]!.padStart(2, '0')}T${m[11]}Z` };
    if (mode !== undefined) e.mode = mode;
    if (owner) Object.assign(e, owner);
    if (target !== undefined) e.target = target;
    // iso-info shows no flags: consecutive file records with one name are the extents of one file.
    addEntry(entries, e, true, last);
    last.p = p;
    last.more = kind === 'file';
  }
  return entries;
}

/** iso-info's Joliet view (its default when the image has Joliet) or Rock Ridge view (--no-joliet). */
export function isoInfoList(image: string, view: 'joliet' | 'rockridge'): Listing {
  const args = ['--no-header', '-i', image, '-l', ...(view === 'rockridge' ? ['--no-joliet'] : [])];
  const r = run('iso-info', args);
  return { reader: 'iso-info', view, lossyNames: false, rawNames: false, entries: parseIsoInfoList(r.stdout.toString('utf8')) };
}

/** One file (by its Rock Ridge name) through iso-read, into `outFile`. */
export function isoReadFile(image: string, isoPath: string, outFile: string): Buffer {
  run('iso-read', ['--no-header', '-i', image, '-e', isoPath, '-o', outFile]);
  return fs.readFileSync(outFile);
}

/**
 * libcdio shows only the part of a Rock Ridge name that sits in the directory record (no CE support): rename
 * a listed entry whose name is a proper prefix of exactly one expected, unlisted sibling (with everything
 * below it). Returns the renamed expected paths (iso-read cannot reach them).
 */
export function libcdioCeFix(listing: Listing, expected: ExpectedTree): Set<string> {
  const r = ceFix(listing.entries, expected);
  listing.entries = new Map([...r.entries].map(([p, e]) => [p, { ...e, path: p }]));
  return r.fixed;
}

/** The same for any path-keyed map (listings and extracted trees of 7-Zip, which has no CE support either). */
export function ceFix<T>(entries: Map<string, T>, expected: ExpectedTree): { entries: Map<string, T>; fixed: Set<string> } {
  const listing = { entries };
  const fixed = new Set<string>();
  const byParent = new Map<string, string[]>();
  for (const p of expected.keys()) {
    const parent = p.slice(0, p.lastIndexOf('/'));
    byParent.set(parent, [...(byParent.get(parent) ?? []), p.slice(p.lastIndexOf('/') + 1)]);
  }
  const paths = [...listing.entries.keys()].sort((a, b) => a.split('/').length - b.split('/').length);
  const renames: [string, string][] = [];
  for (const p of paths) {
    let cur = p;
    for (const [from, to] of renames) if (cur.startsWith(from + '/')) cur = to + cur.slice(from.length);
    if (expected.has(cur)) continue;
    const parent = cur.slice(0, cur.lastIndexOf('/'));
    const name = cur.slice(cur.lastIndexOf('/') + 1);
    const cands = (byParent.get(parent) ?? []).filter((n) => n.length > name.length && n.startsWith(name) && !listing.entries.has(`${parent}/${n}`));
    if (cands.length === 1) {
      renames.push([cur, `${parent}/${cands[0]}`]);
      fixed.add(`${parent}/${cands[0]}`);
    }
  }
  if (renames.length === 0) return { entries, fixed };
  const out = new Map<string, T>();
  for (const [p, e] of listing.entries) {
    let cur = p;
    for (const [from, to] of renames) if (cur === from || cur.startsWith(from + '/')) cur = to + cur.slice(from.length);
    out.set(cur, e);
  }
  return { entries: out, fixed };
}

// ------------------------------------------------------------------------------------------------
// 7-Zip

export function parseSevenZipSlt(out: string): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const start = out.indexOf('\n----------\n');
  if (start < 0) return entries;
  const blocks = out.slice(start + 12).split(/\n\n+/);
  for (const block of blocks) {
    const f: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const i = line.indexOf(' = ');
      if (i > 0) f[line.slice(0, i)] = line.slice(i + 3);
      else if (line.endsWith(' =')) f[line.slice(0, -2)] = '';
    }
    if (f['Path'] === undefined) continue;
    const modeStr = f['Mode'] ?? '';
    let kind: Kind = f['Folder'] === '+' ? 'dir' : 'file';
    let mode: number | undefined;
    if (modeStr) {
      const pm = parseModeString(modeStr);
      if (pm.kind === 'symlink') kind = 'symlink';
      mode = pm.mode;
    }
    if (f['Symbolic Link']) kind = 'symlink';
    const e: Entry = { path: '/' + f['Path'], kind, size: Number(f['Size'] || 0) };
    if (mode !== undefined) e.mode = mode;
    if (kind === 'symlink') e.target = f['Symbolic Link'] ?? '';
    const mod = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)?$/.exec(f['Modified'] ?? '');
    if (mod) e.mtime = `${mod[1]}T${mod[2]}Z`;
    if (entries.has(e.path)) throw new Error(`7z listed ${e.path} twice`);
    entries.set(e.path, e);
  }
  return entries;
}

/** Which tree 7-Zip shows for an image with these file systems. */
export function sevenZipView(fileSystems: readonly View[]): View {
  return fileSystems.includes('joliet') ? 'joliet' : fileSystems.includes('rockridge') ? 'rockridge' : 'iso9660';
}

export function sevenZipList(image: string, view: View): Listing {
  // -tiso: read the ISO side (Joliet, else Rock Ridge, else plain), even when the image also carries UDF.
  const r = run(SEVEN_ZIP, ['l', '-slt', '-sccUTF-8', '-tiso', image]);
  const entries = parseSevenZipSlt(r.stdout.toString('utf8'));
  if (view !== 'rockridge') for (const e of entries.values()) delete e.mode;
  return { reader: '7z', view, lossyNames: false, rawNames: false, entries };
}

export function sevenZipExtract(image: string, view: View, dest: string): Extracted {
  fs.mkdirSync(dest, { recursive: true });
  run(SEVEN_ZIP, ['x', '-y', '-bd', '-tiso', `-o${dest}`, image]);
  return { reader: '7z', view, entries: readTree(dest) };
}

/** One file (path relative to the image root, as 7z names it) streamed into a hash. */
export function sevenZipHashFile(image: string, relPath: string) {
  return hashCommandOutput(SEVEN_ZIP, ['x', '-so', '-bd', '-tiso', image, relPath]);
}

// ------------------------------------------------------------------------------------------------
// bsdtar (libarchive)

function bsdtarViewArgs(view: View): string[] {
  switch (view) {
    case 'rockridge':
      return [];
    case 'joliet':
      return ['--options', 'iso9660:!rockridge'];
    case 'iso9660':
      return ['--options', 'iso9660:!rockridge,iso9660:!joliet'];
  }
}

function unescapeBsdtar(s: string): string {
  // bsdtar prints non-printable bytes as \n, \t, \\ or \ooo (octal bytes).
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== 0x5c) {
      bytes.push(c);
      continue;
    }
    const n = String.fromCharCode(raw[i + 1] ?? 0);
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 0x5c };
    if (simple[n] !== undefined) {
      bytes.push(simple[n]!);
      i++;
    } else if (/[0-7]/.test(n)) {
      const oct = raw.subarray(i + 1, i + 4).toString('latin1');
      bytes.push(parseInt(oct, 8));
      i += 3;
    } else bytes.push(c);
  }
  return Buffer.from(bytes).toString('utf8');
}

export function parseBsdtarTv(out: string, view: View): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const re = /^([-dlbcphs?][-rwxsStT]{9})\s+(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\w{3})\s+(\d+)\s+(\d\d:\d\d|\d{4}) (.*)$/;
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const m = re.exec(line);
    if (!m) throw new Error(`bsdtar: cannot parse line ${JSON.stringify(line)}`);
    let name = m[9]!;
    const pm = parseModeString(m[1]!);
    if (pm.kind === 'other') throw new Error(`bsdtar: unexpected type in ${line}`);
    let target: string | undefined;
    if (pm.kind === 'symlink') {
      const i = name.indexOf(' -> ');
      if (i < 0) throw new Error(`bsdtar: symlink without target: ${line}`);
      target = unescapeBsdtar(name.slice(i + 4));
      name = name.slice(0, i);
    } else if (/ link to /.test(name) && m[1]![0] !== 'd') {
      throw new Error(`bsdtar: hard link in listing: ${line}`);
    }
    name = unescapeBsdtar(name);
    if (name === '.' || name === './') continue;
    const p = '/' + name.replace(/^\.\//, '').replace(/\/$/, '');
    const e: Entry = { path: p, kind: pm.kind, size: Number(m[5]) };
    if (view === 'rockridge') {
      e.mode = pm.mode;
      if (/^\d+$/.test(m[3]!)) e.uid = Number(m[3]);
      if (/^\d+$/.test(m[4]!)) e.gid = Number(m[4]);
    }
    if (target !== undefined) e.target = target;
    if (entries.has(p)) throw new Error(`bsdtar listed ${p} twice`);
    entries.set(p, e);
  }
  return entries;
}

export function bsdtarList(image: string, view: View): Listing {
  const r = run('bsdtar', [...bsdtarViewArgs(view), '-tvf', image]);
  return { reader: 'bsdtar', view, lossyNames: false, rawNames: false, entries: parseBsdtarTv(r.stdout.toString('utf8'), view) };
}

export function bsdtarExtract(image: string, view: View, dest: string): Extracted {
  fs.mkdirSync(dest, { recursive: true });
  run('bsdtar', [...bsdtarViewArgs(view), '-xf', image, '-C', dest]);
  return { reader: 'bsdtar', view, entries: readTree(dest) };
}

/** One file (path relative to the image root) streamed into a hash. */
export function bsdtarHashFile(image: string, view: View, relPath: string) {
  return hashCommandOutput('bsdtar', [...bsdtarViewArgs(view), '-xOf', image, relPath]);
}

// ------------------------------------------------------------------------------------------------
// Trees on disk

/** Walks a directory (without following symlinks): path ("/a/b") → kind, size, sha256, mode, target. */
export function readTree(root: string): Map<string, ExtractedEntry> {
  const out = new Map<string, ExtractedEntry>();
  const walk = (dir: string, rel: string): void => {
    for (const name of fs.readdirSync(dir).sort()) {
      const abs = path.join(dir, name);
      const p = `${rel}/${name}`;
      const st = fs.lstatSync(abs);
      if (st.isSymbolicLink()) out.set(p, { kind: 'symlink', size: 0, target: fs.readlinkSync(abs), mode: st.mode & 0o7777 });
      else if (st.isDirectory()) {
        out.set(p, { kind: 'dir', size: 0, mode: st.mode & 0o7777 });
        walk(abs, p);
      } else if (st.isFile()) out.set(p, { kind: 'file', size: st.size, sha256: sha256FileSync(abs), mode: st.mode & 0o7777 });
      else throw new Error(`readTree: ${abs} is neither file, folder nor symlink`);
    }
  };
  walk(root, '');
  return out;
}

// ------------------------------------------------------------------------------------------------
// ISO 9660 naming rules (ECMA-119 7.5/7.6, 6.8.2.1; ISO 9660:1999 for level 4)

/**
 * Checks a raw ISO 9660 name (as recorded: "NAME.EXT;1" for files) against the promises for `level`.
 * Returns a problem description, or null when the name is fine.
 */
export function isoNameProblem(name: string, kind: 'file' | 'dir', level: 1 | 2 | 3 | 4): string | null {
  if (level === 4) {
    // ISO 9660:1999: up to 207 characters, no version number; the engine promises printable ASCII
    // (other characters become "_") and no ";".
    if (name.length === 0 || name.length > 207) return `length ${name.length} not in 1..207`;
    if (/;\d+$/.test(name)) return 'has a version number (";1") at level 4';
    if (!/^[\x20-\x3a\x3c-\x7e]+$/.test(name)) return 'has characters other than printable ASCII without ";"';
    return null;
  }
  if (kind === 'dir') {
    if (!/^[A-Z0-9_]+$/.test(name)) return 'directory name with characters other than A-Z 0-9 _';
    const max = level === 1 ? 8 : 31;
    if (name.length > max) return `directory name of ${name.length} characters (max ${max} at level ${level})`;
    return null;
  }
  const m = /^([A-Z0-9_]*)\.([A-Z0-9_]*);1$/.exec(name);
  if (!m) return 'file name is not NAME.EXT;1 of d-characters (ECMA-119 7.5.1: the "." and ";1" are required)';
  const [, base, ext] = m as unknown as [string, string, string];
  if (base.length + ext.length === 0) return 'empty name and extension';
  if (level === 1) {
    if (base.length > 8) return `name part of ${base.length} characters (max 8 at level 1)`;
    if (ext.length > 3) return `extension of ${ext.length} characters (max 3 at level 1)`;
  } else if (base.length + ext.length > 30) return `name + extension of ${base.length + ext.length} characters (max 30 at level ${level})`;
  return null;
}

/** Checks every name (and the depth) of a plain ISO 9660 listing with raw names. */
export function checkIsoNames(listing: Listing, level: 1 | 2 | 3 | 4, opts: { relocation?: boolean } = {}): string[] {
  if (!listing.rawNames) throw new Error(`${listing.reader} does not show raw ISO names`);
  const problems: string[] = [];
  for (const e of listing.entries.values()) {
    const parts = e.path.split('/').slice(1);
    const name = parts[parts.length - 1]!;
    // A relocated folder leaves an empty file record (Rock Ridge CL) with the folder's name in its old place.
    const kind = e.kind === 'dir' || (opts.relocation && isPlaceholder(e)) ? 'dir' : 'file';
    const p = isoNameProblem(name, kind, level);
    if (p) problems.push(`[${listing.reader}/iso9660] ${e.path}: ${p}`);
    if (level !== 4) {
      // ECMA-119 6.8.2.1: at most 8 directory levels (the root is level 1).
      const dirLevels = 1 + (e.kind === 'dir' ? parts.length : parts.length - 1);
      if (dirLevels > 8) problems.push(`[${listing.reader}/iso9660] ${e.path}: directory level ${dirLevels} > 8`);
      if (e.path.length - 1 > 255) problems.push(`[${listing.reader}/iso9660] ${e.path}: path length ${e.path.length - 1} > 255`);
    }
  }
  // Names must be unique within a directory without the version number.
  const seen = new Map<string, string>();
  for (const e of listing.entries.values()) {
    const key = e.path.replace(/;\d+$/, '').replace(/\.$/, '');
    const prev = seen.get(key);
    if (prev) problems.push(`[${listing.reader}/iso9660] ${e.path} and ${prev} are the same name`);
    seen.set(key, e.path);
  }
  return problems;
}

// ------------------------------------------------------------------------------------------------
// Comparing what readers show with what should be there

/** What a test says must be in the image, by exact (Rock Ridge) path. Directories included, root excluded. */
export interface Expect {
  kind: Kind;
  /** Files: content hash and size. */
  sha256?: string;
  size?: number;
  /** Files and symlinks: permission bits the Rock Ridge view must show (omit to not check). */
  mode?: number;
  /** Symlinks: link target. */
  target?: string;
}
export type ExpectedTree = Map<string, Expect>;

const fmtMode = (m: number | undefined) => (m === undefined ? 'none' : '0' + m.toString(8));

/**
 * Compares a listing with the expected tree, name for name. `nameOf` maps an expected path to the name the
 * view should show (Joliet truncation, isoinfo's lossy Latin-1); `modes` compares permission bits.
 */
export function compareListing(listing: Listing, expected: ExpectedTree, opts: { nameOf?: (p: string) => string; modes?: boolean; symlinks?: boolean; owner?: number } = {}): string[] {
  const tag = `[${listing.reader}/${listing.view} listing]`;
  const problems: string[] = [];
  const nameOf = (p: string) => {
    const n = opts.nameOf ? opts.nameOf(p) : p;
    return listing.lossyNames ? latin1Lossy(n) : n;
  };
  const want = new Map<string, Expect & { orig: string }>();
  for (const [p, e] of expected) {
    if (e.kind === 'symlink' && !opts.symlinks) continue;
    const n = nameOf(p);
    if (want.has(n)) throw new Error(`${tag} two expected paths map to ${n}`);
    want.set(n, { ...e, orig: p });
  }
  for (const [n, w] of want) {
    const got = listing.entries.get(n);
    const label = n === w.orig ? n : `${n} (for ${w.orig})`;
    if (!got) {
      problems.push(`${tag} ${label}: missing (expected ${w.kind})`);
      continue;
    }
    if (got.kind !== w.kind) problems.push(`${tag} ${label}: kind ${got.kind}, expected ${w.kind}`);
    if (w.kind === 'file' && w.size !== undefined && got.size !== w.size) problems.push(`${tag} ${label}: size ${got.size}, expected ${w.size}`);
    if (w.kind === 'symlink' && w.target !== undefined && got.target !== w.target) problems.push(`${tag} ${label}: symlink target ${JSON.stringify(got.target)}, expected ${JSON.stringify(w.target)}`);
    if (opts.modes && w.mode !== undefined && w.kind !== 'symlink' && got.mode !== w.mode) problems.push(`${tag} ${label}: mode ${fmtMode(got.mode)}, expected ${fmtMode(w.mode)}`);
    if (opts.owner !== undefined) {
      if (got.uid !== undefined && got.uid !== opts.owner) problems.push(`${tag} ${label}: uid ${got.uid}, expected ${opts.owner}`);
      if (got.gid !== undefined && got.gid !== opts.owner) problems.push(`${tag} ${label}: gid ${got.gid}, expected ${opts.owner}`);
    }
  }
  for (const [n, got] of listing.entries) if (!want.has(n)) problems.push(`${tag} ${n}: unexpected ${got.kind}${got.kind === 'file' ? ` of ${got.size} bytes` : ''}`);
  return problems;
}

/** Compares an extracted tree with the expected one: contents (sha256), kinds, symlink targets. */
export function compareExtracted(ex: Extracted, expected: ExpectedTree, opts: { nameOf?: (p: string) => string; symlinks?: boolean } = {}): string[] {
  const tag = `[${ex.reader}/${ex.view} extract]`;
  const problems: string[] = [];
  const want = new Map<string, Expect & { orig: string }>();
  for (const [p, e] of expected) {
    if (e.kind === 'symlink' && !opts.symlinks) continue;
    want.set(opts.nameOf ? opts.nameOf(p) : p, { ...e, orig: p });
  }
  for (const [n, w] of want) {
    const got = ex.entries.get(n);
    const label = n === w.orig ? n : `${n} (for ${w.orig})`;
    if (!got) {
      problems.push(`${tag} ${label}: missing (expected ${w.kind})`);
      continue;
    }
    if (got.kind !== w.kind) problems.push(`${tag} ${label}: kind ${got.kind}, expected ${w.kind}`);
    else if (w.kind === 'file' && w.sha256 !== undefined && got.sha256 !== w.sha256) problems.push(`${tag} ${label}: content differs (size ${got.size}, expected ${w.size}; sha256 ${got.sha256?.slice(0, 16)}…, expected ${w.sha256.slice(0, 16)}…)`);
    else if (w.kind === 'symlink' && got.target !== w.target) problems.push(`${tag} ${label}: symlink target ${JSON.stringify(got.target)}, expected ${JSON.stringify(w.target)}`);
  }
  for (const [n, got] of ex.entries) if (!want.has(n)) problems.push(`${tag} ${n}: unexpected ${got.kind}`);
  return problems;
}

const parentOf = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';

/** An empty file record named like a folder (no "." or ";"): a Rock Ridge CL placeholder in the plain view. */
export function isPlaceholder(e: { kind: Kind; size: number; path?: string }, name?: string): boolean {
  const n = name ?? e.path?.slice(e.path.lastIndexOf('/') + 1) ?? '';
  return e.kind === 'file' && e.size === 0 && /^[A-Z0-9_]+$/.test(n);
}

/**
 * Compares a view whose names are mangled (plain ISO 9660) with the expected tree WITHOUT assuming any
 * spelling: files are matched by content, and the directories they sit in must map one-to-one onto the
 * expected directories (same depth unless `relocation` is allowed). Symlinks may appear as empty files
 * (they need a directory record to carry their Rock Ridge entry) or not at all.
 */
export function compareMapped(tag: string, got: Map<string, { kind: Kind; size: number; sha256?: string }>, expected: ExpectedTree, opts: { relocation?: boolean; contents: boolean }): string[] {
  const problems: string[] = [];
  const expFiles = [...expected].filter(([, e]) => e.kind === 'file');
  const expDirs = [...expected].filter(([, e]) => e.kind === 'dir').map(([p]) => p);
  const nSymlinks = [...expected.values()].filter((e) => e.kind === 'symlink').length;
  const gotFiles = [...got].filter(([p, e]) => e.kind !== 'dir' && !(opts.relocation && isPlaceholder(e, p.slice(p.lastIndexOf('/') + 1))));
  const gotDirs = [...got].filter(([, e]) => e.kind === 'dir').map(([p]) => p);
  const key = (e: { size: number; sha256?: string }) => (opts.contents ? `${e.size}:${e.sha256}` : `${e.size}`);

  const byKeyExp = new Map<string, string[]>();
  for (const [p, e] of expFiles) {
    const k = key({ size: e.size ?? -1, sha256: e.sha256 });
    byKeyExp.set(k, [...(byKeyExp.get(k) ?? []), p]);
  }
  const byKeyGot = new Map<string, string[]>();
  for (const [p, e] of gotFiles) {
    if (e.kind === 'symlink') {
      problems.push(`${tag} ${p}: a symlink in the plain ISO 9660 view`);
      continue;
    }
    const k = key(e);
    byKeyGot.set(k, [...(byKeyGot.get(k) ?? []), p]);
  }
  const emptyKey = key({ size: 0, sha256: sha256('') });
  for (const [k, exps] of byKeyExp) {
    const gots = byKeyGot.get(k) ?? [];
    const extra = k === emptyKey ? nSymlinks : 0;
    if (gots.length < exps.length || gots.length > exps.length + extra) {
      problems.push(`${tag} ${exps.length} file(s) with content ${k.slice(0, 24)}… expected (${exps.slice(0, 3).join(', ')}${exps.length > 3 ? ', …' : ''}), found ${gots.length} (${gots.slice(0, 3).join(', ')})`);
    }
  }
  for (const [k, gots] of byKeyGot) {
    if (!byKeyExp.has(k) && !(k === emptyKey && gots.length <= nSymlinks)) problems.push(`${tag} unexpected file(s) ${gots.slice(0, 5).join(', ')} (content ${k.slice(0, 24)}…)`);
  }
  // Directories: the parent of each uniquely identified file tells which image directory stands for which
  // expected directory; that mapping must be a one-to-one function.
  const dirMap = new Map<string, string>();
  const rev = new Map<string, string>();
  const link = (expDir: string, gotDir: string, why: string) => {
    const a = dirMap.get(expDir);
    const b = rev.get(gotDir);
    if (a !== undefined && a !== gotDir) problems.push(`${tag} files of ${expDir} are split between ${a} and ${gotDir} (${why})`);
    else if (b !== undefined && b !== expDir) problems.push(`${tag} ${gotDir} holds files of both ${b} and ${expDir} (${why})`);
    else {
      dirMap.set(expDir, gotDir);
      rev.set(gotDir, expDir);
    }
  };
  for (const [k, exps] of byKeyExp) {
    const gots = byKeyGot.get(k) ?? [];
    if (exps.length === 1 && gots.length === 1) {
      link(parentOf(exps[0]!), parentOf(gots[0]!), exps[0]!);
      // The ancestors must correspond too (unless relocated).
      if (!opts.relocation) {
        let e = parentOf(exps[0]!);
        let g = parentOf(gots[0]!);
        while (e !== '/' && g !== '/') {
          e = parentOf(e);
          g = parentOf(g);
          link(e, g, `ancestor of ${exps[0]}`);
        }
        if (e !== g) problems.push(`${tag} ${gots[0]} is at another depth than ${exps[0]}`);
      }
    }
  }
  const expectedDirCount = expDirs.length;
  if (opts.relocation) {
    if (gotDirs.length < expectedDirCount || gotDirs.length > expectedDirCount + 1) problems.push(`${tag} ${gotDirs.length} directories, expected ${expectedDirCount} (+1 for relocation)`);
  } else if (gotDirs.length !== expectedDirCount) {
    problems.push(`${tag} ${gotDirs.length} directories, expected ${expectedDirCount}`);
  }
  for (const [e, g] of dirMap) {
    if (e !== '/' && !got.has(g)) problems.push(`${tag} directory ${g} (for ${e}) not listed`);
    if (!opts.relocation && e.split('/').length !== g.split('/').length) problems.push(`${tag} ${g} (for ${e}) is at another depth`);
  }
  return problems;
}

// ------------------------------------------------------------------------------------------------
// The whole verification of one image

export interface VerifyOptions {
  /** The file systems the image must have (exactly). */
  fileSystems: readonly View[];
  /** ISO 9660 level whose naming rules the plain names must obey. */
  level: 1 | 2 | 3 | 4;
  /** Maps an expected (exact) path to its Joliet path; default: the same. */
  jolietName?: (p: string) => string;
  /** The plain ISO 9660 view may hold relocated directories (deep trees with Rock Ridge). */
  relocation?: boolean;
  /** When set, every timestamp readers show must be this instant. */
  created?: Date;
  /** Scratch folder for extractions (removed by the caller). */
  work: string;
  /** Extra checks per file through isoinfo -x and iso-read (every file; default true). */
  perFile?: boolean;
  /** Extract whole trees (default true; off for images with huge files, checked by streaming instead). */
  extract?: boolean;
  /** uid and gid every Rock Ridge entry must show (default 0; null: not checked). */
  owner?: number | null;
}

export interface VerifyReport {
  problems: string[];
  /** reader/view pairs that listed the image, and that extracted it. */
  listed: string[];
  extracted: string[];
}

function isoinfoDateToIso(d: string | undefined): string | undefined {
  const m = d && /^(\d{4}) (\d\d) (\d\d) (\d\d):(\d\d):(\d\d)/.exec(d);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : undefined;
}

/**
 * Reads the image back with every reader in every view the image has, and compares with `expected`.
 * Returns all problems found (empty: all good). Use `assert.deepEqual(report.problems, [])`.
 */
export function verifyImage(image: string, expected: ExpectedTree, opts: VerifyOptions): VerifyReport {
  const problems: string[] = [];
  const listed: string[] = [];
  const extracted: string[] = [];
  const fsSet = new Set(opts.fileSystems);
  const hasRR = fsSet.has('rockridge');
  const hasJ = fsSet.has('joliet');
  let n = 0;
  const scratch = (what: string) => path.join(opts.work, `${++n}-${what}`);
  const guard = (what: string, f: () => string[]) => {
    try {
      problems.push(...f());
    } catch (e) {
      problems.push(`[${what}] failed: ${(e as Error).message.split('\n').slice(0, 3).join(' | ')}`);
    }
  };

  // Which file systems are there: isoinfo -d, iso-info's header and xorriso must agree with the manifest.
  guard('isoinfo -d', () => {
    const v = isoinfoVolume(image);
    const p: string[] = [];
    if (v.hasJoliet !== hasJ) p.push(`[isoinfo -d] Joliet ${v.hasJoliet ? 'present' : 'absent'}, expected ${hasJ ? 'present' : 'absent'}`);
    if (v.hasRockRidge !== hasRR) p.push(`[isoinfo -d] Rock Ridge ${v.hasRockRidge ? 'present' : 'absent'}, expected ${hasRR ? 'present' : 'absent'}`);
    const blocks = Math.ceil(fs.statSync(image).size / 2048);
    if (v.volumeBlocks !== blocks) p.push(`[isoinfo -d] volume space size ${v.volumeBlocks} blocks, but the image file has ${blocks}`);
    return p;
  });
  guard('iso-info header', () => {
    const out = run('iso-info', ['-i', image, '-l']).stdout.toString('utf8');
    const j = /^Joliet Level: \d/m.test(out);
    return j !== hasJ ? [`[iso-info] Joliet ${j ? 'present' : 'absent'}, expected ${hasJ ? 'present' : 'absent'}`] : [];
  });

  const symlinksInExpected = [...expected.values()].some((e) => e.kind === 'symlink');
  const files = [...expected].filter(([, e]) => e.kind === 'file');

  // ---- Rock Ridge view: exact names, modes, symlinks.
  if (hasRR) {
    const view: View = 'rockridge';
    const cmp = { modes: true, symlinks: true, owner: opts.owner === undefined ? 0 : opts.owner ?? undefined };
    // isoinfo, libcdio and 7-Zip do not follow Rock Ridge relocation (CL/RE): with relocated folders they
    // show the raw tree (checked in the plain view instead), whoever wrote the image.
    const followsRelocation = !opts.relocation;
    let beyondLibcdio = new Set<string>();
    for (const [name, f] of [
      ['xorriso', () => xorrisoList(image, view)],
      ...(followsRelocation ? [['isoinfo', () => isoinfoList(image, view)]] : []),
      ['bsdtar', () => bsdtarList(image, view)],
      ...(followsRelocation
        ? [['iso-info', () => {
            const l = isoInfoList(image, view);
            beyondLibcdio = libcdioCeFix(l, expected);
            return l;
          }]]
        : []),
      ...(!hasJ && followsRelocation
        ? [['7z', () => {
            const l = sevenZipList(image, view);
            l.entries = ceFix(l.entries, expected).entries;
            return l;
          }]]
        : []),
    ] as [string, () => Listing][]) {
      guard(`${name}/${view} listing`, () => compareListing(f(), expected, cmp));
      listed.push(`${name}/${view}`);
    }
    for (const [name, f] of [
      ['xorriso', (d: string) => xorrisoExtract(image, view, d)],
      ['bsdtar', (d: string) => bsdtarExtract(image, view, d)],
      ...(!hasJ && followsRelocation
        ? [['7z', (d: string) => {
            const x = sevenZipExtract(image, view, d);
            x.entries = ceFix(x.entries, expected).entries;
            return x;
          }]]
        : []),
    ] as [string, (d: string) => Extracted][]) {
      if (opts.extract === false) break;
      guard(`${name}/${view} extract`, () => compareExtracted(f(scratch(name)), expected, { symlinks: true }));
      extracted.push(`${name}/${view}`);
    }
    if (opts.perFile !== false && followsRelocation) {
      guard('isoinfo -R -x', () => {
        const p: string[] = [];
        for (const [fp, e] of files) {
          if ((e.size ?? 0) >= 2 ** 32) continue; // isoinfo -x reads only the last extent
          const got = sha256(isoinfoExtractFile(image, view, fp));
          if (got !== e.sha256) p.push(`[isoinfo/rockridge -x] ${fp}: content differs (sha256 ${got.slice(0, 16)}…, expected ${e.sha256?.slice(0, 16)}…)`);
        }
        return p;
      });
      extracted.push('isoinfo/rockridge (-x per file)');
      guard('iso-read', () => {
        const p: string[] = [];
        const tmp = scratch('iso-read');
        fs.mkdirSync(tmp);
        let i = 0;
        for (const [fp, e] of files) {
          if ((e.size ?? 0) > 64 << 20) continue;
          if ([...beyondLibcdio].some((b) => fp === b || fp.startsWith(b + '/'))) continue;
          const out = path.join(tmp, String(i++));
          let got: string;
          try {
            got = sha256(isoReadFile(image, fp, out));
          } catch (err) {
            p.push(`[iso-read/rockridge] ${fp}: ${(err as Error).message.split('\n').slice(1, 2).join('')}`);
            continue;
          }
          if (got !== e.sha256) p.push(`[iso-read/rockridge] ${fp}: content differs (sha256 ${got.slice(0, 16)}…, expected ${e.sha256?.slice(0, 16)}…)`);
        }
        return p;
      });
      extracted.push('iso-read/rockridge (per file)');
    }
  }

  // ---- Joliet view: exact names (or as mapped by jolietName), no symlinks.
  if (hasJ) {
    const view: View = 'joliet';
    const cmp = { nameOf: opts.jolietName, symlinks: false };
    for (const [name, f] of [
      ['xorriso', () => xorrisoList(image, view)],
      ['isoinfo', () => isoinfoList(image, view)],
      ['bsdtar', () => bsdtarList(image, view)],
      ['iso-info', () => isoInfoList(image, view)],
      ['7z', () => sevenZipList(image, view)],
    ] as [string, () => Listing][]) {
      guard(`${name}/${view} listing`, () => compareListing(f(), expected, cmp));
      listed.push(`${name}/${view}`);
    }
    for (const [name, f] of [
      ['xorriso', (d: string) => xorrisoExtract(image, view, d)],
      ['bsdtar', (d: string) => bsdtarExtract(image, view, d)],
      ['7z', (d: string) => sevenZipExtract(image, view, d)],
    ] as [string, (d: string) => Extracted][]) {
      if (opts.extract === false) break;
      guard(`${name}/${view} extract`, () => compareExtracted(f(scratch(name)), expected, cmp));
      extracted.push(`${name}/${view}`);
    }
  }

  // ---- Plain ISO 9660 view: names obey the level's rules; every file is there with the right content.
  {
    const view: View = 'iso9660';
    const relocation = opts.relocation ?? false;
    for (const [name, f] of [
      ['xorriso', () => xorrisoList(image, view)],
      ['isoinfo', () => isoinfoList(image, view)],
    ] as [string, () => Listing][]) {
      guard(`${name}/${view} listing`, () => {
        const l = f();
        listed.push(`${name}/${view}`);
        return [...checkIsoNames(l, opts.level, { relocation }), ...compareMapped(`[${name}/${view} listing]`, l.entries, expected, { relocation, contents: false })];
      });
    }
    guard('bsdtar/iso9660 listing', () => {
      const l = bsdtarList(image, view);
      listed.push(`bsdtar/${view}`);
      return compareMapped(`[bsdtar/${view} listing]`, l.entries, expected, { relocation, contents: false });
    });
    if (!hasJ && !hasRR) {
      guard('7z/iso9660 listing', () => compareMapped(`[7z/${view} listing]`, sevenZipList(image, view).entries, expected, { relocation, contents: false }));
      listed.push(`7z/${view}`);
    }
    for (const [name, f] of [
      ['xorriso', (d: string) => xorrisoExtract(image, view, d)],
      ['bsdtar', (d: string) => bsdtarExtract(image, view, d)],
      ...(!hasJ && !hasRR ? [['7z', (d: string) => sevenZipExtract(image, view, d)]] : []),
    ] as [string, (d: string) => Extracted][]) {
      if (opts.extract === false) break;
      guard(`${name}/${view} extract`, () => compareMapped(`[${name}/${view} extract]`, f(scratch(name)).entries, expected, { relocation, contents: true }));
      extracted.push(`${name}/${view}`);
    }
  }

  // ---- Timestamps.
  if (opts.created) {
    const want = opts.created.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const day = want.slice(0, 10);
    guard('timestamps', () => {
      const p: string[] = [];
      const lists: Listing[] = [sevenZipList(image, sevenZipView(opts.fileSystems))];
      if (hasJ) lists.push(isoInfoList(image, 'joliet'));
      if (hasRR) lists.push(isoInfoList(image, 'rockridge'));
      for (const l of lists) {
        for (const e of l.entries.values()) {
          if (e.mtime !== undefined && e.mtime !== want) p.push(`[${l.reader}/${l.view} time] ${e.path}: ${e.mtime}, expected ${want}`);
        }
      }
      for (const v of ['iso9660', ...(hasJ ? ['joliet'] : []), ...(hasRR ? ['rockridge'] : [])] as View[]) {
        for (const e of isoinfoList(image, v).entries.values()) {
          if (e.mday !== day) p.push(`[isoinfo/${v} date] ${e.path}: ${e.mday}, expected ${day}`);
        }
      }
      const vol = isoinfoVolume(image);
      for (const [k, d] of [['creation', vol.creationDate], ['modification', vol.modificationDate]] as const) {
        if (isoinfoDateToIso(d) !== want) p.push(`[isoinfo -d] volume ${k} date ${d}, expected ${want}`);
      }
      const pvd = xorrisoPvdInfo(image);
      const compact = want.replace(/[-:TZ]/g, '') + '00';
      for (const k of ['Creation Time', 'Modif. Time']) {
        if (pvd[k] !== compact) p.push(`[xorriso -pvd_info] ${k} ${pvd[k]}, expected ${compact}`);
      }
      return p;
    });
  }
  void symlinksInExpected;
  return { problems, listed, extracted };
}
