/**
 * An MMC device over a ScsiTransport: sends CDBs, turns CHECK CONDITION into ScsiError (with the decoded
 * sense), retries what SPC says to retry (UNIT ATTENTION once, "becoming ready"), and waits out long
 * operations the way MMC-6 describes them (4.1.6 / SYNCHRONIZE CACHE, BLANK, FORMAT UNIT, CLOSE TRACK/SESSION
 * with Immed: TEST UNIT READY / REQUEST SENSE report NOT READY 04/04, 04/07 or 04/08 with progress indication
 * until done).
 */
import { STATUS_CHECK_CONDITION, STATUS_GOOD, TransportError, type Direction, type ScsiTransport } from './transport';
import { describeSense, isSense, parseSense, SK, type Sense } from './sense';
import * as mmc from './mmc';

/** A command ended in CHECK CONDITION (or another non-GOOD status). */
export class ScsiError extends Error {
  constructor(
    readonly op: number,
    readonly sense: Sense | undefined,
    readonly status: number,
    readonly device: string,
  ) {
    super(`${device}: ${mmc.opName(op)} failed: ${sense ? describeSense(sense) : `SCSI status ${status.toString(16)}h without sense data`}`);
    this.name = 'ScsiError';
  }

  is(key: number, asc?: number, ascq?: number): boolean {
    return isSense(this.sense, key, asc, ascq);
  }

  /** ILLEGAL REQUEST for an opcode or field the drive does not implement: an optional command it refuses. */
  get unsupported(): boolean {
    return this.is(SK.ILLEGAL_REQUEST, 0x20) || this.is(SK.ILLEGAL_REQUEST, 0x24);
  }
}

export const TIMEOUT = {
  short: 10_000,
  write: 60_000,
  long: 120_000,
  /** A full format or blank may take an hour on real media (MMC-6 Timeout feature groups). */
  format: 3_600_000,
};

export interface PollProgress {
  /** 0..1 when the drive reports progress indication. */
  fraction?: number;
  sense?: Sense;
}

export class MmcDevice {
  constructor(readonly transport: ScsiTransport) {}

  get name(): string {
    return this.transport.path;
  }

  /** Sends a CDB; a CHECK CONDITION throws ScsiError. One UNIT ATTENTION is consumed and the command repeated. */
  async exec(cdb: Buffer, direction: Direction = 'none', data: Buffer | number = 0, timeoutMs = TIMEOUT.short): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.transport.execute(cdb, direction, data, timeoutMs);
      if (r.hostStatus || r.driverStatus) {
        // Delivery failed below SCSI (sg_io_hdr host/driver status): nothing the drive said.
        throw new TransportError(`${this.name}: ${mmc.opName(cdb[0])} was not delivered (host status ${r.hostStatus ?? 0}, driver status ${r.driverStatus ?? 0})`, 'io');
      }
      if (r.status === STATUS_GOOD) return r.data;
      const sense = r.status === STATUS_CHECK_CONDITION ? parseSense(r.sense) : undefined;
      if (sense?.key === SK.UNIT_ATTENTION && attempt < 3) continue; // SPC-4 5.9: the condition is reported once
      if (sense?.key === SK.NOT_READY && sense.asc === 0x04 && sense.ascq === 0x01 && attempt < 50) {
        await delay(100); // becoming ready
        continue;
      }
      throw new ScsiError(cdb[0], sense, r.status, this.name);
    }
  }

  /** Like exec, but an optional command the drive refuses (ILLEGAL REQUEST 20/00 or 24/00) gives undefined. */
  async optional(cdb: Buffer, direction: Direction = 'none', data: Buffer | number = 0, timeoutMs = TIMEOUT.short): Promise<Buffer | undefined> {
    try {
      return await this.exec(cdb, direction, data, timeoutMs);
    } catch (e) {
      if (e instanceof ScsiError && e.unsupported) return undefined;
      throw e;
    }
  }

  /**
   * Waits until the drive is ready again after an Immed command: TEST UNIT READY while it reports NOT READY 04/04,
   * 04/07 or 04/08, REQUEST SENSE for the progress indication (SPC-4 4.5.2.4.4).
   */
  async waitReady(what: string, timeoutMs: number, onProgress?: (p: PollProgress) => void): Promise<void> {
    const started = Date.now();
    let wait = 5;
    for (;;) {
      const r = await this.transport.execute(mmc.testUnitReady(), 'none', 0, TIMEOUT.short);
      if (r.status === STATUS_GOOD) return;
      const sense = parseSense(r.sense);
      if (sense?.key === SK.UNIT_ATTENTION) continue;
      if (!(sense?.key === SK.NOT_READY && sense.asc === 0x04 && [0x01, 0x04, 0x07, 0x08].includes(sense.ascq))) {
        throw new ScsiError(mmc.OP.TEST_UNIT_READY, sense, r.status, this.name);
      }
      const rs = await this.transport.execute(mmc.requestSense(18), 'in', 18, TIMEOUT.short);
      const progress = rs.status === STATUS_GOOD ? parseSense(rs.data) : undefined;
      onProgress?.({ fraction: progress?.progress !== undefined ? progress.progress / 65536 : undefined, sense });
      if (Date.now() - started > timeoutMs) throw new Error(`${this.name}: ${what} did not finish within ${Math.round(timeoutMs / 1000)} s`);
      await delay(wait);
      wait = Math.min(wait * 2, 250);
    }
  }

  // ---- typed commands ----

  async testUnitReady(): Promise<Sense | undefined> {
    const r = await this.transport.execute(mmc.testUnitReady(), 'none', 0, TIMEOUT.short);
    if (r.status === STATUS_GOOD) return undefined;
    return parseSense(r.sense) ?? { key: SK.HARDWARE_ERROR, asc: 0, ascq: 0 };
  }

  async inquiry(): Promise<mmc.InquiryData> {
    return mmc.decodeInquiry(await this.exec(mmc.inquiry(96), 'in', 96));
  }

  async configuration(rt: 0 | 1 | 2 = 0, start = 0): Promise<mmc.Configuration> {
    // Ask for the length first, then the whole list (drives pad or truncate otherwise).
    const head = await this.exec(mmc.getConfiguration(rt, start, 8), 'in', 8);
    const len = Math.min(65530, Math.max(8, head.length >= 4 ? head.readUInt32BE(0) + 4 : 8));
    return mmc.decodeConfiguration(await this.exec(mmc.getConfiguration(rt, start, len), 'in', len));
  }

  async discInformation(): Promise<mmc.DiscInformation> {
    return mmc.decodeDiscInformation(await this.exec(mmc.readDiscInformation(34), 'in', 34));
  }

  async trackInformation(type: 0 | 1 | 2, value: number): Promise<mmc.TrackInformation> {
    return mmc.decodeTrackInformation(await this.exec(mmc.readTrackInformation(type, value, 48), 'in', 48));
  }

  async formatCapacities(): Promise<mmc.FormatCapacities | undefined> {
    const b = await this.optional(mmc.readFormatCapacities(252), 'in', 252);
    return b ? mmc.decodeFormatCapacities(b) : undefined;
  }

  async capacity(): Promise<{ lastLba: number; blockLength: number }> {
    return mmc.decodeCapacity(await this.exec(mmc.readCapacity(), 'in', 8));
  }

  async writeSpeeds(): Promise<{ endLba: number; readKBps: number; writeKBps: number }[]> {
    const b = await this.optional(mmc.getPerformanceWriteSpeed(32), 'in', 8 + 32 * 16);
    return b ? mmc.decodeWriteSpeeds(b) : [];
  }

  async modePage(page: number): Promise<Buffer | undefined> {
    const b = await this.optional(mmc.modeSense10(page, 256), 'in', 256);
    return b ? mmc.modePageFrom(b) : undefined;
  }

  async bufferCapacity(): Promise<{ length: number; available: number } | undefined> {
    const b = await this.optional(mmc.readBufferCapacity(12), 'in', 12);
    return b ? mmc.decodeBufferCapacity(b) : undefined;
  }

  async read(lba: number, blocks: number, timeoutMs = TIMEOUT.write): Promise<Buffer> {
    const cdb = blocks > 0xffff ? mmc.read12(lba, blocks) : mmc.read10(lba, blocks);
    const b = await this.exec(cdb, 'in', blocks * 2048, timeoutMs);
    if (b.length !== blocks * 2048) throw new Error(`${this.name}: READ at ${lba} returned ${b.length} bytes of ${blocks * 2048}`);
    return b;
  }

  async write(lba: number, data: Buffer, timeoutMs = TIMEOUT.write): Promise<void> {
    await this.exec(mmc.write10(lba, data.length / 2048), 'out', data, timeoutMs);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export { isSense, SK };
