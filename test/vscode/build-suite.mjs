// @ts-check
// Bundles the extension-host suite (test/vscode/suite/*.ts) into out/vscode-test/suite/ (run.mjs does this itself;
// this is for `npm run test:vscode:electron`).
import { buildSuite } from './run.mjs';

console.log(await buildSuite());
