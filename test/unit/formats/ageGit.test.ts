// age files in a real git repository with a real agent: `git setup` covers *.age, diffs are decrypted in
// memory, and a merge of two branches writes a new age file (armored as ours was) that opens again.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gitOk, makeGitRepo, type GitRepo } from '../cli/gitRepo';

const LINES = ['alpha: 1', 'bravo: 2', 'charlie: 3', 'delta: 4', 'echo: 5', ''].join('\n');

describe('git: age files', () => {
  let r: GitRepo;
  before(async () => {
    r = await makeGitRepo('age');
    const id = await r.noteseal(['identity'], { env: { NOTESEAL_PASSPHRASE_FILE: path.join(r.root, 'pass') } });
    assert.equal(id.code, 0, id.stderr);
    await r.startAgent();
  });
  after(() => r.dispose());

  const sealAge = async (file: string, text: string) => {
    const s = await r.noteseal(['encrypt', '--age', '--armor', '-', '-o', file, '--force'], { stdin: text });
    assert.equal(s.code, 0, s.stderr);
  };

  it('setup adds *.age; diff shows the decrypted change under the no-writer banner; the merge driver refuses an age side (exit 12, ours kept)', async () => {
    const setup = await r.noteseal(['git', 'setup']);
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout + setup.stderr, /added "\*\.age -text diff=noteseal merge=noteseal"/);
    await sealAge('config.yaml.age', LINES);
    await gitOk(r, 'add', '.gitattributes', 'config.yaml.age');
    await gitOk(r, 'commit', '-qm', 'config');
    await sealAge('config.yaml.age', LINES.replace('bravo: 2', 'bravo: 22'));
    const diff = await gitOk(r, 'diff');
    assert.match(diff, /^-bravo: 2$/m);
    assert.match(diff, /^\+bravo: 22$/m);
    // age files carry no signature: the diff says they are not from a trusted writer.
    assert.match(diff, /NoteSeal: WARNING: not from a trusted writer: age files have no writer/);
    await gitOk(r, 'commit', '-qam', 'bravo');
    await gitOk(r, 'checkout', '-qb', 'side', 'HEAD~1');
    await sealAge('config.yaml.age', LINES.replace('echo: 5', 'echo: 55'));
    await gitOk(r, 'commit', '-qam', 'echo');
    await gitOk(r, 'checkout', '-q', 'main');
    const ours = await fs.readFile(path.join(r.repo, 'config.yaml.age'));
    const merge = await r.git(['merge', '-q', '--no-edit', 'side']);
    assert.notEqual(merge.code, 0, 'an age side is never merged (its writer cannot be known)');
    assert.match(merge.stderr + merge.stdout, /not merged, and nothing re-signed: ours: age files have no writer/);
    assert.deepEqual(await fs.readFile(path.join(r.repo, 'config.yaml.age')), ours, 'ours is kept as it was');
    const driver = await r.noteseal(['git', 'merge-driver', 'config.yaml.age', 'config.yaml.age', 'config.yaml.age', 'config.yaml.age']);
    assert.equal(driver.code, 12, driver.stderr);
  });
});
