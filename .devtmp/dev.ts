import { ManifestDocument } from '../server/src/engine/manifest/load';
import { parseTree } from 'jsonc-parser';
import { planAudio, type AudioManifest } from '../server/src/engine/audio/plan';
import { writeAudioDisc } from '../server/src/engine/audio/index';
async function main() {
  const m: AudioManifest = { kind: 'audio', catalog: '0123456789012', cdText: { title: 'Album', performer: 'Band' }, gapless: process.argv[2] === 'gapless',
    tracks: [ { source: 'a1.wav', title: 'One', isrc: 'USABC2600001', copy: 'permitted', preEmphasis: true }, { source: 'a2.flac', title: 'Two', indexes: [0, 2.5] }, { source: 'a3.wav', title: 'Three' } ], output: 'out/album.cue', subcode: (process.argv[3] as any) ?? 'none' };
  const text = JSON.stringify(m, null, 2);
  const doc = new ManifestDocument('/tmp/aud/x.disc.json', text, parseTree(text));
  const r = planAudio(doc, m, '/tmp/aud/x.disc.json', '/tmp/aud/out/album.cue');
  for (const d of r.diagnostics) console.log(d.severity, d.message);
  if (!r.plan) return;
  const t0 = Date.now();
  const w = await writeAudioDisc(r.plan);
  console.log(w, Date.now() - t0, 'ms');
}
main().catch((e) => { console.error(e); process.exit(1); });
