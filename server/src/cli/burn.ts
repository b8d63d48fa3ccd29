/**
 * `discforge drives | media | burn | erase | format | eject`: the recorder commands of the CLI (the engine is
 * server/src/engine/burn/). Exit codes as the rest of the CLI: 0 success, 2 bad input (usage, drive spec,
 * manifest, image), 1 anything else (drive busy or unavailable, media unsuitable, write or verify failure),
 * 130 interrupted.
 */
import * as path from 'node:path';
import { burn, eraseDisc, ejectDisc, formatMedia, PHASE_TEXT, type BurnOptions, type BurnProgress, type BurnResult, type VerifyLevel } from '../engine/burn/engine';
import { sourceFor } from '../engine/burn';
import { describeMedia, driveInfo, readMediaState, type DriveInfo, type MediaState } from '../engine/burn/media';
import { nativeUnavailableReason, loadNativeAddon, recorders } from '../engine/burn/registry';
import { parseDriveSpec } from '../engine/burn/transport';
import { CancelledError, InputError } from '../engine/util/errors';
import { burnCd, programFromCue, programFromPlan, type CdProgram, type CdWriteMode } from '../engine/audio/burn';
import { readCue } from '../engine/cd/cue';
import { hasErrors, planProject } from '../engine/build';
import type { MmcDevice } from '../engine/burn/device';
import * as mmc from '../engine/burn/mmc';

export const BURN_HELP: Record<string, string> = {
  drives: `Usage: discforge drives [--drive D …] [--json]

Lists the optical drives of this machine (through the native SCSI addon) and the drives given with --drive
(e.g. virtual recorders), with their vendor, model and the media profiles they support.

Options:
  --drive D            also show this drive (repeatable)
  --json               print the list as JSON`,
  media: `Usage: discforge media --drive D [--json]

Shows the disc in drive D as IMAPI describes media: physical type, status (blank, appendable, finalized,
overwrite-only), write protection, sessions (start and size), last written and next writable address, free and
total sectors, and the write speeds offered.

Options:
  --drive D            the drive: /dev/sr0, /dev/sg1, E:, or virtual:<profile>:<file>[?options]
  --json               print the state as JSON`,
  burn: `Usage: discforge burn <manifest|image|album.cue> --drive D [--drive D2 …] [options]

Writes the image a manifest describes (streamed from the sources straight to the drive, no temporary image),
or an existing image file, to one or more recorders at once (each with its own progress).

Audio and mixed-mode CDs: a manifest of kind "audio" or "mixed" is burned as a CD (tracks, pauses, indexes,
MCN, ISRCs and CD-TEXT as planned) on a CD-R or CD-RW, and so is a BIN/CUE (album.cue with its BIN): raw disc
at once when the BIN carries 96-byte sub-channel (2448-byte sectors), else session at once. Other drives are
refused (exit 2). The disc is written in one session and closed; verification reads every sector back with
READ CD (quick and full are the same) and checks the TOC and CD-TEXT.

Options:
  --drive D            the recorder (repeatable): /dev/sr0, E:, or virtual:<profile>:<file>[?options]
                       (virtual profiles: cd-r cd-rw dvd-r dvd-rw dvd+r dvd+r-dl dvd+rw dvd-ram bd-r bd-re)
  --verify LEVEL       none, quick (structures, first/last data blocks, a sample) or full (everything);
                       default full
  --speed X            write speed: 8, 8x, or max (default)
  --close              close (finalize) the disc: no session can be added later
  --append             add a session to an appendable disc (CD-R, DVD±R, BD-R): the previous session's
                       files stay (at their old places on the disc), the manifest's files are added or
                       replace those at the same path. The new session has the manifest's file systems
                       (without "fileSystems": the UDF bridge when the previous session has UDF, else ISO
                       9660, Joliet and Rock Ridge); its UDF volume lies in the session (anchor at its
                       start + 256), where UDF readers look on a multisession disc. On DVD+RW, DVD-RAM,
                       BD-RE and DVD-RW (restricted overwrite) the volume grows in place (as growisofs -M):
                       the new tree is written after it and its volume descriptors are copied to block 16
                       (a UDF bridge's recognition sequence with them, its anchor to block 256)
  --delete PATH        with --append: leave this file or folder out of the new session (repeatable)
  --force              overwrite a rewritable disc that holds data (CD-RW/DVD-RW are blanked first)
  --eject              eject the disc when done
  --mode M             audio/mixed CDs: tao (track at once: 2-second pauses only), sao (session at once,
                       cue sheet; default for manifests) or raw (raw disc at once, 96-byte sub-channel).
                       Data discs: tao (CD track at once, DVD-R/RW incremental) or sao / dao (CD session
                       at once with a cue sheet, DVD-R/RW disc at once with a reserved track; both close
                       the disc). Default: sao/dao with --close on a blank CD-R/RW or DVD-R/RW (and no
                       --append), else tao
  --progress json      print progress as one JSON object per line on stderr:
                       {"drive","phase","sectorsDone","sectorsTotal","speedKBps","speedX","bufferFill","elapsedMs","etaMs"}
  -q, --quiet          print only errors

Virtual recorder options (after "?", joined by "&"): speed=8x, buffer=4M, capacity=BLOCKS,
fault=write-error@LBA|read-error@LBA|remove@LBA|underrun@LBA, unsupported=reserve-track,…, slow=MS,
nobufe, protect, empty. Example: --drive 'virtual:bd-r:/tmp/disc.img?speed=4x'`,
  erase: `Usage: discforge erase --drive D [--full]

Erases a rewritable disc: CD-RW and DVD-RW with BLANK (minimal, or the whole disc with --full); DVD+RW, DVD-RAM
and BD-RE by invalidating the file system (quick) or by a full format (--full).`,
  format: `Usage: discforge format --drive D [--full]

Formats a DVD+RW, DVD-RW (restricted overwrite), DVD-RAM or BD-RE (FORMAT UNIT; quick by default).`,
  eject: `Usage: discforge eject --drive D

Ejects the disc (refused while the drive is writing).`,
};

export const BURN_COMMANDS = ['drives', 'media', 'burn', 'erase', 'format', 'eject'];
/** Options of these commands that take a value (for the CLI's argument parser). */
export const BURN_VALUE_FLAGS = ['--drive', '--verify', '--speed', '--delete', '--mode'];

/** Bad usage: main.ts prints it with the command's help, exit code 2. */
export class BurnUsageError extends Error {}

export interface BurnArgs {
  positional: string[];
  flags: Map<string, string | true>;
  /** Every value of a repeatable option, in order. */
  all: Map<string, string[]>;
}

function checkFlags(args: BurnArgs, allowed: string[]): void {
  for (const f of args.flags.keys()) if (!allowed.includes(f)) throw new BurnUsageError(`unknown option ${f}`);
}

function drivesOf(args: BurnArgs, atLeastOne: boolean, atMostOne: boolean): string[] {
  const d = args.all.get('--drive') ?? [];
  if (atLeastOne && d.length === 0) throw new BurnUsageError('--drive is required');
  if (atMostOne && d.length > 1) throw new BurnUsageError('give one --drive');
  for (const spec of d) parseDriveSpec(spec); // bad specs: InputError, exit 2
  return d;
}

function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

function err(s: string): void {
  process.stderr.write(s.endsWith('\n') ? s : s + '\n');
}

/** Runs one of the recorder commands; returns the exit code. */
export async function runBurnCommand(command: string, args: BurnArgs): Promise<number> {
  switch (command) {
    case 'drives': return cmdDrives(args);
    case 'media': return cmdMedia(args);
    case 'burn': return cmdBurn(args);
    case 'erase': return cmdErase(args);
    case 'format': return cmdFormat(args);
    case 'eject': return cmdEject(args);
    default: throw new BurnUsageError(`unknown command "${command}"`);
  }
}

async function cmdDrives(args: BurnArgs): Promise<number> {
  checkFlags(args, ['--drive', '--json']);
  if (args.positional.length) throw new BurnUsageError('drives takes no arguments');
  const specs = drivesOf(args, false, false);
  const addon = loadNativeAddon();
  const osDrives = addon ? (await addon.list()).map((d) => d.path) : [];
  const list: (DriveInfo & { error?: string })[] = [];
  for (const spec of [...osDrives, ...specs]) {
    try {
      const lease = await recorders.query(spec);
      try {
        list.push(await driveInfo(lease.dev));
      } finally {
        await lease.release();
      }
    } catch (e) {
      list.push({ device: spec, vendor: '', product: '', revision: '', profiles: [], burnProof: false, error: (e as Error).message });
    }
  }
  const note = addon ? undefined : nativeUnavailableReason();
  if (args.flags.has('--json')) {
    out(JSON.stringify({ drives: list, ...(note ? { note } : {}) }, null, 2));
    return 0;
  }
  if (note) out(`(${note})`);
  if (list.length === 0) out('no drives');
  for (const d of list) {
    if (d.error) out(`${d.device}: ${d.error}`);
    else out(`${d.device}: ${d.vendor} ${d.product} ${d.revision}${d.burnProof ? ', burn-proof' : ''}${d.bufferBytes ? `, ${d.bufferBytes / 1024 / 1024} MiB buffer` : ''}\n  profiles: ${d.profiles.join(', ')}`);
  }
  return list.some((d) => d.error) ? 1 : 0;
}

export function formatMediaText(m: MediaState, holder?: string): string {
  const lines = [`disc: ${describeMedia(m)}`];
  if (holder) lines.push(`busy: ${holder}`);
  if (m.status !== 'no-media') {
    lines.push(`physical type: ${m.physicalType}`, `profile: ${m.profileName} (${m.profile.toString(16).padStart(4, '0')}h)`, `status: ${m.status}`);
    lines.push(`erasable: ${m.erasable ? 'yes' : 'no'}`, `write-protected: ${m.writeProtected ? 'yes' : 'no'}`);
    if (m.formatted !== undefined) lines.push(`formatted: ${m.formatted ? 'yes' : 'no'}`);
    if (m.kind === 'sequential') lines.push(`first data session: ${m.firstDataSession ? 'yes' : 'no'}`);
    if (m.startOfPreviousSession !== undefined) lines.push(`start of previous session: ${m.startOfPreviousSession}`);
    if (m.lastWrittenAddress !== undefined) lines.push(`last written address: ${m.lastWrittenAddress}`);
    if (m.nextWritableAddress !== undefined) lines.push(`next writable address: ${m.nextWritableAddress}`);
    lines.push(`free sectors: ${m.freeSectors}`, `total sectors: ${m.totalSectors}`);
    if (m.writeSpeeds.length) lines.push(`write speeds: ${m.writeSpeeds.map((s) => `${s.x}× (${s.kBps} kB/s)`).join(', ')}`);
    lines.push(`sessions: ${m.sessions.length}`);
    for (const s of m.sessions) lines.push(`  session ${s.number}: blocks ${s.start}–${s.lastRecorded} (${s.blocks} blocks, ${s.tracks} track${s.tracks === 1 ? '' : 's'})${s.closed ? '' : ', not closed'}`);
    if (m.volume) {
      lines.push(`file system: ${m.volume.udfOnly ? 'UDF' : 'ISO 9660'} volume "${m.volume.label}", blocks 0–${Math.max(0, m.volume.blocks - 1)} (${m.volume.blocks} blocks)`);
      if (m.volume.grownAt !== undefined) lines.push(`  grown in place: the latest tree was written from block ${m.volume.grownAt}; ${m.volume.udfOnly ? 'its UDF anchor is copied at block 256' : 'its volume descriptors are copied at block 16'}, earlier files stay where they were`);
    }
    if (m.cdTracks) {
      lines.push(`tracks: ${m.cdTracks.length}`);
      for (const t of m.cdTracks) lines.push(`  track ${t.track}: ${t.type}, starts at ${t.start}`);
    }
  }
  return lines.join('\n') + '\n';
}

async function cmdMedia(args: BurnArgs): Promise<number> {
  checkFlags(args, ['--drive', '--json']);
  if (args.positional.length) throw new BurnUsageError('media takes no arguments');
  const [spec] = drivesOf(args, true, true);
  const lease = await recorders.query(spec);
  try {
    const m = await readMediaState(lease.dev);
    const holder = recorders.holderOf(spec);
    if (args.flags.has('--json')) out(JSON.stringify({ drive: spec, ...m, ...(holder ? { busy: holder } : {}) }, null, 2));
    else process.stdout.write(`drive: ${spec}\n${formatMediaText(m, holder)}`);
    return 0;
  } finally {
    await lease.release();
  }
}

function parseSpeed(v: string | true | undefined): number | undefined {
  if (v === undefined || v === 'max') return undefined;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)x?$/i.exec(v) : null;
  if (!m || Number(m[1]) <= 0) throw new BurnUsageError('--speed takes a multiple of 1× (e.g. 8 or 8x) or max');
  return Number(m[1]);
}

/** Ctrl-C cancels (once: a defined stop; twice: exit at once). */
function withSignals<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return fn(controller.signal).finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
}

async function cmdBurn(args: BurnArgs): Promise<number> {
  checkFlags(args, ['--drive', '--verify', '--speed', '--close', '--append', '--force', '--eject', '--progress', '--quiet', '-q', '--delete', '--mode']);
  const input = args.positional[0];
  if (!input || args.positional.length > 1) throw new BurnUsageError('burn takes one manifest or image');
  const drives = drivesOf(args, true, false);
  if (new Set(drives.map((d) => JSON.stringify(parseDriveSpec(d)))).size !== drives.length) throw new BurnUsageError('the same drive is given twice');
  const verify = (args.flags.get('--verify') ?? 'full') as string;
  if (!['none', 'quick', 'full'].includes(verify)) throw new BurnUsageError('--verify takes none, quick or full');
  const progressMode = args.flags.get('--progress');
  if (progressMode !== undefined && progressMode !== 'json') throw new BurnUsageError('--progress takes "json"');
  const quiet = args.flags.has('--quiet') || args.flags.has('-q');
  const speedX = parseSpeed(args.flags.get('--speed'));
  const deletes = args.all.get('--delete') ?? [];
  const modeFlag = args.flags.get('--mode');
  if (modeFlag !== undefined && modeFlag !== 'tao' && modeFlag !== 'sao' && modeFlag !== 'dao' && modeFlag !== 'raw') throw new BurnUsageError('--mode takes tao, sao, dao or raw');
  const cd = cdProgramOf(input);
  if (cd) {
    if (args.flags.has('--append') || deletes.length) throw new BurnUsageError('an audio or mixed-mode CD is written in one session on a blank disc: --append and --delete do not apply');
    if (modeFlag === 'dao') throw new BurnUsageError('--mode takes tao, sao or raw for an audio or mixed-mode CD (dao is disc at once on DVD-R/RW)');
    return burnCdCommand(input, drives, cd.make, (modeFlag as CdWriteMode | undefined) ?? cd.defaultMode, { verify: verify !== 'none', speedX, eject: args.flags.has('--eject'), force: args.flags.has('--force'), progressMode, quiet });
  }
  if (modeFlag === 'raw') throw new BurnUsageError('--mode raw applies to audio and mixed-mode CDs (a manifest of kind "audio" or "mixed", or a .cue); data discs take tao, sao or dao');
  if ((modeFlag === 'sao' || modeFlag === 'dao') && args.flags.has('--append')) throw new BurnUsageError(`--mode ${modeFlag} writes a whole disc in one session: it does not go with --append`);
  if (deletes.length && !args.flags.has('--append')) throw new BurnUsageError('--delete applies with --append');
  if (deletes.length && !/\.json$/i.test(input)) throw new BurnUsageError('--delete applies to a manifest');
  const make = sourceFor(input, deletes);
  const holderName = `discforge burn ${path.basename(input)} (pid ${process.pid})`;

  return withSignals(async (signal) => {
    const onProgress = progressPrinter(drives, progressMode, quiet);
    const opts: BurnOptions = {
      verify: verify as VerifyLevel,
      speedX,
      close: args.flags.has('--close'),
      append: args.flags.has('--append'),
      force: args.flags.has('--force'),
      eject: args.flags.has('--eject'),
      mode: modeFlag as BurnOptions['mode'],
      signal,
      onProgress,
    };
    const results = await Promise.allSettled(drives.map(async (spec): Promise<BurnResult> => {
      const lease = await recorders.lock(spec, holderName);
      try {
        return await burn(lease.dev, opts, make);
      } finally {
        await lease.release();
      }
    }));
    let code = 0;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        if (!quiet) {
          out(r.value.summary);
          for (const n of r.value.notes) out(`  note: ${n}`);
        }
      } else {
        const e = r.reason as Error;
        const c = e instanceof CancelledError ? 130 : e instanceof InputError ? 2 : 1;
        if (e instanceof InputError && e.diagnostics.length) throw e; // manifest diagnostics: main prints them
        err(`discforge: ${drives[i]}: ${e instanceof CancelledError ? '' : 'error: '}${e.message}`);
        code = Math.max(code, c);
      }
    });
    return code;
  });
}

/**
 * An audio or mixed-mode CD to burn: a manifest of kind "audio"/"mixed" (session at once by default) or a BIN/CUE
 * (raw disc at once when the BIN has 96-byte sub-channel, else session at once); undefined for data burns.
 * Manifest errors and bad cue sheets are InputErrors (exit 2).
 */
function cdProgramOf(input: string): { make: () => CdProgram; defaultMode: CdWriteMode } | undefined {
  if (/\.cue$/i.test(input)) {
    const sheet = readCue(input);
    programFromCue(input); // checks the tracks can be burned before any drive is touched
    return { make: () => programFromCue(input), defaultMode: sheet.sectorSize === 2448 ? 'raw' : 'sao' };
  }
  if (!/\.json$/i.test(input)) return undefined;
  const plan = planProject(input);
  if (!plan.audio) return undefined; // a data manifest (or errors): the data path reports them
  if (hasErrors(plan.diagnostics)) throw new InputError(`${input}: the manifest has errors`, plan.diagnostics);
  return {
    // Planned anew for every drive (the image writers keep state while they write).
    make: () => {
      const p = planProject(input);
      if (hasErrors(p.diagnostics) || !p.audio) throw new InputError(`${input}: the manifest has errors`, p.diagnostics);
      return programFromPlan(input, p.audio);
    },
    defaultMode: 'sao',
  };
}

/** CD-R and CD-RW: the drive must be able to write them (else exit 2: the wrong kind of drive). */
async function requireCdRecorder(dev: MmcDevice, spec: string): Promise<void> {
  const s = parseDriveSpec(spec);
  if (s.kind === 'virtual') {
    if (s.profile !== 'cd-r' && s.profile !== 'cd-rw') throw new InputError(`an audio or mixed-mode CD is burned on a CD recorder (cd-r or cd-rw); this is a ${s.profile} recorder`);
    return;
  }
  const info = await driveInfo(dev);
  if (!info.profiles.some((p) => p === mmc.profileName(mmc.PROFILE.CD_R) || p === mmc.profileName(mmc.PROFILE.CD_RW))) {
    throw new InputError(`an audio or mixed-mode CD is burned on a CD recorder; this drive writes ${info.profiles.join(', ') || 'no CD media'}`);
  }
}

/**
 * Burn progress on stderr: one JSON object per event with `--progress json`; otherwise each phase once and the
 * writing/verifying share in steps of 10% (prefixed with the drive when several burn at once).
 */
function progressPrinter(drives: string[], progressMode: string | true | undefined, quiet: boolean): (p: BurnProgress) => void {
  const lastPhase = new Map<string, string>();
  const lastPct = new Map<string, number>();
  return (p) => {
    if (progressMode === 'json') {
      err(JSON.stringify(p));
      return;
    }
    if (quiet) return;
    const label = drives.length > 1 ? `[${p.drive}] ` : '';
    if (lastPhase.get(p.drive) !== p.phase) {
      lastPhase.set(p.drive, p.phase);
      lastPct.set(p.drive, -1);
      err(`${label}${PHASE_TEXT[p.phase]}`);
    }
    if ((p.phase === 'writing' || p.phase === 'verifying') && p.sectorsTotal > 0) {
      const pct = Math.floor((p.sectorsDone / p.sectorsTotal) * 10) * 10;
      if (pct > (lastPct.get(p.drive) ?? -1)) {
        lastPct.set(p.drive, pct);
        const extra = [p.speedX !== undefined ? `${p.speedX}×` : '', p.bufferFill !== undefined ? `buffer ${Math.round(p.bufferFill * 100)}%` : '',
          p.etaMs !== undefined ? `${Math.ceil(p.etaMs / 1000)} s left` : ''].filter(Boolean).join(', ');
        err(`${label}  ${pct}% (${p.sectorsDone}/${p.sectorsTotal} blocks${extra ? ', ' + extra : ''})`);
      }
    }
  };
}

interface CdCliOptions {
  verify: boolean;
  speedX?: number;
  eject: boolean;
  force: boolean;
  progressMode: string | true | undefined;
  quiet: boolean;
}

async function burnCdCommand(input: string, drives: string[], make: () => CdProgram, mode: CdWriteMode, o: CdCliOptions): Promise<number> {
  const holderName = `discforge burn ${path.basename(input)} (pid ${process.pid})`;
  // 1× of a CD in kB/s (1000 bytes): 75 sectors of 2352 bytes a second.
  const ONE_X = 176.4;
  return withSignals(async (signal) => {
    const report = progressPrinter(drives, o.progressMode, o.quiet);
    const results = await Promise.allSettled(drives.map(async (spec): Promise<{ summary: string; notes: string[] }> => {
      const lease = await recorders.lock(spec, holderName);
      try {
        const started = Date.now();
        let phase: BurnProgress['phase'] = 'validating-media';
        let phaseStart = started;
        const emit = (ph: BurnProgress['phase'], done = 0, total = 0) => {
          const now = Date.now();
          if (ph !== phase) {
            phase = ph;
            phaseStart = now;
          }
          const p: BurnProgress = { drive: spec, phase: ph, sectorsDone: done, sectorsTotal: total, elapsedMs: now - started };
          if ((ph === 'writing' || ph === 'verifying') && done > 0 && now > phaseStart) {
            const kBps = (done * 2352) / (now - phaseStart);
            p.speedKBps = Math.round(kBps);
            p.speedX = Math.round((kBps / ONE_X) * 10) / 10;
            p.etaMs = Math.round(((total - done) * 2352) / kBps);
          }
          report(p);
        };
        emit('validating-media');
        await requireCdRecorder(lease.dev, spec);
        const notes: string[] = [];
        if (o.force) {
          const m = await readMediaState(lease.dev);
          if (m.status !== 'blank' && m.status !== 'no-media' && m.erasable) {
            await eraseDisc(lease.dev, { full: false });
            notes.push('the CD-RW held data: it was blanked first (--force)');
          }
        }
        if (o.speedX !== undefined) {
          // SET CD SPEED (optional: a drive that refuses it writes at its own speed).
          try {
            await lease.dev.exec(mmc.setCdSpeed(0xffff, Math.round(o.speedX * ONE_X)));
          } catch (e) {
            notes.push(`the drive refused SET CD SPEED (${(e as Error).message}): it writes at its own speed`);
          }
        }
        const r = await burnCd(lease.dev, make(), {
          mode,
          verify: o.verify,
          signal,
          onProgress: (x) => emit(x.phase, x.done, x.total),
        });
        if (o.eject) await ejectDisc(lease.dev);
        emit('completed');
        return { summary: r.summary, notes };
      } finally {
        await lease.release();
      }
    }));
    let code = 0;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        if (!o.quiet) {
          out(r.value.summary);
          for (const n of r.value.notes) out(`  note: ${n}`);
        }
      } else {
        const e = r.reason as Error;
        const c = e instanceof CancelledError ? 130 : e instanceof InputError ? 2 : 1;
        if (e instanceof InputError && e.diagnostics.length) throw e;
        err(`discforge: ${drives[i]}: ${e instanceof CancelledError ? '' : 'error: '}${e.message}`);
        code = Math.max(code, c);
      }
    });
    return code;
  });
}

async function longOp(args: BurnArgs, what: 'erase' | 'format'): Promise<number> {
  checkFlags(args, ['--drive', '--full']);
  if (args.positional.length) throw new BurnUsageError(`${what} takes no arguments`);
  const [spec] = drivesOf(args, true, true);
  const lease = await recorders.lock(spec, `discforge ${what} (pid ${process.pid})`);
  try {
    const opts = { full: args.flags.has('--full') };
    out(what === 'erase' ? await eraseDisc(lease.dev, opts) : await formatMedia(lease.dev, opts));
    return 0;
  } finally {
    await lease.release();
  }
}

const cmdErase = (args: BurnArgs) => longOp(args, 'erase');
const cmdFormat = (args: BurnArgs) => longOp(args, 'format');

async function cmdEject(args: BurnArgs): Promise<number> {
  checkFlags(args, ['--drive']);
  if (args.positional.length) throw new BurnUsageError('eject takes no arguments');
  const [spec] = drivesOf(args, true, true);
  const lease = await recorders.lock(spec, `discforge eject (pid ${process.pid})`);
  try {
    await ejectDisc(lease.dev);
    out(`${spec}: ejected`);
    return 0;
  } finally {
    await lease.release();
  }
}
