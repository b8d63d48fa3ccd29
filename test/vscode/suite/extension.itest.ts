/// <reference types="mocha" />
/// <reference types="vscode" />
/**
 * The DiscForge extension inside a real VS Code (code-server's extension host, or VS Code's with test-electron).
 * The workspace is a copy of examples/ (hello and broken), made by the runner.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

interface JobResult {
  status: string;
  message: string;
  output?: string;
  bytes?: number;
  problems: unknown[];
}

const ws = () => {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'a workspace folder is open');
  return f.uri.fsPath;
};

async function until<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function isoMagic(file: string): string {
  const b = Buffer.alloc(5);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, b, 0, 5, 32769);
  fs.closeSync(fd);
  return b.toString('latin1');
}

suite('DiscForge in VS Code', () => {
  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension('discforge.discforge');
    assert.ok(ext, 'the extension is installed');
    // Opening a manifest activates it (onLanguage:disc-manifest).
    await vscode.window.showTextDocument(vscode.Uri.file(path.join(ws(), 'hello', 'hello.disc.json')));
    await until('activation', () => ext.isActive);
  });

  test('a manifest is a disc-manifest document', async () => {
    const doc = await vscode.workspace.openTextDocument(path.join(ws(), 'hello', 'hello.disc.json'));
    assert.equal(doc.languageId, 'disc-manifest');
  });

  test('the broken example shows its three problems on the right nodes', async () => {
    const uri = vscode.Uri.file(path.join(ws(), 'broken', 'broken.disc.json'));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const diags = await until('diagnostics of broken.disc.json', () => {
      const d = vscode.languages.getDiagnostics(uri);
      return d.length >= 3 && d;
    });
    const got = diags
      .map((d) => ({ code: String(typeof d.code === 'object' ? d.code.value : d.code), line: d.range.start.line, text: doc.getText(d.range), severity: d.severity }))
      .sort((a, b) => a.line - b.line);
    assert.deepEqual(got.map(({ code, line, severity }) => ({ code, line, severity })), [
      { code: 'source-missing', line: 8, severity: vscode.DiagnosticSeverity.Error },
      { code: 'glob-empty', line: 9, severity: vscode.DiagnosticSeverity.Error },
      { code: 'target-collision', line: 10, severity: vscode.DiagnosticSeverity.Error },
    ]);
    assert.equal(got[0].text, '"content/missing.txt"');
    assert.equal(got[1].text, '"content/*.zip"');
    assert.equal(got[2].text, '{ "source": "content/other.txt", "target": "/README.TXT" }');
  });

  test('diagnostics follow edits', async () => {
    const uri = vscode.Uri.file(path.join(ws(), 'broken', 'broken.disc.json'));
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    const at = doc.getText().indexOf('content/missing.txt');
    await editor.edit((e) => e.replace(new vscode.Range(doc.positionAt(at), doc.positionAt(at + 'content/missing.txt'.length)), 'content/readme.txt'));
    await until('the source-missing diagnostic to go', () => {
      const d = vscode.languages.getDiagnostics(uri);
      return d.length === 2 && !d.some((x) => String(x.code) === 'source-missing');
    });
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  test('hover, completion, code lenses and the outline come from the language server', async () => {
    const uri = vscode.Uri.file(path.join(ws(), 'hello', 'hello.disc.json'));
    const doc = await vscode.workspace.openTextDocument(uri);
    const kindAt = doc.positionAt(doc.getText().indexOf('"kind"') + 2);
    const hovers = await until('a hover', async () => {
      const h = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, kindAt);
      return h.length > 0 && h;
    });
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /Planned image/);
    assert.match(text, /of a CD-R 80 min/);
    const mediaAt = doc.positionAt(doc.getText().indexOf('"cd-r"') + 1);
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, mediaAt);
    assert.ok(list.items.some((i) => (typeof i.label === 'string' ? i.label : i.label.label) === '"dvd+r"'));
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
    assert.deepEqual(lenses.map((l) => l.command?.title), ['Build image', 'Burn…', 'Inspect']);
    const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', uri);
    const files = symbols.find((s) => s.name === 'files');
    assert.ok(files);
    assert.deepEqual(files.children.map((c) => c.name), ['content/photos → /Photos', 'content/docs/*.txt → /Docs/', 'content/README.md → /README.TXT', '/empty']);
  });

  test('Build Image builds the example into out/hello.iso', async () => {
    const image = path.join(ws(), 'hello', 'out', 'hello.iso');
    fs.rmSync(image, { force: true });
    const r = await vscode.commands.executeCommand<JobResult>('discforge.build', vscode.Uri.file(path.join(ws(), 'hello', 'hello.disc.json')));
    assert.equal(r?.status, 'done', r?.message);
    assert.equal(r.output, image);
    assert.equal(fs.statSync(image).size, r.bytes);
    assert.equal(isoMagic(image), 'CD001');
    assert.equal(fs.existsSync(image + '.partial'), false);
  });

  test('Inspect Image… shows the engine\'s report of the image', async () => {
    const image = path.join(ws(), 'hello', 'out', 'hello.iso');
    assert.ok(fs.existsSync(image), 'built by the previous test');
    const r = await vscode.commands.executeCommand<{ text: string }>('discforge.inspect', vscode.Uri.file(image));
    assert.match(r.text, /Volume descriptors/);
    assert.match(r.text, /HELLO_DISC/);
    const active = vscode.window.activeTextEditor?.document;
    assert.equal(active?.uri.scheme, 'discforge-inspect');
    assert.match(active?.getText() ?? '', /HELLO_DISC/);
  });

  test('the task provider lists the example task, and running it builds the image', async () => {
    const tasks = await vscode.tasks.fetchTasks({ type: 'discforge' });
    const names = tasks.map((t) => t.name);
    const task = tasks.find((t) => t.definition.manifest === 'hello/hello.disc.json' && (t.definition.action ?? 'build') === 'build');
    assert.ok(task, `the hello build task in ${names.join(', ')}`);
    assert.equal(task.name, 'build hello/hello.disc.json');
    assert.equal(task.source, 'discforge');
    assert.equal(task.group?.id, vscode.TaskGroup.Build.id);
    const image = path.join(ws(), 'hello', 'out', 'hello.iso');
    fs.rmSync(image, { force: true });
    const code = await runTask(task);
    assert.equal(code, 0);
    assert.equal(isoMagic(image), 'CD001');
  });

  test('a task on a broken manifest puts the problems in the Problems view ($discforge matcher)', async () => {
    // A copy that no editor opens: any diagnostics on it come from the task's problem matcher.
    const src = path.join(ws(), 'broken', 'broken.disc.json');
    const copy = path.join(ws(), 'broken', 'task-broken.disc.json');
    fs.copyFileSync(src, copy);
    const tasks = await vscode.tasks.fetchTasks({ type: 'discforge' });
    const task = tasks.find((t) => t.definition.manifest === 'broken/task-broken.disc.json');
    assert.ok(task, 'the new manifest has a task');
    const code = await runTask(task);
    assert.equal(code, 2, 'exit code 2: bad input, as the CLI');
    const uri = vscode.Uri.file(copy);
    const diags = await until(`problem matcher diagnostics on ${uri.fsPath} (all: ${JSON.stringify(vscode.languages.getDiagnostics().map(([u, d]) => [u.fsPath, d.length]))})`, () => {
      const d = vscode.languages.getDiagnostics(uri);
      return d.length >= 3 && d;
    }, 20000);
    const got = diags.map((d) => ({ line: d.range.start.line, col: d.range.start.character, code: String(typeof d.code === 'object' ? d.code.value : d.code) })).sort((a, b) => a.line - b.line);
    assert.deepEqual(got, [
      { line: 8, col: 16, code: 'source-missing' },
      { line: 9, col: 16, code: 'glob-empty' },
      { line: 10, col: 4, code: 'target-collision' },
    ]);
    assert.ok(diags.every((d) => d.source === 'discforge'));
  });

  test('Refresh Drives, Burn…, Erase Disc… and Eject on emulated recorders', async () => {
    const cdr = `virtual:cd-r:${path.join(ws(), 'discs', 'ext.img')}`;
    const cdrw = `virtual:cd-rw:${path.join(ws(), 'discs', 'ext-rw.img')}`;
    const forTask = `virtual:dvd+r:${path.join(ws(), 'discs', 'task.img')}`;
    fs.mkdirSync(path.join(ws(), 'discs'), { recursive: true });
    await vscode.workspace.getConfiguration('discforge').update('drives.virtual', [cdr, cdrw, forTask], vscode.ConfigurationTarget.Workspace);
    await vscode.workspace.getConfiguration('discforge').update('burn.verify', 'full', vscode.ConfigurationTarget.Workspace);
    const listed = await vscode.commands.executeCommand<{ id: string; virtual: boolean; media?: { state: string } }[]>('discforge.refreshDrives');
    assert.deepEqual(listed.map((d) => [d.id, d.virtual, d.media?.state]), [[cdr, true, 'blank'], [cdrw, true, 'blank'], [forTask, true, 'blank']]);
    // Burn the example to both recorders at once.
    const manifest = vscode.Uri.file(path.join(ws(), 'hello', 'hello.disc.json'));
    const results = await vscode.commands.executeCommand<JobResult[] & { verification?: unknown }[]>('discforge.burn', manifest, [cdr, cdrw]);
    assert.equal(results.length, 2);
    for (const r of results) assert.equal(r.status, 'done', r.message);
    const after = await vscode.commands.executeCommand<{ id: string; media?: { state: string; usedBytes: number } }[]>('discforge.refreshDrives');
    for (const d of after.filter((x) => x.id !== forTask)) {
      assert.notEqual(d.media?.state, 'blank');
      assert.ok((d.media?.usedBytes ?? 0) > 0);
    }
    // Erase the rewritable one, eject the other.
    const erased = await vscode.commands.executeCommand<JobResult>('discforge.erase', cdrw, { full: false });
    assert.equal(erased.status, 'done', erased.message);
    const again = await vscode.commands.executeCommand<{ id: string; media?: { state: string } }[]>('discforge.refreshDrives');
    assert.equal(again.find((d) => d.id === cdrw)?.media?.state, 'blank');
    assert.deepEqual(await vscode.commands.executeCommand('discforge.eject', cdr), { ok: true });
    // The task provider offers a burn task per configured recorder; running it burns.
    const tasks = await vscode.tasks.fetchTasks({ type: 'discforge' });
    const burnTask = tasks.find((t) => t.definition.action === 'burn' && t.definition.drive === forTask && t.definition.manifest === 'hello/hello.disc.json');
    assert.ok(burnTask, `a burn task in ${tasks.map((t) => t.name).join(', ')}`);
    assert.equal(await runTask(burnTask), 0);
    const final = await vscode.commands.executeCommand<{ id: string; media?: { state: string } }[]>('discforge.refreshDrives');
    assert.notEqual(final.find((d) => d.id === forTask)?.media?.state, 'blank');
  });

  test('New Disc Project writes a manifest that checks clean', async () => {
    const uri = await vscode.commands.executeCommand<vscode.Uri>('discforge.newProject', { kind: 'data', name: 'fresh', folder: ws() });
    assert.ok(uri);
    assert.equal(uri.fsPath, path.join(ws(), 'fresh.disc.json'));
    assert.ok(fs.statSync(path.join(ws(), 'content')).isDirectory());
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, uri.fsPath);
    // Checked by the server: no problems.
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(vscode.languages.getDiagnostics(uri), []);
  });
});

async function runTask(task: vscode.Task): Promise<number | undefined> {
  const ended = new Promise<number | undefined>((resolve) => {
    const subs = [
      vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution.task.definition.manifest === task.definition.manifest && e.execution.task.definition.action === task.definition.action) {
          subs.forEach((s) => s.dispose());
          resolve(e.exitCode);
        }
      }),
    ];
  });
  await vscode.tasks.executeTask(task);
  return Promise.race([ended, new Promise<undefined>((_, reject) => setTimeout(() => reject(new Error('the task did not end')), 60000))]);
}
