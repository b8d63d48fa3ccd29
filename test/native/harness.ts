/**
 * What the native-addon tests share: the guest (Debian's kernel, busybox, node's libraries; test/guest/guest.ts),
 * its share (the host's node, the guest script and the CLI bundled with esbuild, the built addon), tgt serving a
 * blank DVD+R over iSCSI on the loopback, the "@@RESULT" lines the guest script prints, and the serial logs kept
 * under test/.work/native/ (git-ignored; CI keeps them as artifacts).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ensureGuest, GuestError, repoRoot, type GuestResult } from '../guest/guest';

export const ADDON_FILE = (): string => path.join(repoRoot(), 'native', 'build', 'Release', 'discforge_scsi.node');

/** test/.work/native/<name>, emptied. */
export function workDir(name: string): string {
  const d = path.join(repoRoot(), 'test', '.work', 'native', name);
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** The guest for these tests: the default modules (virtio_scsi, sr_mod, sg, 9p …) and node's shared libraries. */
export function nativeGuest(): Promise<string> {
  return ensureGuest({ libsOf: ['node'] });
}

function esbuild(entry: string, outfile: string): void {
  const root = repoRoot();
  const bin = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'esbuild.cmd' : 'esbuild');
  const r = spawnSync(bin, [
    path.join(root, entry), '--bundle', '--platform=node', '--target=node20', '--format=cjs', '--external:*.node',
    '--main-fields=module,main', '--log-level=warning', `--outfile=${outfile}`,
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`esbuild ${entry} failed: ${r.error?.message ?? ''}${r.stderr}`);
}

/**
 * Fills `share` for the guest: bin/node (the host's node, a hard link or a copy), app/guest.js (test/native/guest/
 * main.ts bundled), app/cli.js (the discforge CLI bundled), app/native/build/Release/discforge_scsi.node (the
 * built addon, where native.ts looks for it: the nearest native/ above the bundle).
 */
export function prepareShare(share: string): void {
  const addon = ADDON_FILE();
  if (!fs.existsSync(addon)) throw new Error(`${addon} is missing: build the addon first (npm run build:native)`);
  fs.mkdirSync(path.join(share, 'bin'), { recursive: true });
  const node = path.join(share, 'bin', 'node');
  fs.rmSync(node, { force: true });
  try {
    fs.linkSync(process.execPath, node);
  } catch {
    fs.copyFileSync(process.execPath, node);
    fs.chmodSync(node, 0o755);
  }
  const app = path.join(share, 'app');
  fs.mkdirSync(path.join(app, 'native', 'build', 'Release'), { recursive: true });
  fs.copyFileSync(addon, path.join(app, 'native', 'build', 'Release', 'discforge_scsi.node'));
  esbuild('test/native/guest/main.ts', path.join(app, 'guest.js'));
  esbuild('server/src/cli/main.ts', path.join(app, 'cli.js'));
}

/** The start of a guest command: node from the share on PATH, in the app folder. */
export const GUEST_PRELUDE = 'export PATH=/share/bin:$PATH; cd /share/app || exit 90\n';

export interface StepResult {
  ok: boolean;
  seconds: number;
  value?: unknown;
  error?: string;
  stack?: string;
  [k: string]: unknown;
}

/** The guest script's "@@RESULT step json" lines. */
export function parseResults(output: string): Map<string, StepResult> {
  const m = new Map<string, StepResult>();
  for (const line of output.split('\n')) {
    const r = /^@@RESULT (\S+) (.*)$/.exec(line);
    if (r) m.set(r[1], JSON.parse(r[2]) as StepResult);
  }
  return m;
}

/** A section "@@BEGIN name" … "@@END name status" of the guest's output (for CLI runs). */
export function section(output: string, name: string): { text: string; status: number } | undefined {
  const re = new RegExp(`^@@BEGIN ${name}\\n([\\s\\S]*?)^@@END ${name} (\\d+)$`, 'm');
  const m = re.exec(output);
  return m ? { text: m[1], status: Number(m[2]) } : undefined;
}

/** Keeps the guest's console and output under test/.work/native/<name>/ (and says where, for failures). */
export function keepLogs(dir: string, r: Pick<GuestResult, 'log' | 'output'>): string {
  const log = path.join(dir, 'serial.log');
  fs.writeFileSync(log, r.log);
  fs.writeFileSync(path.join(dir, 'output.log'), r.output);
  return log;
}

/** A guest that did not finish (timeout, panic): its console and output are kept too; the error says where. */
export function keptGuestError(dir: string, e: unknown): Error {
  if (!(e instanceof GuestError)) return e as Error;
  const log = keepLogs(dir, e);
  return new Error(`${e.message}\n(serial log: ${log}, output: ${path.join(dir, 'output.log')})`);
}

/** A step's result, or an assertion-ready explanation of why it is missing or failed. */
export function describeStep(results: Map<string, StepResult>, step: string, logHint: string): string {
  const r = results.get(step);
  if (!r) return `the guest printed no result for "${step}" (see ${logHint})`;
  if (r.ok) return 'ok';
  const { ok: _ok, seconds: _s, stack, ...rest } = r;
  void _ok;
  void _s;
  return `guest step "${step}" failed: ${JSON.stringify(rest, null, 2)}\n${stack ?? ''}\n(serial log: ${logHint})`;
}

// ---------------------------------------------------------------------------------------------------------------
// tgt: an iSCSI target whose "cd" LUN with an empty backing file is a blank DVD+R (tgt's MMC emulation, usr/mmc.c).

export interface Tgt {
  url: string;
  backing: string;
  log: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function tgtadm(ctl: number, args: string[]): { status: number; out: string } {
  const r = spawnSync('tgtadm', ['-C', String(ctl), ...args], { encoding: 'utf8' });
  if (r.error) throw new Error(`tgtadm: ${r.error.message} (install the Debian package tgt: node scripts/ensure-tools.mjs)`);
  return { status: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

/** Starts tgtd on 127.0.0.1 (a free port, its own control socket) with one blank DVD+R LUN backed by dir/dvdr.img. */
export async function startTgt(dir: string): Promise<Tgt> {
  const backing = path.join(dir, 'dvdr.img');
  fs.writeFileSync(backing, ''); // 0 bytes: tgt presents a blank DVD+R
  const port = await freePort();
  const ctl = 2000 + (process.pid % 20000);
  const log = path.join(dir, 'tgtd.log');
  const out = fs.openSync(log, 'w');
  const child = spawn('tgtd', ['-f', '-C', String(ctl), '--iscsi', `portal=127.0.0.1:${port}`], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let exited = false;
  child.on('exit', () => (exited = true));
  await new Promise<void>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`tgtd: ${e.message} (install the Debian package tgt: node scripts/ensure-tools.mjs)`)));
    child.once('spawn', () => resolve());
  });
  const stop = async (): Promise<void> => {
    if (exited) return;
    tgtadm(ctl, ['--lld', 'iscsi', '--mode', 'target', '--op', 'delete', '--force', '--tid', '1']);
    tgtadm(ctl, ['--op', 'delete', '--mode', 'system']);
    for (let i = 0; i < 50 && !exited; i++) await new Promise((r) => setTimeout(r, 100));
    if (!exited) child.kill('SIGKILL');
  };
  try {
    for (let i = 0; ; i++) {
      if (tgtadm(ctl, ['--op', 'show', '--mode', 'sys']).status === 0) break;
      if (exited || i > 50) throw new Error(`tgtd did not start: ${fs.readFileSync(log, 'utf8')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const iqn = 'iqn.2026-01.test.discforge:dvdr';
    for (const args of [
      ['--lld', 'iscsi', '--mode', 'target', '--op', 'new', '--tid', '1', '--targetname', iqn],
      ['--lld', 'iscsi', '--mode', 'target', '--op', 'bind', '--tid', '1', '--initiator-address', '127.0.0.1'],
      ['--lld', 'iscsi', '--mode', 'logicalunit', '--op', 'new', '--tid', '1', '--lun', '1', '--device-type', 'cd', '--backing-store', backing],
    ]) {
      const r = tgtadm(ctl, args);
      if (r.status !== 0) throw new Error(`tgtadm ${args.join(' ')}: ${r.out}`);
    }
    return { url: `iscsi://127.0.0.1:${port}/${iqn}/1`, backing, log, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** QEMU arguments for an image as QEMU's own scsi-cd at SCSI id `id` (after the pass-through devices). */
export function scsiCdArgs(image: string, id: number): string[] {
  const f = path.resolve(image).replace(/,/g, ',,');
  return [
    '-drive', `file=${f},if=none,id=cd${id},format=raw,readonly=on,media=cdrom`,
    '-device', `scsi-cd,bus=scsi0.0,scsi-id=${id},lun=0,drive=cd${id}`,
  ];
}
