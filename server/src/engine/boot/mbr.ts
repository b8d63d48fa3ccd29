/**
 * The master boot record of a hybrid image: boot code (DiscForge's own, mbr.asm, or a template such as syslinux's
 * isohdpfx.bin or GRUB's boot_hybrid.img, patched the way those loaders expect), the disk signature and the
 * partition table.
 *
 * MBR layout: 0x000-0x1B7 boot code (with the patch fields at 0x1AC/0x1AE for our code and the 64-bit LBA at 0x1B0
 * for every kind), 0x1B8-0x1BB disk signature (little-endian), 0x1BC-0x1BD zero, 0x1BE-0x1FD four 16-byte
 * partition entries (status, CHS of the first sector, type, CHS of the last sector, LBA of the first sector,
 * sector count), 0x1FE-0x1FF the boot signature 55 AA.
 *
 * Templates, as xorriso's `-isohybrid-mbr` and `--grub2-mbr` write them (verified against xorriso 1.5.4 byte for
 * byte in test/engine/boot-mbr.test.ts): bytes 0..431 of the template are kept, and the 64-bit little-endian
 * number at 0x1B0 is the 512-byte LBA of the BIOS boot image for ISOLINUX's isohdpfx.bin, and that LBA + 4 for
 * GRUB 2's boot_hybrid.img (xorriso's documented rule; GRUB's El Torito image is cdboot.img, 2 KiB, followed by
 * core.img, which is what GRUB's MBR loads).
 */
import { MBR_CODE, MBR_COUNT_OFFSET, MBR_LBA_OFFSET, MBR_SEGMENT_OFFSET } from './mbr-code';

export { MBR_CODE, MBR_COUNT_OFFSET, MBR_LBA_OFFSET, MBR_SEGMENT_OFFSET };

/** One primary partition; start and size in 512-byte sectors. */
export interface MbrPartition {
  bootable: boolean;
  /** Partition type, e.g. 0x17 (isohybrid's), 0x00, 0xEF (EFI system partition), 0xEE (GPT protective). */
  type: number;
  startLba: number;
  sectors: number;
}

export interface MbrOptions {
  /** DiscForge's boot code (mbr.asm), or a template: at least its first 432 bytes (isohdpfx.bin, boot_hybrid.img). */
  code: 'discforge' | Buffer;
  /** 512-byte LBA of the BIOS (no-emulation) boot image: required for our code; patched into templates if given. */
  bootImageLba?: number;
  /** Our code: 512-byte sectors to load (1..65535; the El Torito entry's sector count). */
  bootImageSectors?: number;
  /** Our code: segment to load to (default 0x07C0; 0 means 0x07C0, as in El Torito). */
  loadSegment?: number;
  /** Written at 0x1B8 (little-endian); pass a deterministic one. */
  diskSignature: number;
  /** Up to 4 primary partitions, in table order. */
  partitions: MbrPartition[];
}

export type MbrTemplateKind = 'isolinux' | 'grub2' | 'unknown';

/** The bytes of the template kept in the MBR (0..431); the LBA patch field follows at 0x1B0 = 432. */
export const TEMPLATE_KEPT_BYTES = MBR_LBA_OFFSET;

/** The geometry the CHS fields use: 255 heads × 63 sectors per track (what fdisk and xorriso assume for LBA disks). */
export const MBR_HEADS = 255;
export const MBR_SECTORS_PER_TRACK = 63;

/**
 * Which loader an MBR template belongs to: GRUB 2's boot code carries the string "GRUB", syslinux's isohybrid MBRs
 * "isolinux" (in their error message "isolinux.bin missing or corrupt.").
 */
export function templateKind(b: Buffer): MbrTemplateKind {
  const code = b.subarray(0, Math.min(b.length, TEMPLATE_KEPT_BYTES));
  if (code.includes('GRUB', 0, 'latin1')) return 'grub2';
  if (code.toString('latin1').toLowerCase().includes('isolinux')) return 'isolinux';
  return 'unknown';
}

/** The 3 CHS bytes (head, sector | cylinder bits 8-9 << 6, cylinder bits 0-7) of a 512-byte LBA. */
export function chsBytes(lba: number): [number, number, number] {
  const perCyl = MBR_HEADS * MBR_SECTORS_PER_TRACK;
  const c = Math.floor(lba / perCyl);
  if (c > 1023) return [0xfe, 0xff, 0xff]; // beyond CHS: the customary "1023/254/63"
  const h = Math.floor(lba / MBR_SECTORS_PER_TRACK) % MBR_HEADS;
  const s = (lba % MBR_SECTORS_PER_TRACK) + 1;
  return [h, s | ((c >> 2) & 0xc0), c & 0xff];
}

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`MBR: ${name} must be an integer from ${min} to ${max}, not ${v}`);
  }
}

/** Builds the 512-byte MBR. Throws RangeError on values that do not fit their fields. */
export function makeMbr(o: MbrOptions): Buffer {
  const mbr = Buffer.alloc(512);
  if (o.code === 'discforge') {
    if (o.bootImageLba === undefined || o.bootImageSectors === undefined) {
      throw new RangeError('MBR: DiscForge boot code needs bootImageLba and bootImageSectors');
    }
    checkInt('bootImageLba', o.bootImageLba, 0, Number.MAX_SAFE_INTEGER);
    checkInt('bootImageSectors', o.bootImageSectors, 1, 0xffff);
    const seg = o.loadSegment === undefined || o.loadSegment === 0 ? 0x07c0 : o.loadSegment;
    checkInt('loadSegment', seg, 0, 0xffff);
    // The code lives at 0000:0600-07FF, its stack just below 0000:7C00; conventional memory ends at 640 KiB
    // (minus the BIOS's extended data area, usually the last 1 KiB or more).
    const start = seg * 16;
    const end = start + o.bootImageSectors * 512;
    if (start < 0x7c00 || end > 0x9f000) {
      throw new RangeError(
        `MBR: the boot image would be loaded to 0x${start.toString(16)}-0x${(end - 1).toString(16)}; ` +
          'it must lie within 0x7C00-0x9EFFF',
      );
    }
    MBR_CODE.copy(mbr, 0);
    mbr.writeUInt16LE(o.bootImageSectors, MBR_COUNT_OFFSET);
    mbr.writeUInt16LE(seg, MBR_SEGMENT_OFFSET);
    mbr.writeBigUInt64LE(BigInt(o.bootImageLba), MBR_LBA_OFFSET);
  } else {
    const t = o.code;
    if (t.length < TEMPLATE_KEPT_BYTES) {
      throw new RangeError(`MBR: a template needs at least ${TEMPLATE_KEPT_BYTES} bytes, this one has ${t.length}`);
    }
    // Keep 0..431; keep the template's own 0x1B0..0x1B7 (GRUB's default) unless we patch them.
    t.copy(mbr, 0, 0, Math.min(t.length, 0x1b8));
    if (o.bootImageLba !== undefined) {
      checkInt('bootImageLba', o.bootImageLba, 0, Number.MAX_SAFE_INTEGER - 4);
      const v = templateKind(t) === 'grub2' ? o.bootImageLba + 4 : o.bootImageLba;
      mbr.writeBigUInt64LE(BigInt(v), MBR_LBA_OFFSET);
    }
  }
  checkInt('diskSignature', o.diskSignature, 0, 0xffffffff);
  mbr.writeUInt32LE(o.diskSignature, 0x1b8);
  mbr.writeUInt16LE(0, 0x1bc);
  if (o.partitions.length > 4) throw new RangeError(`MBR: at most 4 partitions, not ${o.partitions.length}`);
  o.partitions.forEach((p, i) => {
    const at = 0x1be + 16 * i;
    checkInt(`partition ${i + 1} type`, p.type, 0, 0xff);
    checkInt(`partition ${i + 1} startLba`, p.startLba, 0, 0xffffffff);
    checkInt(`partition ${i + 1} sectors`, p.sectors, 0, 0xffffffff);
    if (p.startLba + p.sectors > 0x100000000) {
      throw new RangeError(`MBR: partition ${i + 1} ends beyond 2^32 sectors`);
    }
    mbr[at] = p.bootable ? 0x80 : 0x00;
    const empty = p.sectors === 0;
    const first = empty ? [0, 0, 0] : chsBytes(p.startLba);
    const last = empty ? [0, 0, 0] : chsBytes(p.startLba + p.sectors - 1);
    mbr.set(first, at + 1);
    mbr[at + 4] = p.type;
    mbr.set(last, at + 5);
    mbr.writeUInt32LE(p.startLba, at + 8);
    mbr.writeUInt32LE(p.sectors, at + 12);
  });
  mbr[0x1fe] = 0x55;
  mbr[0x1ff] = 0xaa;
  return mbr;
}
