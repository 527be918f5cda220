// Sharing in a real extension host (issue 13): Copy My Public Identity, and the worker's save path
// encrypting a note below a shared folder to every member of its signed list (and refusing a list with
// an unsigned addition, leaving the editor's old file intact).
import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { decryptBuffer, parseHeader } from '../../../server/src/crypto/format';
import { generateIdentity } from '../../../server/src/keys/identity';
import { entryId, parseRecipientsText, serializeRecipients, signEntry } from '../../../server/src/keys/recipients-file';
import { unwrapWithReceivingKeys } from '../../../server/src/keys/recipients';
import { addMember, recipientsFileIn } from '../../../server/src/keys/sharing';
import { externalKeyring, freshDir, noteUri, readEncExternally, unlocked } from './helpers';

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
});
