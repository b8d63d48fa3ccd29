/**
 * The DiscForge language server: a thin bootstrap that wires handler classes (one per concern, in ./lsp) to the
 * connection. The mastering engine it hosts (./engine) has no LSP imports; DiscForge's own messages are declared
 * in ./protocol.
 *
 * The same bundle (dist/server.js) is also the planner's worker thread: started with workerData
 * `{ discforgePlanWorker: true }` it only answers plan requests (see lsp/analyzer.ts); with
 * `{ discforgeBuildWorker: true, … }` it runs one build (see lsp/buildWorker.ts).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  createConnection,
  DidChangeConfigurationNotification,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { version } from '../../package.json';
import { PROTOCOL_VERSION, type ServerFeatures } from './protocol';
import { PlanAnalyzer, runPlanWorker, WORKER_MARK } from './lsp/analyzer';
import { BurnHandler } from './lsp/burn';
import { BUILD_WORKER_MARK, runBuildWorker } from './lsp/buildWorker';
import { CodeLensHandler } from './lsp/codeLens';
import { CompletionHandler } from './lsp/completion';
import { DEFAULT_SETTINGS, filePath, type ServerContext } from './lsp/context';
import { DiagnosticsHandler } from './lsp/diagnostics';
import { HoverHandler } from './lsp/hover';
import { JobsHandler } from './lsp/jobs';
import { JsonService } from './lsp/jsonService';
import type { PlanSummary } from './lsp/planSummary';
import { SymbolsHandler } from './lsp/symbols';

function startServer(): void {
  const connection = createConnection(ProposedFeatures.all);
  const documents = new TextDocuments(TextDocument);
  const log = (m: string) => connection.console.log(m);
  const analyzer = new PlanAnalyzer(__filename, log, (m) => connection.tracer.log(m));
  const plans = new Map<string, { version: number; summary: PlanSummary }>();
  const inflight = new Map<string, { version: number; promise: Promise<PlanSummary | undefined> }>();

  const ctx: ServerContext = {
    connection,
    documents,
    json: new JsonService(),
    analyzer,
    settings: { ...DEFAULT_SETTINGS },
    plans,
    log,
    planNow(doc) {
      const file = filePath(doc.uri);
      if (!file) return Promise.resolve(undefined);
      const cached = plans.get(doc.uri);
      if (cached?.version === doc.version) return Promise.resolve(cached.summary);
      const running = inflight.get(doc.uri);
      if (running?.version === doc.version) return running.promise;
      const version = doc.version;
      const promise = analyzer.analyze(doc.uri, file, doc.getText()).then((summary) => {
        if (inflight.get(doc.uri)?.promise === promise) inflight.delete(doc.uri);
        if (summary && documents.get(doc.uri)) {
          const prev = plans.get(doc.uri);
          if (!prev || prev.version <= version) plans.set(doc.uri, { version, summary });
        }
        return summary;
      });
      inflight.set(doc.uri, { version, promise });
      return promise;
    },
  };

  let configurable = false;
  connection.onInitialize((params): InitializeResult => {
    configurable = params.capabilities.workspace?.didChangeConfiguration?.dynamicRegistration === true;
    const opts = params.initializationOptions as { diagnosticsDelay?: number } | undefined;
    if (typeof opts?.diagnosticsDelay === 'number') ctx.settings.diagnosticsDelay = opts.diagnosticsDelay;
    const discforge: ServerFeatures = { protocolVersion: PROTOCOL_VERSION, ...BurnHandler.features() };
    return {
      serverInfo: { name: 'discforge', version },
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: { triggerCharacters: ['"', '/', ':'] },
        hoverProvider: true,
        codeLensProvider: { resolveProvider: false },
        documentSymbolProvider: true,
        experimental: { discforge },
      },
    };
  });

  const diagnostics = new DiagnosticsHandler(ctx);
  new CompletionHandler(ctx);
  new HoverHandler(ctx);
  new CodeLensHandler(ctx);
  new SymbolsHandler(ctx);
  const jobs = new JobsHandler(ctx, __filename);
  new BurnHandler(ctx, jobs);

  connection.onInitialized(() => {
    if (configurable) void connection.client.register(DidChangeConfigurationNotification.type, { section: 'discforge' });
  });
  connection.onDidChangeConfiguration((change) => {
    const s = (change.settings as { discforge?: { diagnostics?: { delay?: number } } } | null)?.discforge;
    const delay = s?.diagnostics?.delay;
    if (typeof delay === 'number' && delay >= 0) ctx.settings.diagnosticsDelay = delay;
    plans.clear();
    diagnostics.revalidateAll();
  });
  // Sources on disk changed (the client watches the workspace): every plan may be stale. Bursts of events (a build
  // writing an image, a checkout) coalesce into one re-plan; the image being written is not a source.
  connection.onDidChangeWatchedFiles((e) => {
    if (e.changes.every((c) => /\.partial$/.test(c.uri))) return;
    analyzer.sourcesChanged();
    plans.clear();
    diagnostics.revalidateAll(Math.max(500, ctx.settings.diagnosticsDelay));
  });
  connection.onShutdown(() => analyzer.dispose());

  documents.listen(connection);
  connection.listen();
}

if (!isMainThread && (workerData as Record<string, unknown> | undefined)?.[WORKER_MARK] && parentPort) {
  runPlanWorker(parentPort);
} else if (!isMainThread && (workerData as Record<string, unknown> | undefined)?.[BUILD_WORKER_MARK] && parentPort) {
  runBuildWorker(parentPort, workerData as { manifest: string; output?: string });
} else {
  startServer();
}
