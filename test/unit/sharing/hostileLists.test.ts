// Issue 21 §1: which list governs a file, when the repository is hostile. Alice, Bob and Mallory each have
// a HOME of their own; the repository is a real git repository; everything runs through the built CLI.
// Mallory has push access but is no member, and knows Bob's public identity (every list carries it).
// Each attack below worked before this change (checked against ce22e82) and is refused now.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GENESIS_PREV, entryId, serializeRecipients, signEntry, type ChainEntry } from '../../../server/src/keys/recipients-file';
import { errors, makePerson, type Person } from './people';

let root: string;
let repo: string;
let alice: Person;
let bob: Person;
let mallory: Person;
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-C', cwd, '-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], { encoding: 'utf8' });
const exists = (p: string) => fs.stat(p).then(() => true, () => false);

/** Mallory's own list: she starts it under a real member's name ("alice") and adds Bob's public identity. */
async function mallorysList(): Promise<string> {
  const keys = await mallory.keyring();
  try {
    const me = (await keys.identity())!;
    const entries: ChainEntry[] = [signEntry({ op: 'add', name: 'alice', identity: mallory.identity, prev: GENESIS_PREV }, me.signing)];
    entries.push(signEntry({ op: 'add', name: 'bob', identity: bob.identity, prev: entryId(entries[0]!) }, me.signing));
    return serializeRecipients(entries);
  } finally { keys.lock(); }
}

async function plant(folder: string, text: string): Promise<void> {
  await fs.mkdir(path.join(folder, '.noteseal'), { recursive: true });
  await fs.writeFile(path.join(folder, '.noteseal', 'recipients'), text);
}

/** Bob encrypts `text` to `file`; returns the run. */
async function bobWrites(file: string, text: string) {
  const plain = path.join(root, `plain-${path.basename(file)}`);
  await fs.writeFile(plain, text);
  return bob.cli(['encrypt', plain, '-o', file, '--force']);
}

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-hostile-'));
  repo = path.join(root, 'repo');
  await fs.mkdir(path.join(repo, 'sub'), { recursive: true });
  git(root, 'init', '-q', repo);
  [alice, bob, mallory] = await Promise.all(['alice', 'bob', 'mallory'].map(n => makePerson(root, n)));
  const add = await alice.cli(['recipients', 'add', bob.identity, '--name', 'bob'], { cwd: repo });
  assert.equal(add.code, 0, add.stderr);
  git(repo, 'add', '-A'); git(repo, 'commit', '-qm', 'share with bob');
});
after(() => fs.rm(root, { recursive: true, force: true }));

describe('a hostile repository cannot choose who a save is encrypted to', () => {
  it('a list met for the first time is refused until accepted (exit 11, nothing written); list --trust shows it, then accepts', async () => {
    const first = await bobWrites(path.join(repo, 'first.env.enc'), 'A=1\n');
    assert.equal(first.code, 11, first.stderr);
    assert.match(errors(first), /not trusted: this machine has not accepted it yet.*recipients list --dir .* --trust/s);
    assert.equal(await exists(path.join(repo, 'first.env.enc')), false, 'nothing was written');
    const shown = await bob.cli(['recipients', 'list'], { cwd: repo });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /not yet accepted/);
    const trust = await bob.cli(['recipients', 'list', '--trust'], { cwd: repo });
    assert.equal(trust.code, 0, trust.stderr);
    assert.match(trust.stdout, /alice +[0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} .*added by alice/, 'each member with a short key fingerprint and who signed them in');
    assert.match(trust.stdout, /bob +[0-9a-f]{4} .*added by alice/);
    assert.match(errors(trust), /Accepted .* \(2 members\)/);
    const again = await bobWrites(path.join(repo, 'first.env.enc'), 'A=1\n');
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await alice.cli(['decrypt', 'first.env.enc'], { cwd: repo })).stdout, 'A=1\n');
  });

  it('a nested list a stranger commits (under a member\'s name, with Bob in it) is refused, and updatekeys does not hand files below it over', async () => {
    // An existing shared file below sub/, written while only the top list applied.
    assert.equal((await bobWrites(path.join(repo, 'sub', 'old.env.enc'), 'OLD=1\n')).code, 0);
    const before = await fs.readFile(path.join(repo, 'sub', 'old.env.enc'));
    await plant(path.join(repo, 'sub'), await mallorysList());
    git(repo, 'add', '-A'); git(repo, 'commit', '-qm', 'mallory: a list for sub');

    const save = await bobWrites(path.join(repo, 'sub', 'new.env.enc'), 'NEW=secret\n');
    assert.equal(save.code, 11, save.stderr);
    assert.match(errors(save), /sub\/\.noteseal\/recipients is not trusted/);
    assert.equal(await exists(path.join(repo, 'sub', 'new.env.enc')), false, 'nothing was written');

    const up = await bob.cli(['updatekeys', '.'], { cwd: repo });
    assert.equal(up.code, 11, up.stderr);
    assert.match(errors(up), /FAILED .*sub\/\.noteseal\/recipients is not trusted/);
    assert.deepEqual(await fs.readFile(path.join(repo, 'sub', 'old.env.enc')), before, 'the existing file was not rewrapped');
    assert.equal((await mallory.cli(['decrypt', 'sub/old.env.enc'], { cwd: repo })).code, 2, 'Mallory reads nothing');
    git(repo, 'rm', '-rq', 'sub/.noteseal'); git(repo, 'commit', '-qm', 'revert mallory');
  });

  it('a list above the repository, in a folder others can write (mode 1777), governs no clone below it', async () => {
    const shared = path.join(root, 'shared');
    await fs.mkdir(shared);
    await fs.chmod(shared, 0o1777);
    await plant(shared, await mallorysList());
    const clone = path.join(shared, 'clone');
    git(root, 'clone', '-q', repo, clone);
    const save = await bobWrites(path.join(clone, 'sub', 'x.env.enc'), 'X=1\n');
    assert.equal(save.code, 0, save.stderr);
    assert.equal((await mallory.cli(['decrypt', path.join(clone, 'sub', 'x.env.enc')])).code, 2, 'not encrypted to the list above the repository');
    assert.equal((await alice.cli(['decrypt', path.join(clone, 'sub', 'x.env.enc')])).stdout, 'X=1\n', 'the clone\'s own list governs it');
    // Outside any repository (and outside the home folder) the list above is not looked at either.
    await fs.mkdir(path.join(shared, 'loose'));
    const loose = await bobWrites(path.join(shared, 'loose', 'y.env.enc'), 'Y=1\n');
    assert.equal(loose.code, 0, loose.stderr);
    assert.equal((await mallory.cli(['decrypt', path.join(shared, 'loose', 'y.env.enc')])).code, 2);
  });

  it('a list in a folder other users can write, or do not own, is refused even inside the repository', async () => {
    const open = path.join(repo, 'open');
    await fs.mkdir(open);
    const made = await bob.cli(['recipients', 'add', alice.identity, '--name', 'alice'], { cwd: open });
    assert.equal(made.code, 0, made.stderr);
    await fs.chmod(open, 0o777);
    const save = await bobWrites(path.join(open, 'z.env.enc'), 'Z=1\n');
    assert.equal(save.code, 11, save.stderr);
    assert.match(errors(save), /writable by other users \(mode 777\)/);
    await fs.chmod(open, 0o755);
    if (process.getuid?.() === 0) {
      await fs.chown(path.join(open, '.noteseal'), 65534, 65534);
      const notMine = await bobWrites(path.join(open, 'z.env.enc'), 'Z=1\n');
      assert.equal(notMine.code, 11, notMine.stderr);
      assert.match(errors(notMine), /is not owned by you/);
    }
    await fs.rm(open, { recursive: true });
  });

  it('acceptance follows the list, not its path: a clone needs no question; a rewritten list at a new path, or another list at a known path, does', async () => {
    const clone = path.join(root, 'clone2');
    git(root, 'clone', '-q', repo, clone);
    const cloneSave = await bobWrites(path.join(clone, 'c.env.enc'), 'C=1\n');
    assert.equal(cloneSave.code, 0, cloneSave.stderr);

    const forged = path.join(root, 'clone3');
    git(root, 'clone', '-q', repo, forged);
    await plant(forged, await mallorysList());   // history rewritten: a new first entry named "alice"
    const forgedSave = await bobWrites(path.join(forged, 'f.env.enc'), 'F=1\n');
    assert.equal(forgedSave.code, 11, forgedSave.stderr);
    assert.equal(await exists(path.join(forged, 'f.env.enc')), false);

    const listFile = path.join(clone, '.noteseal', 'recipients');
    const original = await fs.readFile(listFile);
    await plant(clone, await mallorysList());
    const replaced = await bobWrites(path.join(clone, 'c.env.enc'), 'C=2\n');
    assert.equal(replaced.code, 11, replaced.stderr);
    assert.match(errors(replaced), /a different list from the one this machine accepted/);
    const list = await bob.cli(['recipients', 'list'], { cwd: clone });
    assert.equal(list.code, 11, 'recipients list exits 11 on a replaced or rewritten list, as the exit table says');
    assert.match(list.stdout, /DOES NOT extend/);
    await fs.writeFile(listFile, original);
  });

  it('an accepted list that disappeared refuses the save, naming the folder; forget ends sharing on purpose', async () => {
    const clone = path.join(root, 'clone4');
    git(root, 'clone', '-q', repo, clone);
    assert.equal((await bobWrites(path.join(clone, 'd.env.enc'), 'D=1\n')).code, 0);
    await fs.rm(path.join(clone, '.noteseal'), { recursive: true });
    const gone = await bobWrites(path.join(clone, 'sub', 'd.env.enc'), 'D=2\n');
    assert.equal(gone.code, 11, gone.stderr);
    assert.match(errors(gone), new RegExp(`accepted for ${clone.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is gone`));
    assert.equal(await exists(path.join(clone, 'sub', 'd.env.enc')), false);
    const forget = await bob.cli(['recipients', 'forget', '--dir', clone]);
    assert.equal(forget.code, 0, forget.stderr);
    const priv = await bobWrites(path.join(clone, 'sub', 'd.env.enc'), 'D=2\n');
    assert.equal(priv.code, 0, priv.stderr);
    assert.equal((await alice.cli(['decrypt', path.join(clone, 'sub', 'd.env.enc')])).code, 2, 'private now, as asked');
  });

  it('a pins file that does not parse is an error, never "nothing accepted"', async () => {
    const pins = path.join(path.dirname(mallory.keyfile), 'keyfile.pins.json');
    await fs.writeFile(pins, '{"format":"noteseal-recipient-pins","version":2,"accepted":[{"genesis":');
    const r = await mallory.cli(['encrypt', '-', '-o', path.join(mallory.home, 'p.enc')], { env: {} });
    assert.notEqual(r.code, 0);
    assert.match(errors(r), /keyfile\.pins\.json .* does not parse/);
    await fs.rm(pins);
  });
});

describe('names and outputs (issue 21 §5)', () => {
  it('recipients add <own identity> --name NAME names you in a new list, and refuses (changing nothing) in an existing one', async () => {
    const mine = path.join(root, 'mine');
    await fs.mkdir(mine);
    git(root, 'init', '-q', mine);
    const created = await alice.cli(['recipients', 'add', alice.identity, '--name', 'Alice Liddell'], { cwd: mine });
    assert.equal(created.code, 0, created.stderr);
    assert.match(errors(created), /Created .* with you \("Alice Liddell"\)/);
    const list = JSON.parse((await alice.cli(['recipients', 'list', '--json'], { cwd: mine })).stdout) as { members: { name: string }[] };
    assert.deepEqual(list.members.map(m => m.name), ['Alice Liddell']);
    const again = await alice.cli(['recipients', 'add', alice.identity, '--name', 'Al'], { cwd: mine });
    assert.equal(again.code, 1, again.stderr);
    assert.match(errors(again), /already a member .* as "Alice Liddell": nothing changed/);
    assert.doesNotMatch(errors(again), /Added/);
    // --my-name chooses the first member's name when the list is made by adding someone else.
    const other = path.join(root, 'other');
    await fs.mkdir(other);
    git(root, 'init', '-q', other);
    const named = await alice.cli(['recipients', 'add', bob.identity, '--name', 'bob', '--my-name', 'A. L.'], { cwd: other });
    assert.equal(named.code, 0, named.stderr);
    assert.match(errors(named), /with you \("A\. L\."\) as the first member\./);
    await fs.mkdir(path.join(root, 'third'));
    git(root, 'init', '-q', path.join(root, 'third'));
    const defaulted = await alice.cli(['recipients', 'add', bob.identity, '--name', 'bob'], { cwd: path.join(root, 'third') });
    assert.match(errors(defaulted), /with you \("alice"\) as the first member \(from \$USER or your login name; choose it with --my-name NAME/);
  });

  it('identity --json names the kind as the other outputs do; inspect --json names stanza types 4, 5 and 6', async () => {
    const id = JSON.parse((await bob.cli(['identity', '--json'], { noPass: true })).stdout) as { kind: string };
    assert.equal(id.kind, 'xwing');
    const inspect = JSON.parse((await alice.cli(['inspect', '--json', 'first.env.enc'], { cwd: repo, noPass: true })).stdout) as { stanzas: { type: number; kind: string }[] };
    assert.deepEqual(inspect.stanzas.map(s => [s.type, s.kind]), [[1, 'master-wrapped'], [5, 'xwing'], [6, 'write-signature']], 'Bob\'s own stanza, Alice\'s, the signature');
    // An age key (type 4) as a member.
    const keyFile = path.join(root, 'ci.key');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'pipe' });
    const ageRecipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
    const shared = path.join(root, 'age-shared');
    await fs.mkdir(shared);
    git(root, 'init', '-q', shared);
    assert.equal((await alice.cli(['recipients', 'add', ageRecipient, '--name', 'ci'], { cwd: shared })).code, 0);
    await fs.writeFile(path.join(shared, 'a.env'), 'A=1\n');
    assert.equal((await alice.cli(['encrypt', 'a.env'], { cwd: shared })).code, 0);
    const withAge = JSON.parse((await alice.cli(['inspect', '--json', 'a.env.enc'], { cwd: shared, noPass: true })).stdout) as { stanzas: { type: number; kind: string }[] };
    assert.deepEqual(withAge.stanzas.map(s => [s.type, s.kind]), [[1, 'master-wrapped'], [4, 'x25519'], [6, 'write-signature']]);
  });
});
