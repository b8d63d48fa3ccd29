/** The language client: starts dist/server.js for disc manifests and reads the server's DiscForge features. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { PROTOCOL_VERSION, type ServerFeatures } from '../../server/src/protocol';
import { config, type DiscForge } from './context';

export async function activate(ctx: DiscForge): Promise<void> {
  const module = ctx.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'disc-manifest' }],
    outputChannel: ctx.log,
    initializationOptions: { diagnosticsDelay: config().get<number>('diagnostics.delay', 250) },
    synchronize: {
      configurationSection: 'discforge',
      // Sources the manifests name change on disk: the server re-plans open manifests.
      fileEvents: ctx.own(vscode.workspace.createFileSystemWatcher('**/*', false, false, false)),
    },
  };
  const client = new LanguageClient('discforge', 'DiscForge', serverOptions, clientOptions);
  ctx.own({ dispose: () => void client.stop().catch(() => {}) });
  try {
    await client.start();
  } catch (err) {
    ctx.log.error(`the DiscForge language server did not start: ${String(err)}`);
    ctx.clientFailed(err);
    throw err;
  }
  const experimental = client.initializeResult?.capabilities.experimental as { discforge?: ServerFeatures } | undefined;
  const features: ServerFeatures = experimental?.discforge ?? { protocolVersion: 0, burn: false, burnUnavailableReason: 'the server did not say' };
  if (features.protocolVersion !== PROTOCOL_VERSION) {
    ctx.log.warn(`server protocol ${features.protocolVersion}, client protocol ${PROTOCOL_VERSION}`);
  }
  ctx.setClient(client, features);
  void vscode.commands.executeCommand('setContext', 'discforge.burnAvailable', features.burn);
  ctx.log.info(`language server started (protocol ${features.protocolVersion}; burning ${features.burn ? 'available' : 'not available'})`);
}
