/**
 * Recordable capacity of each media type, in 2048-byte blocks: what an empty disc of that kind offers for
 * one data session (READ DISC INFORMATION / READ FORMAT CAPACITIES figures of common media; MMC-6 6.22, 6.24).
 */
import type { MediaType } from './manifest/types.generated';

export interface MediaInfo {
  name: string;
  blocks: number;
}

export const MEDIA: Record<MediaType, MediaInfo> = {
  'cd-r': { name: 'CD-R 80 min', blocks: 360_000 },
  'cd-r-74': { name: 'CD-R 74 min', blocks: 333_000 },
  'cd-r-80': { name: 'CD-R 80 min', blocks: 360_000 },
  'cd-r-90': { name: 'CD-R 90 min', blocks: 405_000 },
  'cd-r-99': { name: 'CD-R 99 min', blocks: 445_500 },
  'cd-rw': { name: 'CD-RW 80 min', blocks: 360_000 },
  'dvd+r': { name: 'DVD+R', blocks: 2_295_104 },
  'dvd-r': { name: 'DVD-R', blocks: 2_298_496 },
  'dvd+rw': { name: 'DVD+RW', blocks: 2_295_104 },
  'dvd-rw': { name: 'DVD-RW', blocks: 2_297_888 },
  'dvd+r-dl': { name: 'DVD+R DL', blocks: 4_173_824 },
  'dvd-r-dl': { name: 'DVD-R DL', blocks: 4_171_712 },
  'dvd-ram': { name: 'DVD-RAM', blocks: 2_236_704 },
  'bd-r': { name: 'BD-R', blocks: 12_219_392 },
  'bd-r-dl': { name: 'BD-R DL', blocks: 24_438_784 },
  'bd-r-tl': { name: 'BD-R XL (TL)', blocks: 48_878_592 },
  'bd-r-ql': { name: 'BD-R XL (QL)', blocks: 62_500_864 },
  'bd-re': { name: 'BD-RE', blocks: 12_219_392 },
  'bd-re-dl': { name: 'BD-RE DL', blocks: 24_438_784 },
  'bd-re-tl': { name: 'BD-RE XL (TL)', blocks: 48_878_592 },
};

/** 1234567890 → "1.15 GiB"; exact bytes stay available to callers that need them. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(2)} ${units[u]}`;
}
