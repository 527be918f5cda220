// The signed recipients chain and the pins: only changes signed by a member count; anything else refuses
// the list with a message naming the change. Plus the worker's write path (EncFileSystem, Encrypt File).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decryptBuffer } from '../../../server/src/crypto/format';
import { isNoteSealError } from '../../../server/src/crypto/errors';
import { generateIdentity, type HeldIdentity } from '../../../server/src/keys/identity';
import {
  entryId, GENESIS_PREV, parseRecipientsText, serializeRecipients, signEntry, verifyChain, type ChainEntry,
} from '../../../server/src/keys/recipients-file';
import { recipientsFileIn, recipientsFor, readChain } from '../../../server/src/keys/sharing';
import { acceptList } from '../../../server/src/keys/accepted-lists';
import { STANZA_XWING } from '../../../server/src/keys/recipients';
import { EncFileSystem } from '../../../server/src/vault/encFileSystem';
import { encryptPlaintextFile } from '../../../server/src/vault/fileCommands';
import type { VaultService } from '../../../server/src/vault/vaultService';
import { newKeyring, tempDir } from '../keys/helpers';

const alice = generateIdentity();
const bob = generateIdentity();
const carol = generateIdentity();

function chainOf(...steps: [HeldIdentity, 'add' | 'remove', string, HeldIdentity][]): ChainEntry[] {
  const out: ChainEntry[] = [];
  for (const [signer, op, name, who] of steps) {
    out.push(signEntry({ op, name, identity: who.public.text, prev: out.length ? entryId(out.at(-1)!) : GENESIS_PREV }, signer.signing));
  }
  return out;
}

const refused = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => isNoteSealError(e, 'UNTRUSTED_RECIPIENTS') && re.test(e.message));

describe('recipients chain', () => {
  it('a genesis by the first member, additions and removals by members, round trip through the file text', () => {
    const entries = chainOf([alice, 'add', 'alice', alice], [alice, 'add', 'bob', bob], [bob, 'add', 'carol', carol], [carol, 'remove', 'bob', bob]);
    const chain = verifyChain(parseRecipientsText(serializeRecipients(entries)));
    assert.deepEqual(chain.members.map(m => [m.name, m.addedBy]), [['alice', 'alice'], ['carol', 'bob']]);
    assert.equal(chain.ids.length, 4);
  });

  it('an addition by hand (unsigned, self-signed by a stranger, or altered) is refused, naming what changed', () => {
    const base = chainOf([alice, 'add', 'alice', alice], [alice, 'add', 'bob', bob]);
    const selfSigned = signEntry({ op: 'add', name: 'carol', identity: carol.public.text, prev: entryId(base[1]!) }, carol.signing);
    refused(() => verifyChain([...base, selfSigned]), /Entry 3 .* adds "carol" .* not signed by a member/);
    const unsigned = { ...selfSigned, by: Buffer.from(alice.signing.publicKey).toString('hex'), sig: base[1]!.sig }; // claims alice, signature not hers
    refused(() => verifyChain([...base, unsigned]), /adds "carol".*signature is invalid/);
    // Bob's genuine addition with Carol's key swapped in.
    refused(() => verifyChain([base[0]!, { ...base[1]!, identity: carol.public.text }]), /adds "bob".*signature is invalid/);
    // Dropping or reordering entries breaks the hash chain.
    const three = chainOf([alice, 'add', 'alice', alice], [alice, 'add', 'bob', bob], [alice, 'add', 'carol', carol]);
    refused(() => verifyChain([three[0]!, three[2]!]), /adds "carol".*does not follow/);
    // A stranger's genesis that claims someone else's identity.
    refused(() => verifyChain([signEntry({ op: 'add', name: 'alice', identity: alice.public.text, prev: GENESIS_PREV }, carol.signing)]), /first entry must/);
    // A removed member can no longer sign.
    const afterRemove = chainOf([alice, 'add', 'alice', alice], [alice, 'add', 'bob', bob], [alice, 'remove', 'bob', bob]);
    const bobAddsCarol = signEntry({ op: 'add', name: 'carol', identity: carol.public.text, prev: entryId(afterRemove[2]!) }, bob.signing);
    refused(() => verifyChain([...afterRemove, bobAddsCarol]), /not signed by a member/);
  });

  it('a removal whose name is not the name of the member it removes is refused; messages count file lines, comments included', () => {
    const base = chainOf([alice, 'add', 'alice', alice], [alice, 'add', 'bob', bob], [alice, 'add', 'carol', carol]);
    // Signed by a member, but every message would show "removes carol" while it removes Bob.
    const misnamed = signEntry({ op: 'remove', name: 'carol', identity: bob.public.text, prev: entryId(base[2]!) }, alice.signing);
    refused(() => verifyChain([...base, misnamed]), /removes "carol" .*named "bob"/);
    const selfSigned = signEntry({ op: 'add', name: 'dave', identity: carol.public.text, prev: entryId(base[1]!) }, carol.signing);
    const text = serializeRecipients([...base.slice(0, 2), selfSigned]);   // 3 comment lines, the header, then entries
    refused(() => verifyChain(parseRecipientsText(text)), /^Line 7 of the recipients file adds "dave"/);
  });

  it('malformed text is refused with a typed error; property: any text or any mutation of a valid file gives members or UNTRUSTED_RECIPIENTS', () => {
    refused(() => parseRecipientsText(''), /does not start/);
    refused(() => parseRecipientsText('noteseal-recipients 1\n{"op":"add"}\n'), /line 2 is not a signed entry/);
    const typed = (f: () => unknown) => { try { f(); } catch (e) { if (!isNoteSealError(e, 'UNTRUSTED_RECIPIENTS')) throw e; } };
    fc.assert(fc.property(fc.string({ maxLength: 400 }), s => typed(() => verifyChain(parseRecipientsText(`noteseal-recipients 1\n${s}`)))), { numRuns: 300 });
    const valid = serializeRecipients(chainOf([alice, 'add', 'alice', alice], [alice, 'add', 'bob', bob]));
    fc.assert(fc.property(fc.nat(valid.length - 1), fc.string({ minLength: 1, maxLength: 1 }), (at, ch) => {
      const text = valid.slice(0, at) + ch + valid.slice(at + 1);
      typed(() => {
        const chain = verifyChain(parseRecipientsText(text));
        // What survives a one-character edit is exactly the signed list (an edit in a comment, say).
        assert.deepEqual(chain.members.map(m => m.name), ['alice', 'bob']);
      });
    }), { numRuns: 300 });
  });
});

describe('recipients of a file, pins, and the worker write path', () => {
  async function sharedFolder() {
    const { keyring, keyfile, dir } = await newKeyring();
    const me = (await keyring.identity())!;
    const repo = path.join(dir, 'repo');
    await fs.mkdir(path.join(repo, 'deep', 'er'), { recursive: true });
    const entries = chainOf([me, 'add', 'me', me], [me, 'add', 'bob', bob]);
    await fs.mkdir(path.join(repo, '.noteseal'));
    await fs.mkdir(path.join(repo, '.git'));
    await fs.writeFile(recipientsFileIn(repo), serializeRecipients(entries));
    await acceptList(keyfile, recipientsFileIn(repo), await readChain(recipientsFileIn(repo)));
    return { keyring, keyfile, me, repo, entries, ctx: { keyfilePath: keyfile, ownIdentity: me.public } };
  }

  it('the nearest list above a file applies; a rewritten history no longer extends the pin and is refused', async () => {
    const { me, repo, entries, ctx } = await sharedFolder();
    assert.equal((await recipientsFor(path.join(repo, 'deep', 'er', 'x.enc'), ctx)).length, 2);
    assert.deepEqual(await recipientsFor(path.join(await tempDir(), 'x.enc'), ctx), []);
    // A replacement chain (a new genesis by a stranger who also lists me) verifies on its own, but not against the pin.
    const forged = chainOf([carol, 'add', 'carol', carol], [carol, 'add', 'me', me]);
    await fs.writeFile(recipientsFileIn(repo), serializeRecipients(forged));
    await assert.rejects(recipientsFor(path.join(repo, 'x.enc'), ctx), /is not trusted: it is a different list from the one this machine accepted/);
    // A list that grew by a member-signed entry moves the acceptance forward.
    const grown = [...entries, signEntry({ op: 'add', name: 'carol', identity: carol.public.text, prev: entryId(entries[1]!) }, me.signing)];
    await fs.writeFile(recipientsFileIn(repo), serializeRecipients(grown));
    assert.equal((await recipientsFor(path.join(repo, 'x.enc'), ctx)).length, 3);
    // A nested list that does not include me is refused, even though it verifies.
    await fs.mkdir(path.join(repo, 'deep', '.noteseal'));
    await fs.writeFile(recipientsFileIn(path.join(repo, 'deep')), serializeRecipients(chainOf([bob, 'add', 'bob', bob])));
    await assert.rejects(recipientsFor(path.join(repo, 'deep', 'x.enc'), ctx), /not a member/);
    // A huge file is refused before it is read.
    await fs.writeFile(recipientsFileIn(path.join(repo, 'deep')), '');
    await fs.truncate(recipientsFileIn(path.join(repo, 'deep')), 5 * 1024 * 1024);
    await assert.rejects(recipientsFor(path.join(repo, 'deep', 'x.enc'), ctx), /larger than 4 MiB/);
    // A link in place of the file is refused.
    await fs.rm(recipientsFileIn(path.join(repo, 'deep')));
    await fs.symlink(recipientsFileIn(repo), recipientsFileIn(path.join(repo, 'deep')));
    await assert.rejects(recipientsFor(path.join(repo, 'deep', 'x.enc'), ctx), /not a regular file/);
    // A named pipe in its place is refused at once: opening one for reading would wait for a writer for ever.
    if (process.platform !== 'win32') {
      await fs.rm(recipientsFileIn(path.join(repo, 'deep')));
      execFileSync('mkfifo', [recipientsFileIn(path.join(repo, 'deep'))]);
      await assert.rejects(readChain(recipientsFileIn(path.join(repo, 'deep'))), e => isNoteSealError(e, 'NOT_A_REGULAR_FILE'));
    }
  });

  it('worker: a save and Encrypt File below a shared folder encrypt to every member; an unsigned addition fails the save and leaves the old file', async () => {
    const { keyring, repo, entries } = await sharedFolder();
    const files = new EncFileSystem({ unlocked: () => keyring } as unknown as VaultService);
    const note = path.join(repo, 'deep', 'plan.md');
    await files.writeFile(note, Buffer.from('v1'), { create: true, overwrite: true });
    const enc = await fs.readFile(note + '.enc');
    const { parseHeader } = await import('../../../server/src/crypto/format');
    assert.deepEqual(parseHeader(enc).stanzas.map(s => s.type), [1, STANZA_XWING, 6], 'mine (type 1), bob\'s, the write signature');
    const bobKeyring = { unwrap: async (stanzas: Parameters<typeof keyring.unwrap>[0]) => {
      const { unwrapWithReceivingKeys } = await import('../../../server/src/keys/recipients');
      return unwrapWithReceivingKeys(stanzas, [bob.receiving])!;
    } };
    assert.equal((await decryptBuffer(enc, bobKeyring.unwrap)).toString(), 'v1');
    await fs.writeFile(path.join(repo, 'env.txt'), 'TOKEN=1');
    const { encPath } = await encryptPlaintextFile(files, path.join(repo, 'env.txt'), false);
    assert.equal((await decryptBuffer(await fs.readFile(encPath), bobKeyring.unwrap)).toString(), 'TOKEN=1');
    // Carol slips her key in by hand.
    const slipped = signEntry({ op: 'add', name: 'carol', identity: carol.public.text, prev: entryId(entries[1]!) }, carol.signing);
    await fs.writeFile(recipientsFileIn(repo), serializeRecipients([...entries, slipped]));
    await assert.rejects(files.writeFile(note, Buffer.from('v2'), { create: true, overwrite: true }),
      (e: Error & { code?: string }) => e.code === 'UNTRUSTED_RECIPIENTS' && /adds "carol".*not signed by a member/.test(e.message));
    assert.deepEqual(await fs.readFile(note + '.enc'), enc, 'the old file is intact');
  });
});
