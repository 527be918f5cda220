// The CLI side of identities: `noteseal identity`, files shared to another keyfile (passphrase and agent),
// and interop with the real age-keygen (`decrypt --identity`, like `age -i`).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encryptFile } from '../../../server/src/crypto/format';
import { parsePublicIdentity } from '../../../server/src/keys/identity-strings';
import { ROOT } from '../agent/cliRunner';
import { errors, makePerson, type Person } from './people';

let root: string;
let alice: Person;
let bob: Person;
const SECRET = 'API_TOKEN=shared-canary-51c0\n';

before(async () => {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-share-cli-'));
  [alice, bob] = await Promise.all([makePerson(root, 'alice'), makePerson(root, 'bob')]);
  await fs.writeFile(path.join(root, 'plain.env'), SECRET);
});
after(async () => {
  await bob.cli(['agent', 'stop']);
  await fs.rm(root, { recursive: true, force: true });
});

/** Alice's keyring encrypts plain.env to `recipients` (the recipients file does this in the CLI). */
async function aliceEncryptsTo(out: string, recipients: string[]): Promise<void> {
  const k = await alice.keyring();
  const { dataKey, stanzas } = await k.newFileStanzas({ recipients: recipients.map(parsePublicIdentity) });
  await encryptFile(path.join(root, 'plain.env'), out, dataKey, stanzas);
  dataKey.fill(0);
  k.lock();
}

describe('noteseal identity', () => {
  it('prints the public identity as the last line of stdout, the same each time; --json for tools', async () => {
    const r = await alice.cli(['identity'], { noPass: true });
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim().split('\n').pop(), alice.identity);
    assert.match(alice.identity, /^noteseal1/);
    const j = JSON.parse((await alice.cli(['identity', '--json'], { noPass: true })).stdout) as { identity: string; kind: string };
    assert.equal(j.identity, alice.identity);
    assert.equal(j.kind, 'xwing', 'the kind recipients list --json and inspect --json name');
    assert.notEqual(alice.identity, bob.identity);
  });
});

describe('files shared to another keyfile', () => {
  it('Bob decrypts a file Alice shared to him, with his passphrase and through his agent; Alice still opens it', async () => {
    const file = path.join(root, 'shared.env.enc');
    await aliceEncryptsTo(file, [bob.identity]);
    const withPass = await bob.cli(['decrypt', file]);
    assert.equal(withPass.code, 0, withPass.stderr);
    assert.equal(withPass.stdout, SECRET);
    assert.equal((await alice.cli(['decrypt', file])).stdout, SECRET);
    const start = await bob.cli(['agent', 'start']);
    assert.equal(start.code, 0, start.stderr);
    const viaAgent = await bob.cli(['decrypt', file], { noPass: true });
    assert.equal(viaAgent.code, 0, viaAgent.stderr);
    assert.equal(viaAgent.stdout, SECRET);
    // No list governs it and nobody signed it: anyone who knows Bob's identity could have made it (issue 21 §2).
    assert.match(errors(viaAgent), /^noteseal: warning: .*shared\.env\.enc was encrypted to you by someone else and is not signed/);
  });

  it('an age-keygen key is a recipient, and its identity file decrypts with --identity (no keyfile, no passphrase)', async () => {
    const keyFile = path.join(root, 'ci-key.txt');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'pipe' });
    const recipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
    assert.match(recipient, /^age1/);
    const file = path.join(root, 'ci.env.enc');
    await aliceEncryptsTo(file, [bob.identity, recipient]);
    const ci = await alice.cli(['decrypt', '--identity', keyFile, file], { noPass: true, env: { NOTESEAL_KEYFILE: path.join(root, 'none.json'), NOTESEAL_AGENT_SOCK: path.join(root, 'none.sock') } });
    assert.equal(ci.code, 0, ci.stderr);
    assert.equal(ci.stdout, SECRET);
    const otherKey = path.join(root, 'other-key.txt');
    execFileSync('age-keygen', ['-o', otherKey], { stdio: 'pipe' });
    const wrong = await alice.cli(['decrypt', '--identity', otherKey, file], { noPass: true });
    assert.equal(wrong.code, 2, 'WRONG_KEY');
    assert.match(wrong.stderr, /No key in the identity file/);
    assert.equal(wrong.stdout, '');
    await fs.writeFile(path.join(root, 'junk-key.txt'), 'not a key\n');
    const junk = await alice.cli(['decrypt', '--identity', path.join(root, 'junk-key.txt'), file], { noPass: true });
    assert.equal(junk.code, 1);
    assert.match(junk.stderr, /line 1 is not an AGE-SECRET-KEY-1/);
  });
});
