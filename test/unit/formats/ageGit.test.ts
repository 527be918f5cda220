// age files in a real git repository with a real agent: `git setup` covers *.age, diffs are decrypted in
// memory, and a merge of two branches writes a new age file (armored as ours was) that opens again, only
// for recipients the merging person accepted. Several HOMEs: Ann and Bob, each with a key store, an agent
// and an age-keygen key imported; Debian's age reads the results.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
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

  it('setup adds *.age; diff shows the decrypted change under the no-writer banner; a merge of two branches is a new age file', async () => {
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
    const merge = await r.git(['merge', '-q', '--no-edit', 'side']);
    assert.equal(merge.code, 0, merge.stderr + merge.stdout);
    assert.match(merge.stderr + merge.stdout, /merged into a new age file for your identity \(1 recipient\)\. age files have no writer/);
    assert.equal(await r.open('config.yaml.age'), LINES.replace('bravo: 2', 'bravo: 22').replace('echo: 5', 'echo: 55'));
    assert.match(await fs.readFile(path.join(r.repo, 'config.yaml.age'), 'latin1'), /^-----BEGIN AGE ENCRYPTED FILE-----/, 'armored as ours was');
  });

  it('several people: a merge opens every side with the merger\'s identities and encrypts only to the list they accepted; otherwise nothing is written', async () => {
    const ann = await makeGitRepo('age-ann');
    const bob = await makeGitRepo('age-bob');
    try {
      const keyOf = async (who: GitRepo, name: string) => {
        const file = path.join(who.root, `${name}-keys.txt`);
        execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
        const imp = await who.noteseal(['identity', 'import', file], { env: { NOTESEAL_PASSPHRASE_FILE: path.join(who.root, 'pass') } });
        assert.equal(imp.code, 0, imp.stderr); // not --yes: the file stays, for Debian's age below
        return { file, pub: execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim() };
      };
      for (const who of [ann, bob]) {
        const id = await who.noteseal(['identity'], { env: { NOTESEAL_PASSPHRASE_FILE: path.join(who.root, 'pass') } });
        assert.equal(id.code, 0, id.stderr);
      }
      const annKey = await keyOf(ann, 'ann');
      const bobKey = await keyOf(bob, 'bob');
      const malloryKey = path.join(bob.root, 'mallory-keys.txt');
      execFileSync('age-keygen', ['-o', malloryKey], { stdio: 'ignore' });
      const malloryPub = execFileSync('age-keygen', ['-y', malloryKey], { encoding: 'utf8' }).trim();
      for (const who of [ann, bob]) await who.startAgent();
      const ageOpens = (who: string, file: string) => spawnSync('age', ['-d', '-i', who, file], { encoding: 'utf8' });
      const trust = async (who: GitRepo) => {
        const t = await who.noteseal(['recipients', 'list', '--trust', '--dir', who.repo]);
        assert.equal(t.code, 0, t.stderr);
      };
      const write = async (who: GitRepo, text: string, extra: string[] = []) => {
        const w = await who.noteseal(['encrypt', '--age', ...extra, '-', '-o', 'config.yaml.age', '--force'], { stdin: text });
        assert.equal(w.code, 0, w.stderr);
      };
      const commit = async (who: GitRepo, msg: string) => { await gitOk(who, 'add', '-A'); await gitOk(who, 'commit', '-qm', msg); };
      const fetchFrom = async (who: GitRepo, other: GitRepo, name: string) => {
        if ((await who.git(['remote', 'get-url', name])).code !== 0) await gitOk(who, 'remote', 'add', name, other.repo);
        await gitOk(who, 'fetch', '-q', name);
      };

      // Ann starts the repository: a .age-recipients for both, accepted by her, and an age file for it.
      assert.equal((await ann.noteseal(['git', 'setup'])).code, 0);
      await fs.writeFile(path.join(ann.repo, '.age-recipients'), `# the team\n${annKey.pub}\n${bobKey.pub}\n`);
      await trust(ann);
      await write(ann, LINES);
      await commit(ann, 'config');
      // Bob takes it, reviews and accepts the list, and changes one line.
      await fetchFrom(bob, ann, 'ann');
      await gitOk(bob, 'checkout', '-q', '-B', 'main', 'ann/main');
      assert.equal((await bob.noteseal(['git', 'setup'])).code, 0);
      await trust(bob);
      await write(bob, LINES.replace('bravo: 2', 'bravo: 22'));
      await commit(bob, 'bravo');
      // Ann changes another line, then merges Bob's branch: the driver runs in her HOME, with her agent.
      await write(ann, LINES.replace('echo: 5', 'echo: 55'));
      await commit(ann, 'echo');
      await fetchFrom(ann, bob, 'bob');
      const merged = await ann.git(['merge', '-q', '--no-edit', 'bob/main']);
      assert.equal(merged.code, 0, merged.stderr + merged.stdout);
      assert.match(merged.stderr, /merged into a new age file for \S*\.age-recipients \(2 recipients\)\. age files have no writer/);
      const both = LINES.replace('bravo: 2', 'bravo: 22').replace('echo: 5', 'echo: 55');
      const file = path.join(ann.repo, 'config.yaml.age');
      assert.equal(ageOpens(annKey.file, file).stdout, both, 'Debian age, as Ann');
      assert.equal(ageOpens(bobKey.file, file).stdout, both, 'Debian age, as Bob');

      // Bob's side is written for Bob alone: Ann's identities do not open it, so nothing is merged.
      await fetchFrom(bob, ann, 'ann');
      await gitOk(bob, 'merge', '-q', '--ff-only', 'ann/main');
      await write(bob, both.replace('alpha: 1', 'alpha: 11'), ['-r', bobKey.pub]);
      await commit(bob, 'alpha, for Bob only');
      await write(ann, both.replace('delta: 4', 'delta: 44'));
      await commit(ann, 'delta');
      const annBefore = await fs.readFile(file);
      await fetchFrom(ann, bob, 'bob');
      const refused = await ann.git(['merge', '-q', '--no-edit', 'bob/main']);
      assert.notEqual(refused.code, 0, 'git keeps the conflict');
      assert.match(refused.stderr + refused.stdout, /cannot merge config\.yaml\.age: theirs: No identity NoteSeal holds opens this age file: it is for X25519.*Nothing was written; ours is kept/s);
      assert.deepEqual(await fs.readFile(file), annBefore, 'ours is kept byte for byte');
      await gitOk(ann, 'merge', '--abort');

      // A branch that adds Mallory to .age-recipients (and encrypts to her too): Ann's merge never encrypts
      // to a recipient she did not accept. With the list changed on disk, the next merge refuses (exit 11).
      await gitOk(bob, 'reset', '-q', '--hard', 'HEAD~1');
      await fs.appendFile(path.join(bob.repo, '.age-recipients'), `${malloryPub}\n`);
      await write(bob, both.replace('alpha: 1', 'alpha: 11'), ['--trust']);
      assert.equal(ageOpens(malloryKey, path.join(bob.repo, 'config.yaml.age')).status, 0, 'control: Mallory reads what Bob wrote for her');
      await commit(bob, 'alpha, and Mallory');
      await fetchFrom(ann, bob, 'bob');
      const withMallory = await ann.git(['merge', '-q', '--no-edit', 'bob/main']);
      assert.notEqual(ageOpens(malloryKey, file).status, 0, `Mallory cannot read Ann's merged file (${withMallory.stderr})`);
      assert.match(ageOpens(annKey.file, file).stdout, /delta: 44/);
      console.log(`the merge that brings Mallory into .age-recipients: ${withMallory.code === 0 ? 'merged, to the list Ann accepted' : 'refused'}`);
      if (withMallory.code !== 0) await gitOk(ann, 'merge', '--abort');
      else {
        // Merged to the list Ann accepted; now the changed list is on disk: a further merge is refused.
        await write(bob, both.replace('alpha: 1', 'alpha: 11').replace('charlie: 3', 'charlie: 33'), ['--trust']);
        await commit(bob, 'charlie');
        await fetchFrom(ann, bob, 'bob');
        const next = await ann.git(['merge', '-q', '--no-edit', 'bob/main']);
        assert.notEqual(next.code, 0, `${withMallory.stderr}\n---\n${next.stderr}${next.stdout}`);
        assert.match(next.stderr + next.stdout, /cannot merge config\.yaml\.age: .*noteseal recipients list --trust --dir/s);
        const driver = await ann.noteseal(['git', 'merge-driver', 'config.yaml.age', 'config.yaml.age', 'config.yaml.age', 'config.yaml.age']);
        assert.equal(driver.code, 11, driver.stderr);
        assert.notEqual(ageOpens(malloryKey, file).status, 0, 'still nothing for Mallory');
      }
    } finally {
      await ann.dispose();
      await bob.dispose();
    }
  });
});
