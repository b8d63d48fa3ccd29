// @ts-check
// `npm run bench`: builds ISO 9660 + Joliet + Rock Ridge images of the same source trees with DiscForge,
// xorriso and genisoimage, and copies them with cat (the I/O limit), side by side in one run; reports
// median wall time, throughput, peak RSS and output size per tool, the target ratios, and a memory
// check. Stdout gets a readable report, <work>/results.json the figures. See `node bench/run.mjs --help`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, rssMethodInUse } from './measure.mjs';
import { ensureLargeTree, ensureSmallTree, fmtBytes } from './trees.mjs';
import { verifyImage } from './verify.mjs';

/** @typedef {import('./trees.mjs').TreeInfo} TreeInfo */
/** @typedef {import('./measure.mjs').RunResult} RunResult */

/**
 * @typedef {object} Tool
 * @property {string} id
 * @property {boolean} image                 whether the output is an ISO image (verified) or a plain copy
 * @property {(tree: TreeInfo) => string} options  the options used, for the report
 * @property {(tree: TreeInfo, out: string) => { cmd: string, args: string[] }} command
 * @property {() => string | undefined} unavailable  why the tool cannot run, if it cannot
 */

/** @typedef {{ wallS: number, cpuS: number | null, rssKiB: number | null }} Sample */

/**
 * @typedef {object} ToolResult
 * @property {string} tool
 * @property {string} options
 * @property {string} command
 * @property {Sample[]} runs               measured runs (not the warm-up)
 * @property {Sample | null} warmup
 * @property {number | null} medianS
 * @property {number | null} minS
 * @property {number | null} maxS
 * @property {number | null} medianCpuS       median user + system CPU seconds
 * @property {number | null} mbPerS           input bytes / median wall time, MB = 10^6 bytes
 * @property {number | null} peakRssKiB       largest over the warm-up and the measured runs
 * @property {number | null} outputBytes
 * @property {{ ok: boolean, problems: string[], checked: string } | null} verify
 * @property {string | null} error
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`Usage: node bench/run.mjs   (or: npm run bench, which builds dist/ first)

Environment:
  BENCH_LARGE_GIB    total size of the large-file tree, in files of at most 1 GiB   (default 3)
  BENCH_SMALL_FILES  number of files in the small-file tree                          (default 100000)
  BENCH_MEM_FILES    files in the second small tree, for the memory check    (default small / 10)
  BENCH_RUNS         measured runs per tool and tree, after one warm-up run          (default 3)
  BENCH_TREES        comma-separated subset of: large, small, mem                    (default all)
  BENCH_TOOLS        comma-separated subset of: discforge, xorriso, genisoimage, cat (default all)
  BENCH_TIMEOUT_S    time limit of one run, in seconds                               (default 3600)
  BENCH_DIR          work folder: cached trees, images, logs, results.json   (default bench/.work)
  BENCH_OUT_DIR      where the images are written (and deleted)              (default <work>/out)
  BENCH_DISCFORGE_CLI  the DiscForge CLI script to run                        (default dist/cli.js)
`);
  process.exit(0);
}

const cfg = {
  work: resolve(process.env.BENCH_DIR || join(root, 'bench', '.work')),
  largeGiB: envNumber('BENCH_LARGE_GIB', 3),
  smallFiles: envNumber('BENCH_SMALL_FILES', 100_000),
  memFiles: 0,
  runs: envNumber('BENCH_RUNS', 3),
  timeoutS: envNumber('BENCH_TIMEOUT_S', 3600),
  trees: envList('BENCH_TREES', ['large', 'small', 'mem']),
  tools: envList('BENCH_TOOLS', ['discforge', 'xorriso', 'genisoimage', 'cat']),
};
cfg.memFiles = envNumber('BENCH_MEM_FILES', Math.max(1, Math.round(cfg.smallFiles / 10)));
if (!(cfg.runs >= 1 && Number.isInteger(cfg.runs))) fail(`BENCH_RUNS must be a positive integer (got ${cfg.runs})`);

const dirs = {
  trees: join(cfg.work, 'trees'),
  out: resolve(process.env.BENCH_OUT_DIR || join(cfg.work, 'out')),
  logs: join(cfg.work, 'logs'),
  manifests: join(cfg.work, 'manifests'),
};
for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
const cliJs = resolve(process.env.BENCH_DISCFORGE_CLI || join(root, 'dist', 'cli.js'));

/** @type {Tool[]} */
const allTools = [
  {
    id: 'discforge',
    image: true,
    options: () => 'build <manifest> --output; manifest: iso9660 level 3 + joliet + rockridge, fixed "created"',
    command: (tree, out) => ({ cmd: process.execPath, args: [cliJs, 'build', writeManifest(tree), '--output', out] }),
    unavailable: () => (existsSync(cliJs) ? undefined : `${relative(root, cliJs)} missing (build failed?)`),
  },
  {
    id: 'xorriso',
    image: true,
    options: () => '-as mkisofs -R -J',
    command: (tree, out) => ({ cmd: 'xorriso', args: ['-as', 'mkisofs', '-R', '-J', '-o', out, tree.dir] }),
    unavailable: () => missingCommand('xorriso'),
  },
  {
    id: 'genisoimage',
    image: true,
    // Files of 4 GiB and more need level 3 (multi-extent) and -allow-limited-size; smaller ones need nothing.
    options: (tree) => ['-R -J', ...(needsLevel3(tree) ? ['-iso-level 3 -allow-limited-size'] : [])].join(' '),
    command: (tree, out) => ({
      cmd: 'genisoimage',
      args: ['-R', '-J', ...(needsLevel3(tree) ? ['-iso-level', '3', '-allow-limited-size'] : []), '-o', out, tree.dir],
    }),
    unavailable: () => missingCommand('genisoimage'),
  },
  {
    id: 'cat',
    image: false,
    options: () => 'find <dir> -type f -print0 | xargs -0 cat > out',
    command: (tree, out) => ({
      cmd: 'sh',
      args: ['-c', 'find "$1" -type f -print0 | xargs -0 cat > "$2"', 'sh', tree.dir, out],
    }),
    unavailable: () => missingCommand('xargs') ?? missingCommand('find'),
  },
];
const tools = allTools.filter((t) => cfg.tools.includes(t.id));

// ---------------------------------------------------------------------------------------------------
// Trees

const startedAt = new Date();
log(`work folder ${cfg.work}; peak RSS via ${rssMethodInUse() === 'gnu-time' ? '/usr/bin/time -f %M' : '/proc polling'}`);
/** @type {{ id: string, tree: TreeInfo }[]} */
const trees = [];
if (cfg.trees.includes('large')) {
  checkSpace(Math.round(cfg.largeGiB * 1024 * MiB) * 2.1);
  trees.push({ id: 'large', tree: ensureLargeTree(join(dirs.trees, 'large'), cfg.largeGiB, log) });
}
if (cfg.trees.includes('small')) trees.push({ id: 'small', tree: ensureSmallTree(join(dirs.trees, 'small'), cfg.smallFiles, log) });
if (cfg.trees.includes('mem')) trees.push({ id: 'mem', tree: ensureSmallTree(join(dirs.trees, 'mem'), cfg.memFiles, log) });
for (const { id, tree } of trees) tree.name = id;

// ---------------------------------------------------------------------------------------------------
// Runs: per tree, one warm-up round (verified, not counted), then cfg.runs rounds, tools interleaved.

/** @type {Record<string, Record<string, ToolResult>>} */
const results = {};
for (const { id, tree } of trees) {
  log(`tree ${id}: ${tree.files.toLocaleString('en-US')} files, ${tree.dirs.toLocaleString('en-US')} folders, ${fmtBytes(tree.bytes)}`);
  /** @type {Record<string, ToolResult>} */
  const perTool = {};
  for (const tool of tools) {
    const cmd = tool.command(tree, tool.image ? '<out.iso>' : '<out>');
    perTool[tool.id] = {
      tool: tool.id,
      options: tool.options(tree),
      command: [cmd.cmd === process.execPath ? 'node' : cmd.cmd, ...cmd.args].join(' '),
      runs: [],
      warmup: null,
      medianS: null,
      minS: null,
      maxS: null,
      medianCpuS: null,
      mbPerS: null,
      peakRssKiB: null,
      outputBytes: null,
      verify: null,
      error: tool.unavailable() ?? null,
    };
  }
  results[id] = perTool;
  for (let round = 0; round <= cfg.runs; round++) {
    // Rotate the order every round, so that no tool always runs right after the same other one.
    for (const tool of tools.map((_, i) => tools[(i + round) % tools.length])) {
      const res = perTool[tool.id];
      if (res.error) continue;
      const out = join(dirs.out, `${id}.${tool.id}.${tool.image ? 'iso' : 'cat'}`);
      const label = `${id}/${tool.id} ${round === 0 ? 'warm-up' : `run ${round}/${cfg.runs}`}`;
      rmSync(out, { force: true });
      const { cmd, args } = tool.command(tree, out);
      /** @type {RunResult} */
      let r;
      try {
        r = await measure(cmd, args, {
          logFile: join(dirs.logs, `${id}.${tool.id}.log`),
          rssFile: join(dirs.logs, `${id}.${tool.id}.rss`),
          timeoutS: cfg.timeoutS,
        });
      } catch (e) {
        res.error = `could not start ${cmd}: ${e instanceof Error ? e.message : e}`;
        log(`${label}: ERROR ${res.error}`);
        continue;
      }
      if (r.timedOut || r.code !== 0 || !existsSync(out)) {
        const why = r.timedOut ? `timed out after ${cfg.timeoutS} s` : r.code !== 0 ? `exit ${r.code ?? r.signal}` : 'no output file';
        res.error = `${why}${r.logTail ? `\n${r.logTail}` : ''}`;
        log(`${label}: ERROR ${why} (log: ${relative(process.cwd(), join(dirs.logs, `${id}.${tool.id}.log`))})`);
        rmSync(out, { force: true });
        continue;
      }
      const size = statSync(out).size;
      res.outputBytes = size;
      res.peakRssKiB = Math.max(res.peakRssKiB ?? 0, r.rssKiB ?? 0) || null;
      /** @type {Sample} */
      const sample = { wallS: round3(r.wallS), cpuS: r.cpuS, rssKiB: r.rssKiB };
      if (round === 0) {
        res.warmup = sample;
        if (tool.image) {
          log(`${label}: ${r.wallS.toFixed(2)} s; verifying ${fmtBytes(size)} image…`);
          res.verify = await verifyImage(out, tree);
          if (!res.verify.ok) res.error = `image verification failed:\n  ${res.verify.problems.join('\n  ')}`;
        } else {
          const ok = size === tree.bytes;
          res.verify = { ok, problems: ok ? [] : [`output has ${size} bytes, input ${tree.bytes}`], checked: 'output size = input size' };
          if (!ok) res.error = `copy incomplete: ${size} of ${tree.bytes} bytes`;
        }
        log(`${label}: ${r.wallS.toFixed(2)} s, ${fmtKiB(r.rssKiB)}, ${res.verify.ok ? 'verified' : 'VERIFICATION FAILED'}`);
      } else {
        res.runs.push(sample);
        log(`${label}: ${r.wallS.toFixed(2)} s, ${fmtKiB(r.rssKiB)}`);
      }
      rmSync(out, { force: true });
      spawnSync('sync'); // flush what is left of the deleted output before the next run; not timed
    }
  }
  for (const res of Object.values(perTool)) {
    if (res.error || res.runs.length === 0) continue;
    const times = res.runs.map((r) => r.wallS).sort((a, b) => a - b);
    res.medianS = round3(median(times));
    res.minS = times[0];
    res.maxS = times[times.length - 1];
    const cpu = res.runs.map((r) => r.cpuS).filter((c) => c !== null).sort((a, b) => a - b);
    res.medianCpuS = cpu.length ? round3(median(cpu)) : null;
    res.mbPerS = Math.round((tree.bytes / 1e6 / res.medianS) * 10) / 10;
  }
}

// ---------------------------------------------------------------------------------------------------
// Targets, memory check, report.

/** @param {string} tree @param {string} a @param {string} b */
const ratio = (tree, a, b) => {
  const x = results[tree]?.[a]?.medianS;
  const y = results[tree]?.[b]?.medianS;
  return x && y ? Math.round((x / y) * 1000) / 1000 : null;
};
const targets = [
  { name: 'large files: DiscForge / cat', tree: 'large', value: ratio('large', 'discforge', 'cat'), limit: 1.1, op: '<=' },
  { name: 'small files: DiscForge / xorriso', tree: 'small', value: ratio('small', 'discforge', 'xorriso'), limit: 1.0, op: '<' },
].map((t) => ({ ...t, met: t.value === null ? null : t.op === '<=' ? t.value <= t.limit : t.value < t.limit }));

/** @param {string} tool */
const memoryOf = (tool) => {
  const rss = (/** @type {string} */ id) => results[id]?.[tool]?.peakRssKiB ?? null;
  const files = (/** @type {string} */ id) => trees.find((t) => t.id === id)?.tree.files ?? null;
  const bytes = (/** @type {string} */ id) => trees.find((t) => t.id === id)?.tree.bytes ?? null;
  const [large, mem, small] = [rss('large'), rss('mem'), rss('small')];
  const [fMem, fSmall] = [files('mem'), files('small')];
  const perFile = small !== null && mem !== null && fMem !== null && fSmall !== null && fSmall !== fMem ? Math.round(((small - mem) * 1024) / (fSmall - fMem)) : null;
  // Size-independence: a tree of a few huge files may use at most 128 MiB more than the small mem tree
  // (room for I/O buffers), however many GiB it holds.
  const sizeIndependent = large !== null && mem !== null ? large - mem <= 128 * 1024 : null;
  return {
    tool,
    largeTree: { files: files('large'), bytes: bytes('large'), peakRssKiB: large },
    memTree: { files: fMem, bytes: bytes('mem'), peakRssKiB: mem },
    smallTree: { files: fSmall, bytes: bytes('small'), peakRssKiB: small },
    bytesPerExtraFile: perFile,
    sizeIndependent,
  };
};
const memory = tools.filter((t) => t.image).map((t) => memoryOf(t.id));

const summary = {
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  config: { ...cfg },
  method: {
    cache: 'warm: page cache not dropped; one unmeasured (but verified) warm-up run per tool and tree, then the measured runs, tools interleaved round-robin',
    output: `written to ${dirs.out}, deleted after each run, then sync (not timed)`,
    rss: rssMethodInUse() === 'gnu-time' ? 'GNU time %M (max RSS of the command or a descendant)' : '/proc VmHWM polling every 20 ms',
    mbPerS: 'input bytes / median wall time; MB = 10^6 bytes',
  },
  environment: {
    node: process.version,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    memory: fmtBytes(totalmem()),
    versions: {
      discforge: existsSync(cliJs) ? `dist/cli.js of ${statSync(cliJs).mtime.toISOString()}` : null,
      xorriso: firstLine('xorriso', ['-version']),
      genisoimage: firstLine('genisoimage', ['--version']),
      cat: firstLine('cat', ['--version']),
    },
  },
  trees: Object.fromEntries(trees.map(({ id, tree }) => [id, { dir: tree.dir, description: tree.description, files: tree.files, dirs: tree.dirs, bytes: tree.bytes, largestFile: tree.largestFile }])),
  results,
  targets,
  memory,
};
const resultsFile = join(cfg.work, 'results.json');
writeFileSync(resultsFile, JSON.stringify(summary, null, 2) + '\n');

report();
const errored = Object.values(results).some((r) => Object.values(r).some((x) => x.error));
process.exitCode = errored ? 1 : 0;

// UDF (bench/udf.mjs): the ISO 9660/Joliet/UDF bridge and UDF-only images on the same trees; BENCH_UDF=0 skips it.
const udfTrees = process.env.BENCH_UDF_TREES ?? cfg.trees.filter((t) => t === 'large' || t === 'small').join(',');
if (process.env.BENCH_UDF !== '0' && udfTrees) {
  const u = spawnSync(process.execPath, [join(root, 'bench', 'udf.mjs')], { stdio: 'inherit', env: { ...process.env, BENCH_UDF_TREES: udfTrees } });
  if (u.status !== 0) process.exitCode = 1;
}

function report() {
  const w = (/** @type {string} */ s) => process.stdout.write(s + '\n');
  w('');
  w('DiscForge benchmark — ISO 9660 + Joliet + Rock Ridge images');
  w(`runs: ${cfg.runs} measured per tool and tree (median reported), after 1 warm-up run each`);
  w('cache: WARM — page cache not dropped; figures are warm-cache figures; tools interleaved round-robin');
  w(`machine: ${summary.environment.cpus}, ${summary.environment.memory} RAM, node ${process.version}`);
  w('MB/s = input bytes / median wall time (MB = 10^6 bytes); cpu s = median user+system CPU time; RSS = peak resident set size');
  w(`images are written to ${dirs.out} and deleted after each run, followed by an untimed sync`);
  for (const { id, tree } of trees) {
    w('');
    w(`== ${id}: ${tree.description} — ${tree.files.toLocaleString('en-US')} files, ${tree.dirs.toLocaleString('en-US')} folders, ${tree.bytes.toLocaleString('en-US')} bytes (${fmtBytes(tree.bytes)})`);
    /** @type {string[][]} */
    const rows = [['tool', 'median s', 'min–max s', 'cpu s', 'MB/s', 'peak RSS', 'output', '× cat', '× xorriso', 'verified']];
    for (const res of Object.values(results[id])) {
      if (res.error && res.medianS === null) {
        rows.push([res.tool, 'ERROR', '', '', '', '', '', '', '', res.verify ? (res.verify.ok ? 'yes' : 'NO') : '']);
        continue;
      }
      rows.push([
        res.tool,
        fix(res.medianS, 2),
        `${fix(res.minS, 2)}–${fix(res.maxS, 2)}`,
        fix(res.medianCpuS, 2),
        fix(res.mbPerS, 1),
        fmtKiB(res.peakRssKiB),
        res.outputBytes === null ? '—' : fmtBytes(res.outputBytes),
        fix(ratio(id, res.tool, 'cat'), 2),
        fix(ratio(id, res.tool, 'xorriso'), 2),
        res.verify ? (res.verify.ok ? 'yes' : 'NO') : '',
      ]);
    }
    table(rows, w);
    for (const res of Object.values(results[id])) {
      w(`  ${res.tool.padEnd(11)} options: ${res.options}`);
    }
    for (const res of Object.values(results[id])) {
      if (res.error) w(`  ${res.tool} ERROR: ${res.error.split('\n').join('\n    ')}`);
    }
  }
  w('');
  w('== targets (not enforced; the exit status only reflects tool errors)');
  for (const t of targets) {
    const state = t.met === null ? 'NOT MEASURED' : t.met ? 'MET' : 'MISSED';
    w(`  ${t.name.padEnd(34)} ${t.value === null ? '—' : t.value.toFixed(3)}  (target ${t.op} ${t.limit.toFixed(2)})  ${state}`);
  }
  w('');
  w('== memory: peak RSS should grow with the number of files, not with their size');
  /** @type {string[][]} */
  const rows = [['tool', `large (${countOf('large')} files, ${sizeOf('large')})`, `mem (${countOf('mem')} files)`, `small (${countOf('small')} files)`, 'per extra file', 'size-independent']];
  for (const m of memory) {
    rows.push([
      m.tool,
      fmtKiB(m.largeTree.peakRssKiB),
      fmtKiB(m.memTree.peakRssKiB),
      fmtKiB(m.smallTree.peakRssKiB),
      m.bytesPerExtraFile === null ? '—' : `${m.bytesPerExtraFile.toLocaleString('en-US')} B`,
      m.sizeIndependent === null ? '—' : m.sizeIndependent ? 'yes' : 'NO',
    ]);
  }
  table(rows, w);
  w('  size-independent: RSS(large) ≤ RSS(mem) + 128 MiB; per extra file: (RSS(small) − RSS(mem)) / (files(small) − files(mem))');
  w('');
  if (tools.some((t) => t.id === 'cat')) {
    w(`note: cat is ${summary.environment.versions.cat ?? 'cat'}; since coreutils 9 it copies with copy_file_range (in the`);
    w('      kernel, no user-space buffer), so it is a strict lower bound for any tool that reads and writes.');
  }
  if (tools.some((t) => t.id === 'xorriso')) {
    w('note: xorriso waits for its writer thread in 0.1 s sleeps (seen with strace), so a run can idle up to');
    w('      about a second more than its work needs; compare min–max and cpu s.');
  }
  w('');
  w(`results: ${resultsFile}`);
  w(`logs:    ${dirs.logs}`);
}

// ---------------------------------------------------------------------------------------------------
// Helpers

/** @param {TreeInfo} tree @returns {string} the manifest's path */
function writeManifest(tree) {
  const file = join(dirs.manifests, `${tree.name}.disc.json`);
  const manifest = {
    kind: 'data',
    volume: { label: 'BENCH', created: '2026-01-01T00:00:00Z' },
    fileSystems: ['iso9660', 'joliet', 'rockridge'],
    iso9660: { level: 3 },
    files: [{ source: relative(dirname(file), tree.dir) || '.', target: '/' }],
  };
  writeFileSync(file, `// Generated by bench/run.mjs for the "${tree.name}" tree; rewritten on every run.\n${JSON.stringify(manifest, null, 2)}\n`);
  return file;
}

/** @param {TreeInfo} tree */
function needsLevel3(tree) {
  return tree.largestFile >= 4 * 1024 * MiB - 1;
}

/** @param {string} cmd */
function missingCommand(cmd) {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${cmd} not installed`;
}

/** @param {string} cmd @param {string[]} args */
function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return null;
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? null;
}

/** @param {number} bytes */
function checkSpace(bytes) {
  try {
    const s = statfsSync(cfg.work);
    const free = s.bavail * s.bsize;
    if (free < bytes) log(`WARNING: ${fmtBytes(free)} free in ${cfg.work}; the large tree and one image need about ${fmtBytes(bytes)}`);
  } catch {
    /* not fatal */
  }
}

/** @param {string[][]} rows @param {(s: string) => void} w */
function table(rows, w) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  rows.forEach((r, n) => {
    w('  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
    if (n === 0) w('  ' + widths.map((x) => '-'.repeat(x)).join('  '));
  });
}

/** @param {string} id */
function countOf(id) {
  const t = trees.find((x) => x.id === id);
  return t ? t.tree.files.toLocaleString('en-US') : '—';
}

/** @param {string} id */
function sizeOf(id) {
  const t = trees.find((x) => x.id === id);
  return t ? fmtBytes(t.tree.bytes) : '—';
}

/** @param {number | null} kib */
function fmtKiB(kib) {
  return kib === null ? '—' : `${(kib / 1024).toFixed(1)} MiB`;
}

/** @param {number | null} n @param {number} digits */
function fix(n, digits) {
  return n === null ? '—' : n.toFixed(digits);
}

/** @param {number[]} sorted */
function median(sorted) {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

/** @param {number} n */
function round3(n) {
  return Math.round(n * 1000) / 1000;
}

/** @param {string} name @param {number} dflt */
function envNumber(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) fail(`${name} must be a number (got "${v}")`);
  return n;
}

/** @param {string} name @param {string[]} all */
function envList(name, all) {
  const v = process.env[name];
  if (!v) return all;
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((x) => !all.includes(x));
  if (bad.length) fail(`${name}: unknown ${bad.join(', ')} (known: ${all.join(', ')})`);
  return list;
}

/** @param {string} msg */
function log(msg) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** @param {string} msg @returns {never} */
function fail(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

// Language server (bench/lsp.mjs): validation after an edit and completion during a build, on the small-file tree
// through globs; BENCH_LSP=0 skips it.
if (process.env.BENCH_LSP !== '0') {
  const l = spawnSync(process.execPath, [join(root, 'bench', 'lsp.mjs')], { stdio: 'inherit', env: process.env });
  if (l.status !== 0) process.exitCode = 1;
}
