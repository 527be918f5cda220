// What "Who Can Read This File?" and the lock badge's tooltip are told about a file's writer: a note this
// keyfile signed is marked as yours, shared or not; one another member signed is not.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeSharing } from '../../../server/src/keys/sharing';
import { errors, makePerson, type Person } from './people';

describe('describeSharing: the writer', () => {
  let root: string;
  let alice: Person;
  let bob: Person;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-describe-'));
    [alice, bob] = await Promise.all([makePerson(root, 'alice'), makePerson(root, 'bob')]);
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('a private note is yours; in a shared folder the writer is named, and marked yours only when it is', async () => {
    const note = path.join(root, 'private.md');
    await fs.writeFile(note, 'mine\n');
    assert.equal((await alice.cli(['encrypt', note])).code, 0);
    await fs.rm(note);
    const keys = await alice.keyring();
    try {
      const mine = await describeSharing(keys, `${note}.enc`);
      assert.equal(mine.listFile, null);
      assert.deepEqual({ state: mine.writer.state, name: mine.writer.name, byYou: mine.writer.byYou }, { state: 'valid', name: undefined, byYou: true });

      const team = path.join(root, 'team');
      await fs.mkdir(team);
      const add = await alice.cli(['recipients', 'add', bob.identity, '--name', 'bob'], { cwd: team });
      assert.equal(add.code, 0, errors(add));
      await fs.writeFile(path.join(team, 'a.env'), 'A=1\n');
      assert.equal((await alice.cli(['encrypt', 'a.env'], { cwd: team })).code, 0);
      assert.equal((await bob.cli(['recipients', 'list', '--trust'], { cwd: team })).code, 0, 'Bob accepts the list Alice made');
      await fs.writeFile(path.join(team, 'b.env'), 'B=1\n');
      assert.equal((await bob.cli(['encrypt', 'b.env'], { cwd: team })).code, 0);
      const byAlice = await describeSharing(keys, path.join(team, 'a.env.enc'));
      assert.deepEqual([byAlice.writer.name, byAlice.writer.byYou], ['alice', true]);
      const byBob = await describeSharing(keys, path.join(team, 'b.env.enc'));
      assert.deepEqual([byBob.writer.name, byBob.writer.byYou], ['bob', undefined]);
    } finally { keys.lock(); }
  });
});
