/**
 * The DiscForge language server: a thin bootstrap that wires handler classes (one per concern) to the
 * connection. The mastering engine it hosts (../engine) has no LSP imports.
 */
import { createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DiagnosticsHandler } from './lsp/diagnostics';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

connection.onInitialize(() => ({
  capabilities: {
    textDocumentSync: TextDocumentSyncKind.Incremental,
    hoverProvider: true,
  },
}));

new DiagnosticsHandler(connection, documents);
documents.listen(connection);
connection.listen();
