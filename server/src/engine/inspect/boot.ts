/**
 * Boot structures of an image: the El Torito boot catalog (El Torito 1.0: validation entry, initial/default
 * entry, section headers, section entries and their extensions) and the hybrid partition tables in the
 * system area (MBR, GPT with its backup, an Apple Partition Map signature).
 *
 * Every read is bounded: the catalog is read up to MAX_CATALOG_BYTES whatever its sections claim, a GPT entry
 * array larger than MAX_GPT_ARRAY_BYTES is not read, and boot info table checksums share one byte budget.
 * Damage ends in `problems`, never in an exception.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { InputError } from '../util/errors';
import { isAllZero, printable } from './bytes';
import { FIRST_DESCRIPTOR, readVolumeDescriptors } from './descriptors';
import { Problems } from './problems';
import { ImageReader, SECTOR } from './reader';
import { crc32 } from '../util/crc32';
import type {
  BootCatalogReport,
  BootEmulation,
  BootEntryReport,
  BootPlatform,
  GptPartitionReport,
  GptReport,
  MbrPartitionReport,
  MbrReport,
  SystemAreaReport,
} from './types';

/** El Torito records are 32 bytes; 32 sectors hold 2048 of them, far more than any real catalog. */
const RECORD = 32;
const MAX_CATALOG_BYTES = 32 * SECTOR;
/** Boot info table checksums read at most this much of one boot file, and this much over all entries. */
const MAX_BOOT_INFO_FILE = 64 * 1024 * 1024;
const BOOT_INFO_BUDGET = 256 * 1024 * 1024;
/** GPT: 512-byte logical blocks (what every hybrid ISO uses); the array is normally 128 x 128 bytes = 16 KiB. */
const GPT_BLOCK = 512;
const MAX_GPT_ARRAY_BYTES = 4 * 1024 * 1024;

// ------------------------------------------------------------------------------------------------------------
// Stand-alone entry point

export interface BootInspection {
  /** Absent when the image has no El Torito boot record. */
  boot?: BootCatalogReport;
  /** Absent when the system area holds no MBR, GPT or APM. */
  systemArea?: SystemAreaReport;
  problems: string[];
}

/**
 * Reads the El Torito boot catalog and the system area of the image at `path` (what `inspect` reports as
 * `boot` and `systemArea`), for tests and tools that need only these. Throws InputError when the file cannot
 * be opened; an image without an ISO 9660 descriptor set still gets its system area read. `sessionStart`: read
 * the boot record of the session that starts there (its descriptor set at sessionStart + 16; the catalog address
 * it records is absolute); the system area is always the image's sectors 0-15.
 */
export async function readBoot(path: string, opts: { sessionStart?: number } = {}): Promise<BootInspection> {
  const sessionStart = opts.sessionStart ?? 0;
  if (!Number.isSafeInteger(sessionStart) || sessionStart < 0) {
    throw new InputError(`readBoot: the session start must be a block number (an integer ≥ 0), got ${sessionStart}`);
  }
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new InputError(`${path}: cannot open image: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InputError(`${path}: not a regular file`);
    const reader = new ImageReader(fh, path, st.size);
    const problems = new Problems();
    let catalogLba: number | null = null;
    let pvdLba = sessionStart + FIRST_DESCRIPTOR;
    try {
      const descriptors = await readVolumeDescriptors(reader, problems, sessionStart);
      for (const d of descriptors) {
        if (d.kind === 'boot' && d.elTorito && catalogLba === null) catalogLba = d.elTorito.catalogLba;
      }
      pvdLba = descriptors.find((d) => d.kind === 'primary')?.lba ?? pvdLba;
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      problems.add(e.message);
    }
    const out: BootInspection = { problems: [] };
    if (catalogLba !== null) out.boot = await readBootCatalog(reader, catalogLba, pvdLba, problems);
    const sa = await readSystemArea(reader, problems);
    if (sa) out.systemArea = sa;
    out.problems = problems.toArray();
    return out;
  } finally {
    await fh.close();
  }
}

// ------------------------------------------------------------------------------------------------------------
// El Torito

const PLATFORMS: Record<number, Exclude<BootPlatform, number>> = { 0x00: 'bios', 0x01: 'ppc', 0x02: 'mac', 0xef: 'efi' };
const EMULATIONS: BootEmulation[] = ['none', 'floppy-1.2', 'floppy-1.44', 'floppy-2.88', 'hard-disk'];
/** Bytes of the emulated diskette (El Torito 2.x, boot media type 1-3). */
const FLOPPY_BYTES: Record<string, number> = { 'floppy-1.2': 1_228_800, 'floppy-1.44': 1_474_560, 'floppy-2.88': 2_949_120 };

export function platformOf(id: number): BootPlatform {
  return PLATFORMS[id] ?? id;
}

/**
 * The boot catalog at `catalogLba` (from the El Torito boot record). `pvdLba` is where the primary volume
 * descriptor is (what a boot info table must point to). A catalog that starts past the end of the image gives
 * an empty report (the boot record parser already reports that).
 */
export async function readBootCatalog(
  reader: ImageReader,
  catalogLba: number,
  pvdLba: number,
  problems: Problems,
): Promise<BootCatalogReport> {
  const report: BootCatalogReport = { catalogLba, validation: null, entries: [] };
  const start = catalogLba * SECTOR;
  if (start >= reader.size) return report;
  const where = `El Torito boot catalog at LBA ${catalogLba}`;
  const buf = await reader.read(start, Math.min(MAX_CATALOG_BYTES, reader.size - start));
  if (buf.length < 2 * RECORD) {
    problems.add(`${where}: the image ends ${buf.length} bytes into the catalog, before the default entry (truncated)`);
    return report;
  }

  // Validation entry (El Torito 2.1): header id 1, platform, id string (24), checksum, key 55 AA.
  const headerOk = buf[0] === 0x01;
  const keyOk = buf[30] === 0x55 && buf[31] === 0xaa;
  let sum = 0;
  for (let i = 0; i < RECORD; i += 2) sum = (sum + buf.readUInt16LE(i)) & 0xffff;
  const checksumOk = sum === 0;
  report.validation = { platform: platformOf(buf[1]), id: idText(buf.subarray(4, 28)), checksumOk };
  if (!headerOk) problems.add(`${where}: validation entry header id is 0x${hex2(buf[0])}, expected 0x01 (El Torito 2.1)`);
  if (!keyOk) {
    problems.add(`${where}: validation entry key is ${hex2(buf[30])} ${hex2(buf[31])}, expected 55 AA (El Torito 2.1)`);
  }
  if (!checksumOk) problems.add(`${where}: validation entry checksum is wrong: its 16-bit words add up to 0x${sum.toString(16).padStart(4, '0')}, not 0 (El Torito 2.1)`);
  if (!headerOk && !keyOk) {
    problems.add(`${where}: no validation entry: this is not a boot catalog; entries not read`);
    return report;
  }

  const budget = { bytes: BOOT_INFO_BUDGET };
  const addEntry = async (at: number, section: number, platform: BootPlatform, label: string, id: string | null) => {
    const e = parseEntry(buf, at, section, platform, section > 0);
    if (id) e.id = id;
    await checkEntry(reader, e, buf[at], `${where}, ${label}`, pvdLba, budget, problems);
    report.entries.push(e);
  };

  // Initial/default entry (El Torito 2.2).
  const indicator = buf[RECORD];
  if (indicator !== 0x88 && indicator !== 0x00) {
    problems.add(`${where}: default entry boot indicator is 0x${hex2(indicator)}, expected 0x88 or 0x00 (El Torito 2.2)`);
  }
  await addEntry(RECORD, 0, report.validation.platform, 'default entry', null);

  // Section headers (2.3), each followed by its section entries (2.4) and their extensions (2.5).
  let off = 2 * RECORD;
  let section = 0;
  let final = false;
  let stopped = false;
  while (!final && !stopped && off + RECORD <= buf.length) {
    const hdr = buf[off];
    if (hdr !== 0x90 && hdr !== 0x91) {
      if (section > 0) {
        problems.add(`${where}: section ${section} header says more sections follow (0x90), but the record at byte ${off} is not a section header (0x${hex2(hdr)})`);
      }
      break;
    }
    section++;
    final = hdr === 0x91;
    const platform = platformOf(buf[off + 1]);
    const count = buf.readUInt16LE(off + 2);
    const id = idText(buf.subarray(off + 4, off + RECORD));
    const label = `section ${section}`;
    off += RECORD;
    for (let n = 1; n <= count; n++) {
      if (off + RECORD > buf.length) {
        const why = buf.length < MAX_CATALOG_BYTES ? 'the image ends' : `the catalog reader stops after ${MAX_CATALOG_BYTES} bytes`;
        problems.add(`${where}: ${label} header claims ${count} entries, but ${why} after ${n - 1}`);
        stopped = true;
        break;
      }
      const b = buf[off];
      if (b === 0x90 || b === 0x91) {
        problems.add(`${where}: ${label} header claims ${count} entries, but the next section header follows after ${n - 1}`);
        break;
      }
      if (isAllZero(buf, off, off + RECORD)) {
        problems.add(`${where}: ${label} header claims ${count} entries, but entry ${n} is empty (all zeros)`);
        stopped = true;
        break;
      }
      if (b !== 0x88 && b !== 0x00) {
        problems.add(`${where}: ${label} entry ${n} has boot indicator 0x${hex2(b)}, expected 0x88 or 0x00 (El Torito 2.4); catalog not read further`);
        stopped = true;
        break;
      }
      const entryAt = off;
      off += RECORD;
      // Extensions (El Torito 2.5): indicator 0x44, bit 5 of byte 1 = another one follows.
      let more = (buf[entryAt + 1] & 0x20) !== 0;
      const extensions: Buffer[] = [];
      while (more) {
        if (off + RECORD > buf.length || buf[off] !== 0x44) {
          problems.add(`${where}: ${label} entry ${n} announces a selection criteria extension (media type bit 5) that is not there (El Torito 2.5)`);
          break;
        }
        extensions.push(buf.subarray(off + 2, off + RECORD));
        more = (buf[off + 1] & 0x20) !== 0;
        off += RECORD;
      }
      await addEntry(entryAt, section, platform, `${label} entry ${n}`, id);
      if (extensions.length > 0) {
        const e = report.entries[report.entries.length - 1];
        const sel = trimZeroHex(Buffer.concat([buf.subarray(entryAt + 12, entryAt + RECORD), ...extensions]));
        if (sel) e.selection = sel;
      }
    }
  }
  if (section > 0 && !final && !stopped && off + RECORD > buf.length) {
    problems.add(`${where}: no final section header (0x91) before ${buf.length < MAX_CATALOG_BYTES ? 'the end of the image' : `byte ${MAX_CATALOG_BYTES} of the catalog`}`);
  }
  return report;
}

function parseEntry(buf: Buffer, at: number, section: number, platform: BootPlatform, isSection: boolean): BootEntryReport {
  const media = buf[at + 1];
  const e: BootEntryReport = {
    section,
    platform,
    bootable: buf[at] === 0x88,
    emulation: EMULATIONS[media & 0x0f] ?? media & 0x0f,
    loadSegment: buf.readUInt16LE(at + 2),
    systemType: buf[at + 4],
    sectorCount: buf.readUInt16LE(at + 6),
    lba: buf.readUInt32LE(at + 8),
  };
  if (isSection) {
    // Bit 5 (an extension follows) is structure, not a property; bits 6 and 7 say the image holds drivers.
    if (media & 0xc0) e.mediaFlags = media & 0xc0;
    const sel = trimZeroHex(buf.subarray(at + 12, at + RECORD));
    if (sel) e.selection = sel;
  }
  return e;
}

async function checkEntry(
  reader: ImageReader,
  e: BootEntryReport,
  indicator: number,
  where: string,
  pvdLba: number,
  budget: { bytes: number },
  problems: Problems,
): Promise<void> {
  if (typeof e.emulation === 'number') {
    problems.add(`${where}: boot media type ${e.emulation} is not one of 0-4 (El Torito 2.2)`);
    return;
  }
  if (indicator !== 0x88 && e.lba === 0 && e.sectorCount === 0) return; // an unused, non-bootable slot
  const start = e.lba * SECTOR;
  if (start >= reader.size) {
    problems.add(`${where}: boot image at LBA ${e.lba} is past the end of the image (${reader.size} bytes)`);
    return;
  }
  let bytes = 0;
  if (e.emulation === 'none') bytes = e.sectorCount * 512;
  else if (e.emulation === 'hard-disk') bytes = 512;
  else bytes = FLOPPY_BYTES[e.emulation] ?? 0;
  if (start + bytes > reader.size) {
    problems.add(`${where}: boot image at LBA ${e.lba} (${bytes} bytes to load) ends past the end of the image (${reader.size} bytes)`);
  }
  if (e.emulation === 'none') e.bootInfoTable = await hasBootInfoTable(reader, e.lba, pvdLba, budget, where, problems);
}

/**
 * mkisofs/isolinux boot info table at bytes 8-63 of a no-emulation image: LBA of the PVD, LBA of the boot file,
 * its length, and the 32-bit sum of its 32-bit little-endian words from byte 64 to its end. "Present" means
 * all four agree with the image: a heuristic, as any file may hold such bytes by chance.
 */
async function hasBootInfoTable(
  reader: ImageReader,
  lba: number,
  pvdLba: number,
  budget: { bytes: number },
  where: string,
  problems: Problems,
): Promise<boolean> {
  const start = lba * SECTOR;
  const head = await reader.bytes(start, 64);
  if (head.length < 64) return false;
  const biPvd = head.readUInt32LE(8);
  const biFile = head.readUInt32LE(12);
  const biLength = head.readUInt32LE(16);
  const biCsum = head.readUInt32LE(20);
  if (biPvd !== pvdLba || biFile !== lba || biLength <= 64 || start + biLength > reader.size) return false;
  if (biLength > MAX_BOOT_INFO_FILE || biLength > budget.bytes) {
    problems.add(`${where}: boot info table checksum not verified: the boot file claims ${biLength} bytes, more than this reader checks`);
    return false;
  }
  budget.bytes -= biLength;
  let sum = 0;
  const CHUNK = 1024 * 1024;
  for (let pos = 64; pos < biLength; pos += CHUNK) {
    const len = Math.min(CHUNK, biLength - pos);
    const chunk = await reader.read(start + pos, len);
    if (chunk.length < len) return false;
    const whole = len - (len % 4);
    for (let i = 0; i < whole; i += 4) sum = (sum + chunk.readUInt32LE(i)) >>> 0;
    if (whole < len) {
      const tail = Buffer.alloc(4);
      chunk.copy(tail, 0, whole);
      sum = (sum + tail.readUInt32LE(0)) >>> 0;
    }
  }
  return sum === biCsum;
}

// ------------------------------------------------------------------------------------------------------------
// System area: MBR, GPT, APM

/** Reads the partition tables at the start of the image; null when there is none. */
export async function readSystemArea(reader: ImageReader, problems: Problems): Promise<SystemAreaReport | null> {
  const first = await reader.read(0, 2 * GPT_BLOCK);
  if (first.length < GPT_BLOCK) return null;
  const out: SystemAreaReport = {};
  const mbr = readMbr(first, reader.size, problems);
  if (mbr) out.mbr = mbr;
  if (first.length >= 2 * GPT_BLOCK && first.toString('latin1', GPT_BLOCK, GPT_BLOCK + 8) === 'EFI PART') {
    out.gpt = await readGpt(reader, first.subarray(GPT_BLOCK, 2 * GPT_BLOCK), problems);
  }
  // Apple Partition Map: a driver descriptor map "ER" in block 0, the map's first entry "PM" in block 1.
  if (first.toString('latin1', 0, 2) === 'ER') {
    const bs = first.readUInt16BE(2);
    const pm = bs === 512 || bs === 2048 ? await reader.read(bs, 2) : Buffer.alloc(0);
    if (pm.toString('latin1') === 'PM') out.apm = true;
  }
  return out.mbr || out.gpt || out.apm ? out : null;
}

const MBR_TYPES: Record<number, string> = {
  0x00: 'empty',
  0x01: 'FAT12',
  0x04: 'FAT16 <32M',
  0x05: 'extended',
  0x06: 'FAT16',
  0x07: 'NTFS/exFAT/HPFS',
  0x0b: 'FAT32',
  0x0c: 'FAT32 (LBA)',
  0x0e: 'FAT16 (LBA)',
  0x0f: 'extended (LBA)',
  0x17: 'hidden NTFS/HPFS',
  0x82: 'Linux swap',
  0x83: 'Linux',
  0x96: 'ISO 9660 (CHRP)',
  0xa5: 'FreeBSD',
  0xa6: 'OpenBSD',
  0xa9: 'NetBSD',
  0xaf: 'HFS/HFS+',
  0xcd: 'ISO 9660 (grub-mkrescue)',
  0xee: 'GPT protective',
  0xef: 'EFI System',
};

/** Classic MBR: boot code 0-439, disk signature 440, four 16-byte entries at 446, 55 AA at 510. */
function readMbr(sec: Buffer, imageSize: number, problems: Problems): MbrReport | null {
  if (sec[510] !== 0x55 || sec[511] !== 0xaa) return null;
  const partitions: MbrPartitionReport[] = [];
  for (let n = 1; n <= 4; n++) {
    const at = 446 + (n - 1) * 16;
    if (isAllZero(sec, at, at + 16)) continue;
    const chs = (o: number) => ({ cylinder: sec[o + 2] | ((sec[o + 1] & 0xc0) << 2), head: sec[o], sector: sec[o + 1] & 0x3f });
    const p: MbrPartitionReport = {
      number: n,
      status: sec[at],
      bootable: sec[at] === 0x80,
      type: sec[at + 4],
      chsStart: chs(at + 1),
      chsEnd: chs(at + 5),
      start: sec.readUInt32LE(at + 8),
      sectors: sec.readUInt32LE(at + 12),
    };
    const name = MBR_TYPES[p.type];
    if (name) p.typeName = name;
    if (p.status !== 0x00 && p.status !== 0x80) problems.add(`MBR partition ${n}: status 0x${hex2(p.status)} is neither 0x00 nor 0x80 (active)`);
    if ((p.start + p.sectors) * 512 > imageSize) {
      problems.add(`MBR partition ${n}: sectors ${p.start}-${p.start + p.sectors - 1} end past the end of the image (${imageSize / 512} sectors of 512 bytes)`);
    }
    partitions.push(p);
  }
  return { bootCode: !isAllZero(sec, 0, 440), diskSignature: sec.readUInt32LE(440), partitions };
}

const GPT_TYPES: Record<string, string> = {
  'C12A7328-F81F-11D2-BA4B-00A0C93EC93B': 'EFI System',
  'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7': 'Microsoft basic data',
  'E3C9E316-0B5C-4DB8-817D-F92DF00215AE': 'Microsoft reserved',
  'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC': 'Windows recovery',
  '0FC63DAF-8483-4772-8E79-3D69D8477DE4': 'Linux filesystem',
  '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F': 'Linux swap',
  'E6D6D379-F507-44C2-A23C-238F2A3DF928': 'Linux LVM',
  'A19D880F-05FC-4D3B-A006-743F0F84911E': 'Linux RAID',
  '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709': 'Linux root (x86-64)',
  '44479540-F297-41B2-9AF7-D131D5F0458A': 'Linux root (x86)',
  'B921B045-1DF0-41C3-AF44-4C6F280D3FAE': 'Linux root (ARM64)',
  '21686148-6449-6E6F-744E-656564454649': 'BIOS boot',
  '024DEE41-33E7-11D3-9D69-0008C781F39F': 'MBR partition scheme',
  '9E1A2D38-C612-4316-AA26-8B49521E5A8B': 'PReP boot',
  '48465300-0000-11AA-AA11-00306543ECAC': 'Apple HFS+',
  '7C3457EF-0000-11AA-AA11-00306543ECAC': 'Apple APFS',
  '426F6F74-0000-11AA-AA11-00306543ECAC': 'Apple boot',
  '516E7CB4-6ECF-11D6-8FF8-00022D09712B': 'FreeBSD data',
  '83BD6B9D-7F41-11DC-BE0B-001560B84F0F': 'FreeBSD boot',
};

/** GUIDs as everyone prints them: the first three fields little-endian, the last two as bytes. */
export function guidText(b: Buffer, at = 0): string {
  const h = (i: number) => hex2(b[at + i]).toUpperCase();
  const part = (idx: number[]) => idx.map(h).join('');
  return `${part([3, 2, 1, 0])}-${part([5, 4])}-${part([7, 6])}-${part([8, 9])}-${part([10, 11, 12, 13, 14, 15])}`;
}

interface GptHeader {
  signature: boolean;
  revision: number;
  headerSize: number;
  headerCrcOk: boolean;
  myLba: number;
  alternateLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
  diskGuid: string;
  entryArrayLba: number;
  entryCount: number;
  entrySize: number;
  entriesCrc: number;
}

/** UEFI 2.x 5.3.2 GPT header: signature, revision, size, CRC32, LBAs, disk GUID, entry array geometry. */
function parseGptHeader(h: Buffer): GptHeader {
  const headerSize = h.readUInt32LE(12);
  let headerCrcOk = false;
  if (headerSize >= 92 && headerSize <= h.length) {
    const copy = Buffer.from(h.subarray(0, headerSize));
    copy.writeUInt32LE(0, 16);
    headerCrcOk = crc32(copy) === h.readUInt32LE(16);
  }
  return {
    signature: h.toString('latin1', 0, 8) === 'EFI PART',
    revision: h.readUInt32LE(8),
    headerSize,
    headerCrcOk,
    myLba: u64(h, 24),
    alternateLba: u64(h, 32),
    firstUsableLba: u64(h, 40),
    lastUsableLba: u64(h, 48),
    diskGuid: guidText(h, 56),
    entryArrayLba: u64(h, 72),
    entryCount: h.readUInt32LE(80),
    entrySize: h.readUInt32LE(84),
    entriesCrc: h.readUInt32LE(88),
  };
}

/** Reads a header's entry array; null (with a problem) when it cannot or should not be read. */
async function readGptArray(reader: ImageReader, h: GptHeader, what: string, problems: Problems): Promise<Buffer | null> {
  if (h.entrySize < 128 || h.entrySize % 8 !== 0) {
    problems.add(`${what}: partition entry size ${h.entrySize} is not a multiple of 8 of at least 128 (UEFI 5.3.2); entries not read`);
    return null;
  }
  const bytes = h.entryCount * h.entrySize;
  if (bytes > MAX_GPT_ARRAY_BYTES) {
    problems.add(`${what}: partition entry array of ${h.entryCount} entries x ${h.entrySize} bytes is larger than ${MAX_GPT_ARRAY_BYTES} bytes; entries not read`);
    return null;
  }
  const start = h.entryArrayLba * GPT_BLOCK;
  if (start + bytes > reader.size) {
    problems.add(`${what}: partition entry array at LBA ${h.entryArrayLba} (${bytes} bytes) ends past the end of the image`);
    return null;
  }
  const arr = await reader.read(start, bytes);
  return arr.length === bytes ? arr : null;
}

async function readGpt(reader: ImageReader, sec: Buffer, problems: Problems): Promise<GptReport> {
  const h = parseGptHeader(sec);
  const where = 'GPT header at LBA 1';
  const gpt: GptReport = {
    revision: `${h.revision >>> 16}.${h.revision & 0xffff}`,
    headerSize: h.headerSize,
    headerCrcOk: h.headerCrcOk,
    myLba: h.myLba,
    alternateLba: h.alternateLba,
    firstUsableLba: h.firstUsableLba,
    lastUsableLba: h.lastUsableLba,
    diskGuid: h.diskGuid,
    entryArrayLba: h.entryArrayLba,
    entryCount: h.entryCount,
    entrySize: h.entrySize,
    entriesCrcOk: null,
    backup: { lba: h.alternateLba, ok: false },
    partitions: [],
  };
  if (h.revision !== 0x00010000) problems.add(`${where}: revision ${gpt.revision}, expected 1.0`);
  if (h.headerSize < 92 || h.headerSize > GPT_BLOCK) problems.add(`${where}: header size ${h.headerSize} is outside 92-512 (UEFI 5.3.2)`);
  else if (!h.headerCrcOk) problems.add(`${where}: header CRC32 0x${hex8(sec.readUInt32LE(16))} is wrong`);
  if (h.myLba !== 1) problems.add(`${where}: MyLBA is ${h.myLba}, expected 1`);
  if (h.firstUsableLba > h.lastUsableLba) problems.add(`${where}: first usable LBA ${h.firstUsableLba} is after the last usable LBA ${h.lastUsableLba}`);

  const arr = await readGptArray(reader, h, where, problems);
  if (arr) {
    gpt.entriesCrcOk = crc32(arr) === h.entriesCrc;
    if (!gpt.entriesCrcOk) problems.add(`${where}: partition entry array CRC32 is 0x${hex8(crc32(arr))}, the header says 0x${hex8(h.entriesCrc)}`);
    const sectors = Math.floor(reader.size / GPT_BLOCK);
    for (let i = 0; i < h.entryCount; i++) {
      const at = i * h.entrySize;
      if (isAllZero(arr, at, at + 16)) continue; // unused entry: type GUID zero
      const first = u64(arr, at + 32);
      const last = u64(arr, at + 40);
      const typeGuid = guidText(arr, at);
      const p: GptPartitionReport = {
        number: i + 1,
        typeGuid,
        guid: guidText(arr, at + 16),
        firstLba: first,
        lastLba: last,
        sectors: last >= first ? last - first + 1 : 0,
        attributes: `0x${arr.readUInt32LE(at + 52).toString(16).padStart(8, '0')}${arr.readUInt32LE(at + 48).toString(16).padStart(8, '0')}`,
        name: utf16Name(arr.subarray(at + 56, at + Math.min(h.entrySize, 128))),
      };
      const typeName = GPT_TYPES[typeGuid];
      if (typeName) p.typeName = typeName;
      if (last < first) problems.add(`GPT partition ${p.number}: last LBA ${last} is before its first LBA ${first}`);
      else if (last >= sectors) problems.add(`GPT partition ${p.number}: LBA ${first}-${last} ends past the end of the image (${sectors} sectors of 512 bytes)`);
      gpt.partitions.push(p);
    }
  }

  // The backup header (UEFI 5.3.2: at AlternateLBA, normally the last block), with its own array.
  const bwhere = `backup GPT header at LBA ${h.alternateLba}`;
  if ((h.alternateLba + 1) * GPT_BLOCK > reader.size) {
    problems.add(`${bwhere} is past the end of the image (truncated?)`);
    return gpt;
  }
  const bsec = await reader.read(h.alternateLba * GPT_BLOCK, GPT_BLOCK);
  const b = parseGptHeader(bsec);
  const bad: string[] = [];
  if (!b.signature) bad.push('no "EFI PART" signature');
  else {
    if (!b.headerCrcOk) bad.push('header CRC32 is wrong');
    if (b.myLba !== h.alternateLba) bad.push(`its MyLBA is ${b.myLba}`);
    if (b.alternateLba !== h.myLba) bad.push(`its AlternateLBA is ${b.alternateLba}, not ${h.myLba}`);
    if (b.diskGuid !== h.diskGuid) bad.push(`disk GUID ${b.diskGuid} differs`);
    if (b.firstUsableLba !== h.firstUsableLba || b.lastUsableLba !== h.lastUsableLba) bad.push('usable LBA range differs');
    if (b.entryCount !== h.entryCount || b.entrySize !== h.entrySize) bad.push('entry array geometry differs');
    const barr = await readGptArray(reader, b, bwhere, problems);
    if (!barr) bad.push('entry array not readable');
    else if (crc32(barr) !== b.entriesCrc) bad.push('entry array CRC32 is wrong');
    else if (arr && !barr.equals(arr)) bad.push('partition entries differ from the primary ones');
  }
  for (const m of bad) problems.add(`${bwhere}: ${m}`);
  gpt.backup.ok = bad.length === 0;
  return gpt;
}

function utf16Name(b: Buffer): string {
  let end = 0;
  while (end + 1 < b.length && (b[end] !== 0 || b[end + 1] !== 0)) end += 2;
  return b.toString('utf16le', 0, end);
}

// ------------------------------------------------------------------------------------------------------------
// Small helpers

/** 64-bit little-endian as a number (exact up to 2^53; beyond that, approximate, which no image reaches). */
function u64(b: Buffer, at: number): number {
  return b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 0x1_0000_0000;
}

/** An El Torito id string: trailing NULs and spaces dropped, non-ASCII bytes as \xNN. */
function idText(b: Buffer): string {
  let end = b.length;
  while (end > 0 && (b[end - 1] === 0 || b[end - 1] === 0x20)) end--;
  return printable(b.subarray(0, end));
}

function trimZeroHex(b: Buffer): string {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return b.subarray(0, end).toString('hex');
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
