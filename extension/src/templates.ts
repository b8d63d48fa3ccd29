/**
 * Starting points for New Disc Project (the snippets in extension/snippets/ carry the same shapes). Only the
 * kinds the bundled schema accepts are offered: bootable discs need the schema's `boot` (El Torito, issue 4) and
 * audio CDs its `"kind": "audio"` with `tracks` (issue 8). A data project checks clean at once (its content/
 * folder is created empty); a bootable or audio project names files the user still has to put in place (the boot
 * loader, the first track), and the editor says so on those nodes until they are there.
 */
export interface Template {
  id: 'data' | 'bootable' | 'audio';
  label: string;
  detail: string;
  /** Folders to create beside the manifest. */
  folders: string[];
  text(name: string, schemaPath: string): string;
}

const label = (name: string) => name.toUpperCase().replace(/[^A-Z0-9_]/g, '_').slice(0, 32) || 'DISC';

export const TEMPLATES: Template[] = [
  {
    id: 'data',
    label: 'Data disc',
    detail: 'Files and folders on ISO 9660 + Joliet + Rock Ridge',
    folders: ['content'],
    text: (name, schema) => `{
  "$schema": "${schema}",
  "kind": "data",
  "volume": { "label": "${label(name)}" },
  "media": "dvd+r",
  "fileSystems": ["iso9660", "joliet", "rockridge"],
  "files": [
    { "source": "content", "target": "/" }
  ],
  "output": "out/${name}.iso"
}
`,
  },
  {
    id: 'bootable',
    label: 'Bootable disc',
    detail: 'El Torito BIOS + UEFI entries, hybrid for USB sticks',
    folders: ['content', 'boot', 'efi-root'],
    text: (name, schema) => `{
  "$schema": "${schema}",
  "kind": "data",
  "volume": { "label": "${label(name)}" },
  "files": [
    { "source": "content", "target": "/" },
    { "source": "boot", "target": "/isolinux" }
  ],
  "boot": [
    { "platform": "bios", "image": "/isolinux/isolinux.bin", "emulation": "none", "loadSectors": 4, "bootInfoTable": true, "catalogPath": "/isolinux/boot.cat" },
    { "platform": "efi", "efiDirectory": "efi-root/" }
  ],
  "hybrid": { "mbr": "boot/isohdpfx.bin", "gpt": true },
  "output": "out/${name}.iso"
}
`,
  },
  {
    id: 'audio',
    label: 'Audio CD',
    detail: 'Tracks from WAV/FLAC/MP3 with CD-TEXT, as BIN/CUE',
    folders: ['audio'],
    text: (name, schema) => `{
  "$schema": "${schema}",
  "kind": "audio",
  "cdText": { "title": "${name}", "performer": "" },
  "gapless": false,
  "tracks": [
    { "source": "audio/01.flac", "title": "Track 1" }
  ],
  "output": "out/${name}.cue"
}
`,
  },
];

/** Which templates the schema accepts today. */
export function supportedTemplates(schema: { properties?: Record<string, { enum?: unknown[] }> }): Template[] {
  const kinds = schema.properties?.kind?.enum ?? ['data'];
  return TEMPLATES.filter((t) => {
    if (t.id === 'data') return kinds.includes('data');
    if (t.id === 'bootable') return kinds.includes('data') && schema.properties?.boot !== undefined;
    return kinds.includes('audio') && schema.properties?.tracks !== undefined;
  });
}
