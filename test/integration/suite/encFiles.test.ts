// `.enc` files reached through VS Code's own file: editors and Explorer operations (issue 9, items 3 and 7):
// empty and plaintext .enc files, saves of file: text documents into .enc names, raw text editors, renames
// and copies. Each case checks the disk for the typed canary.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { allTabs, api, closeAllEditors, freshDir, noteUri, readEncExternally, sleep, unlocked, waitUntil, writeEncExternally } from './helpers';

const canary = () => `CANARY-${randomBytes(8).toString('hex')}`;
const MAGIC = Buffer.from([0x89, 0x4e, 0x53, 0x45, 0x41, 0x4c, 0x0d, 0x0a]);
const isSealed = (file: string) => fs.existsSync(file) && fs.readFileSync(file).subarray(0, 8).equals(MAGIC);

/** Every file below `dirs` that holds `secret` (UTF-8 or UTF-16LE). */
function filesHolding(secret: string, ...dirs: string[]): string[] {
  const needles = [Buffer.from(secret), Buffer.from(secret, 'utf16le')];
  return dirs.filter(d => fs.existsSync(d)).flatMap(d => fs.readdirSync(d, { recursive: true }).map(p => path.join(d, String(p))))
    .filter(p => fs.statSync(p).isFile() && needles.some(n => fs.readFileSync(p).includes(n)));
}

async function historyDir(): Promise<string> {
  // This host is a web workbench served from disk: its backup home is `<userData>/User/Backups`, beside History.
  const backups = (await api()).backupHomes().find(h => h.endsWith(path.join('User', 'Backups')));
  assert.ok(backups, 'this host keeps its user data on disk');
  return path.join(path.dirname(backups), 'History');
}

/** Types into a document the way an editor would (a workspace edit), leaving it dirty. */
async function append(uri: vscode.Uri, text: string): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(uri);
  const edit = new vscode.WorkspaceEdit();
  edit.insert(uri, doc.positionAt(doc.getText().length), text);
  assert.ok(await vscode.workspace.applyEdit(edit));
  return doc;
}

const activeUri = () => vscode.window.activeTextEditor?.document.uri.toString();

describe('.enc files outside the decrypted view', () => {
  before(async () => { await unlocked(); });
  afterEach(async () => {
    await vscode.workspace.getConfiguration('workbench.localHistory').update('exclude', undefined, vscode.ConfigurationTarget.Global);
    await closeAllEditors();
  });

  it('Local History leaves *.enc out by default (a contributed default)', () => {
    const exclude = vscode.workspace.getConfiguration('workbench.localHistory').get<Record<string, boolean>>('exclude');
    assert.equal(exclude?.['**/*.enc'], true);
  });

  it('an empty .enc (Explorer → New File) opens as a new, empty note; its first save seals it', async () => {
    const dir = freshDir('enc-empty');
    const file = path.join(dir, 'secret.md.enc');
    const edit = new vscode.WorkspaceEdit();
    edit.createFile(vscode.Uri.file(file));            // what the Explorer's New File does
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.equal(fs.statSync(file).size, 0);
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
    await waitUntil('the decrypted editor', () => activeUri() === noteUri(file).toString());
    const editor = vscode.window.activeTextEditor!;
    assert.equal(editor.document.getText(), '');
    assert.equal(editor.document.languageId, 'markdown');
    const secret = canary();
    await editor.edit(b => b.insert(new vscode.Position(0, 0), secret));
    await waitUntil('the note to be sealed', () => !editor.document.isDirty && isSealed(file));
    assert.equal(await readEncExternally(file), secret);
    assert.deepEqual(filesHolding(secret, dir), []);
  });

  it('a file: text document saved under a .enc name never writes its text: it is sealed and the editor becomes the decrypted view', async () => {
    const dir = freshDir('enc-raw-save');
    const file = path.join(dir, 'x.md.enc');
    fs.writeFileSync(file, '');
    await vscode.workspace.getConfiguration('workbench.localHistory').update('exclude', { '**/*.enc': false }, vscode.ConfigurationTarget.Global);
    const secret = canary();
    let sawPlaintext = false;                        // watch the file while VS Code writes it
    const watcher = fs.watch(dir, () => { try { if (fs.readFileSync(file).includes(secret)) sawPlaintext = true; } catch { /* mid-rename */ } });
    try {
      const doc = await append(vscode.Uri.file(file), `# Typed in a text editor\n${secret}\n`);
      await vscode.window.showTextDocument(doc, { preview: false }); // Open With → Text Editor, then typing
      assert.equal(await doc.save(), true);
      await waitUntil('the file to be sealed', () => isSealed(file));
      await waitUntil('the decrypted view', () => activeUri() === noteUri(file).toString());
    } finally { watcher.close(); }
    assert.equal(sawPlaintext, false, 'the plaintext never reached the file');
    assert.equal(await readEncExternally(file), `# Typed in a text editor\n${secret}\n`);
    assert.equal(vscode.window.activeTextEditor!.document.getText(), `# Typed in a text editor\n${secret}\n`);
    assert.equal(allTabs().filter(t => t.input instanceof vscode.TabInputText && t.input.uri.scheme === 'file').length, 0, 'no raw editor is left');
    await sleep(1500);                               // Local History copies the saved file after the save
    assert.deepEqual(filesHolding(secret, dir, await historyDir()), []);
  });

  it('a save that bypasses NoteSeal (Save without Formatting) is sealed at once and its Local History copies destroyed', async () => {
    const dir = freshDir('enc-slipped');
    const file = path.join(dir, 'y.md.enc');
    fs.writeFileSync(file, '');
    const history = await historyDir();
    await vscode.workspace.getConfiguration('workbench.localHistory').update('exclude', { '**/*.enc': false }, vscode.ConfigurationTarget.Global);
    const secret = canary();
    const doc = await append(vscode.Uri.file(file), `slipped ${secret}\n`);
    await vscode.window.showTextDocument(doc, { preview: false });
    await vscode.commands.executeCommand('workbench.action.files.saveWithoutFormatting');
    await waitUntil('the file to be sealed', () => isSealed(file));
    assert.equal(await readEncExternally(file), `slipped ${secret}\n`);
    await waitUntil('no copy of the plaintext in Local History', () => filesHolding(secret, dir, history).length === 0, 8000);
    // Positive control: the same search finds the canary where it is.
    const planted = path.join(history, `planted-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(planted, { recursive: true });
    fs.writeFileSync(path.join(planted, 'Ab12.enc'), `x${secret}y`);
    try { assert.deepEqual(filesHolding(secret, history), [path.join(planted, 'Ab12.enc')]); } finally { fs.rmSync(planted, { recursive: true }); }
  });

  it('a .enc holding plaintext is never shown decrypted: it is sealed in place first', async () => {
    const dir = freshDir('enc-plaintext');
    const file = path.join(dir, 'p.md.enc');
    const secret = canary();
    fs.writeFileSync(file, `plain ${secret}\n`);
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('noteseal.openEncrypted', vscode.Uri.file(file), { sealPlaintext: true });
    assert.ok(editor, 'the decrypted view opened');
    assert.equal(editor.document.getText(), `plain ${secret}\n`);
    assert.ok(isSealed(file));
    assert.deepEqual(filesHolding(secret, dir), []);
  });

  it('a text editor on the raw bytes of a .enc is replaced by the decrypted view', async () => {
    const dir = freshDir('enc-raw-tab');
    const file = path.join(dir, 'r.md.enc');
    fs.writeFileSync(file, '');
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), 'default'); // Open With… → Text Editor
    await waitUntil('the decrypted view', () => activeUri() === noteUri(file).toString());
    await waitUntil('the raw editor to close', () => !allTabs().some(t => t.input instanceof vscode.TabInputText && t.input.uri.scheme === 'file'));
  });

  it('renaming an open note in the Explorer moves its editor, unsaved text included; no second copy appears', async () => {
    const dir = freshDir('enc-rename');
    const oldFile = path.join(dir, 'a.md.enc');
    const newFile = path.join(dir, 'b.md.enc');
    await writeEncExternally(oldFile, 'one\n');
    const editor = await vscode.window.showTextDocument(noteUri(oldFile), { preview: false });
    await editor.edit(b => b.insert(new vscode.Position(1, 0), 'two\n'));
    const edit = new vscode.WorkspaceEdit();
    edit.renameFile(vscode.Uri.file(oldFile), vscode.Uri.file(newFile)); // what the Explorer's rename does
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitUntil('the editor to follow and the old one to close', () => activeUri() === noteUri(newFile).toString()
      && !allTabs().some(t => t.input instanceof vscode.TabInputText && t.input.uri.toString() === noteUri(oldFile).toString()));
    const moved = vscode.window.activeTextEditor!;
    await moved.edit(b => b.insert(moved.document.positionAt(moved.document.getText().length), 'three\n'));
    await waitUntil('the note to be saved', () => !moved.document.isDirty);
    await sleep(500);
    assert.deepEqual(fs.readdirSync(dir), ['b.md.enc'], 'the old name was not recreated');
    assert.equal(await readEncExternally(newFile), 'one\ntwo\nthree\n');
  });

  it('an Explorer copy of x.yaml.enc keeps its inner extension: x copy.yaml.enc', async () => {
    const dir = freshDir('enc-copy');
    await writeEncExternally(path.join(dir, 'x.yaml.enc'), 'a: 1\n');
    const edit = new vscode.WorkspaceEdit();          // the Explorer's paste names the copy "x.yaml copy.enc"
    edit.createFile(vscode.Uri.file(path.join(dir, 'x.yaml copy.enc')), { contents: fs.readFileSync(path.join(dir, 'x.yaml.enc')) });
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitUntil('the copy to be renamed', () => fs.existsSync(path.join(dir, 'x copy.yaml.enc')));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['x copy.yaml.enc', 'x.yaml.enc']);
    assert.equal(await readEncExternally(path.join(dir, 'x copy.yaml.enc')), 'a: 1\n');
  });
});
