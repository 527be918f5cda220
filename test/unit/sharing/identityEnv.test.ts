// In sharing/, not cli/: it runs the real age-keygen, which the Windows lane (cli/ under Wine) does not have.
// The identity a server or CI job gives by the environment (cli/identity-keys.ts): where it is read from, what
// a malformed one says (never the secret), and the order in which it and the keyring's key are tried.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NoteSealError } from '../../../server/src/crypto/errors';
import type { Stanza } from '../../../server/src/crypto/format';
import { encodeIdentitySecret, parseIdentitySecret, parsePublicIdentity } from '../../../server/src/keys/identity-strings';
import { ed25519, x25519 } from '../../../server/src/keys/curves';
import { errors, makePerson, type Person } from './people';
import { wrapToRecipient } from '../../../server/src/keys/recipients';
import { UsageError } from '../../../server/src/cli/args';
import type { CliContext } from '../../../server/src/cli/context';
import { identityGiven, orIdentity } from '../../../server/src/cli/identity-keys';

const ctx = (env: Record<string, string>, identity?: string): CliContext => ({
  args: { command: 'x', operands: [], options: new Map(identity ? [['identity', identity]] : []) },
  env, stdout: process.stdout, note: () => {},
});

async function ageKey(dir: string): Promise<{ file: string; secret: string; recipient: string }> {
  const file = path.join(dir, `k${Math.random().toString(16).slice(2)}.txt`);
  execFileSync('age-keygen', ['-o', file], { stdio: 'pipe' });
  const secret = (await fs.readFile(file, 'utf8')).split('\n').find(l => l.startsWith('AGE-SECRET-KEY-'))!;
  return { file, secret, recipient: execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim() };
}

describe('an identity from the environment', () => {
  it('is read from --identity, NOTESEAL_IDENTITY_FILE or NOTESEAL_IDENTITY, and opens what is shared to it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-idkeys-'));
    try {
      const k = await ageKey(dir);
      const dataKey = new Uint8Array(32).fill(7);
      const stanzas: Stanza[] = [wrapToRecipient(parsePublicIdentity(k.recipient), dataKey)];
      assert.equal(await identityGiven(ctx({})), null);
      for (const c of [ctx({}, k.file), ctx({ NOTESEAL_IDENTITY_FILE: k.file }), ctx({ NOTESEAL_IDENTITY: k.secret })]) {
        const id = (await identityGiven(c))!;
        assert.deepEqual(Buffer.from(await id.unwrap(stanzas)), Buffer.from(dataKey));
        id.wipe();
      }
      await assert.rejects(identityGiven(ctx({ NOTESEAL_IDENTITY: k.secret, NOTESEAL_IDENTITY_FILE: k.file })), UsageError);
      // --identity on the command line wins over the environment (no conflict to report).
      assert.ok(await identityGiven(ctx({ NOTESEAL_IDENTITY: k.secret, NOTESEAL_IDENTITY_FILE: k.file }, k.file)));
      const other = await ageKey(dir);
      const stranger = (await identityGiven(ctx({ NOTESEAL_IDENTITY: other.secret })))!;
      await assert.rejects(async () => stranger.unwrap(stanzas), (e: NoteSealError) => e.code === 'WRONG_KEY' && /NOTESEAL_IDENTITY/.test(e.message));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('a malformed NOTESEAL_IDENTITY is refused by name, never quoting the secret', async () => {
    const secret = 'AGE-SECRET-KEY-1NOTAREALKEYBUTSECRETLOOKING';
    await assert.rejects(identityGiven(ctx({ NOTESEAL_IDENTITY: secret })), (e: NoteSealError) =>
      e.code === 'INVALID_ARGUMENT' && e.message.startsWith('NOTESEAL_IDENTITY: ') && !e.message.includes('NOTAREALKEY'));
  });

  it('orIdentity tries the second key only for a file the first does not open, and reports the first error', async () => {
    const wrong = (what: string) => () => { throw new NoteSealError('WRONG_KEY', what); };
    const ok = (v: number) => () => new Uint8Array([v]);
    const id = (unwrap: () => Uint8Array) => ({ where: 'test', unwrap, ageFileKey: () => new Uint8Array(16), wipe: () => {} });
    assert.deepEqual(await orIdentity(ok(1), id(ok(2)))([]), new Uint8Array([1]));
    assert.deepEqual(await orIdentity(wrong('agent'), id(ok(2)))([]), new Uint8Array([2]));
    assert.deepEqual(await orIdentity(ok(1), id(ok(2)), 'first')([]), new Uint8Array([2]));
    assert.deepEqual(await orIdentity(ok(1), id(wrong('identity')), 'first')([]), new Uint8Array([1]));
    await assert.rejects(async () => orIdentity(wrong('agent'), id(wrong('identity')))([]), /agent/);
    // Anything but "not for this key" (the agent refused, a damaged key store) is not papered over.
    const refused = () => { throw new Error('refused'); };
    await assert.rejects(async () => orIdentity(refused, id(ok(2)))([]), /refused/);
    const alone = ok(1);
    assert.equal(orIdentity(alone, null), alone, 'no identity: the unwrap itself');
  });
});

describe('a NoteSeal identity secret (NOTESEAL-SECRET-KEY-1…) in NOTESEAL_IDENTITY', () => {
  let root: string;
  let alice: Person;
  let ci: Person;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-idsecret-'));
    [alice, ci] = [await makePerson(root, 'alice'), await makePerson(root, 'ci')];
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('`identity export --secret` prints the identity secret, which opens what is shared to that identity, with no keyfile', async () => {
    const ex = await ci.cli(['identity', 'export', '--secret']);
    assert.equal(ex.code, 0, errors(ex));
    assert.ok(ex.stdout.includes(`# public identity: ${ci.identity}\n`), ex.stdout);
    const secret = ex.stdout.split('\n').find(l => l.startsWith('NOTESEAL-SECRET-KEY-1'))!;
    assert.ok(secret, ex.stdout);
    const parsed = parseIdentitySecret(secret);
    assert.equal(parsed.identity, ci.identity, 'the secret is the very identity (both its keys)');

    // Alice shares a folder with the CI identity and writes a .env.enc there.
    const team = path.join(root, 'team');
    await fs.mkdir(team);
    assert.equal((await alice.cli(['recipients', 'add', ci.identity, '--name', 'ci'], { cwd: team })).code, 0);
    await fs.writeFile(path.join(team, '.env'), 'DEPLOY_TOKEN=shared-with-ci\n');
    const enc = await alice.cli(['encrypt', '.env'], { cwd: team });
    assert.equal(enc.code, 0, errors(enc));

    // A CI job: no keyfile, no agent, no passphrase; only the secret in the environment (or in a file).
    const job = { NOTESEAL_KEYFILE: path.join(root, 'no-keyfile.json'), NOTESEAL_AGENT_SOCK: path.join(root, 'no-agent.sock') };
    const secretFile = path.join(root, 'ci-secret.txt');
    await fs.writeFile(secretFile, ex.stdout, { mode: 0o600 });
    for (const env of [{ NOTESEAL_IDENTITY: secret }, { NOTESEAL_IDENTITY: ex.stdout }, { NOTESEAL_IDENTITY_FILE: secretFile }] as Record<string, string>[]) {
      const dec = await ci.cli(['decrypt', '.env.enc'], { cwd: team, noPass: true, env: { ...job, ...env } });
      assert.equal(dec.code, 0, errors(dec));
      assert.equal(dec.stdout, 'DEPLOY_TOKEN=shared-with-ci\n');
    }
    const exec = await ci.cli(['exec', '--allow-unverified-writer', '.env.enc', '--', 'sh', '-c', 'echo "token=$DEPLOY_TOKEN"'], { cwd: team, noPass: true, env: { ...job, NOTESEAL_IDENTITY: secret } });
    assert.equal(exec.stdout, 'token=shared-with-ci\n', errors(exec));
    const byFile = await ci.cli(['decrypt', '--identity', secretFile, '.env.enc'], { cwd: team, noPass: true, env: job });
    assert.equal(byFile.stdout, 'DEPLOY_TOKEN=shared-with-ci\n', errors(byFile));
    // It reads only: writing with it alone is refused.
    await fs.writeFile(path.join(team, 'new.env'), 'X=1\n');
    const write = await ci.cli(['encrypt', 'new.env'], { cwd: team, noPass: true, env: { ...job, NOTESEAL_IDENTITY: secret } });
    assert.notEqual(write.code, 0);
    await assert.rejects(fs.access(path.join(team, 'new.env.enc')));
    // Alice's own secret opens nothing of the CI's, and says so by the variable's name.
    const aliceSecret = (await alice.cli(['identity', 'export', '--secret'])).stdout.split('\n').find(l => l.startsWith('NOTESEAL-SECRET-KEY-1'))!;
    const own = path.join(root, 'ci-only');
    await fs.mkdir(own);
    await fs.writeFile(path.join(own, 'x.txt'), 'for the ci alone\n');
    assert.equal((await ci.cli(['encrypt', 'x.txt'], { cwd: own })).code, 0);
    const stranger = await ci.cli(['decrypt', 'x.txt.enc'], { cwd: own, noPass: true, env: { ...job, NOTESEAL_IDENTITY: aliceSecret } });
    assert.equal(stranger.code, 2, errors(stranger));
    assert.match(errors(stranger), /NOTESEAL_IDENTITY/);
  });

  it('round-trips both kinds; a damaged, lower-case or cut secret is refused by name, never quoted', async () => {
    for (const kind of ['xwing', 'x25519'] as const) {
      const receiving = new Uint8Array(32).fill(kind === 'xwing' ? 3 : 4);
      const signing = ed25519.generate();
      const line = encodeIdentitySecret(kind, receiving, signing.secretKey);
      assert.match(line, /^NOTESEAL-SECRET-KEY-1[0-9A-Z]+$/);
      const back = parseIdentitySecret(line);
      assert.equal(back.receiving.kind, kind);
      assert.deepEqual(Buffer.from(back.receiving.secretKey), Buffer.from(receiving));
      assert.deepEqual(Buffer.from(back.signingSecret), Buffer.from(signing.secretKey));
      if (kind === 'x25519') assert.deepEqual(Buffer.from(back.receiving.publicKey), Buffer.from(x25519.publicOf(receiving)));
      assert.equal(parsePublicIdentity(back.identity).signingKey?.length, 32);
    }
    const good = encodeIdentitySecret('xwing', new Uint8Array(32).fill(9), ed25519.generate().secretKey);
    const flipped = good.slice(0, 40) + (good[40] === 'Q' ? 'P' : 'Q') + good.slice(41);
    for (const bad of [flipped, good.toLowerCase(), good.slice(0, -3)]) {
      await assert.rejects(identityGiven(ctx({ NOTESEAL_IDENTITY: bad })), (e: NoteSealError) =>
        e.code === 'INVALID_ARGUMENT' && e.message.startsWith('NOTESEAL_IDENTITY: ') && !e.message.toUpperCase().includes(good.slice(25, 45)));
    }
    assert.throws(() => parseIdentitySecret('AGE-SECRET-KEY-1QQQQ'), (e: NoteSealError) => e.code === 'INVALID_ARGUMENT');
  });
});
