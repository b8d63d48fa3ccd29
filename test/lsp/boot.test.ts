// Bootable manifests in the language server (issue 4): boot-image mistakes are diagnostics on the entry's node
// while typing — a missing image, a floppy image of the wrong size, a loader without its boot info table, an EFI
// system partition that does not fit — and hovering a boot entry tells what the firmware will load.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CompletionItem, CompletionList, Hover } from 'vscode-languageserver-protocol';
import { LspClient, rangeOf } from './client';
import { makeProject, type Project } from './fixture';

describe('language server: bootable discs', () => {
  let c: LspClient;
  let proj: Project;
  let n = 0;
  before(async () => {
    proj = makeProject();
    const put = (rel: string, content: string | Buffer) => {
      fs.mkdirSync(path.dirname(path.join(proj.dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(proj.dir, rel), content);
    };
    put('bootfiles/loader.bin', Buffer.alloc(6000, 7));
    put('bootfiles/floppy.img', Buffer.alloc(1_000_000));
    // Looks like ISOLINUX: the loader's banner is in its first sectors.
    put('bootfiles/isolinux.bin', Buffer.concat([Buffer.alloc(1340), Buffer.from('ISOLINUX 6.04 '), Buffer.alloc(4000)]));
    put('efi/EFI/BOOT/BOOTX64.EFI', Buffer.alloc(40_000, 1));
    put('bigefi/EFI/BOOT/BOOTX64.EFI', Buffer.alloc(3 * 1024 * 1024, 2));
    // 300 MiB (sparse: planning only stats it): more than FAT12's 4084 clusters can hold.
    put('hugeefi/EFI/BOOT/BOOTX64.EFI', '');
    fs.truncateSync(path.join(proj.dir, 'hugeefi/EFI/BOOT/BOOTX64.EFI'), 300 * 1024 * 1024);
    c = await LspClient.start();
  });
  after(async () => {
    await c.stop();
    proj.cleanup();
  });

  async function diagnose(text: string) {
    const uri = c.open(proj.manifest(`b${++n}.disc.json`, text));
    return { uri, d: await c.diagnostics(uri) };
  }

  test('a boot image that is not on the disc: an error on the "image" value', async () => {
    const text = `{ "kind": "data", "files": [ { "source": "bootfiles", "target": "/boot" } ],\n  "boot": [ { "platform": "bios", "image": "/boot/nope.bin" } ] }\n`;
    const { d } = await diagnose(text);
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0].code, 'boot-image-missing');
    assert.equal(d[0].severity, 1);
    assert.deepEqual(d[0].range, rangeOf(text, '"/boot/nope.bin"'));
  });

  test('a floppy image of the wrong size', async () => {
    const text = `{ "kind": "data", "files": [ { "source": "bootfiles", "target": "/boot" } ],\n  "boot": [ { "platform": "bios", "image": "/boot/floppy.img", "emulation": "floppy-1.44" } ] }\n`;
    const { d } = await diagnose(text);
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0].code, 'boot-floppy-size');
    assert.match(d[0].message, /exactly 1474560 bytes/);
    assert.deepEqual(d[0].range, rangeOf(text, '"/boot/floppy.img"'));
  });

  test('a loader that needs a boot info table, without one: a warning', async () => {
    const text = `{ "kind": "data", "files": [ { "source": "bootfiles", "target": "/boot" } ],\n  "boot": [ { "platform": "bios", "image": "/boot/isolinux.bin" } ] }\n`;
    const { d } = await diagnose(text);
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0].code, 'boot-info-table-missing');
    assert.equal(d[0].severity, 2);
    assert.deepEqual(d[0].range, rangeOf(text, '"/boot/isolinux.bin"'));
  });

  test('an EFI system partition that does not fit: its forced FAT type, and the media', async () => {
    const fat = `{ "kind": "data", "files": [ { "source": "bootfiles/loader.bin" } ],\n  "boot": [ { "platform": "efi", "efiDirectory": "bigefi", "espFat": 32, "espSize": 1000000000 } ],\n  "media": "cd-r" }\n`;
    const { d } = await diagnose(fat);
    const capacity = d.find((x) => x.code === 'capacity');
    assert.ok(capacity, JSON.stringify(d));
    assert.deepEqual(capacity.range, rangeOf(fat, '"cd-r"'));
    const tooSmall = `{ "kind": "data", "files": [ { "source": "bootfiles/loader.bin" } ],\n  "boot": [ { "platform": "efi", "efiDirectory": "hugeefi", "espFat": 12 } ] }\n`;
    const r = await diagnose(tooSmall);
    const esp = r.d.find((x) => x.code === 'boot-esp');
    assert.ok(esp, JSON.stringify(r.d));
    assert.equal(esp.severity, 1);
    assert.deepEqual(esp.range, rangeOf(tooSmall, '12'));
  });

  test('completion of "image": paths on the disc (from the plan), not on the computer', async () => {
    const text = `{ "kind": "data", "files": [ { "source": "bootfiles", "target": "/boot" }, { "source": "efi", "target": "/efi-copy" } ],\n  "boot": [ { "platform": "bios", "image": "/boot/" } ] }\n`;
    const { uri } = await diagnose(text);
    const ask = async (needle: string, delta: number): Promise<CompletionItem[]> => {
      const off = text.indexOf(needle) + delta;
      const before = text.slice(0, off);
      const r = await c.request<CompletionList | CompletionItem[] | null>('textDocument/completion', {
        textDocument: { uri }, position: { line: before.split('\n').length - 1, character: off - before.lastIndexOf('\n') - 1 },
      });
      assert.ok(r, 'a completion result');
      return Array.isArray(r) ? r : r.items;
    };
    // Inside /boot/: the files `files` put there.
    const inBoot = (await ask('"/boot/" }', 7)).map((i) => i.label).sort();
    assert.deepEqual(inBoot, ['floppy.img', 'isolinux.bin', 'loader.bin']);
    // At the start: the disc's root folders (not the manifest's folder on the computer).
    const root = await ask('"/boot/" }', 2);
    assert.deepEqual(root.map((i) => i.label).sort(), ['boot/', 'efi-copy/']);
    const edit = root[0].textEdit as { newText: string };
    assert.ok(!edit.newText.startsWith('/'), edit.newText);
  });

  test('hover on a boot entry: platform, emulation, what is loaded from where', async () => {
    const text = `{ "kind": "data", "files": [ { "source": "bootfiles/loader.bin", "target": "/boot/" } ],\n  "boot": [ { "platform": "bios", "image": "/boot/loader.bin", "bootInfoTable": true }, { "platform": "efi", "efiDirectory": "efi" } ] }\n`;
    const { uri, d } = await diagnose(text);
    assert.deepEqual(d, []);
    const at = (needle: string) => {
      const off = text.indexOf(needle) + 1;
      const before = text.slice(0, off);
      return { line: before.split('\n').length - 1, character: off - before.lastIndexOf('\n') - 1 };
    };
    const h1 = await c.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: at('"image"') });
    const v1 = (h1!.contents as { value: string }).value;
    assert.match(v1, /\*\*boot\[0\]\*\*: BIOS, no emulation \(the default entry\)/);
    assert.match(v1, /Boot image of .* \(6,000 bytes\) at block \d+/);
    assert.match(v1, /loads 4 × 512 bytes .*boot info table/);
    const h2 = await c.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: at('"efiDirectory"') });
    const v2 = (h2!.contents as { value: string }).value;
    assert.match(v2, /UEFI, no emulation/);
    assert.match(v2, /generated EFI system partition: FAT12/);
    assert.match(v2, /hidden from the folders/);
  });
});
