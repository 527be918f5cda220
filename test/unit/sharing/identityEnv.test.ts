// In sharing/, not cli/: it runs the real age-keygen, which the Windows lane (cli/ under Wine) does not have.
// The identity a server or CI job gives by the environment (cli/identity-keys.ts): where it is read from, what
// a malformed one says (never the secret), and the order in which it and the keyring's key are tried.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NoteSealError } from '../../../server/src/crypto/errors';
import type { Stanza } from '../../../server/src/crypto/format';
import { parsePublicIdentity } from '../../../server/src/keys/identity-strings';
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
