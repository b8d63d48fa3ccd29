/**
 * A real LSP client for the tests: spawns the bundled server (dist/server.js --stdio) and talks JSON-RPC to it over
 * stdio with vscode-jsonrpc, the way an editor does. It records what the server pushes (diagnostics, progress,
 * DiscForge notifications) so tests can wait for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CancellationTokenSource, createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { Diagnostic, InitializeResult, PublishDiagnosticsParams, WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport } from 'vscode-languageserver-protocol';

/** The repository root (tests run bundled from out/test/**). */
export const repoRoot: string = (() => {
  let d = __dirname;
  for (;;) {
    const pj = path.join(d, 'package.json');
    if (fs.existsSync(pj) && /"name":\s*"discforge"/.test(fs.readFileSync(pj, 'utf8'))) return d;
    const up = path.dirname(d);
    if (up === d) throw new Error(`cannot find the repository root above ${__dirname}`);
    d = up;
  }
})();

export const serverPath = path.join(repoRoot, 'dist', 'server.js');

/** A diagnostic with its message as plain text. */
export type Diag = Omit<Diagnostic, 'message'> & { message: string };

type Progress = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

interface Waiter {
  test: () => boolean;
  resolve: () => void;
}

export class LspClient {
  readonly published: PublishDiagnosticsParams[] = [];
  /** `$/progress` values by token, in order. */
  readonly progress = new Map<string | number, Progress[]>();
  /** Tokens the server asked to create (window/workDoneProgress/create). */
  readonly progressTokens: (string | number)[] = [];
  /** DiscForge notifications (discforge/*), in order. */
  readonly notifications: { method: string; params: any }[] = [];
  readonly stderr: string[] = [];
  /** window/logMessage texts. */
  readonly logs: string[] = [];
  /** $/logTrace texts (after `$/setTrace`). */
  readonly traces: string[] = [];
  initializeResult!: InitializeResult;
  private readonly waiters: Waiter[] = [];
  private readonly versions = new Map<string, number>();

  private constructor(readonly proc: ChildProcess, readonly conn: MessageConnection) {}

  static async start(initializationOptions: Record<string, unknown> = {}): Promise<LspClient> {
    if (!fs.existsSync(serverPath)) throw new Error(`${serverPath} is missing: run node scripts/build.mjs`);
    const proc = spawn(process.execPath, [serverPath, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const c = new LspClient(proc, conn);
    proc.stderr!.on('data', (b: Buffer) => c.stderr.push(b.toString()));
    conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      c.published.push(p);
      c.poke();
    });
    conn.onNotification('$/progress', (p: { token: string | number; value: Progress }) => {
      const list = c.progress.get(p.token) ?? [];
      list.push(p.value);
      c.progress.set(p.token, list);
      c.poke();
    });
    conn.onNotification('$/logTrace', (p: { message: string }) => {
      c.traces.push(p.message);
      c.poke();
    });
    conn.onNotification('window/logMessage', (p: { message: string }) => {
      c.logs.push(p.message);
      c.poke();
    });
    conn.onNotification((method: string, params: unknown) => {
      if (method.startsWith('discforge/')) {
        c.notifications.push({ method, params });
        c.poke();
      }
    });
    conn.onRequest('window/workDoneProgress/create', (p: { token: string | number }) => {
      c.progressTokens.push(p.token);
      return null;
    });
    conn.onRequest('client/registerCapability', () => null);
    conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => null));
    conn.listen();
    c.initializeResult = await conn.sendRequest<InitializeResult>('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {
        window: { workDoneProgress: true },
        textDocument: {
          completion: { completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'] } },
          hover: { contentFormat: ['markdown', 'plaintext'] },
          documentSymbol: { hierarchicalDocumentSymbolSupport: true },
          publishDiagnostics: { versionSupport: true },
        },
      },
      initializationOptions,
    });
    await conn.sendNotification('initialized', {});
    return c;
  }

  private poke(): void {
    for (const w of [...this.waiters]) {
      if (w.test()) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Resolves when `test` holds (checked on every message from the server). */
  waitFor(test: () => boolean, what: string, timeoutMs = 15000): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; server stderr: ${this.stderr.join('').slice(-2000)}`));
      }, timeoutMs);
      const w: Waiter = {
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(w);
    });
  }

  open(file: string, text: string = fs.readFileSync(file, 'utf8')): string {
    const uri = pathToFileURL(file).toString();
    this.versions.set(uri, 1);
    void this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'disc-manifest', version: 1, text } });
    return uri;
  }

  /** Replaces the whole text; returns the new version. */
  change(uri: string, text: string): number {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    void this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    return version;
  }

  close(uri: string): void {
    void this.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  /** The diagnostics published for `uri` at `version` (waits for them). */
  async diagnostics(uri: string, version = this.versions.get(uri) ?? 1, timeoutMs = 15000): Promise<Diag[]> {
    const find = () => this.published.find((p) => p.uri === uri && p.version === version);
    await this.waitFor(() => find() !== undefined, `diagnostics of ${uri} v${version}`, timeoutMs);
    return find()!.diagnostics.map((d) => ({ ...d, message: typeof d.message === 'string' ? d.message : d.message.value }));
  }

  request<R>(method: string, params: unknown, token?: CancellationTokenSource): Promise<R> {
    return token ? this.conn.sendRequest<R>(method, params, token.token) : this.conn.sendRequest<R>(method, params);
  }

  notify(method: string, params: unknown): void {
    void this.conn.sendNotification(method, params);
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([this.conn.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
      void this.conn.sendNotification('exit');
    } catch {
      /* already gone */
    }
    const exited = new Promise<void>((r) => (this.proc.exitCode !== null ? r() : this.proc.once('exit', () => r())));
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
    this.conn.dispose();
  }
}

/** Zero-based position of the `nth` (0-based) occurrence of `needle` in `text`, plus `delta` characters. */
export function posOf(text: string, needle: string, nth = 0, delta = 0): { line: number; character: number } {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`${JSON.stringify(needle)} (#${nth}) not in the text`);
  }
  return offsetToPos(text, at + delta);
}

export function offsetToPos(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

/** The range of the `nth` occurrence of `needle`. */
export function rangeOf(text: string, needle: string, nth = 0) {
  const start = posOf(text, needle, nth);
  return { start, end: { line: start.line, character: start.character + needle.length } };
}

export { CancellationTokenSource };
