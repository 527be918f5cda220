// Symbolic links a repository placed, in the real extension host (issue 21 §3): "Encrypt Now" on
// `notes/todo.md.enc -> ../../.ssh/id_ed25519` seals nothing, the `noteseal:` view neither reads nor saves
// through a link to a NoteSeal file outside the workspace, nor through a linked folder inside the repository.
// Every target stays byte for byte as it was, and every link stays a link.
import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, freshDir, noteUri, readEncExternally, unlocked, workspaceDir, writeEncExternally } from './helpers';

const made: string[] = [];

/** A folder outside the workspace (the user's home, another repository): the links' targets. */
function outsideDir(name: string): string {
  const dir = path.join(path.dirname(workspaceDir()), `outside-${name}-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true });
  made.push(dir);
  return dir;
}

describe('symbolic links a repository placed', function () {
  this.timeout(60_000);
  before(async () => { await unlocked(); });
  afterEach(async () => { await closeAllEditors(); });
  after(() => { for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

  it('"Encrypt Now" on an .enc that links to an SSH key seals nothing and opens nothing', async () => {
    const home = outsideDir('ssh');
    const key = path.join(home, 'id_ed25519');
    fs.writeFileSync(key, '-----BEGIN OPENSSH PRIVATE KEY----- canary 0b9f\n');
    const repo = freshDir('links-encrypt-now');
    const link = path.join(repo, 'todo.md.enc');
    fs.symlinkSync(path.relative(repo, key), link);
    // sealPlaintext: what the modal's "Encrypt Now" answers.
    const editor = await vscode.commands.executeCommand<vscode.TextEditor | undefined>('noteseal.openEncrypted', vscode.Uri.file(link), { sealPlaintext: true });
    assert.equal(editor, undefined, 'nothing opened');
    assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link was not replaced by a sealed copy');
    assert.equal(fs.readFileSync(key, 'utf8'), '-----BEGIN OPENSSH PRIVATE KEY----- canary 0b9f\n');
    assert.deepEqual(fs.readdirSync(repo), ['todo.md.enc']);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(noteUri(link))), /symbolic link/);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(noteUri(link), fs.readFileSync(key))), /symbolic link/);
    assert.ok(fs.lstatSync(link).isSymbolicLink());
  });

  it('a link to a NoteSeal file outside the workspace is not decrypted, nor re-encrypted on save', async () => {
    const other = outsideDir('other-repo');
    const target = path.join(other, 'plan.md.enc');
    await writeEncExternally(target, 'the other repository\'s plan\n');
    const before = fs.readFileSync(target);
    const repo = freshDir('links-outside');
    const link = path.join(repo, 'plan.md.enc');
    fs.symlinkSync(target, link);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(noteUri(link))), /symbolic link/);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(noteUri(link), Buffer.from('saved over it\n'))), /symbolic link/);
    assert.deepEqual(fs.readFileSync(target), before);
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    // A linked folder inside a repository: `shared -> <other>` leads nowhere either.
    fs.mkdirSync(path.join(repo, '.git'));
    fs.symlinkSync(other, path.join(repo, 'shared'));
    const through = path.join(repo, 'shared', 'plan.md.enc');
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(noteUri(through))), /symbolic link/);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(noteUri(through), Buffer.from('saved over it\n'))), /symbolic link/);
    assert.deepEqual(fs.readFileSync(target), before);
    assert.equal(await readEncExternally(target), 'the other repository\'s plan\n');
  });
});
