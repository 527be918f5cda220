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
import { checkWriteSignature, writeSignatureStanza } from '../../../server/src/keys/write-signature';
import { generateIdentity } from '../../../server/src/keys/identity';
import { entryId, GENESIS_PREV, parseRecipientsText, serializeRecipients, signEntry } from '../../../server/src/keys/recipients-file';
import { unwrapWithReceivingKeys } from '../../../server/src/keys/recipients';
import { addMember, recipientsFileIn } from '../../../server/src/keys/sharing';
import type { PendingList } from '../../../server/src/protocol';
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
    await (await api()).whenWritten();
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

  it('a list this machine has not accepted refuses the save until the user accepts it, shown with every member', async () => {
    const noteseal = await unlocked();
    const dir = freshDir('offered');
    // Bob started this list (as a teammate would, or as a stranger could) and listed me: it verifies, but it is new here.
    const bob = generateIdentity();
    const k = await externalKeyring();
    let me: string;
    try { me = (await k.identity())!.public.text; } finally { k.lock(); }
    const genesis = signEntry({ op: 'add', name: 'bob', identity: bob.public.text, prev: GENESIS_PREV }, bob.signing);
    const entries = [genesis, signEntry({ op: 'add', name: 'me', identity: me, prev: entryId(genesis) }, bob.signing)];
    fs.mkdirSync(path.join(dir, '.noteseal'));
    fs.writeFileSync(recipientsFileIn(dir), serializeRecipients(entries));
    // The note is in a subfolder: the worker's search climbs to the list (bounded by the workspace folder).
    fs.mkdirSync(path.join(dir, 'sub'));
    const file = path.join(dir, 'sub', 'offered.env.enc');
    const asked: PendingList[] = [];
    const answers = [false, true];
    noteseal.setListAcceptance(async p => { asked.push(p); return answers.shift()!; });
    try {
      await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(noteUri(file), Buffer.from('TOKEN=offered'))), /is not trusted: this machine has not accepted it yet/);
      assert.equal(fs.existsSync(file), false, 'declined: nothing written');
      assert.equal(asked.length, 1);
      assert.equal(asked[0]!.reason, 'new');
      assert.deepEqual(asked[0]!.members.map(m => [m.name, m.addedBy]), [['bob', 'bob'], ['me', 'bob']], 'every member and who signed them in');
      for (const m of asked[0]!.members) assert.match(m.fingerprint, /^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
      await vscode.workspace.fs.writeFile(noteUri(file), Buffer.from('TOKEN=offered'));
      assert.equal(asked.length, 2, 'asked again, accepted');
      // Reported done after SAVE_DEADLINE_MS and finished in the background (CI run 16 read it too soon).
      await noteseal.whenWritten();
      assert.equal((await decryptBuffer(fs.readFileSync(file), async st => unwrapWithReceivingKeys(st, [bob.receiving])!)).toString(), 'TOKEN=offered');
      await vscode.workspace.fs.writeFile(noteUri(file), Buffer.from('TOKEN=again'));
      assert.equal(asked.length, 2, 'accepted once: no further question');
    } finally { noteseal.setListAcceptance(async () => false); }
  });

  /** `todo.md.enc` in a fresh folder, encrypted to you by a stranger who signs it with their own key (unlocked). */
  async function strangersNote(dir: string) {
    await unlocked();
    const k = await externalKeyring();
    let me;
    try { me = (await k.identity())!.public; } finally { k.lock(); }
    // Anyone who knows your public identity can encrypt to it; the stranger signs with their own key.
    const stranger = generateIdentity();
    const dataKey = randomBytes(32);
    const file = path.join(freshDir(dir), 'todo.md.enc');
    await encryptBufferToFile(Buffer.from('run ./install.sh\n'), file, dataKey, recipientStanzas([{ kind: me.kind, publicKey: me.publicKey }], dataKey),
      { payloadBound: writeSignatureStanza(stranger.signing, dataKey) });
    return { file, stranger, me };
  }

  it('a note a stranger encrypted to you opens with a warning naming the signer, before you edit it (issue 21 §2)', async () => {
    const { file, stranger } = await strangersNote('stranger');
    const before = (await api()).openWarnings().length;
    const doc = await vscode.workspace.openTextDocument(noteUri(file));
    assert.equal(doc.getText(), 'run ./install.sh\n');
    await waitUntil('the open warning', async () => (await api()).openWarnings().length > before);
    const shown = (await api()).openWarnings().at(-1)!;
    const signer = Buffer.from(stranger.signing.publicKey).toString('hex').slice(0, 16);
    assert.match(shown, new RegExp(`written by signing key ${signer}…, who is not you, and no recipients list governs it`));
  });

  it('a note from a writer you do not trust is saved (signed as yours) only once you agree, asked on the first save (issue 21 §2)', async () => {
    const { file, stranger, me } = await strangersNote('takeover');
    const original = fs.readFileSync(file);
    const asked: string[] = [];
    let answer = false;
    (await api()).setTakeOver(async (_uri, who, warning) => { asked.push(`${who}: ${warning}`); return answer; });
    try {
      const doc = await vscode.workspace.openTextDocument(noteUri(file));
      const editor = await vscode.window.showTextDocument(doc);
      await editor.edit(e => e.insert(new vscode.Position(0, 0), '# mine\n'));
      // Declined: the save fails and the file keeps the stranger's bytes.
      assert.equal(await doc.save().then(ok => ok, () => false), false);
      // (A save-soon save of the same edit may cancel this one before it asks: the question follows.)
      await waitUntil('the user was asked', async () => asked.length >= 1);
      assert.match(asked[0]!, new RegExp(`signing key ${Buffer.from(stranger.signing.publicKey).toString('hex').slice(0, 16)}`));
      assert.deepEqual(fs.readFileSync(file), original, 'nothing written');
      // Not left dirty for a hot-exit backup: the text is sealed into a recovery copy and the editor reverted.
      // (Not dirty and the text back: VS Code's revert may clear the dirty flag a moment before the text changes.)
      await waitUntil('the refused note reverted', async () => !doc.isDirty && doc.getText() === 'run ./install.sh\n');
      assert.equal(doc.getText(), 'run ./install.sh\n');
      await waitUntil('the recovery copy', async () => (await (await api()).recovery.pending()).some(c => c.path === file.replace(/\.enc$/, '')));
      // Accepted: saved, now signed by you; later saves are not asked again.
      answer = true;
      await (await vscode.window.showTextDocument(doc)).edit(e => e.insert(new vscode.Position(0, 0), '# mine\n!'));
      await waitUntil('the save', async () => !doc.isDirty || await doc.save().then(ok => ok, () => false));
      await (await api()).whenWritten();
      const check = await checkWriteSignature(file);
      assert.equal(check.state, 'valid');
      assert.equal(check.state === 'valid' && check.signer, Buffer.from(me.signingKey!).toString('hex'));
      const asks = asked.length;
      answer = false;
      await (await vscode.window.showTextDocument(doc)).edit(e => e.insert(new vscode.Position(0, 0), '?'));
      assert.equal(await doc.save(), true);
      await (await api()).whenWritten();
      assert.equal(asked.length, asks, 'asked once per session');
      assert.equal(await readEncExternally(file), '?# mine\n!run ./install.sh\n');
    } finally {
      (await api()).setTakeOver(async () => false);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    }
  });
});
