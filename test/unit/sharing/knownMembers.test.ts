// "Share Folder…: pick a member" offers the members of the other lists this machine trusts: never the
// caller, never someone the target folder already has, and nobody from a list that does not verify.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateIdentity } from '../../../server/src/keys/identity';
import { entryId, parseRecipientsText, serializeRecipients, signEntry } from '../../../server/src/keys/recipients-file';
import { addMember, knownMembers, recipientsFileIn } from '../../../server/src/keys/sharing';
import type { Keyring } from '../../../server/src/keys/keyring';
import { makePerson, type Person } from './people';

describe('known members (Share Folder…: pick a member)', () => {
  let root: string;
  let alice: Person;
  let keyring: Keyring;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-known-'));
    alice = await makePerson(root, 'alice');
    keyring = await alice.keyring();
  });
  after(async () => { keyring?.lock(); await fs.rm(root, { recursive: true, force: true }); });

  it('lists members of trusted lists once, without the caller, the target\'s members, or a tampered list\'s', async () => {
    const repo = path.join(root, 'repo');
    const [bob, carol, dave, mallory] = [generateIdentity(), generateIdentity(), generateIdentity(), generateIdentity()];
    for (const d of ['notes', 'ops', 'config', 'tampered']) await fs.mkdir(path.join(repo, d), { recursive: true });
    await addMember(keyring, path.join(repo, 'notes'), bob.public.text, { name: 'bob', firstName: 'alice' });
    await addMember(keyring, path.join(repo, 'notes'), carol.public.text, { name: 'carol', firstName: 'alice' });
    await addMember(keyring, path.join(repo, 'ops'), bob.public.text, { name: 'bob', firstName: 'alice' });
    await addMember(keyring, path.join(repo, 'config'), carol.public.text, { name: 'carol', firstName: 'alice' });
    await addMember(keyring, path.join(repo, 'tampered'), dave.public.text, { name: 'dave', firstName: 'alice' });
    // Mallory slips herself into one list by hand (self-signed): that list offers nobody.
    const tampered = recipientsFileIn(path.join(repo, 'tampered'));
    const entries = parseRecipientsText(await fs.readFile(tampered, 'utf8'));
    entries.push(signEntry({ op: 'add', name: 'mallory', identity: mallory.public.text, prev: entryId(entries.at(-1)!) }, mallory.signing));
    await fs.writeFile(tampered, serializeRecipients(entries));
    const lists = ['notes', 'ops', 'config', 'tampered'].map(d => recipientsFileIn(path.join(repo, d)));
    const { members, refused } = await knownMembers(keyring, lists, path.join(repo, 'config'));
    assert.deepEqual(members.map(m => m.name), ['bob'], 'carol is in config already; alice is the caller; bob once');
    assert.equal(members[0]!.identity, bob.public.text);
    assert.equal(members[0]!.list, lists[0]);
    assert.deepEqual(refused, [tampered]);
    // A folder nobody shares yet: everyone trusted is offered.
    await fs.mkdir(path.join(repo, 'fresh'));
    assert.deepEqual((await knownMembers(keyring, lists, path.join(repo, 'fresh'))).members.map(m => m.name).sort(), ['bob', 'carol']);
  });

  it('inspect names you as the writer of your own private note, and "another key" for a stranger\'s', async () => {
    const dir = path.join(root, 'private');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'mine.md'), 'mine');
    await fs.writeFile(path.join(dir, 'bobs.md'), 'bobs');
    const mine = await alice.cli(['encrypt', 'mine.md'], { cwd: dir });
    assert.equal(mine.code, 0, mine.stderr);
    const bob = await makePerson(root, 'bob');
    assert.equal((await bob.cli(['encrypt', 'bobs.md'], { cwd: dir })).code, 0);
    assert.match((await alice.cli(['inspect', 'mine.md.enc'], { cwd: dir, noPass: true })).stdout, /written by +you \(signing key [0-9a-f]{64}\)/);
    assert.match((await alice.cli(['inspect', 'bobs.md.enc'], { cwd: dir, noPass: true })).stdout, /written by +another key \(signing key/);
  });
});
