// NoteSeal: Import age Identity… in a real extension host (issue 26): the worker seals an age-keygen
// file's keys in the key store, the plaintext file is deleted on request, and the keyfile's owner (another
// keyring on the same keyfile, as the CLI) holds the imported identity afterwards.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { ageIdentitiesPath } from '../../../server/src/keys/age-identities';
import { externalKeyring, freshDir, unlocked } from './helpers';

describe('age identities', () => {
  it('Import age Identity… seals an age-keygen file in the key store and deletes the plaintext file on request', async () => {
    await unlocked();
    const file = path.join(freshDir('age-import'), 'keys.txt');
    execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim();
    const result = await vscode.commands.executeCommand<{ added: string[] }>('noteseal.importAgeIdentity', vscode.Uri.file(file), { deleteFile: true });
    assert.deepEqual(result.added, [recipient]);
    assert.equal(fs.existsSync(file), false, 'the plaintext identity file is deleted');
    const keyring = await externalKeyring();
    try {
      assert.ok(!fs.readFileSync(ageIdentitiesPath(keyring.keystoreDir), 'utf8').includes('AGE-SECRET-KEY'));
      const held = await keyring.ageReceivingKeys();
      assert.ok(held.some(k => k.kind === 'x25519'), 'the imported X25519 identity is held');
    } finally { keyring.lock(); }
  });
});
