/**
 * `discforge inspect`: El Torito boot catalogs and hybrid partition tables (server/src/engine/inspect/boot.ts).
 * Oracles: xorriso's `-report_el_torito plain` and `-report_system_area plain`, on the ISOs Debian ships and on
 * images xorriso builds here; then hostile catalogs and GPTs, which must end in problems, quickly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
  inspectImage,
  readBoot,
  type BootEntryReport,
  type BootInspection,
  type InspectReport,
  type SystemAreaReport,
} from '../../server/src/engine/inspect/index';
import { describeRun, runCli, stackTraceIn } from '../util/fixtures';
import { hasTool, prng, readAt, run, tempDir, writeAt } from '../util/inspect-tools';

const skipXorriso = hasTool('xorriso') ? false : 'xorriso is not installed';
const DEBIAN_ISOS = [
  '/usr/lib/grub-rescue/grub-rescue-cdrom.iso',
  '/usr/lib/ipxe/ipxe.iso',
  '/usr/lib/memtest86+/memtest86+x64.iso',
];
const ISOHDPFX = '/usr/lib/ISOLINUX/isohdpfx.bin';
const skipIsohdpfx = skipXorriso || (fs.existsSync(ISOHDPFX) ? false : `${ISOHDPFX} is not installed (isolinux)`);
/** Every hostile image must be answered within this time. */
const TIME_LIMIT_MS = 1000;

// -------------------------------------------------------------------------------------------------------------
// xorriso's reports, parsed

interface XImage {
  n: number;
  platform: string | number;
  bootable: boolean;
  emulation: string;
  loadSegment: number;
  systemType: number;
  sectorCount: number;
  lba: number;
  bootInfoTable: boolean;
}

interface XGptPartition {
  number: number;
  name: string;
  guid: string;
  type: string;
  flags: string;
  start: number;
  size: number;
}

interface XReport {
  text: string;
  catalog: { lba: number; blocks: number } | null;
  images: XImage[];
  mbr: { number: number; status: number; type: number; start: number; size: number }[];
  gpt: {
    diskGuid: string;
    arrayLba: number;
    arrayCount: number;
    firstUsable: number;
    lastUsable: number;
    backupLba: number;
    partitions: XGptPartition[];
  } | null;
  apm: boolean;
}

const X_PLATFORMS: Record<string, string> = { BIOS: 'bios', UEFI: 'efi', PPC: 'ppc', Mac: 'mac' };
const X_EMULATIONS: Record<string, string> = {
  none: 'none',
  'fd1.2': 'floppy-1.2',
  'fd1.4': 'floppy-1.44',
  'fd2.8': 'floppy-2.88',
  hd: 'hard-disk',
};

function xorrisoReport(image: string): XReport {
  const text = run('xorriso', ['-indev', image, '-report_el_torito', 'plain', '-report_system_area', 'plain']).toString('utf8');
  const r: XReport = { text, catalog: null, images: [], mbr: [], gpt: null, apm: false };
  const opts = new Map<number, string[]>();
  const gptParts = new Map<number, Partial<XGptPartition>>();
  const gptPart = (n: number): Partial<XGptPartition> => {
    let p = gptParts.get(n);
    if (!p) gptParts.set(n, (p = { number: n, name: '' }));
    return p;
  };
  const gpt = { diskGuid: '', arrayLba: -1, arrayCount: -1, firstUsable: -1, lastUsable: -1, backupLba: -1 };
  let haveGpt = false;
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z][^:]*?)\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1];
    const f = m[2].trim().split(/\s+/);
    const num = (i: number) => Number(f[i]);
    switch (key) {
      case 'El Torito catalog':
        r.catalog = { lba: num(0), blocks: num(1) };
        break;
      case 'El Torito boot img':
        r.images.push({
          n: num(0),
          platform: X_PLATFORMS[f[1]] ?? Number.parseInt(f[1], 16),
          bootable: f[2] === 'y',
          emulation: X_EMULATIONS[f[3]] ?? `unknown ${f[3]}`,
          loadSegment: Number.parseInt(f[4], 16),
          systemType: Number.parseInt(f[5], 16),
          sectorCount: num(6),
          lba: num(7),
          bootInfoTable: false,
        });
        break;
      case 'El Torito img opts':
        opts.set(num(0), f.slice(1));
        break;
      case 'MBR partition':
        r.mbr.push({ number: num(0), status: Number.parseInt(f[1], 16), type: Number.parseInt(f[2], 16), start: num(3), size: num(4) });
        break;
      case 'GPT':
        haveGpt = true;
        break;
      case 'GPT disk GUID':
        gpt.diskGuid = f[0];
        break;
      case 'GPT entry array':
        gpt.arrayLba = num(0);
        gpt.arrayCount = num(1);
        break;
      case 'GPT lba range':
        gpt.firstUsable = num(0);
        gpt.lastUsable = num(1);
        gpt.backupLba = num(2);
        break;
      case 'GPT partition name':
        gptPart(num(0)).name = f[1] ?? '';
        break;
      case 'GPT partition GUID':
        gptPart(num(0)).guid = f[1];
        break;
      case 'GPT type GUID':
        gptPart(num(0)).type = f[1];
        break;
      case 'GPT partition flags':
        gptPart(num(0)).flags = f[1].toLowerCase();
        break;
      case 'GPT start and size':
        gptPart(num(0)).start = num(1);
        gptPart(num(0)).size = num(2);
        break;
      case 'APM':
        r.apm = true;
        break;
    }
  }
  for (const img of r.images) img.bootInfoTable = (opts.get(img.n) ?? []).includes('boot-info-table');
  if (haveGpt) r.gpt = { ...gpt, partitions: [...gptParts.values()].sort((a, b) => a.number! - b.number!) as XGptPartition[] };
  return r;
}

/** A GUID's text form (mixed-endian) back to its 16 bytes as hex, the way xorriso prints GUIDs. */
function guidBytesHex(g: string): string {
  const b = Buffer.from(g.replace(/-/g, ''), 'hex');
  assert.equal(b.length, 16, `GUID ${g}`);
  const rev = (x: Buffer) => Buffer.from(x).reverse();
  return Buffer.concat([rev(b.subarray(0, 4)), rev(b.subarray(4, 6)), rev(b.subarray(6, 8)), b.subarray(8)]).toString('hex');
}

/** Every El Torito entry and every MBR/GPT partition agrees with xorriso, and there are no extra ones. */
function assertAgreesWithXorriso(
  ours: { boot?: InspectReport['boot']; systemArea?: SystemAreaReport },
  x: XReport,
  what: string,
): void {
  const ctx = `${what}\n--- xorriso:\n${x.text}`;
  if (x.catalog) {
    assert.ok(ours.boot, `${what}: no boot catalog in our report`);
    assert.equal(ours.boot.catalogLba, x.catalog.lba, `${ctx}\ncatalog LBA`);
  } else assert.equal(ours.boot, undefined, `${what}: xorriso sees no boot catalog`);
  const entries = ours.boot?.entries ?? [];
  const mine = entries.map((e: BootEntryReport) => ({
    platform: e.platform,
    bootable: e.bootable,
    emulation: e.emulation,
    loadSegment: e.loadSegment,
    systemType: e.systemType,
    sectorCount: e.sectorCount,
    lba: e.lba,
  }));
  const theirs = x.images.map(({ platform, bootable, emulation, loadSegment, systemType, sectorCount, lba }) => ({
    platform,
    bootable,
    emulation,
    loadSegment,
    systemType,
    sectorCount,
    lba,
  }));
  assert.deepEqual(mine, theirs, `${ctx}\nEl Torito entries`);
  entries.forEach((e, i) => {
    if (e.emulation === 'none') assert.equal(e.bootInfoTable, x.images[i].bootInfoTable, `${ctx}\nentry ${i + 1}: boot info table`);
    else {
      assert.equal(e.bootInfoTable, undefined, `${what}: entry ${i + 1}: boot info table only for no emulation`);
      assert.equal(x.images[i].bootInfoTable, false);
    }
  });

  const mbr = (ours.systemArea?.mbr?.partitions ?? []).map((p) => ({
    number: p.number,
    status: p.status,
    type: p.type,
    start: p.start,
    size: p.sectors,
  }));
  assert.deepEqual(mbr, x.mbr, `${ctx}\nMBR partitions`);

  const gpt = ours.systemArea?.gpt;
  if (!x.gpt) assert.equal(gpt, undefined, `${what}: xorriso sees no GPT`);
  else {
    assert.ok(gpt, `${ctx}\nno GPT in our report`);
    assert.equal(guidBytesHex(gpt.diskGuid), x.gpt.diskGuid, `${what}: disk GUID`);
    assert.deepEqual(
      [gpt.entryArrayLba, gpt.entryCount, gpt.firstUsableLba, gpt.lastUsableLba, gpt.alternateLba],
      [x.gpt.arrayLba, x.gpt.arrayCount, x.gpt.firstUsable, x.gpt.lastUsable, x.gpt.backupLba],
      `${ctx}\nGPT array and LBA range`,
    );
    const parts = gpt.partitions.map((p) => ({
      number: p.number,
      name: Buffer.from(p.name, 'utf16le').toString('hex'),
      guid: guidBytesHex(p.guid),
      type: guidBytesHex(p.typeGuid),
      flags: p.attributes,
      start: p.firstLba,
      size: p.sectors,
    }));
    assert.deepEqual(parts, x.gpt.partitions, `${ctx}\nGPT partitions`);
  }
  assert.equal(ours.systemArea?.apm === true, x.apm, `${what}: APM`);
}

function inspectJson(image: string): InspectReport {
  const r = runCli(['inspect', '--json', image]);
  assert.equal(r.status, 0, describeRun(r));
  return JSON.parse(r.stdout) as InspectReport;
}

/** The CLI's JSON, the exported readBoot and xorriso agree; readBoot finds no problem on a clean image. */
async function checkImage(image: string, what: string): Promise<InspectReport> {
  const x = xorrisoReport(image);
  const report = inspectJson(image);
  assertAgreesWithXorriso(report, x, `${what} (inspect --json)`);
  const direct = await readBoot(image);
  assert.deepEqual(direct.problems, [], `${what}: readBoot problems`);
  assert.deepEqual({ boot: direct.boot, systemArea: direct.systemArea }, { boot: report.boot, systemArea: report.systemArea });
  // The boot and system area problems are the volume-level ones (file system problems carry a [type] prefix).
  assert.deepEqual(report.problems.filter((p) => !p.startsWith('[')), [], `${what}: problems`);
  return report;
}

// -------------------------------------------------------------------------------------------------------------
// The ISOs Debian ships

for (const image of DEBIAN_ISOS) {
  test(`inspect boot: ${path.basename(image)} (Debian) agrees with xorriso -report_el_torito / -report_system_area`, {
    skip: skipXorriso || (fs.existsSync(image) ? false : `${image} is not installed`),
  }, async () => {
    const report = await checkImage(image, path.basename(image));
    assert.ok(report.boot && report.boot.entries.length >= 1);
    assert.equal(report.boot.validation?.checksumOk, true);
    assert.equal(report.boot.entries[0].section, 0);
    assert.ok(report.systemArea?.mbr, 'a hybrid MBR');
  });
}

// -------------------------------------------------------------------------------------------------------------
// Images xorriso builds here

interface Built {
  dir: string;
  src: string;
  image: (name: string, args: string[]) => string;
}

function setup(t: { after: (fn: () => void) => void }): Built {
  const dir = tempDir('discforge-boot-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  const rnd = prng(7);
  const random = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  fs.writeFileSync(path.join(src, 'bios.bin'), random(4096));
  fs.writeFileSync(path.join(src, 'a.bin'), random(2048));
  fs.writeFileSync(path.join(src, 'b.bin'), random(6000));
  const efi = Buffer.alloc(1440 * 1024);
  random(4096).copy(efi);
  fs.writeFileSync(path.join(src, 'efi.img'), efi);
  const floppy = Buffer.alloc(1_474_560);
  random(512).copy(floppy);
  fs.writeFileSync(path.join(src, 'fd.img'), floppy);
  // A hard-disk image: an MBR with one partition (type 0x83, sectors 63-1062).
  const hd = Buffer.alloc(1024 * 1024);
  Buffer.from([0x80, 1, 1, 0, 0x83, 0xfe, 0xff, 0xff]).copy(hd, 446);
  hd.writeUInt32LE(63, 454);
  hd.writeUInt32LE(1000, 458);
  hd[510] = 0x55;
  hd[511] = 0xaa;
  fs.writeFileSync(path.join(src, 'hd.img'), hd);
  fs.writeFileSync(path.join(src, 'README.TXT'), 'boot test\n');
  return {
    dir,
    src,
    image: (name, args) => {
      const out = path.join(dir, name);
      run('xorriso', ['-as', 'mkisofs', '-quiet', '-o', out, ...args, src], { cwd: src });
      return out;
    },
  };
}

const BIOS_EFI = ['-R', '-J', '-b', 'bios.bin', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', '-eltorito-alt-boot', '-e', 'efi.img', '-no-emul-boot'];
const SECTIONS = [
  '-R', '-c', 'boot.cat',
  '-b', 'fd.img', '-eltorito-id', 'VALID-ID',
  '-eltorito-alt-boot', '-b', 'hd.img', '-hard-disk-boot',
  '-eltorito-alt-boot', '-b', 'a.bin', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', '-eltorito-selcrit', '0102030405',
  '-eltorito-alt-boot', '-eltorito-platform', 'efi', '-b', 'b.bin', '-no-emul-boot', '-eltorito-id', 'SECTION-ID',
  '-eltorito-alt-boot', '-e', 'efi.img', '-no-emul-boot',
  '-eltorito-alt-boot', '-eltorito-platform', '0x42', '-b', 'b.bin', '-no-emul-boot',
];

test('inspect boot: BIOS (boot info table) + EFI entries, isohybrid MBR and GPT agree with xorriso', { skip: skipIsohdpfx }, async (t) => {
  const b = setup(t);
  const image = b.image('hybrid.iso', [...BIOS_EFI, '-isohybrid-mbr', ISOHDPFX, '-isohybrid-gpt-basdat']);
  const report = await checkImage(image, 'isohybrid MBR + GPT');
  const e = report.boot!.entries;
  assert.deepEqual(e.map((x) => [x.section, x.platform, x.emulation, x.bootInfoTable]), [
    [0, 'bios', 'none', true],
    [1, 'efi', 'none', false],
  ]);
  const sa = report.systemArea!;
  assert.equal(sa.mbr?.bootCode, true);
  assert.ok(sa.mbr?.partitions.some((p) => p.type === 0xef && p.typeName === 'EFI System'));
  assert.equal(sa.gpt?.headerCrcOk, true);
  assert.equal(sa.gpt?.entriesCrcOk, true);
  assert.equal(sa.gpt?.backup.ok, true);
  assert.ok(sa.gpt?.partitions.every((p) => p.typeName === 'Microsoft basic data'));
  assert.equal(sa.gpt?.partitions[0].name, 'ISOHybrid');

  const text = runCli(['inspect', image]);
  assert.equal(text.status, 0, describeRun(text));
  assert.match(text.stdout, /^Boot catalog \(El Torito\) @LBA \d+ — validation entry: BIOS, checksum ok$/m);
  assert.match(text.stdout, /^ {2}1 +default +BIOS +yes +no emulation +0x07C0 \(0\) +0x00 +4 +\d+ +boot info table$/m);
  assert.match(text.stdout, /^ {2}2 +1 +UEFI +yes +no emulation .* 2880 +\d+$/m);
  assert.match(text.stdout, /^System area$/m);
  assert.match(text.stdout, /^ {2}MBR: boot code present, disk signature 0x[0-9A-F]{8}, 2 partitions$/m);
  assert.match(text.stdout, /^ {2}GPT: revision 1\.0, disk GUID [0-9A-F-]{36}, header CRC ok, \d+ entries of 128 bytes @LBA 2 \(CRC ok\)$/m);
  assert.match(text.stdout, /backup header @LBA \d+ ok$/m);
  assert.match(text.stdout, /^ +1 +0 +\d+ +\d+ +Microsoft basic data +"ISOHybrid" +0x1000000000000001 /m);
});

test('inspect boot: an APM next to the MBR and GPT (-isohybrid-apm-hfsplus) agrees with xorriso', { skip: skipIsohdpfx }, async (t) => {
  const b = setup(t);
  const image = b.image('apm.iso', [...BIOS_EFI, '-isohybrid-mbr', ISOHDPFX, '-isohybrid-gpt-basdat', '-isohybrid-apm-hfsplus']);
  const report = await checkImage(image, 'isohybrid MBR + GPT + APM');
  assert.equal(report.systemArea?.apm, true);
  assert.ok(report.systemArea?.gpt);
});

test('inspect boot: -append_partition 2 0xef as GPT (protective MBR, EFI System partition) agrees with xorriso', { skip: skipXorriso }, async (t) => {
  const b = setup(t);
  const image = b.image('appended.iso', [
    ...BIOS_EFI.slice(0, -4),
    '-eltorito-alt-boot', '-e', '--interval:appended_partition_2:all::', '-no-emul-boot',
    '-append_partition', '2', '0xef', path.join(b.src, 'efi.img'), '-appended_part_as_gpt',
  ]);
  const report = await checkImage(image, 'appended partition as GPT');
  const sa = report.systemArea!;
  assert.deepEqual(sa.mbr?.partitions.map((p) => [p.number, p.type, p.typeName]), [[1, 0xee, 'GPT protective']]);
  assert.equal(sa.mbr?.bootCode, false);
  const esp = sa.gpt?.partitions.find((p) => p.typeGuid === 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  assert.ok(esp, 'an EFI System partition');
  assert.equal(esp.typeName, 'EFI System');
  assert.equal(esp.name, 'Appended2');
  assert.equal(esp.sectors, (1440 * 1024) / 512);
  // The EFI El Torito entry points into the appended partition (2048-byte LBA = 512-byte LBA / 4).
  const efi = report.boot!.entries[1];
  assert.equal(efi.platform, 'efi');
  assert.equal(efi.lba * 4, esp.firstLba);
  assert.equal(efi.bootInfoTable, false);
});

test('inspect boot: -append_partition 2 0xef in the MBR agrees with xorriso', { skip: skipXorriso }, async (t) => {
  const b = setup(t);
  const image = b.image('mbr.iso', [...BIOS_EFI, '-append_partition', '2', '0xef', path.join(b.src, 'efi.img')]);
  const report = await checkImage(image, 'appended partition in the MBR');
  assert.ok(report.systemArea?.mbr?.partitions.some((p) => p.number === 2 && p.type === 0xef));
  assert.equal(report.systemArea?.gpt, undefined);
});

test('inspect boot: floppy and hard-disk emulation, several sections, ids and selection criteria agree with xorriso', { skip: skipXorriso }, async (t) => {
  const b = setup(t);
  const image = b.image('sections.iso', SECTIONS);
  const report = await checkImage(image, 'several sections');
  const boot = report.boot!;
  assert.equal(boot.validation?.id, 'VALID-ID');
  assert.deepEqual(
    boot.entries.map((e) => [e.section, e.platform, e.emulation, e.bootInfoTable ?? null, e.id ?? null, e.selection ?? null]),
    [
      [0, 'bios', 'floppy-1.44', null, null, null],
      [1, 'bios', 'hard-disk', null, null, null],
      [1, 'bios', 'none', true, null, '0102030405'],
      [2, 'efi', 'none', false, 'SECTION-ID', null],
      [3, 'efi', 'none', false, null, null],
      [4, 0x42, 'none', false, null, null],
    ],
  );
  assert.equal(boot.entries[1].systemType, 0x83, 'the hard-disk image partition type');

  // A non-bootable entry (boot indicator 0x00): xorriso says B = n, so must we.
  const cat = boot.catalogLba * 2048;
  const entryAt = cat + 3 * 32; // validation, default, section 1 header, section 1 entry 1
  assert.equal(readAt(image, entryAt, 1)[0], 0x88);
  writeAt(image, entryAt, Buffer.from([0x00]));
  const after = await checkImage(image, 'several sections, one not bootable');
  assert.deepEqual(after.boot!.entries.map((e) => e.bootable), [true, false, true, true, true, true]);

  const text = runCli(['inspect', image]);
  assert.equal(text.status, 0, describeRun(text));
  assert.match(text.stdout, /validation entry: BIOS, id "VALID-ID", checksum ok$/m);
  assert.match(text.stdout, /^ {2}1 +default +BIOS +yes +1\.44 MB floppy /m);
  assert.match(text.stdout, /^ {2}2 +1 +BIOS +no +hard disk +0x07C0 \(0\) +0x83 +1 /m);
  assert.match(text.stdout, / boot info table, selection 0102030405$/m);
  assert.match(text.stdout, /^ {2}4 +2 +UEFI +yes +no emulation .* id "SECTION-ID"$/m);
  assert.match(text.stdout, /^ {2}6 +4 +platform 0x42 +yes /m);
});

// -------------------------------------------------------------------------------------------------------------
// Hostile catalogs and partition tables

interface Hostile {
  image: string;
  catalog: number;
  pristine: Buffer;
  reset: () => void;
  patch: (offset: number, bytes: Buffer | number[]) => void;
}

/** BIOS + EFI in the catalog, protective MBR + GPT with an appended EFI partition: the base of the damage. */
function hostileBase(t: { after: (fn: () => void) => void }): Hostile {
  const b = setup(t);
  const image = b.image('base.iso', [...BIOS_EFI, '-append_partition', '2', '0xef', path.join(b.src, 'efi.img'), '-appended_part_as_gpt']);
  const pristine = fs.readFileSync(image);
  // The boot record (the first descriptor with type 0) names the catalog at byte 71.
  let catalog = -1;
  for (let lba = 16; lba < 32 && catalog < 0; lba++) {
    if (pristine[lba * 2048] === 0 && pristine.toString('latin1', lba * 2048 + 7, lba * 2048 + 30) === 'EL TORITO SPECIFICATION') {
      catalog = pristine.readUInt32LE(lba * 2048 + 71);
    }
  }
  assert.ok(catalog > 0, 'a boot record');
  return {
    image,
    catalog,
    pristine,
    reset: () => fs.writeFileSync(image, pristine),
    patch: (offset, bytes) => writeAt(image, offset, Buffer.from(bytes)),
  };
}

async function bounded(image: string): Promise<BootInspection> {
  const t0 = Date.now();
  const r = await readBoot(image);
  const report = await inspectImage(image);
  const ms = Date.now() - t0;
  assert.ok(ms < 2 * TIME_LIMIT_MS, `readBoot + inspectImage took ${ms} ms`);
  assert.deepEqual({ boot: r.boot, systemArea: r.systemArea }, { boot: report.boot, systemArea: report.systemArea });
  for (const p of r.problems) assert.ok(report.problems.includes(p), `inspect reports "${p}" too`);
  return r;
}

async function expectProblem(image: string, re: RegExp): Promise<BootInspection> {
  const r = await bounded(image);
  assert.ok(r.problems.some((p) => re.test(p)), `no problem matching ${re} in:\n${r.problems.join('\n')}`);
  return r;
}

/** Header CRC32 of the GPT header at `at` recomputed (node's zlib, not the reader's). */
function fixGptHeaderCrc(h: Hostile, at = 512): void {
  const hdr = readAt(h.image, at, 512);
  const size = hdr.readUInt32LE(12);
  hdr.writeUInt32LE(0, 16);
  h.patch(at + 16, u32(zlib.crc32(hdr.subarray(0, size))));
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

test('inspect boot hostile: the base image is clean and agrees with xorriso', { skip: skipXorriso }, async (t) => {
  const h = hostileBase(t);
  const r = await bounded(h.image);
  assert.deepEqual(r.problems, []);
  assertAgreesWithXorriso(r, xorrisoReport(h.image), 'hostile base');
  assert.equal(r.boot?.entries.length, 2);
  assert.equal(r.systemArea?.gpt?.backup.ok, true);
});

test('inspect boot hostile: damaged validation entries', { skip: skipXorriso }, async (t) => {
  const h = hostileBase(t);
  const cat = h.catalog * 2048;

  h.patch(cat + 28, [h.pristine[cat + 28] ^ 0xff]);
  let r = await expectProblem(h.image, /validation entry checksum is wrong/);
  assert.equal(r.boot?.validation?.checksumOk, false);
  assert.equal(r.boot?.entries.length, 2, 'the entries are still listed');

  h.reset();
  h.patch(cat + 31, [0x00]);
  r = await expectProblem(h.image, /validation entry key is 55 00, expected 55 AA/);

  h.reset();
  h.patch(cat, Buffer.alloc(2048, 0x5a));
  r = await expectProblem(h.image, /not a boot catalog/);
  assert.deepEqual(r.boot?.entries, []);

  h.reset();
  h.patch(cat, Buffer.alloc(40));
  r = await expectProblem(h.image, /not a boot catalog/);
});

test('inspect boot hostile: a section header claiming 1000 (or 65535) entries, endless sections, bad indicators', { skip: skipXorriso }, async (t) => {
  const h = hostileBase(t);
  const cat = h.catalog * 2048;
  assert.equal(h.pristine[cat + 64], 0x91, 'one final section');

  h.patch(cat + 66, [1000 & 0xff, 1000 >> 8]);
  let r = await expectProblem(h.image, /section 1 header claims 1000 entries, but entry 2 is empty/);
  assert.equal(r.boot?.entries.length, 2);
  const cli = runCli(['inspect', '--json', h.image]);
  assert.equal(cli.status, 0, describeRun(cli));
  assert.equal(stackTraceIn(cli.stderr), null);

  // 65535 entries, each a plausible bootable entry: the reader stops at its own limit (or the image's end).
  h.reset();
  const fake = Buffer.alloc(32);
  fake[0] = 0x88;
  fake.writeUInt16LE(4, 6);
  fake.writeUInt32LE(h.catalog + 1, 8);
  h.patch(cat + 66, [0xff, 0xff]);
  h.patch(cat + 96, Buffer.concat(Array.from({ length: (65536 - 96) / 32 }, () => fake)));
  r = await expectProblem(h.image, /section 1 header claims 65535 entries, but the catalog reader stops after 65536 bytes/);
  assert.ok((r.boot?.entries.length ?? 0) <= 2048);

  // Section headers that all say "more follow" and never end.
  h.reset();
  const hdr = Buffer.alloc(32);
  hdr[0] = 0x90;
  h.patch(cat + 64, Buffer.concat(Array.from({ length: 62 }, () => hdr)));
  r = await expectProblem(h.image, /section 62 header says more sections follow/);
  assert.equal(r.boot?.entries.length, 1);

  // A boot indicator that is neither 0x88 nor 0x00.
  h.reset();
  h.patch(cat + 96, [0x42]);
  r = await expectProblem(h.image, /section 1 entry 1 has boot indicator 0x42/);
  h.reset();
  h.patch(cat + 32, [0x17]);
  await expectProblem(h.image, /default entry boot indicator is 0x17/);

  // An invalid media type.
  h.reset();
  h.patch(cat + 33, [0x09]);
  r = await expectProblem(h.image, /boot media type 9 is not one of 0-4/);
  assert.equal(r.boot?.entries[0].emulation, 9);
});

test('inspect boot hostile: boot images and catalogs past the end of the image', { skip: skipXorriso }, async (t) => {
  const h = hostileBase(t);
  const cat = h.catalog * 2048;
  h.patch(cat + 40, u32(0x7fffffff));
  let r = await expectProblem(h.image, /default entry: boot image at LBA 2147483647 is past the end of the image/);
  assert.equal(r.boot?.entries[0].lba, 0x7fffffff);
  assert.equal(r.boot?.entries[0].bootInfoTable, undefined);

  h.reset();
  const size = h.pristine.length;
  h.patch(cat + 96 + 8, u32(Math.floor(size / 2048) - 1));
  h.patch(cat + 96 + 6, [0xff, 0xff]);
  await expectProblem(h.image, /section 1 entry 1: boot image at LBA \d+ \(33553920 bytes to load\) ends past the end of the image/);

  // The boot record's catalog pointer beyond the end.
  h.reset();
  let rec = -1;
  for (let lba = 16; lba < 32 && rec < 0; lba++) if (h.pristine[lba * 2048] === 0) rec = lba;
  h.patch(rec * 2048 + 71, u32(0xfffffff0));
  r = await expectProblem(h.image, /El Torito boot catalog at LBA 4294967280 is past the end of the image/);
  assert.deepEqual(r.boot, { catalogLba: 0xfffffff0, validation: null, entries: [] });
});

test('inspect boot hostile: selection criteria extensions, present and missing', { skip: skipXorriso }, async (t) => {
  const h = hostileBase(t);
  const cat = h.catalog * 2048;
  // Section 1 entry 1 (at 96) announces an extension; one follows at 128.
  h.patch(cat + 97, [h.pristine[cat + 97] | 0x20]);
  const ext = Buffer.alloc(32);
  ext[0] = 0x44;
  ext.write('AB', 2, 'latin1');
  h.patch(cat + 128, ext);
  let r = await bounded(h.image);
  assert.deepEqual(r.problems, []);
  assert.equal(r.boot?.entries[1].selection, `${'00'.repeat(20)}4142`);

  h.patch(cat + 128, Buffer.alloc(32));
  r = await expectProblem(h.image, /section 1 entry 1 announces a selection criteria extension .* that is not there/);
});

test('inspect boot hostile: GPT with bad CRCs, huge entry counts, LBAs past the end', { skip: skipXorriso }, async (t) => {
  const h = hostileBase(t);
  const gpt = 512;
  const arrayAt = Number(h.pristine.readBigUInt64LE(gpt + 72)) * 512;
  const alternate = Number(h.pristine.readBigUInt64LE(gpt + 32));

  // Header CRC: a changed disk GUID byte.
  h.patch(gpt + 60, [h.pristine[gpt + 60] ^ 0x01]);
  let r = await expectProblem(h.image, /GPT header at LBA 1: header CRC32 0x[0-9a-f]{8} is wrong/);
  assert.equal(r.systemArea?.gpt?.headerCrcOk, false);
  assert.ok(r.problems.some((p) => /backup GPT header .*disk GUID .* differs/.test(p)));

  // Entry array CRC: a changed partition name; xorriso notices too.
  h.reset();
  h.patch(arrayAt + 56, [0x5a]);
  r = await expectProblem(h.image, /partition entry array CRC32 is 0x[0-9a-f]{8}, the header says/);
  assert.equal(r.systemArea?.gpt?.entriesCrcOk, false);
  assert.match(xorrisoReport(h.image).text, /GPT array CRC wrong/);

  // 2^31 entries (CRC fixed, so only the count is wrong).
  h.reset();
  h.patch(gpt + 80, u32(0x80000000));
  fixGptHeaderCrc(h);
  r = await expectProblem(h.image, /partition entry array of 2147483648 entries x 128 bytes is larger than/);
  assert.equal(r.systemArea?.gpt?.entriesCrcOk, null);
  assert.deepEqual(r.systemArea?.gpt?.partitions, []);

  // Entry size 0 and 2^32-1.
  for (const size of [0, 0xffffffff]) {
    h.reset();
    h.patch(gpt + 84, u32(size));
    fixGptHeaderCrc(h);
    await expectProblem(h.image, new RegExp(`partition entry size ${size} is not a multiple of 8`));
  }

  // The backup header beyond the image, and the entry array beyond it.
  h.reset();
  h.patch(gpt + 32, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
  fixGptHeaderCrc(h);
  await expectProblem(h.image, /backup GPT header at LBA \d+ is past the end of the image/);
  h.reset();
  h.patch(gpt + 72, u32(0x7ffffff0));
  fixGptHeaderCrc(h);
  await expectProblem(h.image, /partition entry array at LBA 2147483632 \(\d+ bytes\) ends past the end of the image/);

  // A partition past the end (array and header CRCs fixed).
  h.reset();
  h.patch(arrayAt + 40, [0, 0, 0, 0, 0, 0, 0x10, 0]);
  const count = h.pristine.readUInt32LE(gpt + 80);
  const esize = h.pristine.readUInt32LE(gpt + 84);
  h.patch(gpt + 88, u32(zlib.crc32(readAt(h.image, arrayAt, count * esize))));
  fixGptHeaderCrc(h);
  r = await expectProblem(h.image, /GPT partition 1: LBA \d+-\d+ ends past the end of the image/);
  assert.ok(r.problems.some((p) => /backup GPT header at LBA \d+: partition entries differ from the primary ones/.test(p)));

  // The backup header damaged.
  h.reset();
  h.patch(alternate * 512, Buffer.from('NOT PART'));
  r = await expectProblem(h.image, /backup GPT header at LBA \d+: no "EFI PART" signature/);
  assert.equal(r.systemArea?.gpt?.backup.ok, false);
});

test('inspect boot hostile: 300 random corruptions of the catalog and the system area stay bounded', { skip: skipXorriso }, async (t) => {
  const h = hostileBase(t);
  const cat = h.catalog * 2048;
  const hot: [number, number][] = [
    [cat, cat + 256],
    [0, 1024],
    [1024, 1024 + 512],
  ];
  const rnd = prng(4321);
  let noticed = 0;
  for (let i = 0; i < 300; i++) {
    const img = Buffer.from(h.pristine);
    const flips = 1 + Math.floor(rnd() * 8);
    for (let k = 0; k < flips; k++) {
      const [a, b] = hot[Math.floor(rnd() * hot.length)];
      img[a + Math.floor(rnd() * (b - a))] = Math.floor(rnd() * 256);
    }
    fs.writeFileSync(h.image, img);
    const t0 = Date.now();
    const r = await readBoot(h.image);
    const ms = Date.now() - t0;
    assert.ok(ms < TIME_LIMIT_MS, `corruption ${i}: ${ms} ms`);
    JSON.stringify(r);
    if (r.problems.length > 0) noticed++;
  }
  assert.ok(noticed > 100, `corruption is noticed (${noticed} of 300)`);
});
