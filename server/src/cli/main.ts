/**
 * `discforge`: the command-line entry of the mastering engine (the same engine the language server hosts).
 * Exit codes: 0 success, 2 bad input (the message names the file and position), 1 anything else,
 * 130 interrupted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildImage, hasErrors, planProject, type Progress } from '../engine/build';
import { formatCueText, formatInspectText, inspectCue, inspectImage, isCueSheet } from '../engine/inspect';
import { formatBytes } from '../engine/media';
import { describeBoot, describeBootEntries } from '../engine/boot/eltorito';
import { CancelledError, formatDiagnostic, InputError, type Diagnostic } from '../engine/util/errors';
import { version } from '../../../package.json';
import { BURN_COMMANDS, BURN_HELP, BURN_VALUE_FLAGS, BurnUsageError, runBurnCommand } from './burn';
import { loadState, mediaModel, statePath } from '../engine/burn/emulator/disc';

const HELP: Record<string, string> = {
  main: `discforge ${version} — disc mastering from a declarative manifest (*.disc.json)

Usage: discforge <command> [options]

Commands:
  build <manifest>     build the image the manifest describes
  check <manifest>     validate the manifest and plan the image without writing it
  inspect <image>      show an image's volume descriptors and file system trees
  burn <manifest|image> --drive D   write to one or more recorders (and verify)
  drives               list the optical drives
  media --drive D      show the disc in a drive (status, sessions, free space)
  erase --drive D      erase a rewritable disc
  format --drive D     format a DVD+RW, DVD-RW, DVD-RAM or BD-RE
  eject --drive D      eject the disc

Options:
  -h, --help           help (also: discforge <command> --help)
  -v, --version        print the version`,
  ...BURN_HELP,
  build: `Usage: discforge build <manifest> [--output PATH] [--progress json]

Builds the image described by <manifest> (JSON with comments). The image is written to PATH.partial and
renamed to PATH when complete; an interrupted or failed build leaves nothing under PATH.

Options:
  -o, --output PATH    where to write the image (default: the manifest's "output", else <name>.iso beside it)
  --progress json      print progress as one JSON object per line on stderr:
                       {"phase":"scan|plan|write|done","done":N,"total":N}
  -q, --quiet          print only errors and warnings`,
  check: `Usage: discforge check <manifest> [--json]

Validates the manifest (syntax, schema, sources, names, capacity) and prints the planned image size.
Exit 0 when it would build, 2 when it has errors.

Options:
  --json               print the diagnostics and the plan as JSON on stdout`,
  inspect: `Usage: discforge inspect <image> [--json] [--session-start LBA]

Shows the volume descriptors and, per file system (ISO 9660, Joliet, Rock Ridge, ISO 9660:1999, UDF), the
directory tree with sizes and extents. Damaged or hostile images give a clear error or a list of problems.
For a cue sheet (album.cue): the table of contents (tracks, indexes, lengths, flags, ISRC, MCN), the CD-TEXT,
and a check of every data sector (sync, header, EDC, ECC) of the BIN.

Multisession discs: readers use the last session, whose volume descriptors are at its start + 16 and UDF
anchor at its start + 256 (every other address is absolute). For an emulated disc (virtual:<profile>:<image>,
whose sessions are in <image>.state.json) inspect reads the last session; otherwise block 0.

Options:
  --json               print the report as JSON
  --session-start LBA  read the session that starts at block LBA (0: the first session)`,
};

interface Args {
  positional: string[];
  flags: Map<string, string | true>;
  /** Every value of each option that takes one, in order (repeatable options such as --drive). */
  all: Map<string, string[]>;
}

const VALUE_FLAGS = new Set(['--output', '-o', '--progress', '--session-start', ...BURN_VALUE_FLAGS]);

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const all = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a.length > 1) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (VALUE_FLAGS.has(name)) {
        const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`${name} needs a value`);
        flags.set(name, value);
        all.set(name, [...(all.get(name) ?? []), value]);
      } else flags.set(name, true);
    } else positional.push(a);
  }
  return { positional, flags, all };
}

class UsageError extends Error {}

function printDiagnostics(diags: Diagnostic[], quiet = false): void {
  for (const d of diags) if (!quiet || d.severity === 'error') process.stderr.write(formatDiagnostic(d) + '\n');
}

function checkFlags(args: Args, allowed: string[]): void {
  for (const f of args.flags.keys()) {
    if (!allowed.includes(f)) throw new UsageError(`unknown option ${f}`);
  }
}

async function cmdBuild(args: Args): Promise<number> {
  checkFlags(args, ['--output', '-o', '--progress', '--quiet', '-q']);
  const manifest = args.positional[0];
  if (!manifest || args.positional.length > 1) throw new UsageError('build takes one manifest');
  const progressMode = args.flags.get('--progress');
  if (progressMode !== undefined && progressMode !== 'json') throw new UsageError('--progress takes "json"');
  const quiet = args.flags.has('--quiet') || args.flags.has('-q');
  const output = (args.flags.get('--output') ?? args.flags.get('-o')) as string | undefined;

  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = Date.now();
  const onProgress = progressMode === 'json'
    ? (p: Progress) => process.stderr.write(JSON.stringify(p) + '\n')
    : undefined;
  try {
    const result = await buildImage(manifest, { output, onProgress, signal: controller.signal });
    printDiagnostics(result.plan.diagnostics, quiet);
    if (!quiet && result.plan.audio) {
      const a = result.plan.audio;
      const secs = (Date.now() - started) / 1000;
      process.stdout.write(`wrote ${[a.files.bin, a.files.cue, a.files.toc, a.files.cdt].filter(Boolean).map((f) => path.relative(process.cwd(), f!) || f).join(', ')}: ` +
        `${a.layout.tracks.length} tracks, ${a.layout.leadOut} sectors of ${a.layout.sectorSize} bytes, in ${secs.toFixed(2)} s\n`);
    } else if (!quiet) {
      const s = result.plan.stats!;
      const secs = (Date.now() - started) / 1000;
      process.stdout.write(
        `wrote ${path.relative(process.cwd(), result.output) || result.output}: ${formatBytes(result.bytes)} (${result.bytes} bytes), ` +
          `${s.files} files, ${s.directories} folders, in ${secs.toFixed(2)} s\n`,
      );
      if (result.plan.boot) process.stdout.write(describeBoot(result.plan.boot) + '\n');
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function cmdCheck(args: Args): number {
  checkFlags(args, ['--json']);
  const manifest = args.positional[0];
  if (!manifest || args.positional.length > 1) throw new UsageError('check takes one manifest');
  const plan = planProject(manifest);
  const ok = !hasErrors(plan.diagnostics);
  if (args.flags.has('--json')) {
    process.stdout.write(JSON.stringify({
      ok, diagnostics: plan.diagnostics, bytes: plan.bytes, blocks: plan.image?.blocks, stats: plan.stats, output: plan.output,
      boot: plan.boot ? { entries: describeBootEntries(plan.boot), hybrid: plan.boot.hybrid ?? null } : undefined,
    }, null, 2) + '\n');
  } else {
    printDiagnostics(plan.diagnostics);
    if (ok && plan.audio) {
      process.stdout.write(`${manifest}: ok — ${plan.audio.layout.tracks.length} tracks, ${plan.audio.layout.leadOut} sectors (${formatBytes(plan.audio.image.bytes)})\n`);
    } else if (ok && plan.bytes !== undefined) {
      const s = plan.stats!;
      process.stdout.write(`${manifest}: ok — ${formatBytes(plan.bytes)} (${plan.bytes} bytes), ${s.files} files, ${s.directories} folders\n`);
      if (plan.boot) process.stdout.write(describeBoot(plan.boot) + '\n');
    }
  }
  return ok ? 0 : 2;
}

async function cmdInspect(args: Args): Promise<number> {
  checkFlags(args, ['--json', '--session-start']);
  const image = args.positional[0];
  if (!image || args.positional.length > 1) throw new UsageError('inspect takes one image');
  const given = args.flags.get('--session-start');
  let sessionStart: number | undefined;
  if (typeof given === 'string') {
    if (!/^\d+$/.test(given.trim()) || !Number.isSafeInteger(Number(given))) {
      throw new UsageError(`--session-start takes a block number (an integer ≥ 0), got "${given}"`);
    }
    sessionStart = Number(given);
  }
  if (!fs.existsSync(image)) throw new InputError(`${image}: no such file`);
  if (isCueSheet(image)) {
    if (sessionStart !== undefined) throw new UsageError('--session-start applies to disc images, not to cue sheets');
    const cue = inspectCue(image);
    process.stdout.write(args.flags.has('--json') ? JSON.stringify(cue, null, 2) + '\n' : formatCueText(cue));
    return 0;
  }
  // An emulated disc's sessions (IMAGE.state.json): readers use the last one; --session-start overrides.
  const sessions = emulatedSessions(image);
  const chosen = sessionStart === undefined ? (sessions.length > 1 ? sessions[sessions.length - 1] : undefined) : sessions.find((x) => x.start === sessionStart);
  const start = sessionStart ?? chosen?.start ?? 0;
  const report = await inspectImage(image, { sessionStart: start, ...(chosen ? { sessionEnd: chosen.end } : {}) });
  const session = sessions.length > 1 || (sessionStart !== undefined && sessions.length > 0)
    ? {
      number: chosen?.number ?? null,
      of: sessions.length,
      start,
      end: chosen?.end ?? null,
      from: sessionStart === undefined ? 'emulated disc state' : '--session-start',
      sessions: sessions.map((x) => x.start),
    }
    : undefined;
  if (args.flags.has('--json')) {
    process.stdout.write(JSON.stringify(session ? { ...report, session } : report, null, 2) + '\n');
    return 0;
  }
  let note: string | undefined;
  if (session && chosen) {
    note = `${chosen.number} of ${sessions.length}, from block ${start} (${sessionStart === undefined ? 'from the emulated disc\'s state' : '--session-start'})`;
    if (sessionStart === undefined) note += '; --session-start 0 for the first';
  } else if (session) {
    note = `from block ${start} (--session-start; the emulated disc's sessions start at ${sessions.map((x) => x.start).join(', ')})`;
  }
  process.stdout.write(formatInspectText(report, note ? { session: note } : {}));
  return 0;
}

/**
 * The sessions of the emulated disc whose data file is `image` (its IMAGE.state.json, see
 * ../engine/burn/emulator/disc.ts), as its table of contents lists them: closed tracks of closed sessions.
 * None when there is no state (a plain image) or it cannot be read (a note says so).
 */
function emulatedSessions(image: string): { number: number; start: number; end: number }[] {
  if (!fs.existsSync(statePath(image))) return [];
  try {
    // The model only matters for a disc without state; the state file exists.
    const st = loadState(image, mediaModel('cd-r'));
    const bySession = new Map<number, { start: number; end: number }>();
    for (const t of st.tracks) {
      if (!t.closed || t.session > st.closedSessions || t.recorded <= 0) continue;
      const s = bySession.get(t.session);
      const end = t.start + t.recorded - 1;
      bySession.set(t.session, s ? { start: Math.min(s.start, t.start), end: Math.max(s.end, end) } : { start: t.start, end });
    }
    return [...bySession.entries()].sort((a, b) => a[0] - b[0]).map(([, x], i) => ({ number: i + 1, ...x }));
  } catch (e) {
    process.stderr.write(`discforge: note: ${(e as Error).message}; reading the image from block 0\n`);
    return [];
  }
}

export async function main(argv: string[]): Promise<number> {
  let command: string | undefined;
  try {
    const args = parseArgs(argv);
    command = args.positional.shift();
    if (args.flags.has('--version') || args.flags.has('-v')) {
      process.stdout.write(`${version}\n`);
      return 0;
    }
    if (args.flags.has('--help') || args.flags.has('-h') || command === 'help' || command === undefined) {
      const topic = command === 'help' ? args.positional[0] : command;
      process.stdout.write((HELP[topic ?? 'main'] ?? HELP.main) + '\n');
      return command === undefined && !args.flags.has('--help') && !args.flags.has('-h') ? 2 : 0;
    }
    switch (command) {
      case 'build':
        return await cmdBuild(args);
      case 'check':
        return cmdCheck(args);
      case 'inspect':
        return await cmdInspect(args);
      default:
        if (BURN_COMMANDS.includes(command)) return await runBurnCommand(command, args);
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof BurnUsageError) {
      process.stderr.write(`discforge: ${err.message}\n${HELP[command ?? 'main'] ?? HELP.main}\n`);
      return 2;
    }
    if (err instanceof InputError) {
      printDiagnostics(err.diagnostics);
      if (err.diagnostics.length === 0 || !err.diagnostics.some((d) => d.severity === 'error')) {
        process.stderr.write(`discforge: error: ${err.message}\n`);
      }
      return 2;
    }
    if (err instanceof CancelledError) {
      process.stderr.write(`discforge: ${err.message}; nothing was written\n`);
      return 130;
    }
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`discforge: error: ${e.message}\n`);
    if (process.env.DISCFORGE_DEBUG) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

/** Runs the CLI with the process's arguments and sets the exit code (bin/discforge.js calls this). */
export function run(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`discforge: internal error: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module || process.env.DISCFORGE_RUN_CLI) run();
