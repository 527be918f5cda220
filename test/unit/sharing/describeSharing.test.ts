// What "Who Can Read This File?" and the lock badge's tooltip are told about a file's writer: a note this
// keyfile signed is marked as yours, shared or not; one another member signed is not.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isSharedFile } from '../../../server/src/keys/readers';
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

  it('readers are the file\'s own stanzas: a member added after the last save is "not yet", until the file is saved again', async () => {
    const carol = await makePerson(root, 'carol');
    const team = path.join(root, 'later');
    await fs.mkdir(team);
    assert.equal((await alice.cli(['recipients', 'add', bob.identity, '--name', 'bob'], { cwd: team })).code, 0);
    await fs.writeFile(path.join(team, 'plan.md'), 'plan\n');
    assert.equal((await alice.cli(['encrypt', 'plan.md'], { cwd: team })).code, 0);
    const file = path.join(team, 'plan.md.enc');
    assert.equal((await alice.cli(['recipients', 'add', carol.identity, '--name', 'carol'], { cwd: team })).code, 0);
    const keys = await alice.keyring();
    try {
      const before = await describeSharing(keys, file);
      assert.deepEqual(before.members.map(m => m.name), ['alice', 'bob', 'carol'], 'the list has carol');
      assert.deepEqual(before.access, { you: true, yourName: 'alice', readers: ['alice', 'bob'], notYet: ['carol'], unlisted: 0 });
      assert.notEqual((await carol.cli(['decrypt', file])).code, 0, 'carol really cannot read it yet');
      assert.equal(await isSharedFile(file), true);

      assert.equal((await alice.cli(['updatekeys', file], { cwd: team })).code, 0);
      const after = await describeSharing(keys, file);
      assert.deepEqual(after.access, { you: true, yourName: 'alice', readers: ['alice', 'bob', 'carol'], notYet: [], unlisted: 0 });
      assert.equal((await carol.cli(['decrypt', file])).stdout, 'plan\n');

      const bobs = await describeSharing(await bob.keyring(), file);
      assert.equal(bobs.access.you, true);
      assert.equal(bobs.access.yourName, 'bob');
    } finally { keys.lock(); }
  });

  it('a private file is not called shared, even below a list made after it', async () => {
    const dir = path.join(root, 'private-then-list');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'old.md'), 'old\n');
    assert.equal((await alice.cli(['encrypt', 'old.md'], { cwd: dir })).code, 0);
    assert.equal((await alice.cli(['recipients', 'add', bob.identity, '--name', 'bob'], { cwd: dir })).code, 0);
    assert.equal(await isSharedFile(path.join(dir, 'old.md.enc')), false);
    const keys = await alice.keyring();
    try {
      assert.deepEqual((await describeSharing(keys, path.join(dir, 'old.md.enc'))).access, { you: true, yourName: 'alice', readers: ['alice'], notYet: ['bob'], unlisted: 0 });
    } finally { keys.lock(); }
  });
});
