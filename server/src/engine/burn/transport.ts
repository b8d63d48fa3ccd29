/**
 * The transport boundary: the one narrow surface between the MMC engine (TypeScript, all CDB construction
 * and decoding) and whatever carries a CDB to a recorder. Two implementations: the native SCSI pass-through
 * addon (issue 7: SG_IO on Linux, IOCTL_SCSI_PASS_THROUGH_DIRECT on Windows) and the emulated recorder
 * (./emulator). The shape follows SG_IO's sg_io_hdr (SCSI status, sense buffer, data, residual), so the addon can
 * return its result without translation.
 *
 * Drive specs (CLI `--drive`, editor settings):
 *   /dev/sr0, /dev/sg1, E:                       an OS device (needs the native addon)
 *   virtual:<profile>:<file>[?option&option…]    an emulated recorder whose disc lives in <file>
 * Options of a virtual recorder (see parseVirtualOptions):
 *   speed=8x | speed=unlimited   highest write speed of the drive; unlimited (the default) = no throttling
 *   buffer=4M                    drive buffer size
 *   capacity=N                   user data capacity of the blank disc in 2048-byte blocks (small test discs)
 *   fault=KIND[@LBA]             repeatable or comma separated: write-error@LBA, read-error@LBA, remove@LBA,
 *                                underrun@LBA
 *   unsupported=OP[,OP…]         commands the drive refuses with ILLEGAL REQUEST 05/20/00 (names such as
 *                                reserve-track, send-opc, set-streaming, read-buffer-capacity, or hex opcodes)
 *   slow=MS                      every WRITE takes MS milliseconds longer (a slow drive)
 *   nobufe                       no buffer-underrun protection (BUFE / "burn-proof" not offered)
 *   protect                      the disc is write-protected
 *   empty                        no disc in the tray
 * Example: virtual:dvd+r:/tmp/d.img?speed=8x&fault=write-error@1000
 */
import * as path from 'node:path';
import { InputError } from '../util/errors';

export type Direction = 'none' | 'in' | 'out';

/** SCSI status codes (SAM-5 5.3.1). */
export const STATUS_GOOD = 0x00;
export const STATUS_CHECK_CONDITION = 0x02;
export const STATUS_BUSY = 0x08;

export interface ExecuteResult {
  /** SCSI status byte: 0 GOOD, 2 CHECK CONDITION, 8 BUSY … */
  status: number;
  /** Sense data (fixed format, SPC-4 4.5.3) when status is CHECK CONDITION; empty otherwise. */
  sense: Buffer;
  /** Data-in (direction 'in'): the bytes the device returned (length = requested − residual). */
  data: Buffer;
  /** Requested transfer length minus what was actually transferred. */
  residual: number;
  /** Native transports: the host adapter / driver status (sg_io_hdr host_status, driver_status); 0 = fine. */
  hostStatus?: number;
  driverStatus?: number;
}

export interface OpenOptions {
  /** Exclusive use while writing (O_EXCL on Linux, IOCTL_CDROM_EXCLUSIVE_ACCESS on Windows). */
  exclusive: boolean;
  /** Who holds the device (shown to others that are refused). */
  holder?: string;
}

export interface ScsiTransport {
  /** The device as the user named it (e.g. /dev/sr0, virtual:bd-r:/tmp/d.img). */
  readonly path: string;
  /** Largest data transfer of one command in bytes (the engine splits larger transfers). */
  readonly maxTransferBytes: number;
  open(opts: OpenOptions): Promise<void>;
  /**
   * Sends one CDB. `data` is the data-out buffer ('out') or the allocation length ('in'); 0 for 'none'.
   * Resolves with the status and sense (a CHECK CONDITION is a result, not an exception); rejects only when
   * the command could not be delivered (TransportError: timeout, device gone, not open).
   */
  execute(cdb: Buffer, direction: Direction, data: Buffer | number, timeoutMs: number): Promise<ExecuteResult>;
  close(): Promise<void>;
}

/** The command could not be carried out at the transport level (not a SCSI status). */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: 'timeout' | 'not-open' | 'busy' | 'io' | 'unavailable',
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

// ------------------------------------------------------------------------------------------------
// Drive specs

export type VirtualProfile =
  | 'cd-r' | 'cd-rw' | 'dvd-r' | 'dvd-rw' | 'dvd+r' | 'dvd+r-dl' | 'dvd+rw' | 'dvd-ram' | 'bd-r' | 'bd-re'
  | 'dvd-rom' | 'bd-rom';

export const VIRTUAL_PROFILES: readonly VirtualProfile[] = [
  'cd-r', 'cd-rw', 'dvd-r', 'dvd-rw', 'dvd+r', 'dvd+r-dl', 'dvd+rw', 'dvd-ram', 'bd-r', 'bd-re', 'dvd-rom', 'bd-rom',
];

export type FaultKind = 'write-error' | 'read-error' | 'remove' | 'underrun';

export interface Fault {
  kind: FaultKind;
  lba: number;
}

export interface VirtualOptions {
  /** Highest write speed as a multiple of the family's 1× rate; undefined = unlimited (no throttling). */
  speedX?: number;
  bufferBytes?: number;
  capacity?: number;
  faults: Fault[];
  /** Opcodes the drive refuses with 05/20/00. */
  unsupported: number[];
  slowMs: number;
  noBufe: boolean;
  writeProtected: boolean;
  empty: boolean;
}

export type DriveSpec =
  | { kind: 'os'; spec: string; device: string }
  | { kind: 'virtual'; spec: string; profile: VirtualProfile; file: string; options: VirtualOptions };

/** Command names accepted by `unsupported=` (MMC-6 / SPC opcodes). */
export const OPCODE_NAMES: Record<string, number> = {
  'test-unit-ready': 0x00, 'request-sense': 0x03, 'format-unit': 0x04, inquiry: 0x12, 'start-stop-unit': 0x1b,
  'prevent-allow-medium-removal': 0x1e, 'read-format-capacities': 0x23, 'read-capacity': 0x25, 'read-10': 0x28,
  'write-10': 0x2a, 'synchronize-cache': 0x35, 'read-toc': 0x43, 'get-configuration': 0x46,
  'get-event-status-notification': 0x4a, 'read-disc-information': 0x51, 'read-track-information': 0x52,
  'reserve-track': 0x53, 'send-opc': 0x54, 'mode-select': 0x55, 'mode-sense': 0x5a, 'close-track-session': 0x5b,
  'read-buffer-capacity': 0x5c, 'send-cue-sheet': 0x5d, blank: 0xa1, 'read-12': 0xa8, 'write-12': 0xaa,
  'get-performance': 0xac, 'set-streaming': 0xb6, 'set-cd-speed': 0xbb, 'mechanism-status': 0xbd,
};

/** Parses a `--drive` value. Bad specs are the user's input: InputError. */
export function parseDriveSpec(spec: string): DriveSpec {
  if (spec.startsWith('virtual:')) {
    const rest = spec.slice('virtual:'.length);
    const colon = rest.indexOf(':');
    if (colon <= 0) throw new InputError(`${spec}: a virtual recorder is virtual:<profile>:<file>, e.g. virtual:bd-r:/tmp/disc.img`);
    const profile = rest.slice(0, colon).toLowerCase();
    if (!(VIRTUAL_PROFILES as readonly string[]).includes(profile)) {
      throw new InputError(`${spec}: unknown profile "${profile}" (one of ${VIRTUAL_PROFILES.join(', ')})`);
    }
    let file = rest.slice(colon + 1);
    let query = '';
    const q = file.lastIndexOf('?');
    if (q >= 0) {
      query = file.slice(q + 1);
      file = file.slice(0, q);
    }
    if (!file) throw new InputError(`${spec}: the virtual recorder needs a file for its disc`);
    return { kind: 'virtual', spec, profile: profile as VirtualProfile, file: path.resolve(file), options: parseVirtualOptions(spec, query) };
  }
  if (/^[A-Za-z]:\\?$/.test(spec) || spec.startsWith('/dev/') || spec.startsWith('\\\\.\\')) {
    return { kind: 'os', spec, device: spec };
  }
  throw new InputError(`${spec}: not a drive (an OS device such as /dev/sr0 or E:, or virtual:<profile>:<file>)`);
}

function parseSize(spec: string, v: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(v);
  if (!m) throw new InputError(`${spec}: "${v}" is not a size (e.g. 4M)`);
  const mult = { '': 1, k: 1024, m: 1024 * 1024, g: 1024 * 1024 * 1024 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

function parseVirtualOptions(spec: string, query: string): VirtualOptions {
  const o: VirtualOptions = { faults: [], unsupported: [], slowMs: 0, noBufe: false, writeProtected: false, empty: false };
  for (const part of query.split('&').filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    const bad = (why: string) => new InputError(`${spec}: option "${part}": ${why}`);
    switch (key) {
      case 'speed': {
        if (value === 'unlimited' || value === 'max') o.speedX = undefined;
        else {
          const m = /^(\d+(?:\.\d+)?)x?$/i.exec(value);
          if (!m || Number(m[1]) <= 0) throw bad('speed is Nx (e.g. 8x) or unlimited');
          o.speedX = Number(m[1]);
        }
        break;
      }
      case 'buffer':
        o.bufferBytes = parseSize(spec, value);
        if (o.bufferBytes < 65536) throw bad('the buffer is at least 64K');
        break;
      case 'capacity':
        if (!/^\d+$/.test(value) || Number(value) < 64) throw bad('capacity is a number of 2048-byte blocks (at least 64)');
        o.capacity = Number(value);
        break;
      case 'fault':
        for (const f of value.split(',')) {
          const m = /^(write-error|read-error|remove|underrun)@(\d+)$/.exec(f);
          if (!m) throw bad('a fault is write-error@LBA, read-error@LBA, remove@LBA or underrun@LBA');
          o.faults.push({ kind: m[1] as FaultKind, lba: Number(m[2]) });
        }
        break;
      case 'unsupported':
        for (const name of value.split(',')) {
          const op = /^0x[0-9a-f]{1,2}$/i.test(name) ? parseInt(name, 16) : OPCODE_NAMES[name.toLowerCase()];
          if (op === undefined) throw bad(`unknown command "${name}" (one of ${Object.keys(OPCODE_NAMES).join(', ')}, or 0xNN)`);
          o.unsupported.push(op);
        }
        break;
      case 'slow':
        if (!/^\d+$/.test(value)) throw bad('slow is milliseconds per WRITE');
        o.slowMs = Number(value);
        break;
      case 'nobufe':
        o.noBufe = true;
        break;
      case 'protect':
        o.writeProtected = true;
        break;
      case 'empty':
        o.empty = true;
        break;
      default:
        throw bad('unknown option (speed, buffer, capacity, fault, unsupported, slow, nobufe, protect, empty)');
    }
  }
  return o;
}

/** A stable key for a drive (the lock registry's): the device path, or the virtual disc's absolute file. */
export function driveKey(spec: DriveSpec): string {
  return spec.kind === 'virtual' ? `virtual:${spec.file}` : spec.device;
}
