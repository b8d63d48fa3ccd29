/** Text rendering of a UDF file system report (`discforge inspect` without --json). */
import type { FileSystemReport } from './types';
import type { UdfEntry } from './udf';

const MAX_PATH_COLUMN = 60;

export function formatUdfFileSystem(fs: FileSystemReport): string[] {
  const d = fs.udf;
  const counts = [
    `${fs.directories} ${fs.directories === 1 ? 'directory' : 'directories'}`,
    `${fs.files} ${fs.files === 1 ? 'file' : 'files'}`,
    ...(fs.symlinks > 0 ? [`${fs.symlinks} ${fs.symlinks === 1 ? 'symlink' : 'symlinks'}`] : []),
    `${fs.totalFileBytes} bytes`,
  ];
  const lines = [`${fs.label} — ${counts.join(', ')}${fs.complete ? '' : ' (incomplete listing)'}`];
  if (d) {
    const field = (k: string, v: string) => lines.push(`  ${k.padEnd(18)}${v}`);
    field('recognition', d.recognition.map((r) => `${r.id}@${r.lba}`).join(' '));
    field('anchors', d.anchors.map((a) => `@LBA ${a}`).join(', ') || 'none');
    if (d.mainVds) field('descriptors', `main @LBA ${d.mainVds.lba} (${d.mainVds.length / 2048} blocks), reserve @LBA ${d.reserveVds?.lba} (${(d.reserveVds?.length ?? 0) / 2048} blocks)${d.vdsUsed === 'reserve' ? ', read from the reserve' : ''}`);
    if (d.volumeId) field('volume id', d.volumeId);
    if (d.volumeSetId) field('volume set id', d.volumeSetId);
    if (d.logicalVolumeId) field('logical volume', d.logicalVolumeId);
    if (d.fileSetId) field('file set', d.fileSetId);
    if (d.implementationId) field('implementation', d.implementationId);
    if (d.applicationId) field('application', d.applicationId);
    if (d.recorded) field('recorded', d.recorded);
    field('revisions', `read ≥ ${d.minReadRevision ?? '?'}, written ${d.minWriteRevision ?? '?'}–${d.maxWriteRevision ?? '?'} (domain ${d.domainId || '?'})`);
    for (const p of d.partitions) {
      field(`partition ${p.number}`, `@LBA ${p.start}, ${p.length} blocks, ${p.accessType}, ${p.contents}`);
    }
    d.partitionMaps.forEach((m, i) => {
      if (m.type === 1) field(`map ${i}`, `type 1: partition ${m.partition}`);
      else if ('metadataFile' in m) {
        const where = m.extents.map((x) => `@LBA ${x.lba} (${x.blocks} blocks)`).join(', ');
        field(`map ${i}`, `metadata partition on partition ${m.partition}: metadata file @${m.metadataFile}, mirror @${m.mirrorFile}${m.duplicated ? ' (duplicated)' : ''}, units ${m.allocationUnit}/${m.alignmentUnit}; read from the ${m.readFrom ?? '—'}: ${where}`);
      } else field(`map ${i}`, `type 2: ${m.kind}, partition ${m.partition}`);
    });
    if (d.integrity) {
      field('integrity', `${d.integrity.type}${d.integrity.files !== null ? `, ${d.integrity.files} files, ${d.integrity.directories} directories` : ''}, next unique ID ${d.integrity.nextUniqueId}`);
    }
  }
  const rows = (fs.entries as UdfEntry[]).map((e) => {
    let path = e.kind === 'dir' ? (e.path.endsWith('/') ? e.path : `${e.path}/`) : e.path;
    if (e.kind === 'symlink') path += ` -> ${e.target ?? ''}`;
    const first = e.extents[0];
    let where = '';
    if (e.embedded) where = e.size > 0 || e.kind !== 'file' ? `in ICB @LBA ${e.icb}` : '';
    else if (first) {
      where = `@LBA ${first.lba}`;
      if (e.extents.length > 1) where += ` (+${e.extents.length - 1} more ${e.extents.length === 2 ? 'extent' : 'extents'})`;
    }
    return {
      path,
      mode: e.modeString ?? '',
      nlink: String(e.nlink ?? ''),
      owner: `${e.uid ?? ''} ${e.gid ?? ''}`,
      size: e.kind === 'file' ? String(e.size) : '',
      time: (e.recorded ?? '').slice(0, 16).replace('T', ' '),
      where,
    };
  });
  const w = (k: 'path' | 'nlink' | 'owner' | 'size') => Math.max(0, ...rows.map((r) => r[k].length));
  const pathWidth = Math.min(MAX_PATH_COLUMN, w('path'));
  for (const r of rows) {
    lines.push(`  ${[r.path.padEnd(pathWidth), r.mode.padEnd(10), r.nlink.padStart(w('nlink')), r.owner.padEnd(w('owner')), r.size.padStart(w('size')), r.time.padEnd(16), r.where].join('  ')}`.trimEnd());
  }
  return lines;
}
