// @ts-check
// The same extension-host suite with @vscode/test-cli / @vscode/test-electron, for machines that can download
// VS Code (this one cannot: there test/vscode/run.mjs runs it in code-server instead).
//   node scripts/build.mjs && node test/vscode/build-suite.mjs && npm run test:vscode:electron
import { defineConfig } from '@vscode/test-cli';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
// A scratch workspace with the examples the suite expects (hello and broken).
const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'discforge-electron-'));
for (const n of ['hello', 'broken']) {
  fs.cpSync(path.join(root, 'examples', n), path.join(ws, n), { recursive: true, filter: (src) => !/[\\/]out$/.test(src) });
}

export default defineConfig({
  label: 'discforge',
  files: path.join(root, 'out', 'vscode-test', 'suite', '*.itest.js'),
  extensionDevelopmentPath: root,
  workspaceFolder: ws,
  version: 'stable',
  mocha: { ui: 'tdd', timeout: 60000 },
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
});
