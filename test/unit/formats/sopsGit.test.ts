// sops files merged by git (issue 27, "Git"): the merge driver merges the decrypted values of two sops
// branches and writes a valid sops file (a new MAC over the merged values: what a plain git merge breaks, an open
// sops bug since 2016), ours' recipients and data key kept, every unchanged value's ciphertext byte for byte.
// Proven on sops 3.13's own file (data key via Debian gpg: the MAC checks under sops's own key), read back by
// the independent sops-decoder (its own MAC check) and sops-age, and in real git repositories of two people
// (two HOMEs, two age identities): decrypted diffs, a clean merge, a conflict that writes nothing decrypted:
// ours' file (valid for sops and teammates) with the merge view sealed in it, resolved as VS Code's save does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { ageRecipientFor, parseAgeRecipients } from '../../../server/src/formats/age-recipients';
import { decryptSopsText, encryptSopsText, newSopsState, saveSopsView, type SopsStoreKind } from '../../../server/src/formats/sops';
import { setInPlaintext } from '../../../server/src/formats/sops-set';
import { mergeSops, type SopsSide } from '../../../server/src/cli/git-sops';
import { mergeText } from '../../../server/src/cli/git-merge';
import { runCli } from '../agent/cliRunner';
import { gitOk, makeGitRepo, type GitRepo } from '../cli/gitRepo';
import { sharedSops, sopsGpg, type SopsGpg } from './sopsTestdata';

const require_ = createRequire(__filename);
const sopsAge = require_('sops-age') as { decryptSops(input: string, o: { secretKey: string; fileType: 'yaml' | 'json' | 'env' }): Promise<unknown> };
const sopsDecoder = require_('sops-decoder') as { decrypt(tree: unknown): Promise<unknown> };
const kms = require_('@aws-sdk/client-kms') as { KMSClient: { prototype: { send: (c: unknown) => Promise<unknown> } } };
const FAKE_KMS = { arn: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000', enc: 'dGVzdA==', created_at: '2026-01-01T00:00:00Z', aws_profile: '' };

function ageKey(): { secretKey: string; publicKey: string; file: string } {
  const file = execFileSync('age-keygen', { encoding: 'utf8' });
  return { file, secretKey: /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(file)![0], publicKey: /# public key: (age1[0-9a-z]+)/.exec(file)![1]! };
}
const recipientsOf = (...keys: string[]) => parseAgeRecipients(keys.join('\n'), 'test').map(r => ({ text: r.text, recipient: ageRecipientFor(r.recipient) }));

/** A side as the driver has it: the file's text opened (MAC checked) with its data key. */
const side = (kind: SopsStoreKind, text: string, key: Uint8Array): SopsSide => decryptSopsText(kind, text, key);
/** The file with these values set, as `noteseal set` writes it. */
function edited(kind: SopsStoreKind, text: string, key: Uint8Array, sets: [string, string][]): string {
  const s = side(kind, text, key);
  let plain = s.plaintext;
  for (const [k, v] of sets) plain = setInPlaintext(kind, plain, k, v).text;
  return encryptSopsText(plain, s.state, new Date(Date.now() + 2000)).text;
}
/** The value ciphertexts of a file (comments aside: example.yaml's comments do not open at their path and are sealed anew by every save). */
const encValues = (t: string) => [...t.matchAll(/ENC\[AES256_GCM,[^\]]*type:(?!comment)[a-z]+\]/g)].map(m => m[0]);

describe('sops merge on sops 3.13\'s own file (data key from Debian gpg)', () => {
  let gpg: SopsGpg; let text: string; let key: Uint8Array;
  before(() => {
    gpg = sopsGpg();
    text = fs.readFileSync(path.join(sharedSops(), 'example.yaml'), 'utf8');
    key = gpg.dataKeyOf('example.yaml', text);
  });
  after(() => gpg.dispose());

  it('neighbouring and distant edits merge into a file whose MAC checks under sops\'s key; sops\'s ciphertexts and recipients kept', () => {
    const ours = edited('yaml', text, key, [['app2.db.user', 'ours-user'], ['myapp1', 'ours-app']]);
    const theirs = edited('yaml', text, key, [['app2.db.password', 'theirs-pass'], ['this.is.a.nested.value', 'theirs-deep']]);
    const merged = mergeSops(side('yaml', text, key), side('yaml', ours, key), side('yaml', theirs, key));
    assert.ok(merged.text !== null, JSON.stringify(merged.conflicts));
    const reopened = decryptSopsText('yaml', merged.text, key); // throws unless the stored MAC is the values' MAC
    const expected = parse(side('yaml', text, key).plaintext) as { myapp1: string; app2: { db: Record<string, string> }; this: { is: { a: { nested: { value: string } } } } };
    expected.myapp1 = 'ours-app'; expected.app2.db['user'] = 'ours-user'; expected.app2.db['password'] = 'theirs-pass'; expected.this.is.a.nested.value = 'theirs-deep';
    assert.deepEqual(parse(reopened.plaintext), expected);
    assert.deepEqual(reopened.state.metadata['pgp'], side('yaml', text, key).state.metadata['pgp'], 'the recipients are sops\'s, untouched');
    // Every value ciphertext (the MAC aside) comes from one of the sides; exactly the 4 changed ones are not sops's.
    const mac = String(reopened.state.metadata['mac']);
    const values = encValues(merged.text).filter(v => v !== mac);
    const known = new Set([...encValues(text), ...encValues(ours), ...encValues(theirs)]);
    assert.deepEqual(values.filter(v => !known.has(v)), [], 'no value was encrypted anew');
    assert.equal(values.filter(v => !encValues(text).includes(v)).length, 4);
  });

  it('both sides changing one value: a conflict naming its key path only; ours\' file with the merge view sealed in it', () => {
    const ours = edited('yaml', text, key, [['app2.db.password', 'ours-secret-x']]);
    const theirs = edited('yaml', text, key, [['app2.db.password', 'theirs-secret-y'], ['myapp1', 'fine']]);
    const merged = mergeSops(side('yaml', text, key), side('yaml', ours, key), side('yaml', theirs, key));
    assert.equal(merged.text, null);
    assert.deepEqual(merged.conflicts, ['app2.db.password']);
    assert.ok(merged.sealed);
    const opened = decryptSopsText('yaml', merged.sealed, key); // sops's key, MAC checked: ours' values
    assert.equal(opened.plaintext, side('yaml', ours, key).plaintext);
    assert.match(opened.state.pending!.text, /^<<<<<<< ours\n[\s\S]*ours-secret-x[\s\S]*\n=======\n[\s\S]*theirs-secret-y[\s\S]*\n>>>>>>> theirs\n/m);
    assert.doesNotMatch(merged.sealed, /secret-x|secret-y/);
  });
});

describe('sops merge read by sops-decoder (its MAC check) and sops-age', () => {
  const ann = ageKey(); const bob = ageKey();
  const PLAIN = JSON.stringify({ name: 'svc', port: 5432, ratio: 0.5, enabled: true, db: { user: 'app', password: 'p1', hosts: ['a', 'b'] } }, null, '\t') + '\n';

  it('JSON: a merge of two edits (a string, a list item, a number) decrypts and passes sops-decoder\'s MAC check', async () => {
    const state = newSopsState('json', recipientsOf(ann.publicKey, bob.publicKey), {});
    Object.assign(state.metadata, { kms: [FAKE_KMS] });
    const base = encryptSopsText(PLAIN, state).text;
    const key = state.dataKey;
    const ours = edited('json', base, key, [['db.password', 'p2']]);
    const theirs = edited('json', base, key, [['db.hosts[1]', 'c'], ['name', 'svc2']]);
    const merged = mergeSops(side('json', base, key), side('json', ours, key), side('json', theirs, key));
    assert.ok(merged.text !== null, JSON.stringify(merged.conflicts));
    const expected = { ...JSON.parse(PLAIN) as Record<string, unknown>, name: 'svc2', db: { user: 'app', password: 'p2', hosts: ['a', 'c'] } };
    const original = kms.KMSClient.prototype.send;
    kms.KMSClient.prototype.send = () => Promise.resolve({ Plaintext: key });
    try {
      const decoded = await sopsDecoder.decrypt(JSON.parse(merged.text)) as Record<string, unknown>;
      delete decoded['sops'];
      assert.deepEqual(decoded, expected);
      // What git does without the driver (sops's bug since 2016): the values merge as lines, the metadata
      // conflicts, and ours' metadata over the merged values fails sops-decoder's MAC check.
      const lineMerged = mergeText(ours, base, theirs);
      assert.equal(lineMerged.conflicts, 1);
      const oursResolved = lineMerged.text.replace(/<<<<<<< ours\n([\s\S]*?)=======\n[\s\S]*?>>>>>>> theirs\n/, '$1');
      await assert.rejects(sopsDecoder.decrypt(JSON.parse(oursResolved)), /Hash mismatch/);
    } finally { kms.KMSClient.prototype.send = original; }
    for (const k of [ann, bob]) assert.deepEqual(await sopsAge.decryptSops(merged.text, { secretKey: k.secretKey, fileType: 'json' }), expected);
  });

  it('recipients come from ours (or from theirs only where ours changed them): a recipient theirs alone added refuses the merge', () => {
    const state = newSopsState('yaml', recipientsOf(ann.publicKey), {});
    const base = encryptSopsText('a: 1\nb: 2\n', state).text;
    const key = state.dataKey;
    const ours = edited('yaml', base, key, [['a', 'x']]);
    const theirsSide = side('yaml', edited('yaml', base, key, [['b', 'y']]), key);
    const grown = newSopsState('yaml', recipientsOf(ann.publicKey, bob.publicKey), {}, new Uint8Array(key));
    const theirsGrown = encryptSopsText(theirsSide.plaintext, { ...theirsSide.state, metadata: { ...theirsSide.state.metadata, age: grown.metadata['age'] } }).text;
    assert.throws(() => mergeSops(side('yaml', base, key), side('yaml', ours, key), side('yaml', theirsGrown, key)), /theirs changed the master keys[\s\S]*updatekeys/);
    // Ours added the recipient (theirs = base's keys): ours' recipients are kept.
    const merged = mergeSops(side('yaml', base, key), side('yaml', theirsGrown, key), side('yaml', ours, key));
    assert.ok(merged.text !== null);
    assert.deepEqual(parse(decryptSopsText('yaml', merged.text, key).plaintext), { a: 'x', b: 'y' });
  });
});

describe('git: sops files in two people\'s repositories (two HOMEs, two age identities)', () => {
  const ann = ageKey(); const bob = ageKey();
  const FILE = 'app.sops.yaml';
  const PLAIN = '# service settings\ndb:\n    user: app\n    password: p1\n    port: 5432\nservers:\n    - alpha\n    - beta\nlog_unencrypted: info\n';
  let r: GitRepo; let bobRepo: string; let bobEnv: Record<string, string>; let dataKey: Uint8Array;
  const bobGit = (...args: string[]) => execFileSync('/usr/bin/git', args, { cwd: bobRepo, env: bobEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const bobCli = (args: string[]) => runCli(args, bobEnv, { cwd: bobRepo });
  const annSet = async (k: string, v: string) => { const s = await r.noteseal(['set', FILE, k, v]); assert.equal(s.code, 0, s.stderr); };
  const bobSet = async (k: string, v: string) => { const s = await bobCli(['set', FILE, k, v]); assert.equal(s.code, 0, s.stderr); };
  const lineOf = (t: string, start: string) => t.split('\n').find(l => l.startsWith(start));
  const annText = () => fsp.readFile(path.join(r.repo, FILE), 'utf8');

  before(async () => {
    r = await makeGitRepo('sops');
    const withPass = { NOTESEAL_PASSPHRASE_FILE: path.join(r.root, 'pass') };
    await fsp.writeFile(path.join(r.root, 'ann.txt'), ann.file, { mode: 0o600 });
    const imp = await r.noteseal(['identity', 'import', path.join(r.root, 'ann.txt')], { env: withPass });
    assert.equal(imp.code, 0, imp.stderr);
    await r.startAgent();
    // Bob: his own HOME, keyfile and age identity; no agent (his passphrase from a file).
    const home = path.join(r.root, 'bob');
    bobRepo = path.join(home, 'repo');
    await fsp.mkdir(path.join(home, 'run'), { recursive: true, mode: 0o700 });
    bobEnv = { ...r.env, HOME: home, XDG_RUNTIME_DIR: path.join(home, 'run'), NOTESEAL_KEYFILE: path.join(home, 'config', 'keyfile.json'), ...withPass };
    for (const args of [['init'], ['identity', 'import', path.join(home, 'bob.txt')]]) {
      if (args[0] === 'identity') await fsp.writeFile(path.join(home, 'bob.txt'), bob.file, { mode: 0o600 });
      const s = await runCli(args, bobEnv, { cwd: home });
      assert.equal(s.code, 0, s.stderr);
    }
    const state = newSopsState('yaml', recipientsOf(ann.publicKey, bob.publicKey), { unencrypted_suffix: '_unencrypted' });
    dataKey = new Uint8Array(state.dataKey);
    await fsp.writeFile(path.join(r.repo, FILE), encryptSopsText(PLAIN, state).text);
    await fsp.writeFile(path.join(r.repo, '.sops.yaml'), `creation_rules:\n    - path_regex: \\.sops\\.yaml$\n      age: ${ann.publicKey},${bob.publicKey}\n`);
  });
  after(() => r.dispose());

  it('setup covers sops names; the diff shows decrypted values under the no-writer banner; a plain .sops.yaml diffs as it is', async () => {
    const setup = await r.noteseal(['git', 'setup']);
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout, /added "\*\.sops\.yaml diff=noteseal merge=noteseal"/);
    const check = await r.noteseal(['git', 'check']);
    assert.match(check.stdout, /ok +\*\.sops\.yaml and the other sops names diff and merge through NoteSeal \(diff=noteseal\)/);
    await gitOk(r, 'add', '.');
    await gitOk(r, 'commit', '-qm', 'secrets');
    execFileSync('/usr/bin/git', ['clone', '-q', r.repo, bobRepo], { env: bobEnv });
    await annSet('db.user', 'ann-user');
    await fsp.appendFile(path.join(r.repo, '.sops.yaml'), '# reviewed\n');
    const diff = await gitOk(r, 'diff', '-U20');
    assert.match(diff, /^- {4}user: app$/m);
    assert.match(diff, /^\+ {4}user: ann-user$/m);
    assert.equal(diff.split('\n').filter(l => /^[-+] /.test(l)).length, 2, 'one value changed: one line each way');
    assert.match(diff, /NoteSeal: WARNING: not from a trusted writer: sops files have no writer/);
    assert.doesNotMatch(diff, /ENC\[|mac:|lastmodified/);
    assert.match(diff, /^\+# reviewed$/m, 'the plain .sops.yaml diffs as it is');
    await gitOk(r, 'commit', '-qam', 'ann: db.user');
  });

  it('bob\'s edits (the neighbouring value, a list item) merge with ann\'s: a valid sops file both can open; every other value keeps its bytes', async () => {
    const base = await fsp.readFile(path.join(bobRepo, FILE), 'utf8');
    await bobSet('db.password', 'bob-pass');
    await bobSet('servers[1]', 'gamma');
    bobGit('commit', '-qam', 'bob: password, servers');
    const theirs = await fsp.readFile(path.join(bobRepo, FILE), 'utf8');
    const ours = await annText();
    await gitOk(r, 'fetch', '-q', bobRepo, 'main');
    const merge = await r.git(['merge', '-q', '--no-edit', 'FETCH_HEAD']);
    assert.equal(merge.code, 0, merge.stderr + merge.stdout);
    const merged = await annText();
    const expected = { db: { user: 'ann-user', password: 'bob-pass', port: 5432 }, servers: ['alpha', 'gamma'], log_unencrypted: 'info' };
    for (const k of [ann, bob]) assert.deepEqual(await sopsAge.decryptSops(merged, { secretKey: k.secretKey, fileType: 'yaml' }), expected);
    const shown = await r.noteseal(['decrypt', FILE]); // NoteSeal checks the MAC
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(parse(shown.stdout), expected);
    assert.match(shown.stdout, /# service settings/);
    assert.equal(lineOf(merged, '    user:'), lineOf(ours, '    user:'), 'ann\'s value: ours\' bytes');
    assert.equal(lineOf(merged, '    password:'), lineOf(theirs, '    password:'), 'bob\'s value: theirs\' bytes');
    for (const start of ['    port:', '    - ENC']) assert.equal(lineOf(merged, start), lineOf(base, start), `${start} unchanged`);
    const ageBlock = (t: string) => /age:[\s\S]*?lastmodified/.exec(t)![0];
    assert.equal(ageBlock(merged), ageBlock(base), 'the recipients are the file\'s own');
    assert.deepEqual(await fsp.readdir(r.tmp), [], 'no temporary file left');
    // Bob pulls the merge and opens it with his own key.
    bobGit('pull', '-q', '--no-rebase', r.repo, 'main');
    const bobShown = await bobCli(['decrypt', FILE]);
    assert.equal(bobShown.code, 0, bobShown.stderr);
    assert.deepEqual(parse(bobShown.stdout), expected);
  });

  it('both changing one value: git\'s conflict, ours\' values with the merge view sealed, nothing decrypted on disk (git objects too), resolved by a save', async () => {
    await bobSet('db.password', 'canary-bob-7f3a');
    bobGit('commit', '-qam', 'bob: password again');
    await annSet('db.password', 'canary-ann-9c1e');
    await gitOk(r, 'commit', '-qam', 'ann: password');
    const ours = await fsp.readFile(path.join(r.repo, FILE));
    await gitOk(r, 'fetch', '-q', bobRepo, 'main');
    const merge = await r.git(['merge', '-q', '--no-edit', 'FETCH_HEAD']);
    assert.notEqual(merge.code, 0);
    const said = merge.stderr + merge.stdout;
    assert.match(said, /both sides changed db\.password differently: the file keeps ours' values .*sealed in it .*Open it in VS Code, resolve, save, then git add app\.sops\.yaml/);
    assert.doesNotMatch(said, /canary|bob-pass|ann-user/);
    assert.match(await gitOk(r, 'status', '--porcelain'), new RegExp(`^UU ${FILE.replace(/\./g, '\\.')}$`, 'm'));
    // What sops and teammates read: a valid sops file of ours' values (both keys open it); ours' value lines kept.
    const sealed = await annText();
    const oursValues = { db: { user: 'ann-user', password: 'canary-ann-9c1e', port: 5432 }, servers: ['alpha', 'gamma'], log_unencrypted: 'info' };
    for (const k of [ann, bob]) assert.deepEqual(await sopsAge.decryptSops(sealed, { secretKey: k.secretKey, fileType: 'yaml' }), oursValues);
    for (const start of ['    user:', '    password:', '    port:']) assert.equal(lineOf(sealed, start), lineOf(ours.toString(), start));
    assert.match(sealed, /^ {4}noteseal_merge: ENC\[AES256_GCM,/m);
    // What NoteSeal shows (the view VS Code opens, and git diff): the merge with git's markers.
    const shown = await r.noteseal(['decrypt', FILE]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^<<<<<<< ours\n {4}password: canary-ann-9c1e\n=======\n {4}password: canary-bob-7f3a\n>>>>>>> theirs\n/m);
    // No decrypted value in any file of either person (work trees, .git, HOMEs, TMPDIR) nor in any git object; planted controls are found.
    await fsp.writeFile(path.join(r.tmp, 'control'), 'x canary-ann-9c1e x');
    const hits: string[] = [];
    const search = async (dir: string): Promise<void> => {
      for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await search(p);
        else if (e.isFile() && /canary-(ann|bob)-/.test((await fsp.readFile(p)).toString('latin1'))) hits.push(path.relative(r.root, p));
      }
    };
    await search(r.root);
    assert.deepEqual(hits, ['tmp/control']);
    await fsp.rm(path.join(r.tmp, 'control'));
    const objectsHold = (repo: string, env: Record<string, string>) => /canary-(ann|bob)-/.test(execFileSync('/usr/bin/git', ['cat-file', '--batch-all-objects', '--batch'], { cwd: repo, env, maxBuffer: 1 << 28 }).toString('latin1'));
    const control = execFileSync('/usr/bin/git', ['hash-object', '-w', '--stdin'], { cwd: bobRepo, env: bobEnv, input: 'x canary-bob-7f3a x' }).toString().trim();
    assert.equal(objectsHold(bobRepo, bobEnv), true, 'the planted object is found');
    await fsp.rm(path.join(bobRepo, '.git', 'objects', control.slice(0, 2), control.slice(2)));
    assert.equal(objectsHold(r.repo, r.env), false);
    assert.equal(objectsHold(bobRepo, bobEnv), false);
    // Resolved as VS Code's save of the view does (formats/sops.ts saveSopsView): a text still holding markers
    // keeps ours' values and seals it; the resolved text is a valid sops file, bob's value with bob's bytes.
    const view = decryptSopsText('yaml', sealed, dataKey);
    const half = saveSopsView(view.state.pending!.text.replace('canary-bob-7f3a', 'canary-bob-7f3a # looked'), view.state);
    assert.equal(half.pendingMerge, true);
    assert.equal(decryptSopsText('yaml', half.text, dataKey).plaintext, view.plaintext, 'still ours\' values');
    const resolved = view.state.pending!.text.replace(/<<<<<<< ours\n[\s\S]*?=======\n([\s\S]*?)>>>>>>> theirs\n/, '$1');
    const saved = saveSopsView(resolved, view.state);
    assert.equal(saved.pendingMerge, false);
    assert.doesNotMatch(saved.text, /noteseal_merge/);
    await fsp.writeFile(path.join(r.repo, FILE), saved.text);
    assert.equal(lineOf(saved.text, '    password:'), lineOf(await fsp.readFile(path.join(bobRepo, FILE), 'utf8'), '    password:'), 'bob\'s value keeps bob\'s ciphertext');
    await gitOk(r, 'add', FILE);
    await gitOk(r, 'commit', '-qm', 'merge: bob\'s password');
    bobGit('pull', '-q', '--no-rebase', r.repo, 'main');
    const bobShown = await bobCli(['decrypt', FILE]);
    assert.equal(bobShown.code, 0, bobShown.stderr);
    assert.deepEqual(parse(bobShown.stdout), { ...oursValues, db: { ...oursValues.db, password: 'canary-bob-7f3a' } });
  });
});
