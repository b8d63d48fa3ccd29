/**
 * Human-readable rendering of an InspectReport: the volume descriptors, then one aligned listing per file
 * system, then the problems. Sizes are in bytes.
 */
import type { FileSystemReport, InspectEntry, InspectReport, VolumeDescriptor } from './types';
import { formatUdfFileSystem } from './udf-format';

/** Paths longer than this do not widen the path column (they push their own line's columns instead). */
const MAX_PATH_COLUMN = 60;

export function formatInspectText(report: InspectReport): string {
  const out: string[] = [];
  out.push(`Image  ${report.image}`);
  out.push(`Size   ${report.size} bytes (${report.sectors} sectors of ${report.sectorSize} bytes)`);
  out.push('');
  out.push('Volume descriptors');
  for (const vd of report.volumeDescriptors) out.push(...formatDescriptor(vd));
  if (report.volumeDescriptors.length === 0) out.push('  none (no ISO 9660 volume descriptor set: a UDF-only image)');
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
