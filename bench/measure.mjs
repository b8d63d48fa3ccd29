// @ts-check
// Running a command under measurement: wall time (monotonic clock around the child's lifetime), CPU
// time and peak resident set size. Peak RSS comes from GNU time (`/usr/bin/time -f %M`, Debian package `time`,
// which reports the largest max-RSS among the command and the descendants it waited for); when that is
// missing and cannot be installed, /proc is polled instead (VmHWM of the process tree, every 20 ms).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const GNU_TIME = '/usr/bin/time';

/**
 * @typedef {object} RunResult
 * @property {number} wallS         wall time in seconds
 * @property {number | null} rssKiB peak RSS in KiB (null when it could not be read)
 * @property {number | null} cpuS   user + system CPU seconds of the command and its waited-for descendants
 *                                  (null without GNU time)
 * @property {number | null} code   exit code (null when killed by a signal)
 * @property {string | null} signal
 * @property {boolean} timedOut
 * @property {string} logTail       the last lines of the command's stderr (and stdout when logged)
 */

/** @type {'gnu-time' | 'proc-poll' | undefined} */
let rssMethod;

/**
 * How peak RSS is measured; installs GNU time with apt-get when missing and running as root.
 * @returns {'gnu-time' | 'proc-poll'}
 */
export function rssMethodInUse() {
  if (rssMethod) return rssMethod;
  if (!gnuTimeWorks() && process.getuid?.() === 0) {
    process.stderr.write('bench: /usr/bin/time missing; installing Debian package `time` with apt-get…\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = spawnSync('apt-get', ['install', '-y', '-qq', 'time'], { stdio: 'ignore', env });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
      r = spawnSync('apt-get', ['install', '-y', '-qq', 'time'], { stdio: 'ignore', env });
    }
  }
  rssMethod = gnuTimeWorks() ? 'gnu-time' : 'proc-poll';
  return rssMethod;
}

function gnuTimeWorks() {
  if (!existsSync(GNU_TIME)) return false;
  const r = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
  return r.status === 0 && /^\d+\s*$/m.test(r.stderr);
}

/**
 * Runs `cmd args` and measures it. stdout goes to `stdoutFile` (or to the log when not given), stderr
 * to `logFile`. The child gets its own process group, so a timeout kills the whole tree.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, logFile: string, rssFile: string, stdoutFile?: string, timeoutS: number }} opts
 * @returns {Promise<RunResult>}
 */
export async function measure(cmd, args, opts) {
  const method = rssMethodInUse();
  rmSync(opts.rssFile, { force: true });
  const logFd = openSync(opts.logFile, 'w');
  const outFd = opts.stdoutFile ? openSync(opts.stdoutFile, 'w') : logFd;
  const [file, argv] =
    method === 'gnu-time' ? [GNU_TIME, ['-f', '%M %U %S', '-o', opts.rssFile, '--', cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  const child = spawn(file, argv, { cwd: opts.cwd, stdio: ['ignore', outFd, logFd], detached: true });
  let timedOut = false;
  let polledKiB = 0;
  /** @type {NodeJS.Timeout | undefined} */
  let poller;
  if (method === 'proc-poll' && child.pid !== undefined) {
    const pid = child.pid;
    poller = setInterval(() => {
      polledKiB = Math.max(polledKiB, treePeakKiB(pid));
    }, 20);
  }
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, opts.timeoutS * 1000);
  /** @type {{ code: number | null, signal: string | null }} */
  const exit = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const wallS = (performance.now() - t0) / 1000;
  clearTimeout(timer);
  if (poller) clearInterval(poller);
  closeSync(logFd);
  if (outFd !== logFd) closeSync(outFd);

  /** @type {number | null} */
  let rssKiB = null;
  /** @type {number | null} */
  let cpuS = null;
  if (method === 'gnu-time') {
    // GNU time writes "Command exited with non-zero status N" before the format line on failure.
    const lines = existsSync(opts.rssFile) ? readFileSync(opts.rssFile, 'utf8').trim().split('\n') : [];
    const m = /^(\d+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/.exec(lines[lines.length - 1] ?? '');
    if (m) {
      rssKiB = Number(m[1]);
      cpuS = Math.round((Number(m[2]) + Number(m[3])) * 100) / 100;
    }
  } else {
    rssKiB = polledKiB || null;
  }
  return { wallS, rssKiB, cpuS, code: exit.code, signal: exit.signal, timedOut, logTail: tail(opts.logFile) };
}

/** Largest VmHWM (peak RSS, KiB) among `pid` and its descendants, read from /proc. @param {number} pid */
function treePeakKiB(pid) {
  /** @type {Map<number, number[]>} */
  const children = new Map();
  for (const name of safeReaddir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      /* process exited meanwhile */
    }
  }
  let peak = 0;
  const todo = [pid];
  while (todo.length) {
    const p = /** @type {number} */ (todo.pop());
    try {
      const m = /^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {
      /* gone */
    }
    todo.push(...(children.get(p) ?? []));
  }
  return peak;
}

/** @param {string} dir */
function safeReaddir(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The last `maxLines` lines (at most 4 KiB) of a text file. @param {string} file @param {number} [maxLines] */
export function tail(file, maxLines = 12) {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    const len = Math.min(size, 4096);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    closeSync(fd);
    return buf.toString('utf8').trimEnd().split('\n').slice(-maxLines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Runs a command to completion and returns its stdout (no size limit, unlike execFile's maxBuffer).
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string }} [opts]
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
export function capture(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    /** @type {Buffer[]} */
    const out = [];
    /** @type {Buffer[]} */
    const err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}
