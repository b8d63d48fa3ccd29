/**
 * Code lenses on the manifest's first line: "Build image", "Burn…", "Inspect". They run the extension's commands
 * (discforge.build / discforge.burn / discforge.inspect) with the manifest's URI or the image's path.
 */
import { pathToFileURL } from 'node:url';
import type { CodeLens, CodeLensParams } from 'vscode-languageserver';
import { parseTree } from 'jsonc-parser';
import type { ServerContext } from './context';

export const COMMANDS = {
  build: 'discforge.build',
  burn: 'discforge.burn',
  inspect: 'discforge.inspect',
} as const;

export class CodeLensHandler {
  constructor(private readonly ctx: ServerContext) {
    ctx.connection.onCodeLens((p) => this.lenses(p));
  }

  async lenses(p: CodeLensParams): Promise<CodeLens[]> {
    const doc = this.ctx.documents.get(p.textDocument.uri);
    if (!doc) return [];
    const root = parseTree(doc.getText(), [], { allowTrailingComma: true });
    const at = doc.positionAt(root?.offset ?? 0);
    const range = { start: at, end: at };
    const plan = await this.ctx.planNow(doc);
    const lenses: CodeLens[] = [
      { range, command: { title: 'Build image', command: COMMANDS.build, arguments: [doc.uri] } },
      { range, command: { title: 'Burn…', command: COMMANDS.burn, arguments: [doc.uri] } },
    ];
    if (plan?.output) {
      lenses.push({ range, command: { title: 'Inspect', command: COMMANDS.inspect, arguments: [pathToFileURL(plan.output).toString()] } });
    }
    return lenses;
  }
}
