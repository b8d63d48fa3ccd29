/**
 * Human-readable rendering of an InspectReport: the volume descriptors, then one aligned listing per file
 * system, then the problems. Sizes are in bytes.
 */
import type {
  BootCatalogReport,
  BootPlatform,
  FileSystemReport,
  InspectEntry,
  InspectReport,
  SystemAreaReport,
  VolumeDescriptor,
} from './types';
import { formatUdfFileSystem } from './udf-format';

/** Paths longer than this do not widen the path column (they push their own line's columns instead). */
const MAX_PATH_COLUMN = 60;

/**
 * `session`: how the caller chose the session (e.g. "session 3 of 3, from block 1234 (from the emulated disc's
 * state)"), printed instead of the plain "from block N" line.
 */
export function formatInspectText(report: InspectReport, opts: { session?: string } = {}): string {
  const out: string[] = [];
  out.push(`Image  ${report.image}`);
  out.push(`Size   ${report.size} bytes (${report.sectors} sectors of ${report.sectorSize} bytes)`);
  // Only a later session gets a line: the output for a plain image is as it always was.
  if (opts.session) out.push(`Session ${opts.session}`);
  else if (report.sessionStart > 0) {
    out.push(`Session from block ${report.sessionStart} (descriptors at ${report.sessionStart + 16}, UDF anchor at ${report.sessionStart + 256})`);
  }
  out.push('');
  out.push('Volume descriptors');
  for (const vd of report.volumeDescriptors) out.push(...formatDescriptor(vd));
  if (report.volumeDescriptors.length === 0) {
    const udfOnly = report.fileSystems.some((f) => f.type === 'udf');
    out.push(`  none (no ISO 9660 volume descriptor set${udfOnly ? ': a UDF-only image' : ''})`);
  }
  if (report.boot) out.push('', ...formatBootCatalog(report.boot));
  if (report.systemArea) out.push('', ...formatSystemArea(report.systemArea));
  for (const fs of report.fileSystems) {
    out.push('');
    out.push(...(fs.type === 'udf' ? formatUdfFileSystem(fs) : formatFileSystem(fs)));
  }
  out.push('');
  if (report.problems.length === 0) out.push('No problems found.');
  else {
    out.push(`Problems (${report.problems.length})`);
    for (const p of report.problems) out.push(`  - ${p}`);
  }
  return `${out.join('\n')}\n`;
}

function formatDescriptor(vd: VolumeDescriptor): string[] {
  const head = `  LBA ${String(vd.lba).padEnd(3)} `;
  const indent = ' '.repeat(head.length + 2);
  const field = (name: string, value: string): string => `${indent}${name.padEnd(16)}${value}`;
  switch (vd.kind) {
    case 'terminator':
      return [`${head}terminator (version ${vd.version})`];
    case 'unknown':
      return [`${head}unknown type ${vd.type} (version ${vd.version})`];
    case 'partition':
      return [
        `${head}volume partition (version ${vd.version})`,
        field('system id', vd.systemId),
        field('partition id', vd.partitionId),
        field('extent', `@LBA ${vd.partitionLba}, ${vd.partitionSize} blocks`),
      ];
    case 'boot':
      return [
        `${head}boot record (version ${vd.version})`,
        field('boot system', vd.bootSystemId),
        ...(vd.bootId ? [field('boot id', vd.bootId)] : []),
        ...(vd.elTorito ? [field('boot catalog', `@LBA ${vd.elTorito.catalogLba} (El Torito)`)] : []),
      ];
    default: {
      const title =
        vd.kind === 'primary'
          ? 'primary'
          : vd.kind === 'enhanced'
            ? 'enhanced (ISO 9660:1999)'
            : vd.joliet
              ? `supplementary: Joliet, UCS-2 level ${vd.joliet.level} (${vd.joliet.escape})`
              : 'supplementary';
      const lines = [`${head}${title} (version ${vd.version})`];
      const text: [string, string][] = [
        ['volume id', vd.volumeId],
        ['system id', vd.systemId],
        ['volume set id', vd.volumeSetId],
        ['publisher', vd.publisherId],
        ['preparer', vd.preparerId],
        ['application', vd.applicationId],
        ['copyright file', vd.copyrightFileId],
        ['abstract file', vd.abstractFileId],
        ['bibliographic', vd.bibliographicFileId],
      ];
      for (const [k, v] of text) if (v !== '') lines.push(field(k, v));
      lines.push(
        field(
          'volume space',
          `${vd.volumeSpaceSize} blocks of ${vd.logicalBlockSize} bytes (${vd.volumeSpaceSize * vd.logicalBlockSize} bytes)`,
        ),
      );
      if (vd.volumeSetSize !== 1 || vd.volumeSequenceNumber !== 1) {
        lines.push(field('volume set', `volume ${vd.volumeSequenceNumber} of ${vd.volumeSetSize}`));
      }
      lines.push(
        field(
          'path table',
          `${vd.pathTableSize} bytes, L @LBA ${vd.pathTableL}${vd.pathTableLOptional ? ` (+${vd.pathTableLOptional})` : ''}, M @LBA ${vd.pathTableM}${
            vd.pathTableMOptional ? ` (+${vd.pathTableMOptional})` : ''
          }`,
        ),
      );
      lines.push(field('root directory', `@LBA ${vd.rootDirectory.lba}, ${vd.rootDirectory.length} bytes`));
      const dates: [string, string | null][] = [
        ['created', vd.creationDate],
        ['modified', vd.modificationDate],
        ['expires', vd.expirationDate],
        ['effective', vd.effectiveDate],
      ];
      for (const [k, v] of dates) if (v) lines.push(field(k, v));
      lines.push(field('file structure', `version ${vd.fileStructureVersion}`));
      return lines;
    }
  }
}

const PLATFORM_TEXT: Record<string, string> = { bios: 'BIOS', efi: 'UEFI', ppc: 'PowerPC', mac: 'Mac' };
const EMULATION_TEXT: Record<string, string> = {
  none: 'no emulation',
  'floppy-1.2': '1.2 MB floppy',
  'floppy-1.44': '1.44 MB floppy',
  'floppy-2.88': '2.88 MB floppy',
  'hard-disk': 'hard disk',
};

function platformText(p: BootPlatform): string {
  return typeof p === 'number' ? `platform 0x${hex(p, 2)}` : (PLATFORM_TEXT[p] ?? p);
}

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}

/** Rows of cells as columns separated by two spaces; `right` lists the right-aligned columns. */
function table(rows: string[][], right: number[], indent = '  '): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    `${indent}${r.map((c, i) => (right.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')}`.trimEnd(),
  );
}

function formatBootCatalog(boot: BootCatalogReport): string[] {
  const v = boot.validation;
  const head = v
    ? `validation entry: ${platformText(v.platform)}${v.id ? `, id "${v.id}"` : ''}, checksum ${v.checksumOk ? 'ok' : 'WRONG'}`
    : 'not readable';
  const lines = [`Boot catalog (El Torito) @LBA ${boot.catalogLba} — ${head}`];
  if (boot.entries.length === 0) return lines;
  const rows: string[][] = [['#', 'section', 'platform', 'boot', 'emulation', 'load seg', 'sys type', 'sectors', 'LBA', '']];
  boot.entries.forEach((e, i) => {
    const notes: string[] = [];
    if (e.bootInfoTable) notes.push('boot info table');
    if (e.id) notes.push(`id "${e.id}"`);
    if (e.selection) notes.push(`selection ${e.selection}`);
    if (e.mediaFlags) notes.push(`media flags 0x${hex(e.mediaFlags, 2)}`);
    rows.push([
      String(i + 1),
      e.section === 0 ? 'default' : String(e.section),
      platformText(e.platform),
      e.bootable ? 'yes' : 'no',
      typeof e.emulation === 'number' ? `type ${e.emulation}?` : EMULATION_TEXT[e.emulation],
      e.loadSegment === 0 ? '0x07C0 (0)' : `0x${hex(e.loadSegment, 4)}`,
      `0x${hex(e.systemType, 2)}`,
      String(e.sectorCount),
      String(e.lba),
      notes.join(', '),
    ]);
  });
  return [...lines, ...table(rows, [0, 7, 8])];
}

function formatSystemArea(sa: SystemAreaReport): string[] {
  const lines = ['System area'];
  if (sa.mbr) {
    const m = sa.mbr;
    lines.push(`  MBR: boot code ${m.bootCode ? 'present' : 'none (zeros)'}, disk signature 0x${hex(m.diskSignature, 8)}, ${plural(m.partitions.length, 'partition', 'partitions')}`);
    if (m.partitions.length > 0) {
      const rows = [['#', 'status', 'type', 'start', 'sectors', 'bytes']];
      for (const p of m.partitions) {
        rows.push([
          String(p.number),
          `0x${hex(p.status, 2)}${p.bootable ? ' active' : ''}`,
          `0x${hex(p.type, 2)}${p.typeName ? ` ${p.typeName}` : ''}`,
          String(p.start),
          String(p.sectors),
          String(p.sectors * 512),
        ]);
      }
      lines.push(...table(rows, [0, 3, 4, 5], '    '));
    }
  }
  if (sa.gpt) {
    const g = sa.gpt;
    const crc = (ok: boolean | null) => (ok === null ? 'not read' : ok ? 'ok' : 'WRONG');
    lines.push(
      `  GPT: revision ${g.revision}, disk GUID ${g.diskGuid}, header CRC ${crc(g.headerCrcOk)}, ${g.entryCount} entries of ${g.entrySize} bytes @LBA ${g.entryArrayLba} (CRC ${crc(g.entriesCrcOk)})`,
      `       usable LBA ${g.firstUsableLba}-${g.lastUsableLba}, backup header @LBA ${g.backup.lba} ${g.backup.ok ? 'ok' : 'NOT OK'}`,
    );
    if (g.partitions.length > 0) {
      const rows = [['#', 'first LBA', 'last LBA', 'sectors', 'type', 'name', 'attributes', 'GUID']];
      for (const p of g.partitions) {
        rows.push([
          String(p.number),
          String(p.firstLba),
          String(p.lastLba),
          String(p.sectors),
          p.typeName ?? p.typeGuid,
          JSON.stringify(p.name),
          p.attributes,
          p.guid,
        ]);
      }
      lines.push(...table(rows, [0, 1, 2, 3], '    '));
    }
  }
  if (sa.apm) lines.push('  APM: Apple Partition Map present');
  return lines;
}

function formatFileSystem(fs: FileSystemReport): string[] {
  const counts = [
    plural(fs.directories, 'directory', 'directories'),
    plural(fs.files, 'file', 'files'),
    ...(fs.symlinks > 0 ? [plural(fs.symlinks, 'symlink', 'symlinks')] : []),
    `${fs.totalFileBytes} bytes`,
  ];
  const lines = [`${fs.label} — ${counts.join(', ')}${fs.complete ? '' : ' (incomplete listing)'}`];
  if (fs.rockRidge && fs.rockRidge.extensions.length > 0) {
    lines.push(`  extensions: ${fs.rockRidge.extensions.map((e) => `${e.id} v${e.version}`).join(', ')}`);
  }
  const rr = fs.type === 'rockridge';
  const rows = fs.entries.map((e) => row(e, rr));
  const pathWidth = Math.min(MAX_PATH_COLUMN, Math.max(0, ...rows.map((r) => r.path.length)));
  const sizeWidth = Math.max(0, ...rows.map((r) => r.size.length));
  const width = (k: 'nlink' | 'uid' | 'gid'): number => Math.max(0, ...rows.map((r) => r[k].length));
  const [nlinkWidth, uidWidth, gidWidth] = [width('nlink'), width('uid'), width('gid')];
  for (const r of rows) {
    const cols = [r.path.padEnd(pathWidth)];
    if (rr) cols.push(r.mode.padEnd(10), `${r.nlink.padStart(nlinkWidth)} ${r.uid.padStart(uidWidth)} ${r.gid.padStart(gidWidth)}`);
    cols.push(r.size.padStart(sizeWidth), r.time.padEnd(16), r.where);
    lines.push(`  ${cols.join('  ')}`.trimEnd());
  }
  return lines;
}

interface Row {
  path: string;
  mode: string;
  nlink: string;
  uid: string;
  gid: string;
  size: string;
  time: string;
  where: string;
}

function row(e: InspectEntry, rr: boolean): Row {
  let path = e.kind === 'dir' ? (e.path.endsWith('/') ? e.path : `${e.path}/`) : e.path;
  if (e.kind === 'symlink') path += ` -> ${e.target ?? ''}`;
  const first = e.extents[0];
  let where = '';
  if (e.kind !== 'symlink' && first && (e.size > 0 || e.kind === 'dir')) {
    where = `@LBA ${first.lba}`;
    if (e.extents.length > 1) where += ` (+${plural(e.extents.length - 1, 'more extent', 'more extents')})`;
  }
  if (e.relocated) where += ' (relocated)';
  if (e.hidden) where += ' (hidden)';
  if (e.associated) where += ' (associated)';
  const time = (rr ? (e.times?.modify ?? e.recorded) : e.recorded) ?? '';
  return {
    path,
    mode: rr ? (e.modeString ?? '') : '',
    nlink: e.nlink !== undefined ? String(e.nlink) : '',
    uid: e.uid !== undefined ? String(e.uid) : '',
    gid: e.gid !== undefined ? String(e.gid) : '',
    size: e.kind === 'file' ? String(e.size) : '',
    // "2024-03-01T12:34:56+01:00" -> "2024-03-01 12:34"
    time: time.slice(0, 16).replace('T', ' '),
    where: where.trim(),
  };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
