/**
 * The one object that owns the extension's state and every disposable: the output channel, the language client,
 * the job tracker, and whatever each feature registers (`ctx.own(…)`). Disposing it (on deactivate) disposes all.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { ServerFeatures } from '../../server/src/protocol';

export class DiscForge implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  private readonly disposables: vscode.Disposable[] = [];
  private clientReady: Promise<LanguageClient>;
  private resolveClient!: (c: LanguageClient) => void;
  private rejectClient!: (e: unknown) => void;
  client: LanguageClient | undefined;
  /** What the server offers (from its initialize result); burn is off until the server says otherwise. */
  features: ServerFeatures = { protocolVersion: 0, burn: false, burnUnavailableReason: 'the language server is not running' };

  constructor(readonly ext: vscode.ExtensionContext) {
    this.log = this.own(vscode.window.createOutputChannel('DiscForge', { log: true }));
    this.clientReady = new Promise((resolve, reject) => {
      this.resolveClient = resolve;
      this.rejectClient = reject;
    });
    this.clientReady.catch(() => {});
  }

  /** Takes ownership of a disposable (disposed with the context, in reverse order). */
  own<T extends vscode.Disposable>(d: T): T {
    this.disposables.push(d);
    return d;
  }

  setClient(client: LanguageClient, features: ServerFeatures): void {
    this.client = client;
    this.features = features;
    this.resolveClient(client);
  }

  clientFailed(err: unknown): void {
    this.rejectClient(err);
  }

  /** The running language client (waits for it to start). */
  languageClient(): Promise<LanguageClient> {
    return this.clientReady;
  }

  asAbsolutePath(rel: string): string {
    return this.ext.asAbsolutePath(rel);
  }

  /**
   * Builds and burns only in a trusted workspace: a manifest can name any file to read, and a burn writes to a
   * device. Says so and offers to manage trust when not trusted.
   */
  requireTrust(action: string): boolean {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window
      .showWarningMessage(`DiscForge does not ${action} in an untrusted workspace. Trust this workspace to ${action}.`, 'Manage Workspace Trust')
      .then((pick) => pick && vscode.commands.executeCommand('workbench.trust.manage'));
    this.log.warn(`refused to ${action}: the workspace is not trusted`);
    return false;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) {
      try {
        d.dispose();
      } catch (err) {
        console.error(err);
      }
    }
  }
}

/** A feature module: registers what it needs on the context. */
export type Feature = (ctx: DiscForge) => void | Promise<void>;

/** A fresh job id (the client names jobs; see protocol.ts). */
export function newJobId(kind: string): string {
  return `${kind}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('discforge');
}
