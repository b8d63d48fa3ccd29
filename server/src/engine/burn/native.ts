/**
 * The native SCSI pass-through transport (issue 7): the addon in native/ (Linux SG_IO, Windows
 * IOCTL_SCSI_PASS_THROUGH_DIRECT) wrapped as a ScsiTransport. The addon only carries CDBs; every CDB is built and
 * decoded by the engine (mmc.ts, device.ts). Here: loading the addon (node-gyp-build, from the repository or from
 * beside the bundled dist/), turning its OS errors and its host/driver status into TransportErrors, and listing
 * the optical drives of the machine.
 *
 * The addon is optional: when it cannot be loaded (not built, another platform, an ABI problem) nothing here
 * throws on import; `nativeStatus()` says why, OS drives are refused with that reason, virtual recorders work.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TransportError, type Direction, type ExecuteResult, type OpenOptions, type ScsiTransport } from './transport';

/** A device handle of the addon (opaque: only the addon can make one). */
export interface NativeHandle {
  readonly path: string;
  /** Largest data transfer of one command, bytes (from sysfs max_hw_sectors_kb / BLKSECTGET, or the adapter). */
  readonly maxTransferBytes: number;
  readonly exclusive: boolean;
}

/** One command's outcome as the OS reported it (sg_io_hdr / SCSI_PASS_THROUGH_DIRECT). */
export interface NativeResult extends ExecuteResult {
  hostStatus: number;
  driverStatus: number;
  /** Time spent in the OS call. */
  durationMs: number;
}

/** An optical drive found by `list()`. */
export interface NativeDeviceInfo {
  /** What open() and `--drive` take: /dev/sr0, /dev/sg1, E: */
  path: string;
  /** "VENDOR MODEL" */
  name: string;
  vendor: string;
  model: string;
  revision: string;
  /** SCSI peripheral device type: 5 (CD/DVD/BD). */
  type: number;
  /** Linux: the SCSI generic node of the same drive. */
  sg?: string;
  /** Linux: the block node of the same drive. */
  block?: string;
}

/** The addon's exports (native/src/addon.cc). */
export interface NativeAddon {
  open(path: string, opts: { exclusive: boolean; holder?: string }): Promise<NativeHandle>;
  execute(handle: NativeHandle, cdb: Buffer, direction: Direction, data: Buffer | number, timeoutMs: number): Promise<NativeResult>;
  close(handle: NativeHandle): Promise<void>;
  list(): Promise<NativeDeviceInfo[]>;
  readonly limits: { minCdb: number; maxCdb: number; senseBytes: number; maxTransferBytes: number; maxTimeoutMs: number; maxQueued: number };
  readonly platform: string;
  readonly passThrough: boolean;
  readonly version: string;
}

/** An error the addon rejects with: the step (system call) and the OS error. */
export interface NativeOsError extends Error {
  /** "ENOENT", "EBUSY", … (mapped from GetLastError on Windows), or ERR_SCSI_CLOSED, ERR_SCSI_QUEUE_FULL … */
  code: string;
  /** errno / GetLastError() */
  errno?: number;
  /** open, ioctl(SG_IO), DeviceIoControl(IOCTL_SCSI_PASS_THROUGH_DIRECT) … */
  step?: string;
  path?: string;
}

export interface NativeStatus {
  available: boolean;
  /** Where the addon was loaded from. */
  file?: string;
  /** Why it is not available (for the CLI, the language server's and the extension's logs). */
  reason?: string;
  platform: string;
}

// node-gyp-build (bundled into dist/ by esbuild) finds build/Release/*.node or prebuilds/<platform>-<arch>/*.node.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };

let addon: NativeAddon | null | undefined;
let status: NativeStatus = { available: false, platform: process.platform };

/**
 * Folders that may hold the addon (native/ with build/Release or prebuilds/): $DISCFORGE_NATIVE_DIR, then the
 * nearest native/ above this module (source tree: server/src/engine/burn → native/; bundle: dist/ → native/;
 * bundled tests: out/test/… → native/).
 */
export function nativeDirCandidates(): string[] {
  const out: string[] = [];
  const env = process.env.DISCFORGE_NATIVE_DIR;
  if (env) out.push(path.resolve(env));
  for (let d = __dirname, i = 0; i < 8; i++) {
    const n = path.join(d, 'native');
    if (fs.existsSync(path.join(n, 'binding.gyp')) || fs.existsSync(path.join(n, 'prebuilds')) || fs.existsSync(path.join(n, 'build', 'Release'))) {
      out.push(n);
    }
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  return [...new Set(out)];
}

function isAddon(x: unknown): x is NativeAddon {
  const a = x as Partial<NativeAddon> | null;
  return !!a && typeof a.open === 'function' && typeof a.execute === 'function' && typeof a.close === 'function' && typeof a.list === 'function';
}

/** Loads the addon once; null (and nativeStatus().reason) when it cannot be loaded. Never throws. */
export function loadNativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  const dirs = nativeDirCandidates();
  const problems: string[] = [];
  for (const dir of dirs) {
    let file: string;
    try {
      file = nodeGypBuild.path(dir);
    } catch {
      problems.push(`${dir}: not built (run \`npm run build:native\`)`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const a: unknown = require(file);
      if (!isAddon(a)) {
        problems.push(`${file}: not the DiscForge SCSI addon`);
        continue;
      }
      if (!a.passThrough) {
        problems.push(`SCSI pass-through is not supported on ${a.platform}: only virtual recorders (and image building) work here`);
        addon = null;
        status = { available: false, file, reason: problems.join('; '), platform: process.platform };
        return null;
      }
      addon = a;
      status = { available: true, file, platform: process.platform };
      return a;
    } catch (e) {
      problems.push(`${file} cannot be loaded: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (dirs.length === 0) problems.push(`no native/ folder found above ${__dirname}`);
  addon = null;
  status = {
    available: false,
    reason: `the native SCSI addon is not available (${problems.join('; ')}): OS drives cannot be opened; virtual recorders work, e.g. --drive virtual:bd-r:/tmp/disc.img`,
    platform: process.platform,
  };
  return null;
}

/** Whether OS drives can be used, and if not why (loads the addon on first use). */
export function nativeStatus(): NativeStatus {
  loadNativeAddon();
  return { ...status };
}

/** Why OS drives cannot be used; '' when the addon is loaded. */
export function nativeUnavailableReason(): string {
  return nativeStatus().reason ?? '';
}

/** The optical drives of this machine ([] when the addon is not available). */
export async function listOsDrives(): Promise<NativeDeviceInfo[]> {
  const a = loadNativeAddon();
  return a ? a.list() : [];
}

// Linux sg_io_hdr host_status (DID_*) and driver_status (DRIVER_*) values, include/scsi/sg.h and scsi.h.
const DID_NO_CONNECT = 0x01;
const DID_TIME_OUT = 0x03;
const DID_BAD_TARGET = 0x04;
const DRIVER_TIMEOUT = 0x06;
const DRIVER_SENSE = 0x08;

/**
 * The error part of sg_io_hdr driver_status: DRIVER_SENSE (08h, "sense data returned") accompanies every CHECK
 * CONDITION on Linux and is no error; the high nibble holds obsolete SUGGEST_* bits.
 */
export function driverError(driverStatus: number): number {
  return driverStatus & 0x0f & ~DRIVER_SENSE;
}

/** A delivered command whose host adapter or driver status says it did not reach the device: TransportError. */
export function transportProblem(device: string, cdb: Buffer, r: { hostStatus?: number; driverStatus?: number }): TransportError | undefined {
  const host = r.hostStatus ?? 0;
  const driver = driverError(r.driverStatus ?? 0);
  if (host === 0 && driver === 0) return undefined;
  const op = `opcode ${cdb[0].toString(16).padStart(2, '0')}h`;
  const detail = `host status ${host.toString(16).padStart(2, '0')}h, driver status ${(r.driverStatus ?? 0).toString(16).padStart(2, '0')}h`;
  if (host === DID_TIME_OUT || driver === DRIVER_TIMEOUT) return new TransportError(`${device}: ${op} timed out (${detail})`, 'timeout');
  if (host === DID_NO_CONNECT || host === DID_BAD_TARGET) return new TransportError(`${device}: the device is gone (${op}: ${detail})`, 'unavailable');
  return new TransportError(`${device}: ${op} was not delivered (${detail})`, 'io');
}

/** The processes that have `device` open (Linux /proc), for "busy" messages: "pid 123 (growisofs)". */
export function holdersOf(device: string): string[] {
  if (process.platform !== 'linux') return [];
  let target: string;
  try {
    target = fs.realpathSync(device);
  } catch {
    return [];
  }
  const out: string[] = [];
  let pids: string[] = [];
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link = '';
      try {
        link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link === target) {
        let comm = '';
        try {
          comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
        } catch {
          // gone meanwhile
        }
        out.push(`pid ${pid}${comm ? ` (${comm})` : ''}`);
        break;
      }
    }
  }
  return out;
}

/** Maps an addon error to the transport's error kinds. Argument errors (TypeError, RangeError) pass through. */
export function toTransportError(device: string, e: unknown, exclusive = false): Error {
  if (e instanceof TypeError || e instanceof RangeError || !(e instanceof Error)) return e as Error;
  const err = e as NativeOsError;
  const code = err.code ?? '';
  switch (code) {
    case 'ERR_SCSI_CLOSED':
      return new TransportError(`${device} is not open`, 'not-open');
    case 'ETIMEDOUT':
      return new TransportError(`${device}: ${err.message}`, 'timeout');
    case 'EBUSY': {
      const who = holdersOf(device);
      const by = who.length ? `in use by ${who.join(', ')}` : exclusive ? 'in use by another program (or mounted)' : 'in use by another program';
      return new TransportError(`${device} is busy: ${by} (${err.message})`, 'busy');
    }
    case 'ENOENT':
    case 'ENXIO':
    case 'ENODEV':
    case 'ENOTTY':
    case 'ENOMEDIUM':
    case 'EINVAL':
    case 'ERR_SCSI_UNSUPPORTED_PLATFORM':
      return new TransportError(`${device}: ${err.message}`, 'unavailable');
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new TransportError(
        `${device}: ${err.message}: read-write access to the device is needed${process.platform === 'linux' ? ' (on Linux: membership of its group, usually cdrom or disk, or root)' : ''}`,
        'unavailable',
      );
    default:
      return new TransportError(`${device}: ${err.message}`, 'io');
  }
}

/** A ScsiTransport over the native addon. */
export class NativeTransport implements ScsiTransport {
  private handle: NativeHandle | undefined;
  private opening: Promise<void> | undefined;

  constructor(readonly path: string, private readonly native: NativeAddon) {}

  /** Known once the device is open; before that a conservative 64 KiB. */
  get maxTransferBytes(): number {
    return this.handle?.maxTransferBytes ?? 64 * 1024;
  }

  get isOpen(): boolean {
    return this.handle !== undefined;
  }

  async open(opts: OpenOptions): Promise<void> {
    if (this.handle || this.opening) throw new TransportError(`${this.path} is already open`, 'busy');
    this.opening = (async () => {
      try {
        this.handle = await this.native.open(this.path, { exclusive: opts.exclusive, holder: opts.holder ?? 'DiscForge' });
      } catch (e) {
        throw toTransportError(this.path, e, opts.exclusive);
      }
    })();
    try {
      await this.opening;
    } finally {
      this.opening = undefined;
    }
  }

  async execute(cdb: Buffer, direction: Direction, data: Buffer | number, timeoutMs: number): Promise<ExecuteResult> {
    const h = this.handle;
    if (!h) throw new TransportError(`${this.path} is not open`, 'not-open');
    let r: NativeResult;
    try {
      r = await this.native.execute(h, cdb, direction, data, timeoutMs);
    } catch (e) {
      throw toTransportError(this.path, e);
    }
    const problem = transportProblem(this.path, cdb, r);
    if (problem) throw problem;
    // Delivered: host and driver status say "fine" as the ScsiTransport contract has it (0), the CHECK CONDITION's
    // DRIVER_SENSE bit included (the sense itself is in r.sense).
    return { status: r.status, sense: r.sense, data: r.data, residual: r.residual, hostStatus: r.hostStatus, driverStatus: driverError(r.driverStatus) };
  }

  /** Closes after the commands already sent; closing a closed transport does nothing. */
  async close(): Promise<void> {
    const h = this.handle;
    if (!h) return;
    this.handle = undefined;
    try {
      await this.native.close(h);
    } catch (e) {
      const err = toTransportError(this.path, e);
      if (err instanceof TransportError && err.code === 'not-open') return;
      throw err;
    }
  }
}

/** A transport for an OS device; throws TransportError('unavailable') with the reason when the addon is missing. */
export function createNativeTransport(device: string): NativeTransport {
  const a = loadNativeAddon();
  if (!a) throw new TransportError(`${device}: ${nativeUnavailableReason()}`, 'unavailable');
  return new NativeTransport(device, a);
}
