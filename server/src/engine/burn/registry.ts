/**
 * The process-wide registry of recorders: one transport per drive (commands to a drive are serialized by it),
 * and a lock per drive. A recorder that is writing (burn, erase, format, eject) is locked: a second such
 * operation on it is refused at once with a message naming the holder. Queries (`media`, `drives`) share the
 * open transport. Across processes, virtual recorders use a lock file and OS devices exclusive open.
 */
import { MmcDevice } from './device';
import { EmulatedRecorder } from './emulator/recorder';
import { CdMasteringRecorder, isCdMasteringProfile } from './emulator/cd-mastering';
import { loadNativeAddon, NativeTransport, nativeUnavailableReason } from './native';
import { driveKey, parseDriveSpec, TransportError, type DriveSpec, type ScsiTransport } from './transport';

export { loadNativeAddon, nativeUnavailableReason } from './native';

/** The drive is locked by another operation. */
export class DriveBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriveBusyError';
  }
}

/** The drive cannot be reached (no native addon, device missing, disc file unusable). */
export class DriveUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriveUnavailableError';
  }
}

interface Holder {
  operation: string;
  since: Date;
}

interface Entry {
  key: string;
  spec: DriveSpec;
  transport: ScsiTransport;
  dev: MmcDevice;
  exclusive: boolean;
  users: number;
  holder?: Holder;
}

export interface Lease {
  readonly spec: DriveSpec;
  readonly dev: MmcDevice;
  /** The emulated recorder behind the lease, when it is one (tests, `media` details). */
  readonly emulated?: EmulatedRecorder;
  /** The CD mastering layer over the emulated recorder (virtual cd-r / cd-rw). */
  readonly cd?: CdMasteringRecorder;
  release(): Promise<void>;
}

export function createTransport(spec: DriveSpec): ScsiTransport {
  if (spec.kind === 'virtual') return isCdMasteringProfile(spec) ? new CdMasteringRecorder(spec) : new EmulatedRecorder(spec);
  const addon = loadNativeAddon();
  if (!addon) throw new DriveUnavailableError(`${spec.spec}: ${nativeUnavailableReason()}`);
  return new NativeTransport(spec.device, addon);
}

export class RecorderRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly opening = new Map<string, Promise<Entry>>();

  /** Who holds a drive, if anyone (for messages and the editor). */
  holderOf(spec: string | DriveSpec): string | undefined {
    const s = typeof spec === 'string' ? parseDriveSpec(spec) : spec;
    const h = this.entries.get(driveKey(s))?.holder;
    return h ? `${h.operation} (since ${h.since.toLocaleTimeString()})` : undefined;
  }

  private async entry(spec: DriveSpec, exclusive: boolean, holder: string): Promise<Entry> {
    const key = driveKey(spec);
    const existing = this.entries.get(key);
    if (existing) return existing;
    const inFlight = this.opening.get(key);
    if (inFlight) return inFlight;
    const p = (async () => {
      const transport = createTransport(spec);
      try {
        await transport.open({ exclusive, holder });
      } catch (e) {
        if (e instanceof TransportError && e.code === 'busy') throw new DriveBusyError(e.message);
        if (e instanceof TransportError) throw new DriveUnavailableError(e.message);
        throw e;
      }
      const entry: Entry = { key, spec, transport, dev: new MmcDevice(transport), exclusive, users: 0 };
      this.entries.set(key, entry);
      return entry;
    })();
    this.opening.set(key, p);
    try {
      return await p;
    } finally {
      this.opening.delete(key);
    }
  }

  private lease(e: Entry, locked: boolean): Lease {
    e.users++;
    let released = false;
    return {
      spec: e.spec,
      dev: e.dev,
      emulated: e.transport instanceof EmulatedRecorder ? e.transport : e.transport instanceof CdMasteringRecorder ? e.transport.inner : undefined,
      cd: e.transport instanceof CdMasteringRecorder ? e.transport : undefined,
      release: async () => {
        if (released) return;
        released = true;
        if (locked) e.holder = undefined;
        e.users--;
        if (e.users === 0) {
          this.entries.delete(e.key);
          await e.transport.close();
        }
      },
    };
  }

  /** Locks a drive for a writing operation; refused at once when another operation holds it. */
  async lock(specText: string | DriveSpec, operation: string): Promise<Lease> {
    const spec = typeof specText === 'string' ? parseDriveSpec(specText) : specText;
    const key = driveKey(spec);
    const held = this.entries.get(key)?.holder;
    if (held) throw new DriveBusyError(`${spec.spec} is busy: ${held.operation} holds it (since ${held.since.toLocaleTimeString()}); try again when it has finished`);
    const e = await this.entry(spec, true, operation);
    if (e.holder) throw new DriveBusyError(`${spec.spec} is busy: ${e.holder.operation} holds it (since ${e.holder.since.toLocaleTimeString()}); try again when it has finished`);
    e.holder = { operation, since: new Date() };
    return this.lease(e, true);
  }

  /** Opens a drive for queries (no lock). */
  async query(specText: string | DriveSpec): Promise<Lease> {
    const spec = typeof specText === 'string' ? parseDriveSpec(specText) : specText;
    const e = await this.entry(spec, false, 'query');
    return this.lease(e, false);
  }
}

/** The registry of this process. */
export const recorders = new RecorderRegistry();
