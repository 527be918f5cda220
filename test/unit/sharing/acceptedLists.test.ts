// The recipients lists this machine accepted (issue 21 §1): version-1 pins are offered for acceptance once,
// never accepted silently; concurrent acceptances (a worker and a CLI) keep each other's records.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { generateIdentity } from '../../../server/src/keys/identity';
import { entryId, GENESIS_PREV, serializeRecipients, signEntry } from '../../../server/src/keys/recipients-file';
import { acceptList, pinsPathFor, readAcceptedLists } from '../../../server/src/keys/accepted-lists';
import { acceptListAt, pendingList, readChain, recipientsFileIn, recipientsFor } from '../../../server/src/keys/sharing';
import { newKeyring } from '../keys/helpers';

async function listIn(folder: string, me: { public: { text: string } }, other = generateIdentity()): Promise<string> {
  const genesis = signEntry({ op: 'add', name: 'other', identity: other.public.text, prev: GENESIS_PREV }, other.signing);
  const entries = [genesis, signEntry({ op: 'add', name: 'me', identity: me.public.text, prev: entryId(genesis) }, other.signing)];
  await fs.mkdir(path.join(folder, '.noteseal'), { recursive: true });
  await fs.mkdir(path.join(folder, '.git'), { recursive: true });
  await fs.writeFile(recipientsFileIn(folder), serializeRecipients(entries));
  return recipientsFileIn(folder);
}

describe('accepted lists', () => {
  it('a list pinned by version 1 is offered once (members shown), then used; nothing is accepted on upgrade', async () => {
    const { keyring, keyfile, dir } = await newKeyring();
    const me = (await keyring.identity())!;
    const ctx = { keyfilePath: keyfile, ownIdentity: me.public };
    const list = await listIn(path.join(dir, 'team'), me);
    const chain = await readChain(list);
    await fs.writeFile(pinsPathFor(keyfile), JSON.stringify({ format: 'noteseal-recipient-pins', version: 1,
      pins: { [await fs.realpath(list)]: { genesis: chain.ids[0], head: chain.ids[1], length: 2, at: '2026-11-01T00:00:00.000Z' } } }));
    const target = path.join(dir, 'team', 'x.enc');
    await assert.rejects(recipientsFor(target, ctx), /this machine used it before \(first used 2026-11-01/);
    const pending = (await pendingList(target, ctx))!;
    assert.equal(pending.reason, 'previously-pinned');
    assert.deepEqual(pending.members.map(m => [m.name, m.addedBy]), [['other', 'other'], ['me', 'other']]);
    await acceptListAt(pending.listFile, pending.head, ctx);
    assert.equal((await recipientsFor(target, ctx)).length, 2);
    assert.deepEqual((await readAcceptedLists(keyfile)).legacy, {}, 'the version-1 pin is dropped once accepted');
    assert.equal(await pendingList(target, ctx), null);
    keyring.lock();
  });

  it('acceptances made at the same time all survive (updates under the keyfile lock)', async () => {
    const { keyring, keyfile, dir } = await newKeyring();
    const me = (await keyring.identity())!;
    const lists = await Promise.all(Array.from({ length: 6 }, (_, i) => listIn(path.join(dir, `f${i}`), me)));
    const chains = await Promise.all(lists.map(readChain));
    await Promise.all(lists.map((l, i) => acceptList(keyfile, l, chains[i]!)));
    assert.equal((await readAcceptedLists(keyfile)).accepted.length, 6, 'no acceptance dropped another');
    keyring.lock();
  });

  it('a list that changed after it was shown is not accepted', async () => {
    const { keyring, keyfile, dir } = await newKeyring();
    const me = (await keyring.identity())!;
    const list = await listIn(path.join(dir, 'team'), me);
    await assert.rejects(acceptListAt(list, 'f'.repeat(64), { keyfilePath: keyfile, ownIdentity: me.public }), /changed while you reviewed it/);
    assert.equal((await readAcceptedLists(keyfile)).accepted.length, 0);
    keyring.lock();
  });
});
