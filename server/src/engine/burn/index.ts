/**
 * The burning engine's API (for the CLI, the language server and tasks): drive specs and the recorder registry
 * (locks), discovery, burn / erase / format / eject, and the sources a burn writes.
 *
 *   const lease = await recorders.lock('virtual:bd-r:/tmp/d.img', 'burn project.disc.json');
 *   try { await burn(lease.dev, { verify: 'full', close: false, append: false, force: false, eject: false,
 *                                 onProgress, signal }, sourceFor('project.disc.json')); }
 *   finally { await lease.release(); }
 */
import { hasErrors, planProject } from '../build';
import { InputError } from '../util/errors';
import type { BurnTarget } from './engine';
import { planAppend } from './multisession';
import { imageFileSource, planSource, type BurnSource } from './source';

export { burn, BurnError, ejectDisc, eraseDisc, formatMedia, PHASE_TEXT } from './engine';
export type { BurnOptions, BurnPhase, BurnProgress, BurnResult, BurnTarget, VerifyLevel } from './engine';
export { describeMedia, driveInfo, readMediaState } from './media';
export type { DriveInfo, MediaState, MediaStatus, SessionInfo } from './media';
export { DriveBusyError, DriveUnavailableError, loadNativeAddon, nativeUnavailableReason, recorders, type Lease } from './registry';
export { driveKey, parseDriveSpec, VIRTUAL_PROFILES, type DriveSpec, type ScsiTransport } from './transport';
export { imageFileSource, planSource, type BurnSource } from './source';
export { importSession, mergeTrees, planAppend } from './multisession';

/**
 * What to write for `input`: a manifest (planned at the target address; a later session on an appendable disc
 * takes the previous session's tree plus the manifest, minus `deletes`) or an image file. Checks the input at
 * once (bad input fails before any drive is touched).
 */
export function sourceFor(input: string, deletes: string[] = []): (t: BurnTarget) => Promise<BurnSource> | BurnSource {
  if (!/\.json$/i.test(input)) {
    if (deletes.length) throw new InputError('deleting files applies to a manifest burned as an added session');
    imageFileSource(input);
    return (t) => {
      if (t.startLba !== 0) {
        throw new InputError(`${input}: an image file's addresses start at block 0: it cannot become a later session (at block ${t.startLba}); burn a manifest with --append`);
      }
      return imageFileSource(input);
    };
  }
  const check = planProject(input);
  if (hasErrors(check.diagnostics) || !check.image) throw new InputError(`${input}: the manifest has errors`, check.diagnostics);
  return (t) => {
    if (t.startLba !== 0) return planAppend(input, t.dev, t.media, t.startLba, deletes, t.notes);
    if (deletes.length) throw new InputError('--delete: the disc has no earlier session to delete from');
    // Planned anew for every drive (the writers keep state while they write); verification reuses this plan.
    const plan = planProject(input);
    if (hasErrors(plan.diagnostics) || !plan.image) throw new InputError(`${input}: the manifest has errors`, plan.diagnostics);
    return planSource(input, plan.image, plan.iso?.layout);
  };
}
