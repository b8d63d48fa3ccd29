/// <reference types="mocha" />
/**
 * Entry point of the extension-host suite: VS Code loads it from `extensionTestsPath` (code-server through
 * test/vscode/run.mjs, or @vscode/test-electron through test/vscode/vscode-test.config.mjs) and calls run().
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60000, reporter: 'spec' });
  const grep = process.env.DISCFORGE_TEST_GREP;
  if (grep) mocha.grep(grep);
  for (const f of fs.readdirSync(__dirname).sort()) if (f.endsWith('.itest.js')) mocha.addFile(path.join(__dirname, f));
  await new Promise<void>((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
