// Three people, three HOMEs and keyfiles, one real git repository, the real CLI (issue 13, item 9, CLI side):
// Alice shares a folder with Bob; Bob reads and writes; Carol slips her key into the list by hand and
// commits: Alice's next encrypt refuses and says why; Alice removes Bob with --rekey: Bob cannot read the
// new version; an age-keygen key is a member and its identity file decrypts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../agent/cliRunner';
import { loadIdentity } from '../../../server/src/keys/identity';
import { entryId, parseRecipientsText, serializeRecipients, signEntry } from '../../../server/src/keys/recipients-file';
import { errors, makePerson, type Person } from './people';

let root: string;
let repo: string;
let alice: Person;
let bob: Person;
let carol: Person;
const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], { encoding: 'utf8' });

before(async () => {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-team-'));
  repo = path.join(root, 'repo');
  await fs.mkdir(path.join(repo, 'config'), { recursive: true });
  execFileSync('git', ['init', '-q', repo]);
  [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map(n => makePerson(root, n)));
});
after(() => fs.rm(root, { recursive: true, force: true }));

describe('a team in one git repository', () => {
  it('share, read, write back, refuse a slipped-in key, remove with --rekey, an age key as a member', async () => {
    const add = await alice.cli(['recipients', 'add', bob.identity, '--name', 'bob'], { cwd: repo });
    assert.equal(add.code, 0, add.stderr);
    assert.match(errors(add), /Created .*recipients with you \("alice"\)/);
    const list = await alice.cli(['recipients', 'list', '--json'], { cwd: path.join(repo, 'config') });
    assert.deepEqual((JSON.parse(list.stdout) as { members: { name: string }[] }).members.map(m => m.name), ['alice', 'bob']);
    await fs.writeFile(path.join(repo, 'config', '.env'), 'DB_PASSWORD=team-canary-1\n');
    assert.equal((await alice.cli(['encrypt', 'config/.env'], { cwd: repo })).code, 0);
    await fs.rm(path.join(repo, 'config', '.env'));
    git('add', '-A'); git('commit', '-qm', 'share config with bob');

    // Bob accepts the list once (he sees its members first), then reads, edits and writes back.
    const review = await bob.cli(['recipients', 'list', '--trust'], { cwd: repo });
    assert.equal(review.code, 0, review.stderr);
    assert.match(review.stdout, /alice .*\n.*bob /);
    const read = await bob.cli(['decrypt', 'config/.env.enc'], { cwd: repo });
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout, 'DB_PASSWORD=team-canary-1\n');
    await fs.writeFile(path.join(root, 'bob-edit'), 'DB_PASSWORD=team-canary-2\n');
    assert.equal((await bob.cli(['encrypt', path.join(root, 'bob-edit'), '-o', 'config/.env.enc', '--force'], { cwd: repo })).code, 0);
    assert.equal((await alice.cli(['decrypt', 'config/.env.enc'], { cwd: repo })).stdout, 'DB_PASSWORD=team-canary-2\n', 'Bob\'s write is shared back to Alice');
    const inspect = await alice.cli(['inspect', 'config/.env.enc'], { cwd: repo, noPass: true });
    assert.match(inspect.stdout, /written by +bob \(signing key [0-9a-f]{64}\) on 20/, 'Alice sees Bob as the writer');
    assert.match(inspect.stdout, /xwing [0-9a-f]{16} = alice/);
    assert.doesNotMatch(inspect.stdout, /WARNING/);
    git('commit', '-qam', 'bob rotates the password');

    // Carol is no member: she appends an entry signed by herself and commits.
    const file = path.join(repo, '.noteseal', 'recipients');
    const entries = parseRecipientsText(await fs.readFile(file, 'utf8'));
    const carolKeys = await carol.keyring();
    const carolId = (await carolKeys.identity())!;
    entries.push(signEntry({ op: 'add', name: 'carol', identity: carol.identity, prev: entryId(entries.at(-1)!) }, carolId.signing));
    carolKeys.lock();
    await fs.writeFile(file, serializeRecipients(entries));
    git('commit', '-qam', 'carol adds herself');
    await fs.writeFile(path.join(repo, 'config', 'new.yaml'), 'token: team-canary-3\n');
    const refused = await alice.cli(['encrypt', 'config/new.yaml'], { cwd: repo });
    assert.equal(refused.code, 11, refused.stderr);
    assert.match(errors(refused), /adds "carol" .* not signed by a member/);
    await assert.rejects(fs.stat(path.join(repo, 'config', 'new.yaml.enc')), 'nothing was written');
    const carolRead = await carol.cli(['decrypt', 'config/.env.enc'], { cwd: repo });
    assert.equal(carolRead.code, 2, 'Carol reads nothing');
    git('revert', '--no-edit', 'HEAD');

    // Alice removes Bob with --rekey: the new version is not for Bob; the warning says old copies stay readable.
    const removed = await alice.cli(['recipients', 'remove', 'bob', '--rekey'], { cwd: repo });
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(errors(removed), /stays readable to them, including every version in git history/);
    assert.match(errors(removed), /rekeyed .*\.env\.enc/);
    assert.equal((await bob.cli(['decrypt', 'config/.env.enc'], { cwd: repo })).code, 2, 'Bob cannot read the new version');
    assert.equal((await alice.cli(['decrypt', 'config/.env.enc'], { cwd: repo })).stdout, 'DB_PASSWORD=team-canary-2\n');
    git('commit', '-qam', 'remove bob');
    const old = execFileSync('git', ['-C', repo, 'show', 'HEAD~3:config/.env.enc']);
    await fs.writeFile(path.join(root, 'old.enc'), old);
    assert.equal((await bob.cli(['decrypt', path.join(root, 'old.enc')])).stdout, 'DB_PASSWORD=team-canary-2\n', 'as the warning says: history stays readable');

    // An age-keygen key joins; updatekeys shares the existing file with it without re-encrypting; its identity file decrypts.
    const keyFile = path.join(root, 'ci.key');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'pipe' });
    const ageRecipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
    assert.equal((await alice.cli(['recipients', 'add', ageRecipient, '--name', 'ci'], { cwd: repo })).code, 0);
    const before = await fs.readFile(path.join(repo, 'config', '.env.enc'));
    const up = await alice.cli(['updatekeys', 'config'], { cwd: repo });
    assert.equal(up.code, 0, up.stderr);
    const afterUpdate = await fs.readFile(path.join(repo, 'config', '.env.enc'));
    assert.deepEqual(afterUpdate.subarray(0, 31), before.subarray(0, 31), 'same prefix (salt): the content was not re-encrypted');
    assert.deepEqual(afterUpdate.subarray(afterUpdate.length - 40), before.subarray(before.length - 40), 'same chunks');
    assert.match((await alice.cli(['inspect', 'config/.env.enc'], { cwd: repo, noPass: true })).stdout, /written by +alice .*\n/, 'updatekeys kept the signature valid');
    // A payload byte changed in the repository: the signature no longer matches, and decrypt says so.
    const forged = Buffer.from(afterUpdate);
    forged[forged.length - 1]! ^= 1;
    await fs.writeFile(path.join(repo, 'config', 'forged.enc'), forged);
    assert.match((await alice.cli(['inspect', 'config/forged.enc'], { cwd: repo, noPass: true })).stdout, /WARNING .*write signature is invalid/);
    const ci = await alice.cli(['decrypt', '--identity', keyFile, 'config/.env.enc'], { cwd: repo, noPass: true, env: { NOTESEAL_KEYFILE: path.join(root, 'none.json') } });
    assert.equal(ci.code, 0, ci.stderr);
    assert.equal(ci.stdout, 'DB_PASSWORD=team-canary-2\n');
    void loadIdentity;
  });
});
