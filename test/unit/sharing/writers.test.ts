// Who wrote a file (issue 21 §2), as an attacker would try it: the owner of a real git repository shares it
// with Bob; Mallory is no member but knows both public identities (every recipients list carries them) and
// can push. Each HOME is a person of its own; the real CLI, the real merge driver through git.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encryptBufferToFile, type PayloadBoundStanza } from '../../../server/src/crypto/format';
import { parsePublicIdentity } from '../../../server/src/keys/identity-strings';
import { isLoaderVariable } from '../../../server/src/loaderVariables';
import {
  keyCommitment, signWriteBody, STANZA_WRITE_SIGNATURE, WRITE_SIGNATURE_LENGTH, writeSignatureStanza,
} from '../../../server/src/keys/write-signature';
import { gitOk, makeGitRepo, type GitRepo } from '../cli/gitRepo';
import { makePerson, type Person } from './people';

let r: GitRepo;
let bob: Person;
let mallory: Person;
let owner: string;
let pass: Record<string, string>;

before(async () => {
  r = await makeGitRepo('writers');
  [bob, mallory] = await Promise.all([makePerson(r.root, 'bob'), makePerson(r.root, 'mallory')]);
  pass = { NOTESEAL_PASSPHRASE_FILE: path.join(r.root, 'pass'), USER: 'owner' };
  const add = await r.noteseal(['recipients', 'add', bob.identity, '--name', 'bob'], { env: pass });
  assert.equal(add.code, 0, add.stderr);
  // Bob reviews and accepts the owner's list once, as every member does before saving under it (issue 21 §1).
  const trust = await bob.cli(['recipients', 'list', '--dir', r.repo, '--trust']);
  assert.equal(trust.code, 0, trust.stderr);
  owner = (await r.noteseal(['identity'])).stdout.trim().split('\n').pop()!;
  assert.equal((await r.noteseal(['git', 'setup'])).code, 0);
  await r.startAgent();
});
after(() => r?.dispose());

type Forgery = 'mallory' | 'unsigned' | 'bob-over-another-key';

/** A file encrypted to the owner and Bob by Mallory's keyring: signed by her, by nobody, or by Bob over another key. */
async function forge(file: string, text: string, how: Forgery): Promise<void> {
  const k = await mallory.keyring();
  try {
    const { dataKey, stanzas } = await k.newFileStanzas({ recipients: [owner, bob.identity].map(parsePublicIdentity) });
    let payloadBound: PayloadBoundStanza | undefined;
    if (how === 'mallory') payloadBound = writeSignatureStanza((await k.identity())!.signing, dataKey);
    if (how === 'bob-over-another-key') {
      // Bob's genuine signature, but its key commitment is for a data key the recipients were not given.
      const b = await bob.keyring();
      const signing = (await b.identity())!.signing;
      const other = randomBytes(32);
      payloadBound = {
        type: STANZA_WRITE_SIGNATURE, length: WRITE_SIGNATURE_LENGTH,
        build: (prefix, hash) => { const body = signWriteBody(signing, prefix, keyCommitment(other, prefix.subarray(15, 31)), hash); b.lock(); return body; },
      };
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    await encryptBufferToFile(Buffer.from(text), file, dataKey, stanzas, payloadBound ? { payloadBound } : {});
    dataKey.fill(0);
  } finally { k.lock(); }
}

const exists = (p: string) => fs.stat(p).then(() => true, () => false);

describe('who wrote a file', () => {
  it('exec refuses a file a non-member wrote, and one nobody signed (exit 12, nothing run); --allow-unverified-writer runs it', async () => {
    const marker = path.join(r.root, 'ran');
    for (const how of ['mallory', 'unsigned'] as const) {
      await forge(path.join(r.repo, 'config', `${how}.env.enc`), 'TOKEN=forged\n', how);
      const run = await r.noteseal(['exec', `config/${how}.env.enc`, '--', 'sh', '-c', `touch "${marker}"`]);
      assert.equal(run.code, 12, `${how}: ${run.stderr}`);
      assert.equal(await exists(marker), false, `${how}: nothing ran`);
      assert.match(run.stderr, how === 'mallory' ? /signing key [0-9a-f]{16}…, who is not a member/ : /is not signed/);
      assert.match(run.stderr, /--allow-unverified-writer/);
    }
    const anyway = await r.noteseal(['exec', '--allow-unverified-writer', 'config/mallory.env.enc', '--', 'sh', '-c', `touch "${marker}"`]);
    assert.equal(anyway.code, 0, anyway.stderr);
    assert.equal(await exists(marker), true);
    assert.match(anyway.stderr, /warning: .*not a member/);
  });

  it('exec refuses variables that change how programs load code, even from your own file, unless named with --allow-env', async () => {
    await r.seal('config/own.env.enc', 'NODE_OPTIONS=--require ./evil.js\nLD_PRELOAD=/nonexistent/evil.so\nAPP=1\n');
    const marker = path.join(r.root, 'loader-ran');
    const refused = await r.noteseal(['exec', 'config/own.env.enc', '--', 'sh', '-c', `touch "${marker}"`]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /sets NODE_OPTIONS, which changes how programs load code/);
    assert.equal(await exists(marker), false);
    const one = await r.noteseal(['exec', '--allow-env', 'NODE_OPTIONS', 'config/own.env.enc', '--', 'true']);
    assert.equal(one.code, 1, 'naming one is not naming both');
    assert.match(one.stderr, /sets LD_PRELOAD/);
    const named = await r.noteseal(['exec', '--allow-env', 'NODE_OPTIONS', '--allow-env', 'LD_PRELOAD', 'config/own.env.enc', '--', 'sh', '-c', 'echo "$APP $NODE_OPTIONS"']);
    assert.equal(named.code, 0, named.stderr);
    assert.equal(named.stdout, '1 --require ./evil.js\n');
    for (const name of ['LD_AUDIT', 'DYLD_INSERT_LIBRARIES', 'BASH_ENV', 'ENV', 'PATH', 'PYTHONPATH', 'PERL5OPT', 'RUBYOPT', 'GIT_SSH_COMMAND', 'BASH_FUNC_ls%%', 'path']) {
      assert.ok(isLoaderVariable(name), name);
    }
    for (const name of ['DATABASE_URL', 'API_TOKEN', 'PYTHONUNBUFFERED', 'NODE_ENV']) assert.ok(!isLoaderVariable(name), name);
  });

  it('a member\'s valid signature over another data key: exec refuses, verify fails, decrypt warns', async () => {
    await forge(path.join(r.repo, 'config', 'commit.env.enc'), 'TOKEN=swapped\n', 'bob-over-another-key');
    const exec = await r.noteseal(['exec', 'config/commit.env.enc', '--', 'true']);
    assert.equal(exec.code, 12, exec.stderr);
    assert.match(exec.stderr, /another data key/);
    const verify = await r.noteseal(['verify', 'config/commit.env.enc']);
    assert.equal(verify.code, 12, verify.stderr);
    assert.doesNotMatch(verify.stdout, /OK/);
    assert.match(verify.stderr, /FAILED .*key commitment does not match/);
    const decrypt = await r.noteseal(['decrypt', 'config/commit.env.enc']);
    assert.equal(decrypt.stdout, 'TOKEN=swapped\n');
    assert.match(decrypt.stderr, /warning: .*another data key/);
  });

  it('decrypt in a folder with no list warns about a foreign or missing signature, naming the signer', async () => {
    for (const how of ['mallory', 'unsigned'] as const) {
      const file = path.join(r.root, 'private', `${how}.md.enc`);
      await forge(file, 'a note\n', how);
      const d = await r.noteseal(['decrypt', file]);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stderr, how === 'mallory' ? /warning: .*written by signing key [0-9a-f]{16}…, who is not you, and no recipients list governs it/ : /warning: .*is not signed/);
    }
    const own = path.join(r.root, 'private', 'own.md.enc');
    await r.seal(own, 'mine\n');
    assert.doesNotMatch((await r.noteseal(['decrypt', own])).stderr, /warning/, 'your own file: no warning');
  });

  it('a member\'s staging file copied over prod is shown as signed for its own path; exec refuses it', async () => {
    await fs.writeFile(path.join(bob.home, 'staging.env'), 'DB=staging\n');
    const enc = await bob.cli(['encrypt', path.join(bob.home, 'staging.env'), '-o', path.join(r.repo, 'config', 'staging.env.enc')]);
    assert.equal(enc.code, 0, enc.stderr);
    const staging = await r.noteseal(['exec', 'config/staging.env.enc', '--', 'sh', '-c', 'echo "$DB"']);
    assert.equal(staging.code, 0, staging.stderr);
    assert.equal(staging.stdout, 'staging\n', 'Bob\'s file, at its own path, is his');
    assert.match((await r.noteseal(['inspect', 'config/staging.env.enc'])).stdout, /written by +bob \(signing key [0-9a-f]{64}\) on 20.*, for "config\/staging\.env\.enc"/);
    await fs.copyFile(path.join(r.repo, 'config', 'staging.env.enc'), path.join(r.repo, 'config', 'prod.env.enc'));
    const prod = await r.noteseal(['exec', 'config/prod.env.enc', '--', 'sh', '-c', 'echo "$DB"']);
    assert.equal(prod.code, 12, prod.stderr);
    assert.equal(prod.stdout, '');
    assert.match(prod.stderr, /carries bob's signature for "config\/staging\.env\.enc", not for "config\/prod\.env\.enc"/);
    assert.match((await r.noteseal(['decrypt', 'config/prod.env.enc'])).stderr, /warning: .*for "config\/staging\.env\.enc", not for "config\/prod\.env\.enc"/);
    await fs.rm(path.join(r.repo, 'config', 'prod.env.enc'));
  });

  it('the merge driver refuses a side a non-member wrote: git sees a conflict, nothing is re-signed', async () => {
    await r.seal('.env.enc', 'A=1\nB=2\nC=3\n');
    await gitOk(r, 'add', '-A');
    await gitOk(r, 'commit', '-qm', 'base');
    await gitOk(r, 'checkout', '-qb', 'evil');
    await forge(path.join(r.repo, '.env.enc'), 'A=attacker\nB=2\nC=3\n', 'mallory');
    await gitOk(r, 'commit', '-qam', 'mallory changes A');
    await gitOk(r, 'checkout', '-q', 'main');
    await r.seal('.env.enc', 'A=1\nB=2\nC=three\n');
    await gitOk(r, 'commit', '-qam', 'main changes C');
    const ours = await fs.readFile(path.join(r.repo, '.env.enc'));
    const merge = await r.git(['merge', '--no-edit', 'evil']);
    assert.notEqual(merge.code, 0, 'the merge does not succeed');
    assert.match(merge.stderr + merge.stdout, /not merged, and nothing re-signed: theirs: .*not a member/);
    assert.deepEqual(await fs.readFile(path.join(r.repo, '.env.enc')), ours, 'ours is left as it was');
    assert.equal(await r.open('.env.enc'), 'A=1\nB=2\nC=three\n');
    await gitOk(r, 'merge', '--abort');
  });

  it('updatekeys and remove --rekey skip a file no trusted writer wrote, and say so', async () => {
    const forged = path.join(r.repo, 'config', 'mallory.env.enc');
    const bytes = await fs.readFile(forged);
    const up = await r.noteseal(['updatekeys', 'config'], { env: pass });
    assert.equal(up.code, 12, up.stderr);
    assert.match(up.stderr, /SKIPPED .*mallory\.env\.enc was written by signing key/);
    assert.match(up.stderr, /updated +.*own\.env\.enc/, 'the others are updated');
    assert.deepEqual(await fs.readFile(forged), bytes, 'left as it was');
    const removed = await r.noteseal(['recipients', 'remove', 'bob', '--rekey'], { env: pass });
    assert.equal(removed.code, 12, removed.stderr);
    assert.match(removed.stderr, /SKIPPED .*mallory\.env\.enc was written by signing key.*not rekeyed, not re-signed/);
    assert.match(removed.stderr, /rekeyed +.*own\.env\.enc/);
    assert.deepEqual(await fs.readFile(forged), bytes, 'not re-signed as the owner\'s');
  });
});
