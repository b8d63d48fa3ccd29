/**
 * The volume descriptor set (ECMA-119 6.7.1, 8): from logical sector 16 up to and including the terminator.
 */
import { InputError } from '../util/errors';
import { both16, both32, decDateTime, isAllZero, printable, trimmedAscii, trimmedUcs2 } from './bytes';
import type { Problems } from './problems';
import { ImageReader, SECTOR } from './reader';
import { parseDirRecord } from './records';
import type {
  VolumeDescriptor,
  VolumeDescriptorBoot,
  VolumeDescriptorPartition,
  VolumeDescriptorVolume,
} from './types';

/** ECMA-119 6.2.1: sectors 0-15 are the system area; the descriptor set starts at sector 16. */
export const FIRST_DESCRIPTOR = 16;
/** Real images have 2-6 descriptors; anything beyond this is not a descriptor set we should trust. */
const MAX_DESCRIPTORS = 64;

const TYPE_BOOT = 0;
const TYPE_PRIMARY = 1;
const TYPE_SUPPLEMENTARY = 2;
const TYPE_PARTITION = 3;
const TYPE_TERMINATOR = 255;

/**
 * Reads the set from sessionStart + 16 (a later session of a multisession disc; its descriptors record absolute
 * addresses). Throws InputError when there is no usable set there.
 */
export async function readVolumeDescriptors(r: ImageReader, problems: Problems, sessionStart = 0): Promise<VolumeDescriptor[]> {
  const first = sessionStart + FIRST_DESCRIPTOR;
  const minSize = (first + 1) * SECTOR;
  if (r.size < minSize) {
    throw new InputError(
      `${r.name}: file is ${r.size} bytes, too small for an ISO 9660 image (the volume descriptors start at byte ${
        first * SECTOR
      }${sessionStart ? `, sector ${first}: session start ${sessionStart} + 16` : ''}, ECMA-119 6.2.1)`,
    );
  }
  const out: VolumeDescriptor[] = [];
  let terminated = false;
  for (let lba = first; lba < first + MAX_DESCRIPTORS; lba++) {
    const sec = await r.sector(lba);
    if (sec.length < SECTOR) {
      if (lba === first) throw new InputError(`${r.name}: image ends inside the first volume descriptor (sector ${first})`);
      problems.add(`volume descriptor set not terminated: the image ends at sector ${lba} (ECMA-119 6.7.1)`);
      break;
    }
    const ident = sec.subarray(1, 6).toString('latin1');
    if (ident !== 'CD001') {
      if (lba === first) throw new InputError(`${r.name}: ${describeNonIso(sec, first)}`);
      problems.add(
        `volume descriptor set not terminated: sector ${lba} has no "CD001" standard identifier (ECMA-119 6.7.1, 8.1.2)`,
      );
      break;
    }
    const type = sec[0];
    const version = sec[6];
    if (type === TYPE_TERMINATOR) {
      out.push({ kind: 'terminator', lba, type, version });
      terminated = true;
      break;
    }
    if (type === TYPE_PRIMARY || type === TYPE_SUPPLEMENTARY) out.push(parseVolume(sec, lba, problems));
    else if (type === TYPE_BOOT) out.push(parseBoot(sec, lba, r, problems));
    else if (type === TYPE_PARTITION) out.push(parsePartition(sec, lba));
    else {
      out.push({ kind: 'unknown', lba, type, version });
      problems.add(`volume descriptor at sector ${lba} has unknown type ${type} (ECMA-119 8.1.1)`);
    }
  }
  if (!terminated && out.length >= MAX_DESCRIPTORS) {
    problems.add(`volume descriptor set not terminated within ${MAX_DESCRIPTORS} sectors (ECMA-119 6.7.1)`);
  }
  const primaries = out.filter((d) => d.kind === 'primary');
  if (primaries.length === 0) {
    throw new InputError(
      `${r.name}: no primary volume descriptor in the volume descriptor set (sectors ${first}-${
        first + out.length - 1
      }; ECMA-119 6.7.1 requires one)`,
    );
  }
  if (primaries.length > 1) problems.add(`${primaries.length} primary volume descriptors; the first one is used`);
  return out;
}

function describeNonIso(sec: Buffer, first: number): string {
  if (isAllZero(sec)) return `sector ${first} is all zeros: not an ISO 9660 image (no volume descriptor)`;
  const ident = sec.subarray(1, 6).toString('latin1');
  if (ident === 'BEA01' || ident.startsWith('NSR0')) {
    return `not an ISO 9660 image: sector ${first} holds a UDF descriptor ("${ident}") and no ISO 9660 volume descriptor`;
  }
  return `not an ISO 9660 image: no "CD001" volume descriptor at sector ${first} (byte ${
    first * SECTOR + 1
  } holds "${printable(sec.subarray(1, 6))}")`;
}

/**
 * PVD (ECMA-119 8.4), SVD (8.5) and EVD (ISO 9660:1999: an SVD with version 2). Byte offsets:
 *   8 system id (32)          40 volume id (32)          80 volume space size (both 32)
 *  88 escape sequences (SVD)  120 volume set size        124 volume sequence number   128 logical block size
 * 132 path table size         140 L table  144 optional L  148 M table  152 optional M
 * 156 root directory record (34)   190 volume set id (128)   318 publisher (128)   446 preparer (128)
 * 574 application (128)   702 copyright file (37)   739 abstract file (37)   776 bibliographic file (37)
 * 813 creation  830 modification  847 expiration  864 effective (17 each, 8.4.26.1)   881 file structure version
 */
function parseVolume(sec: Buffer, lba: number, problems: Problems): VolumeDescriptorVolume {
  const type = sec[0];
  const version = sec[6];
  const kind: VolumeDescriptorVolume['kind'] =
    type === TYPE_PRIMARY ? 'primary' : version === 2 ? 'enhanced' : 'supplementary';
  const joliet = kind === 'supplementary' ? jolietLevel(sec.subarray(88, 120)) : null;
  const text = joliet ? trimmedUcs2 : trimmedAscii;
  const where = `${kind} volume descriptor at sector ${lba}`;
  const checked = (name: string, v: { value: number; consistent: boolean }): number => {
    if (!v.consistent) problems.add(`${where}: ${name} differs between its little- and big-endian copies (ECMA-119 7.2.3/7.3.3)`);
    return v.value;
  };
  if (kind === 'primary' && version !== 1) problems.add(`${where}: version is ${version}, expected 1 (ECMA-119 8.4.3)`);
  const root = parseDirRecord(sec, 156, lba * SECTOR + 156);
  let rootDirectory = { lba: 0, length: 0 };
  if (typeof root === 'string') problems.add(`${where}: root directory record ${root} (ECMA-119 8.4.18)`);
  else rootDirectory = { lba: root.lba, length: root.dataLength };
  return {
    kind,
    lba,
    type,
    version,
    joliet,
    volumeFlags: kind === 'primary' ? 0 : sec[7],
    escapeSequences: kind === 'primary' || isAllZero(sec, 88, 120) ? '' : trimZeroHex(sec.subarray(88, 120)),
    systemId: text(sec, 8, 32),
    volumeId: text(sec, 40, 32),
    volumeSpaceSize: checked('volume space size', both32(sec, 80)),
    volumeSetSize: checked('volume set size', both16(sec, 120)),
    volumeSequenceNumber: checked('volume sequence number', both16(sec, 124)),
    logicalBlockSize: checked('logical block size', both16(sec, 128)),
    pathTableSize: checked('path table size', both32(sec, 132)),
    pathTableL: sec.readUInt32LE(140),
    pathTableLOptional: sec.readUInt32LE(144),
    pathTableM: sec.readUInt32BE(148),
    pathTableMOptional: sec.readUInt32BE(152),
    rootDirectory,
    volumeSetId: text(sec, 190, 128),
    publisherId: text(sec, 318, 128),
    preparerId: text(sec, 446, 128),
    applicationId: text(sec, 574, 128),
    copyrightFileId: text(sec, 702, 37),
    abstractFileId: text(sec, 739, 37),
    bibliographicFileId: text(sec, 776, 37),
    creationDate: decDateTime(sec, 813),
    modificationDate: decDateTime(sec, 830),
    expirationDate: decDateTime(sec, 847),
    effectiveDate: decDateTime(sec, 864),
    fileStructureVersion: sec[881],
  };
}

/** Joliet: the SVD escape sequences field holds %/@ (UCS-2 level 1), %/C (level 2) or %/E (level 3). */
function jolietLevel(esc: Buffer): { level: 1 | 2 | 3; escape: string } | null {
  for (let i = 0; i + 2 < esc.length; i++) {
    if (esc[i] !== 0x25 || esc[i + 1] !== 0x2f) continue;
    const c = esc[i + 2];
    if (c === 0x40) return { level: 1, escape: '%/@' };
    if (c === 0x43) return { level: 2, escape: '%/C' };
    if (c === 0x45) return { level: 3, escape: '%/E' };
  }
  return null;
}

function trimZeroHex(b: Buffer): string {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return b.subarray(0, end).toString('hex');
}

/** Boot record, ECMA-119 8.2: 7 boot system id (32), 39 boot id (32), 71 boot system use (El Torito: catalog LBA). */
function parseBoot(sec: Buffer, lba: number, r: ImageReader, problems: Problems): VolumeDescriptorBoot {
  const bootSystemId = trimmedAscii(sec, 7, 32);
  let elTorito: VolumeDescriptorBoot['elTorito'] = null;
  if (bootSystemId === 'EL TORITO SPECIFICATION') {
    const catalogLba = sec.readUInt32LE(71);
    elTorito = { catalogLba };
    if ((catalogLba + 1) * SECTOR > r.size) {
      problems.add(`boot record at sector ${lba}: El Torito boot catalog at LBA ${catalogLba} is past the end of the image (truncated)`);
    }
  }
  return { kind: 'boot', lba, type: sec[0], version: sec[6], bootSystemId, bootId: trimmedAscii(sec, 39, 32), elTorito };
}

/** Volume partition descriptor, ECMA-119 8.6: 8 system id, 40 partition id, 72 location, 80 size (both 32). */
function parsePartition(sec: Buffer, lba: number): VolumeDescriptorPartition {
  return {
    kind: 'partition',
    lba,
    type: sec[0],
    version: sec[6],
    systemId: trimmedAscii(sec, 8, 32),
    partitionId: trimmedAscii(sec, 40, 32),
    partitionLba: both32(sec, 72).value,
    partitionSize: both32(sec, 80).value,
  };
}
