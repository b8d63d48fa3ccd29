/**
 * Audio and mixed-mode CDs in the mastering pipeline: plan (probe, layout, checks) and write (BIN + cue sheet +
 * cdrdao TOC + binary CD-TEXT). `build.ts` hands `kind: "audio" | "mixed"` manifests here; a mixed disc's data
 * track is planned by the data-disc pipeline (its `files`), then encoded as Mode 1 sectors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ManifestDocument } from '../manifest/load';
import { ImageSink } from '../image/sink';
import type { Diagnostic } from '../util/errors';
import { cdTextFile } from '../cd/cdtext';
import { writeCue, writeToc } from '../cd/cue';
import type { DataImage } from './image';
import { planAudio, type AudioManifest, type AudioPlan } from './plan';

export type { AudioPlan } from './plan';
export { planAudio } from './plan';

interface PlanLike {
  project?: unknown;
  loaded: { doc: ManifestDocument };
  diagnostics: Diagnostic[];
  output?: string;
  image?: { blocks: number; bytes: number; write: AudioPlan['image']['write'] };
  bytes?: number;
  audio?: AudioPlan;
}

/**
 * Fills `plan` for an audio or mixed manifest. `outputOverride` is --output; `planData` plans the mixed disc's
 * data track (the data pipeline on the same manifest).
 */
export function planAudioInto(
  plan: PlanLike,
  manifestPath: string,
  outputOverride: string | undefined,
  planData: () => { image?: DataImage; diagnostics: Diagnostic[] },
): void {
  const m = plan.project as AudioManifest;
  const doc = plan.loaded.doc;
  const output = outputOverride !== undefined
    ? path.resolve(outputOverride)
    : path.resolve(path.dirname(path.resolve(manifestPath)), m.output ?? path.basename(manifestPath).replace(/(\.disc)?\.json$/i, '') + '.cue');
  plan.output = output;
  let data: DataImage | undefined;
  if (m.kind === 'mixed') {
    const d = planData();
    // The data pipeline checks "media" against a data disc's capacity; the audio plan checks the whole disc.
    plan.diagnostics.push(...d.diagnostics.filter((x) => x.code !== 'capacity' && !plan.diagnostics.some((y) => y.code === x.code && y.message === x.message)));
    if (!d.image) return;
    data = d.image;
  }
  const r = planAudio(doc, m, manifestPath, output, data);
  plan.diagnostics.push(...r.diagnostics);
  if (!r.plan) return;
  plan.audio = r.plan;
  plan.image = r.plan.image;
  plan.bytes = r.plan.image.bytes;
}

export interface AudioWriteOptions {
  signal?: AbortSignal;
  onProgress?: (p: { phase: 'write' | 'done'; done: number; total: number }) => void;
}

/**
 * Writes the BIN (as BIN.partial, renamed when complete), then the cue sheet, the TOC file and the CD-TEXT file.
 */
export async function writeAudioDisc(a: AudioPlan, opts: AudioWriteOptions = {}): Promise<{ bytes: number; files: string[] }> {
  const bin = a.files.bin;
  const partial = bin + '.partial';
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  const total = a.image.bytes;
  let last = 0;
  const report = (done: number) => {
    const now = Date.now();
    if (now - last >= 100 || done === total) {
      last = now;
      opts.onProgress?.({ phase: 'write', done, total });
    }
  };
  const fd = fs.openSync(partial, 'w');
  try {
    const sink = new ImageSink(fd, { signal: opts.signal, onBytes: report, sparse: false });
    report(0);
    await a.image.write(sink);
    sink.finish(true);
    if (sink.pos !== total) throw new Error(`internal: wrote ${sink.pos} bytes, planned ${total}`);
    fs.closeSync(fd);
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      /* closed */
    }
    fs.rmSync(partial, { force: true });
    throw e;
  }
  const binName = path.basename(bin);
  const written = [bin];
  const put = (file: string, content: string | Buffer) => {
    fs.writeFileSync(file + '.partial', content);
    fs.renameSync(file + '.partial', file);
    written.push(file);
  };
  fs.renameSync(partial, bin);
  if (a.files.cdt && a.cdText) put(a.files.cdt, cdTextFile(a.cdText));
  put(a.files.cue, writeCue(a.layout, { bin: binName, cdTextFile: a.files.cdt ? path.basename(a.files.cdt) : undefined }));
  put(a.files.toc, writeToc(a.layout, binName, a.layout.text?.language ?? 'en'));
  report(total);
  opts.onProgress?.({ phase: 'done', done: total, total });
  return { bytes: total, files: written };
}
