/**
 * DiscForge's own LSP messages: the one protocol module shared by the language server (server/src/server.ts and
 * server/src/lsp/) and the VS Code client (extension/src/). Every custom request and notification is declared
 * here, with its direction and who sends it, and nothing else defines a `discforge/…` method.
 *
 * The module has no imports, so both bundles can include it: a message is a plain `{ method }` descriptor whose
 * type parameters carry the params and result types (`onRequest(conn, BuildRequest, handler)` on the server,
 * `sendRequest(client, BuildRequest, params)` in the extension; see the small helpers at the end).
 *
 * Long work (build, burn, erase) is a "job": the client picks the job id, sends the request, and the server
 * answers only when the job is over (with a JobResult, never an error for an ordinary failure). While it runs the
 * server reports standard LSP work-done progress (`window/workDoneProgress/create` + `$/progress`, cancellable)
 * and, for the panel, the DiscForge job notifications below. A job stops on any of: the request's
 * `$/cancelRequest`, the work-done progress `window/workDoneProgress/cancel`, or `discforge/cancelJob`.
 */

/** A request: client → server unless its comment says otherwise. */
export interface RequestDef<P, R> {
  readonly method: string;
  /** Type carrier only (never set at run time). */
  readonly __types?: (p: P) => R;
}

/** A notification, in the direction its comment says. */
export interface NotificationDef<P> {
  readonly method: string;
  readonly __types?: (p: P) => void;
}

/** The protocol's version, in the server's `initialize` result (`capabilities.experimental.discforge`). */
export const PROTOCOL_VERSION = 1;

/** What the server offers: `InitializeResult.capabilities.experimental.discforge`. Read by the client at start. */
export interface ServerFeatures {
  protocolVersion: number;
  /** Whether this server has a burning engine (drives, burn, erase, eject). */
  burn: boolean;
  /** When `burn` is false: why, in words for the user. */
  burnUnavailableReason?: string;
}

// ------------------------------------------------------------------------------------------------------------
// Jobs (build, burn, erase)

export type JobKind = 'build' | 'burn' | 'erase';

/** Phases of a job as shown to the user. Build: load, scan, plan, write, done. Burn: IMAPI's phase names. */
export type JobPhase =
  | 'load' | 'scan' | 'plan' | 'write' | 'done'
  | 'validating-media' | 'formatting' | 'initializing-hardware' | 'calibrating-power' | 'writing'
  | 'finalizing' | 'verifying' | 'erasing' | 'completed';

export type JobStatus = 'running' | 'done' | 'failed' | 'cancelled';

/** A problem found in a manifest, as the engine reports it (1-based line and column: the CLI's positions). */
export interface ManifestProblem {
  severity: 'error' | 'warning' | 'info';
  code: string;
  message: string;
  /** Absolute path of the manifest. */
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** The answer to every job request, sent when the job is over. */
export interface JobResult {
  jobId: string;
  /** The job's title, as in JobStartedParams. */
  title: string;
  status: Exclude<JobStatus, 'running'>;
  /** One line for the user: what was written, or why not. */
  message: string;
  /** Build: the image written (absolute path). Burn: the image or manifest burned. */
  output?: string;
  bytes?: number;
  elapsedMs: number;
  /** Manifest problems (errors stop a build; warnings come with a successful one). */
  problems: ManifestProblem[];
  /** Burn: the verification result, per drive. */
  verification?: { drive: string; result: 'passed' | 'failed' | 'skipped'; message?: string }[];
}

/** Shared by the job requests: the client chooses the id so that it can follow the job before the answer. */
export interface JobParams {
  jobId: string;
}

/**
 * `discforge/build` — client → server (the Build Image command, code lenses, the task provider): builds the image
 * a manifest describes, from the manifest file on disk (the client saves the editor first). Answers when done.
 */
export interface BuildParams extends JobParams {
  /** The manifest's URI (file:). */
  uri: string;
  /** Overrides the manifest's `output` (absolute path). */
  output?: string;
}
export const BuildRequest: RequestDef<BuildParams, JobResult> = { method: 'discforge/build' };

/** `discforge/cancelJob` — client → server notification (the panel's Cancel button, a task being terminated). */
export interface CancelJobParams {
  jobId: string;
}
export const CancelJobNotification: NotificationDef<CancelJobParams> = { method: 'discforge/cancelJob' };

/** `discforge/jobStarted` — server → client notification, once per job, before any progress. */
export interface JobStartedParams {
  jobId: string;
  kind: JobKind;
  /** "Build hello.iso", "Burn hello.iso to virtual:cd-r:/tmp/d.img" … */
  title: string;
  manifest?: string;
  output?: string;
  /** Burn and erase: the drive spec. */
  drive?: string;
  startedAt: number;
}
export const JobStartedNotification: NotificationDef<JobStartedParams> = { method: 'discforge/jobStarted' };

/** `discforge/jobProgress` — server → client notification, at most ~10 per second per job. */
export interface JobProgressParams {
  jobId: string;
  phase: JobPhase;
  /** Units done and total in this phase (bytes while writing; 0 total when unknown). */
  done: number;
  total: number;
  /** Whole job, 0–100. */
  percent: number;
  /** Recent throughput while writing, bytes per second. */
  bytesPerSecond?: number;
  elapsedMs: number;
  /** Estimated time left, when it can be estimated. */
  remainingMs?: number;
  /** Burn: the drive's buffer fill, 0–100. */
  bufferPercent?: number;
}
export const JobProgressNotification: NotificationDef<JobProgressParams> = { method: 'discforge/jobProgress' };

/** `discforge/jobFinished` — server → client notification, once per job, with the same JobResult as the answer. */
export const JobFinishedNotification: NotificationDef<JobResult> = { method: 'discforge/jobFinished' };

// ------------------------------------------------------------------------------------------------------------
// Images

/** `discforge/inspect` — client → server (Inspect Image…, the "Inspect" code lens): the engine's inspect report. */
export interface InspectParams {
  /** The image's URI (file:). */
  uri: string;
}
export interface InspectResult {
  /** The report as `discforge inspect` prints it. */
  text: string;
  /** Problems found in the image (damage), one per line. */
  problems: string[];
}
export const InspectRequest: RequestDef<InspectParams, InspectResult> = { method: 'discforge/inspect' };

/** `discforge/plan` — client → server: what a manifest would build (used by Burn… to show the image size). */
export interface PlanParams {
  uri: string;
}
export interface PlanResult {
  ok: boolean;
  output?: string;
  bytes?: number;
  blocks?: number;
  files?: number;
  problems: ManifestProblem[];
}
export const PlanRequest: RequestDef<PlanParams, PlanResult> = { method: 'discforge/plan' };

// ------------------------------------------------------------------------------------------------------------
// Drives and burning (the burning engine, server/src/engine/burn/). When a server has no burning engine
// (ServerFeatures.burn false) every one of these requests fails with ErrorCodes.BurnUnavailable saying so.

export const ErrorCodes = {
  /** The server has no burning engine. */
  BurnUnavailable: 1001,
  /** The drive is busy with another job (the message names the holder). */
  DriveBusy: 1002,
  /** Workspace not trusted (the client does not send job requests then; the server checks nothing). */
  Untrusted: 1003,
} as const;

export interface MediaInfo {
  /** Physical type as the drive reports it: "CD-R", "DVD+R", "BD-RE" … */
  type: string;
  state: 'blank' | 'appendable' | 'finalized' | 'overwrite-only' | 'unsupported' | 'none';
  writeProtected?: boolean;
  usedBytes: number;
  freeBytes: number;
  sessions?: number;
}

export interface DriveInfo {
  /** The drive spec (`/dev/sr0`, `virtual:dvd+r:/tmp/d.img`). */
  id: string;
  vendor: string;
  model: string;
  revision?: string;
  virtual: boolean;
  media?: MediaInfo;
  /** Write speeds offered for the loaded media, bytes per second. */
  writeSpeeds?: number[];
  /** The job using the drive, if any. */
  busyWith?: string;
  /** Why the drive could not be queried (it is listed anyway). */
  error?: string;
}

/**
 * `discforge/drives` — client → server (Drives view, Refresh Drives, Burn…): the recorders and their media: the
 * OS's optical drives (with the native addon) and the virtual ones asked for.
 */
export interface DrivesParams {
  /** Virtual recorders to include (`discforge.drives.virtual` setting). */
  virtual: string[];
}
export interface DrivesResult {
  drives: DriveInfo[];
}
export const DrivesRequest: RequestDef<DrivesParams, DrivesResult> = { method: 'discforge/drives' };

/** `discforge/drivesChanged` — server → client notification: media inserted/removed, a job ended; refresh. */
export const DrivesChangedNotification: NotificationDef<Record<string, never>> = { method: 'discforge/drivesChanged' };

/** `discforge/burn` — client → server (Burn…, tasks with "action": "burn"): one job per drive. */
export interface BurnParams extends JobParams {
  /** A manifest (built on the fly, streamed to the drive) or an image file. */
  uri: string;
  drive: string;
  verify: 'none' | 'quick' | 'full';
  /** Write speed as a multiple of the medium's 1× (8 = 8×); absent = the drive's best. */
  speedX?: number;
  /** Close the disc (no further sessions). */
  close?: boolean;
  /** Overwrite a rewritable disc that holds data (CD-RW/DVD-RW are blanked first). */
  force?: boolean;
  eject?: boolean;
}
export const BurnRequest: RequestDef<BurnParams, JobResult> = { method: 'discforge/burn' };

/** `discforge/erase` — client → server (Erase Disc…): blank a rewritable disc. */
export interface EraseParams extends JobParams {
  drive: string;
  full: boolean;
}
export const EraseRequest: RequestDef<EraseParams, JobResult> = { method: 'discforge/erase' };

/** `discforge/eject` — client → server (Eject, the Drives view's inline action). */
export interface EjectParams {
  drive: string;
}
export const EjectRequest: RequestDef<EjectParams, { ok: true }> = { method: 'discforge/eject' };

// ------------------------------------------------------------------------------------------------------------
// Helpers (typed wrappers; structural so that no JSON-RPC library is imported here)

interface RequestSender {
  sendRequest<R>(method: string, params: unknown, token?: unknown): Promise<R>;
}
interface NotificationSender {
  sendNotification(method: string, params: unknown): Promise<void> | void;
}

export function sendRequest<P, R>(conn: RequestSender, def: RequestDef<P, R>, params: P, token?: unknown): Promise<R> {
  return token === undefined ? conn.sendRequest<R>(def.method, params) : conn.sendRequest<R>(def.method, params, token);
}

export function sendNotification<P>(conn: NotificationSender, def: NotificationDef<P>, params: P): Promise<void> {
  return Promise.resolve(conn.sendNotification(def.method, params));
}
