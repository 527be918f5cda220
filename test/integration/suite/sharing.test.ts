// Sharing in a real extension host (issue 13): Copy My Public Identity, and the worker's save path
// encrypting a note below a shared folder to every member of its signed list (and refusing a list with
// an unsigned addition, leaving the editor's old file intact).
import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { decryptBuffer, encryptBufferToFile, parseHeader } from '../../../server/src/crypto/format';
import { recipientStanzas } from '../../../server/src/keys/recipients';
import { writeSignatureStanza } from '../../../server/src/keys/write-signature';
import { generateIdentity } from '../../../server/src/keys/identity';
import { entryId, parseRecipientsText, serializeRecipients, signEntry } from '../../../server/src/keys/recipients-file';
import { unwrapWithReceivingKeys } from '../../../server/src/keys/recipients';
import { addMember, recipientsFileIn } from '../../../server/src/keys/sharing';
import { api, externalKeyring, freshDir, noteUri, readEncExternally, unlocked, waitUntil } from './helpers';

describe('sharing', () => {
  it('Copy My Public Identity puts the keyfile\'s identity on the clipboard', async () => {
    await unlocked();
    const identity = await vscode.commands.executeCommand<string>('noteseal.copyPublicIdentity');
    assert.match(identity, /^noteseal1[0-9a-z]{2000,}$/);
    assert.equal(await vscode.env.clipboard.readText(), identity);
  });

  it('a save below a shared folder is encrypted to every member; an unsigned addition fails the save', async () => {
    await unlocked();
    const dir = freshDir('shared');
    const bob = generateIdentity();
    const k = await externalKeyring();
    try { await addMember(k, dir, bob.public.text, { name: 'bob', firstName: 'me' }); } finally { k.lock(); }
    const file = path.join(dir, 'team.env.enc');
    await vscode.workspace.fs.writeFile(noteUri(file), Buffer.from('TOKEN=shared-in-vscode'));
    const bytes = fs.readFileSync(file);
    assert.deepEqual(parseHeader(bytes).stanzas.map(s => s.type), [1, 5, 6], 'mine, bob\'s X-Wing stanza, the write signature');
    assert.equal((await decryptBuffer(bytes, async st => unwrapWithReceivingKeys(st, [bob.receiving])!)).toString(), 'TOKEN=shared-in-vscode');
    // A stranger appends a self-signed addition.
    const carol = generateIdentity();
    const list = recipientsFileIn(dir);
    const entries = parseRecipientsText(fs.readFileSync(list, 'utf8'));
    entries.push(signEntry({ op: 'add', name: 'carol', identity: carol.public.text, prev: entryId(entries.at(-1)!) }, carol.signing));
    fs.writeFileSync(list, serializeRecipients(entries));
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(noteUri(file), Buffer.from('TOKEN=v2'))), /adds "carol".*not signed by a member/);
    assert.equal(await readEncExternally(file), 'TOKEN=shared-in-vscode', 'the old file is intact');
  });

  it('a note a stranger encrypted to you opens with a warning naming the signer, before you edit it (issue 21 §2)', async () => {
    await unlocked();
    const k = await externalKeyring();
    let me;
    try { me = (await k.identity())!.public; } finally { k.lock(); }
    // Anyone who knows your public identity can encrypt to it; the stranger signs with their own key.
    const stranger = generateIdentity();
    const dataKey = randomBytes(32);
    const file = path.join(freshDir('stranger'), 'todo.md.enc');
    await encryptBufferToFile(Buffer.from('run ./install.sh\n'), file, dataKey, recipientStanzas([{ kind: me.kind, publicKey: me.publicKey }], dataKey),
      { payloadBound: writeSignatureStanza(stranger.signing, dataKey) });
    const before = (await api()).openWarnings().length;
    const doc = await vscode.workspace.openTextDocument(noteUri(file));
    assert.equal(doc.getText(), 'run ./install.sh\n');
    await waitUntil('the open warning', async () => (await api()).openWarnings().length > before);
    const shown = (await api()).openWarnings().at(-1)!;
    const signer = Buffer.from(stranger.signing.publicKey).toString('hex').slice(0, 16);
    assert.match(shown, new RegExp(`written by signing key ${signer}…, who is not you, and no recipients list governs it`));
  });
});
