// VS Code's own git extension on a real repository: opening a changed `.enc` file from Source Control
// (`git.openChange`, what a click in the view and `Git: Open Changes` run) shows the decrypted diff of the
// two versions in the diff editor, the old side read-only and decrypted from git's bytes.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { allTabs, closeAllEditors, freshDir, unlocked, waitUntil, writeEncExternally } from './helpers';

interface GitApi { openRepository(root: vscode.Uri): Promise<{ state: { workingTreeChanges: { uri: vscode.Uri }[] }; status(): Promise<void> } | null> }

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd, encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.invalid' },
  });
}

function describeTab(t: vscode.Tab): unknown {
  const i = t.input as { original?: vscode.Uri; modified?: vscode.Uri; uri?: vscode.Uri; viewType?: string };
  return { label: t.label, kind: i?.constructor?.name, original: i?.original?.toString(), modified: i?.modified?.toString(), uri: i?.uri?.toString(), viewType: i?.viewType };
}

describe('git', () => {
  afterEach(closeAllEditors);

  it('NoteSeal: Set Up Git for Encrypted Files writes the attributes and the local config through the CLI', async () => {
    const repo = freshDir('git-setup');
    git(repo, 'init', '-q', '-b', 'main');
    const out = await vscode.commands.executeCommand<string | undefined>('noteseal.setUpGit', vscode.Uri.file(repo));
    assert.match(out ?? '', /added "\*\.enc -text diff=noteseal merge=noteseal"/);
    assert.match(fs.readFileSync(path.join(repo, '.gitattributes'), 'utf8'), /^\*\.wav\.enc binary$/m);
    assert.equal(git(repo, 'config', '--local', 'merge.noteseal.driver').trim(), 'noteseal git merge-driver %O %A %B %P');
    assert.equal(git(repo, 'config', '--local', 'diff.noteseal.cachetextconv').trim(), 'false');
    assert.match(await vscode.commands.executeCommand<string>('noteseal.setUpGit', vscode.Uri.file(repo)) ?? '', /nothing to change/);
  });

  it('opening a changed .enc from Source Control shows the decrypted diff, old side read-only from git; staged: two decrypted revisions', async () => {
    await unlocked();
    const repo = freshDir('git-scm');
    git(repo, 'init', '-q', '-b', 'main');
    const file = path.join(repo, 'plan.md.enc');
    await writeEncExternally(file, '# plan\ncommitted line\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'plan');
    await writeEncExternally(file, '# plan\nworking line\n');
    const ext = vscode.extensions.getExtension<{ getAPI(v: 1): GitApi }>('vscode.git');
    assert.ok(ext, 'the built-in git extension');
    const gitApi = (await ext.activate()).getAPI(1);
    const repository = await gitApi.openRepository(vscode.Uri.file(repo));
    assert.ok(repository, 'git opened the repository');
    await waitUntil('git to see the change', async () => {
      await repository.status();
      return repository.state.workingTreeChanges.some(c => c.uri.fsPath === file);
    }, 20_000);

    await vscode.commands.executeCommand('git.openChange', vscode.Uri.file(file));
    await waitUntil('a diff of the decrypted versions', () => allTabs().some(t => t.input instanceof vscode.TabInputTextDiff
      && t.input.original.scheme === 'noteseal-rev' && t.input.modified.scheme === 'noteseal'), 20_000)
      .catch(e => { throw new Error(`${(e as Error).message}; tabs: ${JSON.stringify(allTabs().map(describeTab))}`); });
    const diff = allTabs().find(t => t.input instanceof vscode.TabInputTextDiff)!.input as vscode.TabInputTextDiff;
    const original = await vscode.workspace.openTextDocument(diff.original);
    const modified = await vscode.workspace.openTextDocument(diff.modified);
    assert.equal(original.getText(), '# plan\ncommitted line\n', 'the committed version, decrypted');
    assert.equal(modified.getText(), '# plan\nworking line\n', 'the working copy, decrypted');
    assert.equal(vscode.Uri.parse(diff.original.query).scheme, 'git', 'the old side is git\'s bytes');
    assert.ok(!allTabs().some(t => t.input instanceof vscode.TabInputCustom), 'no placeholder tab is left');
    assert.equal(allTabs().length, 1, 'one diff tab, nothing else');
    assert.ok(!fs.readdirSync(repo).some(n => n !== '.git' && n !== 'plan.md.enc'), 'no file written beside it');

    // Staged: HEAD against the index, both git's bytes, both read-only revision views.
    await closeAllEditors();
    git(repo, 'add', 'plan.md.enc');
    await waitUntil('git to see it staged', async () => { await repository.status(); return repository.state.workingTreeChanges.length === 0; }, 20_000);
    await vscode.commands.executeCommand('git.openChange', vscode.Uri.file(file));
    await waitUntil('a diff of two decrypted revisions', () => allTabs().some(t => t.input instanceof vscode.TabInputTextDiff), 20_000);
    const staged = allTabs().find(t => t.input instanceof vscode.TabInputTextDiff)!.input as vscode.TabInputTextDiff;
    const texts = await Promise.all([staged.original, staged.modified].map(async u => [u.scheme, (await vscode.workspace.openTextDocument(u)).getText()]));
    assert.deepEqual(texts, [['noteseal-rev', '# plan\ncommitted line\n'], ['noteseal-rev', '# plan\nworking line\n']]);
  });
});
