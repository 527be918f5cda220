// Nothing in a cloned repository or another extension weakens NoteSeal (issue 10), and tracing never
// writes secrets into the logs (issue 9.2). Runs in the real extension host.
import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, closeAllEditors, freshDir, noteUri, PASSPHRASE, sleep, unlocked, waitUntil, workspaceDir, writeEncExternally } from './helpers';

/** Writes the workspace's .vscode/settings.json and waits until VS Code has read it. */
async function workspaceSettings(values: Record<string, unknown> | undefined): Promise<void> {
  const file = path.join(workspaceDir(), '.vscode', 'settings.json');
  const changed = new Promise<void>(resolve => {
    const sub = vscode.workspace.onDidChangeConfiguration(e => { if (e.affectsConfiguration('noteseal')) { sub.dispose(); resolve(); } });
  });
  if (values) { fs.mkdirSync(path.dirname(file), { recursive: true }); fs.writeFileSync(file, JSON.stringify(values)); } else fs.rmSync(file, { force: true });
  await Promise.race([changed, sleep(5000)]);
  // The event can come late on a loaded machine (seen: not within 5 s): wait until VS Code shows the file's value.
  const expected = values?.['noteseal.recording.folder'];
  for (const end = Date.now() + 20_000; Date.now() < end; await sleep(100)) {
    if (vscode.workspace.getConfiguration('noteseal.recording').inspect('folder')?.workspaceValue === expected) break;
  }
  await sleep(200);
}

describe('hardening', function () {
  this.timeout(60_000);
  afterEach(async () => { await closeAllEditors(); });

  it('starts the worker outside the workspace and without an inspector', async () => {
    const { pid } = await (await api()).workerStatus();
    const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    const ws = fs.realpathSync(workspaceDir());
    assert.ok(cwd !== ws && !cwd.startsWith(ws + path.sep), `the worker's cwd (${cwd}) is not the workspace`);
    assert.equal(cwd, fs.realpathSync(vscode.extensions.getExtension('noteseal.noteseal')!.extensionPath));
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(!argv.some(a => a.startsWith('--inspect')), argv.join(' '));
  });

  it('a workspace .vscode/settings.json cannot switch auto-lock off or aim recordings outside the workspace', async () => {
    const noteseal = await unlocked();
    const outside = path.join(path.dirname(workspaceDir()), `outside-${Date.now()}`);
    try {
      await workspaceSettings({
        'noteseal.autoLock.idleMinutes': 0, 'noteseal.autoLock.onSleep': false,
        'noteseal.recording.folder': outside, 'noteseal.keyfile': '.vscode/keyfile.json',
        'noteseal.recording.captureCommand': 'sh -c "touch pwned"',
      });
      assert.equal(vscode.workspace.getConfiguration('noteseal.recording').inspect('folder')?.workspaceValue, outside, 'VS Code did read the hostile file');
      const s = noteseal.effectiveSettings();
      const user = vscode.workspace.getConfiguration('noteseal.autoLock').inspect<number>('idleMinutes')?.globalValue ?? 15;
      assert.equal(s.idleMinutes, user);
      assert.equal(s.onSleep, true);
      assert.ok(typeof s.recordingFolder === 'object' && /outside the workspace/.test(s.recordingFolder.problem), JSON.stringify(s.recordingFolder));
      const deadline = noteseal.vault.autoLockDeadline();
      assert.ok(deadline !== undefined && Math.abs(deadline - Date.now() - user * 60_000) < 60_000, 'idle locking still runs on the user\'s value');
      assert.equal(await noteseal.recording.start('Hostile'), undefined, 'recording refuses the outside folder');
      assert.equal(fs.existsSync(outside), false);
      assert.equal(fs.existsSync(path.join(workspaceDir(), 'pwned')), false);

      await workspaceSettings({ 'noteseal.recording.folder': '../escape' });
      const t = noteseal.effectiveSettings().recordingFolder;
      assert.ok(typeof t === 'object', `a relative way out is refused too: ${JSON.stringify(t)}`);
      await workspaceSettings({ 'noteseal.recording.folder': 'inside/rec' });
      assert.equal(noteseal.effectiveSettings().recordingFolder, path.join(workspaceDir(), 'inside', 'rec'), 'a folder inside the workspace is fine');
    } finally {
      await workspaceSettings(undefined);
    }
  });

  it('the Shred Recording command always asks: {confirmed: true} from another extension is ignored', async () => {
    const noteseal = await unlocked();
    const started = await noteseal.recording.start('Not to shred');
    assert.ok(started);
    await sleep(1200);
    const summary = (await noteseal.recording.stop())!;
    const asked: string[] = [];
    noteseal.recording.setShredConfirmation(async uri => { asked.push(uri.fsPath); return false; });
    try {
      const result = await vscode.commands.executeCommand('noteseal.shredRecording', vscode.Uri.file(summary.path), { confirmed: true });
      assert.equal(result, false);
      assert.deepEqual(asked, [summary.path], 'the question was asked');
      assert.equal(fs.existsSync(summary.path), true, 'nothing was shredded');
      const out = path.join(workspaceDir(), 'still-readable.wav');
      await noteseal.recording.exportTo(summary.path, out);
      fs.rmSync(out);
    } finally {
      noteseal.recording.setShredConfirmation(async () => false);
      await noteseal.recording.shred(summary.path);
      fs.rmSync(summary.path.replace(/\.wav\.enc$/, '.md.enc'), { force: true });
    }
  });

  it('a read nobody asked for (another extension\'s workspace.fs.readFile) does not unlock with the remembered key', async () => {
    const noteseal = await unlocked();
    const dir = freshDir('unasked');
    const file = path.join(dir, 'secret.md.enc');
    await writeEncExternally(file, 'remembered-key canary');
    await noteseal.vault.unlock(PASSPHRASE, true); // remembers the key on this device
    await noteseal.vault.lock();
    try {
      const read = Promise.resolve(vscode.workspace.fs.readFile(noteUri(file)));
      await sleep(1500); // the passphrase box is up (visible; the remembered key is not used)
      assert.equal((await noteseal.vault.state()).locked, true, 'still locked while the box waits');
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
      await assert.rejects(read, (e: Error) => /locked/i.test(e.message));
      assert.equal((await noteseal.vault.state()).locked, true);
      // The user's own open (the Explorer's redirect) uses the remembered key without a prompt…
      await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
      await waitUntil('the note to open', () => vscode.window.activeTextEditor?.document.getText() === 'remembered-key canary');
      assert.equal((await noteseal.vault.state()).locked, false);
      await noteseal.vault.lock();
      // …and so does Unlock.
      await vscode.commands.executeCommand('noteseal.unlock');
      assert.equal((await noteseal.vault.state()).locked, false);
      assert.equal(Buffer.from(await vscode.workspace.fs.readFile(noteUri(file))).toString(), 'remembered-key canary');
    } finally {
      await vscode.commands.executeCommand('noteseal.forgetRememberedKey');
      await unlocked();
    }
  });

  it('noteseal: maps only plain local paths (no host, no "..", no query)', async () => {
    await unlocked();
    const dir = freshDir('uris');
    const file = path.join(dir, 'n.md.enc');
    await writeEncExternally(file, 'uri canary');
    const good = noteUri(file);
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(good)).toString(), 'uri canary');
    const sneaky = [
      good.with({ path: `${path.dirname(good.path)}/../uris/n.md` }),
      good.with({ authority: 'server' }),
      good.with({ query: 'x=1' }),
      good.with({ fragment: 'f' }),
      vscode.Uri.from({ scheme: 'noteseal', path: `/\\\\server\\share${good.path}` }),
      vscode.Uri.parse(`noteseal://server/share${good.path}`),
    ];
    for (const u of sneaky) await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(u)), (e: Error) => /refuses/.test(e.message), u.toString());
  });

  it('a git-like revision of a .enc file shows that revision\'s plaintext read-only, never the working copy', async () => {
    await unlocked();
    const dir = freshDir('revisions');
    const file = path.join(dir, 'history.md.enc');
    await writeEncExternally(file, '# old revision text');
    const old = fs.readFileSync(file);
    await writeEncExternally(file, '# working copy text');
    const revisions = new Map<string, Uint8Array>([['/good', old], ['/bad', Buffer.from('not a NoteSeal file')]]);
    const fakeGit: vscode.FileSystemProvider = {
      onDidChangeFile: new vscode.EventEmitter<vscode.FileChangeEvent[]>().event,
      watch: () => new vscode.Disposable(() => undefined),
      stat: () => ({ type: vscode.FileType.File, ctime: 0, mtime: 0, size: old.length }),
      readDirectory: () => [], createDirectory: () => undefined,
      readFile: uri => { const b = revisions.get(uri.query); if (!b) throw vscode.FileSystemError.FileNotFound(uri); return b; },
      writeFile: () => { throw vscode.FileSystemError.NoPermissions('read-only'); },
      delete: () => undefined, rename: () => undefined,
    };
    const reg = vscode.workspace.registerFileSystemProvider('fakegit', fakeGit, { isReadonly: true });
    try {
      const rev = vscode.Uri.from({ scheme: 'fakegit', path: vscode.Uri.file(file).path, query: '/good' });
      await vscode.commands.executeCommand('vscode.open', rev);
      await waitUntil('the revision to open', () => vscode.window.activeTextEditor?.document.uri.scheme === 'noteseal-rev');
      const doc = vscode.window.activeTextEditor!.document;
      assert.equal(doc.getText(), '# old revision text');
      assert.equal(doc.languageId, 'markdown', 'the inner extension gives the language');
      assert.ok(!vscode.workspace.textDocuments.some(d => d.uri.scheme === 'noteseal' && d.uri.path.endsWith('/history.md')), 'the working copy was not opened');
      await closeAllEditors();

      const bad = rev.with({ query: '/bad' });
      await vscode.commands.executeCommand('vscode.open', bad);
      await sleep(2000);
      const ofBad = vscode.workspace.textDocuments.filter(d => d.uri.scheme === 'noteseal-rev' && vscode.Uri.parse(d.uri.query).query === '/bad');
      assert.deepEqual(ofBad.map(d => d.getText()), [], 'an undecryptable revision shows nothing');
      assert.ok(!vscode.workspace.textDocuments.some(d => d.getText().includes('working copy text')), 'and never the working copy');
      assert.ok(!vscode.window.visibleTextEditors.some(e => e.document.uri.path.endsWith('/history.md')), 'no editor opened');
    } finally { reg.dispose(); }
  });

  it('tracing writes no secrets into the logs, even with noteseal.trace.server "verbose" and the log level at Trace', async () => {
    const noteseal = await api();
    const userSettings = vscode.Uri.joinPath(noteseal.globalStorageUri, '..', '..', 'settings.json').fsPath;
    const userBefore = fs.existsSync(userSettings) ? fs.readFileSync(userSettings, 'utf8') : undefined;
    const canary = `trace-canary-${Date.now()}`;
    const control = `trace-control-${Date.now()}`;
    const channel = vscode.window.createOutputChannel('NoteSeal leak control', { log: true });
    try {
      if (userBefore !== undefined) fs.writeFileSync(userSettings, JSON.stringify({ ...JSON.parse(userBefore || '{}'), 'noteseal.trace.server': 'verbose' }));
      await workspaceSettings({ 'noteseal.trace.server': 'verbose' });
      assert.equal(vscode.workspace.getConfiguration('noteseal').get('trace.server'), 'verbose');
      await vscode.commands.executeCommand('_extensionTests.setLogLevel', 'trace');
      await sleep(500);
      await noteseal.vault.lock();
      await noteseal.vault.unlock(PASSPHRASE);
      const dir = freshDir('trace');
      const note = noteUri(path.join(dir, 'traced.md.enc'));
      await vscode.workspace.fs.writeFile(note, Buffer.from(`secret ${canary}`));
      assert.equal(Buffer.from(await vscode.workspace.fs.readFile(note)).toString(), `secret ${canary}`);
      channel.info(`positive control ${control}`);
      // Logs are flushed asynchronously: wait for the control to reach the disk, then search everything.
      const logsRoot = logsRootOf(noteseal.logUri.fsPath);
      await waitUntil('the positive control in the log files', () => search(logsRoot, [control]).length > 0, 20_000);
      await sleep(1000);
      const hits = search(logsRoot, [canary, PASSPHRASE, Buffer.from(canary).toString('base64')]);
      assert.deepEqual(hits, [], `secrets in the logs under ${logsRoot}`);
    } finally {
      channel.dispose();
      await vscode.commands.executeCommand('_extensionTests.setLogLevel', 'info');
      if (userBefore !== undefined) fs.writeFileSync(userSettings, userBefore);
      await workspaceSettings(undefined);
    }
  });
});

/** The host's logs folder for this session: the ancestor of the extension's log folder below `logs/`. */
function logsRootOf(extensionLog: string): string {
  let dir = extensionLog;
  for (let i = 0; i < 5 && path.basename(path.dirname(dir)) !== 'logs'; i++) dir = path.dirname(dir);
  return path.basename(path.dirname(dir)) === 'logs' ? path.dirname(dir) : path.dirname(path.dirname(extensionLog));
}

/** Files below `root` containing any of `needles`. */
function search(root: string, needles: string[]): string[] {
  const hits: string[] = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    let text: Buffer;
    try { text = fs.readFileSync(p); } catch { continue; }
    if (needles.some(n => text.includes(n))) hits.push(p);
  }
  return hits;
}
