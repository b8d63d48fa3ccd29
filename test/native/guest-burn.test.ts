/**
 * The native transport proven end to end (issue 7), in one boot of a real Linux kernel under QEMU (TCG):
 *
 *   tgt (Debian's iSCSI target, its MMC emulation: a blank DVD+R) on 127.0.0.1 → QEMU's iscsi driver →
 *   scsi-generic on virtio-scsi → the guest's /dev/sg0 → SG_IO from our addon → the real MMC engine
 *
 * burns an ISO built by DiscForge, closes the disc and verifies it in full; the host then compares tgt's backing
 * file with the image. In the same boot QEMU's own scsi-cd (/dev/sr1) holds the same image: `discforge media`
 * and the inspector (on the disc read through the addon) report its profile, TOC and tree, and a quick
 * verification against the manifest passes. The ScsiTransport contract (./contract.ts) runs against the emulated
 * recorder here on the host and against the native transport on both drives in the guest.
 *
 * Logs: test/.work/native/guest-burn/{serial.log,output.log,tgtd.log} (kept after the run).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EmulatedRecorder } from '../../server/src/engine/burn/emulator/recorder';
import { parseDriveSpec } from '../../server/src/engine/burn/transport';
import { runGuest, type GuestResult } from '../guest/guest';
import { makeProject, type Project } from '../util/burn-fixtures';
import { CONTRACT } from './contract';
import {
  describeStep, GUEST_PRELUDE, keepLogs, keptGuestError, nativeGuest, parseResults, prepareShare, scsiCdArgs, section, startTgt, workDir,
  type StepResult, type Tgt,
} from './harness';

describe('ScsiTransport contract: the emulated recorder (host)', () => {
  let dir = '';
  before(() => {
    dir = workDir('contract-emulated');
  });
  for (const c of CONTRACT) {
    it(c.name, async () => {
      const spec = parseDriveSpec(`virtual:dvd+r:${path.join(dir, 'disc.img')}`);
      await c.run(() => new EmulatedRecorder(spec as Extract<typeof spec, { kind: 'virtual' }>));
    });
  }
});

describe('native addon in a real kernel: burning tgt\'s DVD+R, reading QEMU\'s scsi-cd (QEMU guest)', () => {
  let work = '';
  let tgt: Tgt | undefined;
  let project: Project;
  let run: GuestResult;
  let results = new Map<string, StepResult>();
  let logHint = '';
  const timings: Record<string, number> = {};

  const SG = '/dev/sg0'; // tgt's LUN: SCSI id 0, the first device on the bus
  const CD = '/dev/sr1'; // QEMU's scsi-cd: SCSI id 5
  const STEPS = { list: 'list', contractTgt: `contract:${SG}`, contractCd: `contract:${CD}`, burn: `burn:${SG}:/share/p/p.iso`, read: `read:${CD}:/share/p/p.disc.json` };

  before(async () => {
    const t0 = Date.now();
    work = workDir('guest-burn');
    const share = path.join(work, 'share');
    fs.mkdirSync(share);
    const guest = await nativeGuest();
    timings.guestBuild = (Date.now() - t0) / 1000;
    prepareShare(share);
    project = await makeProject(share, 'p', 3_000_000);
    timings.prepare = (Date.now() - t0) / 1000 - timings.guestBuild;
    tgt = await startTgt(work);
    const cmd = GUEST_PRELUDE + [
      `node guest.js ${Object.values(STEPS).join(' ')}`,
      `echo @@BEGIN media-sg; node cli.js media --drive ${SG} --json; echo "@@END media-sg $?"`,
      `echo @@BEGIN media-cd; node cli.js media --drive ${CD} --json; echo "@@END media-cd $?"`,
      'echo @@BEGIN drives; node cli.js drives --json; echo "@@END drives $?"',
    ].join('\n');
    try {
      run = await runGuest(cmd, { guest, share, sg: [tgt.url], qemuArgs: scsiCdArgs(project.image, 5), timeoutSec: 270 });
    } catch (e) {
      throw keptGuestError(work, e);
    }
    timings.guest = run.seconds;
    logHint = keepLogs(work, run);
    results = parseResults(run.output);
    fs.writeFileSync(path.join(work, 'timings.json'), JSON.stringify(timings, null, 2));
  });

  after(async () => {
    await tgt?.stop();
  });

  const step = (name: string): StepResult => {
    const why = describeStep(results, name, logHint);
    assert.equal(why, 'ok', why);
    return results.get(name)!;
  };

  it('the addon lists both drives (type 5) from sysfs, with vendor and model', () => {
    const v = step(STEPS.list).value as { drives: { path: string; vendor: string; model: string; type: number; sg?: string }[] };
    const tgtDrive = v.drives.find((d) => d.sg === SG);
    const qemuDrive = v.drives.find((d) => d.path === CD);
    assert.ok(tgtDrive, `tgt's drive (${SG}) listed: ${JSON.stringify(v.drives)}`);
    assert.equal(tgtDrive.type, 5);
    assert.match(`${tgtDrive.vendor} ${tgtDrive.model}`, /IET.*VIRTUAL-CDROM/);
    assert.ok(qemuDrive, `QEMU's drive (${CD}) listed: ${JSON.stringify(v.drives)}`);
    assert.match(qemuDrive.vendor, /QEMU/);
  });

  for (const [label, key] of [['tgt DVD+R over iSCSI, /dev/sg0', STEPS.contractTgt], ['QEMU scsi-cd, /dev/sr1', STEPS.contractCd]] as const) {
    for (const c of CONTRACT) {
      it(`ScsiTransport contract, native (${label}): ${c.name}`, () => {
        const r = results.get(key);
        assert.ok(r, describeStep(results, key, logHint));
        const list = (r.value as { results?: { name: string; ok: boolean; error?: string }[] } | undefined)?.results ??
          (r as unknown as { results?: { name: string; ok: boolean; error?: string }[] }).results ?? [];
        const mine = list.find((x) => x.name === c.name);
        assert.ok(mine, `the guest ran no case "${c.name}" (${describeStep(results, key, logHint)})`);
        assert.ok(mine.ok, `${c.name}: ${mine.error}`);
      });
    }
  }

  it('the MMC engine burns the ISO onto tgt\'s blank DVD+R, closes it and verifies it in full (SG_IO on /dev/sg0)', () => {
    const v = step(STEPS.burn).value as {
      phases: string[]; blocks: number; startLba: number; verified: string; notes: string[]; refused: string[];
      before: { status: string; profileName: string }; after?: { status: string; profileName: string }; summary: string;
    };
    assert.equal(v.before.profileName, 'DVD+R');
    assert.equal(v.before.status, 'blank');
    assert.deepEqual(v.phases, ['validating-media', 'initializing-hardware', 'calibrating-power', 'writing', 'finalizing', 'verifying', 'completed']);
    assert.equal(v.startLba, 0);
    assert.equal(v.blocks, project.blocks);
    assert.equal(v.verified, 'full');
    assert.ok(v.after && v.after.status === 'finalized', `the disc is closed afterwards: ${JSON.stringify(v.after)}`);
  });

  it('tgt\'s backing file holds exactly the image DiscForge built', () => {
    step(STEPS.burn);
    const image = fs.readFileSync(project.image);
    const disc = fs.readFileSync(tgt!.backing);
    assert.equal(disc.length, image.length, `backing file ${disc.length} bytes, image ${image.length} bytes`);
    assert.ok(disc.equals(image), 'the backing file differs from the image');
  });

  it('read side: QEMU\'s scsi-cd through the addon: profile, TOC, the whole disc equal to the image, its tree, a quick verification', () => {
    const v = step(STEPS.read).value as {
      media: { profileName: string; status: string; toc?: { track: number; start: number }[]; sessions: unknown[] };
      info: { vendor: string }; capacityBlocks: number; sha256: string; problems: string[];
      trees: { type: string; complete: boolean; problems: string[]; entries: { path: string; kind: string; size?: number }[] }[];
      quickVerify: { ok: boolean; bytesRead: number; plannedBlocks: number };
    };
    assert.match(v.info.vendor, /QEMU/);
    assert.equal(v.media.profileName, 'CD-ROM');
    assert.equal(v.media.status, 'finalized');
    assert.deepEqual(v.media.toc, [{ track: 1, start: 0 }, { track: 0xaa, start: project.blocks }]);
    assert.equal(v.capacityBlocks, project.blocks);
    const image = fs.readFileSync(project.image);
    assert.equal(v.sha256, createHash('sha256').update(image).digest('hex'), 'the disc read through the addon is the image');
    assert.deepEqual(v.problems, []);
    const rr = v.trees.find((t) => t.type === 'rockridge');
    assert.ok(rr && rr.complete, `a complete Rock Ridge tree: ${JSON.stringify(v.trees.map((t) => t.type))}`);
    assert.deepEqual(rr.problems, []);
    const files = new Map(rr.entries.filter((e) => e.kind === 'file').map((e) => [e.path.replace(/^\//, ''), e.size]));
    assert.deepEqual(new Map([...files].sort()), new Map(Object.entries(project.files).map(([p, b]) => [p, b.length] as [string, number]).sort()));
    assert.ok(v.quickVerify.ok && v.quickVerify.bytesRead > 0, JSON.stringify(v.quickVerify));
    assert.equal(v.quickVerify.plannedBlocks, project.blocks);
  });

  it('`discforge media` in the guest: tgt\'s disc is now a closed DVD-ROM; QEMU\'s drive shows a CD-ROM with one session', () => {
    const sg = section(run.output, 'media-sg');
    assert.ok(sg, `no media output for ${SG} (${logHint})`);
    assert.equal(sg.status, 0, sg.text);
    const m = JSON.parse(sg.text) as { profileName: string; status: string; sessions: { start: number; blocks: number }[] };
    assert.equal(m.profileName, 'DVD-ROM');
    assert.equal(m.status, 'finalized');
    assert.equal(m.sessions.length, 1);
    assert.equal(m.sessions[0].start, 0);
    const cd = section(run.output, 'media-cd');
    assert.ok(cd, `no media output for ${CD} (${logHint})`);
    assert.equal(cd.status, 0, cd.text);
    const c = JSON.parse(cd.text) as typeof m & { profile: number; toc: { track: number; start: number }[]; totalSectors: number };
    assert.equal(c.profile, 0x0008);
    assert.equal(c.profileName, 'CD-ROM');
    assert.equal(c.status, 'finalized');
    assert.deepEqual(c.toc, [{ track: 1, start: 0 }, { track: 0xaa, start: project.blocks }]);
    assert.equal(c.totalSectors, project.blocks);
    assert.deepEqual(c.sessions.map((s) => [s.start, s.blocks]), [[0, project.blocks]]);
  });

  it('`discforge drives` in the guest lists the OS drives through the addon', () => {
    const d = section(run.output, 'drives');
    assert.ok(d, `no drives output (${logHint})`);
    const j = JSON.parse(d.text) as { drives: { device: string; vendor: string; profiles: string[]; error?: string }[]; note?: string };
    assert.equal(j.note, undefined, `the addon is available in the guest: ${j.note}`);
    const devices = j.drives.map((x) => x.device);
    assert.ok(devices.includes(CD), `${CD} listed: ${devices.join(', ')}`);
    assert.ok(devices.some((x) => x === '/dev/sr0' || x === SG), `tgt's drive listed: ${devices.join(', ')}`);
    for (const x of j.drives) assert.equal(x.error, undefined, `${x.device}: ${x.error}`);
    assert.equal(d.status, 0);
  });
});
