import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decryptBuffer, encryptFile, readHeaderFromFile } from '../../../server/src/crypto/format';
import type { Keyring } from '../../../server/src/keys/keyring';
import type { RotationProgress } from '../../../server/src/keys/rotation';
import { parseStanza } from '../../../server/src/keys/stanzas';
import { newKeyring, openKeyring, PASSPHRASE, rejectsWith, tempDir } from './helpers';

async function encryptTo(keyring: Keyring, file: string, text: string, detached = false): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const { dataKey, stanzas } = await keyring.newFileStanzas({ detached });
  async function* one() { yield Buffer.from(text); }
  await encryptFile(one(), file, dataKey, stanzas, { chunkSize: 1024 });
  dataKey.fill(0);
}

async function contentBytes(file: string): Promise<Buffer> {
  const { headerLength } = await readHeaderFromFile(file);
  return (await fs.readFile(file)).subarray(headerLength);
}

async function masterIdOf(file: string): Promise<string | undefined> {
  const s = parseStanza((await readHeaderFromFile(file)).stanzas[0]);
  return s.kind === 'master-wrapped' ? s.masterKeyId : undefined;
}

const readText = async (k: Keyring, f: string) => (await decryptBuffer(await fs.readFile(f), k.unwrap)).toString();

describe('master key rotation', () => {
  it('rewraps every .enc below the folder without touching content; old-key files stay readable throughout', async () => {
    const { keyring, keyfile, dir } = await newKeyring();
    const notes = path.join(dir, 'notes');
    const files = {
      a: path.join(notes, 'a.md.enc'),
      b: path.join(notes, 'deep', 'er', 'b.env.enc'),
      c: path.join(notes, 'c.yaml.enc'),
      rec: path.join(notes, 'rec.webm.enc'),
      outside: path.join(dir, 'elsewhere', 'x.enc'),
    };
    await encryptTo(keyring, files.a, 'alpha '.repeat(500));
    await encryptTo(keyring, files.b, 'TOKEN=beta\n');
    await encryptTo(keyring, files.c, 'gamma: 1\n');
    await encryptTo(keyring, files.rec, 'audio', true);
    await encryptTo(keyring, files.outside, 'outside the folder');
    await fs.writeFile(path.join(notes, 'plain.txt'), 'not encrypted, not touched');
    const oldId = keyring.masterKeyId!;
    const before = new Map<string, Buffer>();
    for (const f of Object.values(files)) before.set(f, await contentBytes(f));

    const events: RotationProgress[] = [];
    const midRotationReads: string[] = [];
    const result = await keyring.rotate(notes, p => {
      events.push(p);
      midRotationReads.push(p.file); // checked below, after the synchronous callback
    });
    const newId = keyring.masterKeyId!;
    assert.notEqual(newId, oldId);
    assert.equal(result.masterKeyId, newId);
    assert.match(result.recoveryKey, /^([0-9A-Z]{4}-){13}[0-9A-Z]{4}$/);

    // Progress: one event per .enc file in the folder, in order, with totals.
    assert.deepEqual(events.map(e => e.done), [1, 2, 3, 4]);
    assert.ok(events.every(e => e.total === 4));
    assert.deepEqual(events.map(e => path.basename(e.file)).sort(), ['a.md.enc', 'b.env.enc', 'c.yaml.enc', 'rec.webm.enc']);
    assert.equal(events.find(e => e.file === files.rec)?.outcome, 'detached');
    assert.deepEqual(result.files, { rewrapped: 3, alreadyCurrent: 0, detached: 1, failed: [] });
    assert.equal(result.detachedKeysRewrapped, 1);

    // Content (every chunk) is byte-for-byte unchanged; only the stanza moved to the new key.
    for (const f of Object.values(files)) assert.deepEqual(await contentBytes(f), before.get(f), f);
    for (const f of [files.a, files.b, files.c]) assert.equal(await masterIdOf(f), newId);
    assert.equal(await masterIdOf(files.outside), oldId, 'files outside the folder are not touched');

    // The keyfile keeps the old key as retired; a fresh unlock reads old- and new-wrapped files alike.
    const json = JSON.parse(await fs.readFile(keyfile, 'utf8'));
    assert.equal(json.masterKeyId, newId);
    assert.deepEqual(json.retired.map((r: { masterKeyId: string }) => r.masterKeyId), [oldId]);
    keyring.lock();
    const fresh = openKeyring(keyfile);
    await fresh.unlock(PASSPHRASE);
    assert.equal(await readText(fresh, files.b), 'TOKEN=beta\n');
    assert.equal(await readText(fresh, files.outside), 'outside the folder');
    assert.equal(await readText(fresh, files.rec), 'audio');
    assert.equal(await readText(fresh, files.a), 'alpha '.repeat(500));

    // A second rotation is idempotent for the folder and keeps both retired keys.
    const second = await fresh.rotate(notes);
    assert.equal(second.files.rewrapped, 3);
    assert.equal(await readText(fresh, files.outside), 'outside the folder');
    const again = await fresh.rotate(path.join(notes, 'deep'));
    assert.equal(again.files.rewrapped, 1);
    assert.equal(JSON.parse(await fs.readFile(keyfile, 'utf8')).retired.length, 3);
  });

  it('files not yet rewrapped stay readable mid-rotation', async () => {
    const { keyring, dir, keyfile } = await newKeyring();
    const names = ['1.enc', '2.enc', '3.enc'].map(n => path.join(dir, 'f', n));
    for (const n of names) await encryptTo(keyring, n, `content of ${path.basename(n)}`);
    const oldId = keyring.masterKeyId;
    let checked = false;
    await keyring.rotate(path.join(dir, 'f'), async p => {
      if (p.done !== 1) return;
      // Right after the first file: the others still carry the old (now retired) master key and open.
      assert.equal(await masterIdOf(names[2]), oldId);
      assert.equal(await readText(keyring, names[2]), 'content of 3.enc');
      const fresh = openKeyring(keyfile);
      await fresh.unlock(PASSPHRASE);
      assert.equal(await readText(fresh, names[1]), 'content of 2.enc');
      assert.equal(await readText(fresh, names[0]), 'content of 1.enc');
      checked = true;
    });
    assert.ok(checked);
    // And a keyring unlocked from the keyfile half way (simulated: rotate with no folder) reads old files.
    const { keyring: k2, keyfile: f2, dir: d2 } = await newKeyring();
    const oldFile = path.join(d2, 'old.enc');
    await encryptTo(k2, oldFile, 'still here');
    await k2.rotate(); // keyfile now has a new master key; old.enc not rewrapped yet
    const fresh = openKeyring(f2);
    await fresh.unlock(PASSPHRASE);
    assert.equal(await readText(fresh, oldFile), 'still here');
  });

  it('reports files it cannot rewrap and carries on', async () => {
    const { keyring, dir } = await newKeyring();
    const stranger = await newKeyring();
    const folder = path.join(dir, 'mixed');
    await encryptTo(keyring, path.join(folder, 'mine.enc'), 'mine');
    await encryptTo(stranger.keyring, path.join(folder, 'theirs.enc'), 'theirs');
    await fs.writeFile(path.join(folder, 'fake.enc'), 'not noteseal at all');
    const result = await keyring.rotate(folder);
    assert.equal(result.files.rewrapped, 1);
    assert.deepEqual(result.files.failed.map(f => [path.basename(f.file), f.errorCode]).sort(),
      [['fake.enc', 'NOT_NOTESEAL'], ['theirs.enc', 'WRONG_KEY']]);
  });

  it('the old recovery key no longer opens the keyfile; the new one does', async () => {
    const { keyring, keyfile, recoveryKey } = await newKeyring();
    const { recoveryKey: fresh } = await keyring.rotate(await tempDir());
    keyring.lock();
    await rejectsWith(openKeyring(keyfile).unlockWithRecoveryKey(recoveryKey, 'x'), 'WRONG_KEY');
    await openKeyring(keyfile).unlockWithRecoveryKey(fresh, 'new pass');
  });

  it('a keyring held by the worker follows a rotation done by another process', async () => {
    const { keyring: worker, keyfile, dir } = await newKeyring();
    const cli = openKeyring(keyfile);
    await cli.unlock(PASSPHRASE);
    await cli.rotate();
    const file = path.join(dir, 'new.enc');
    await encryptTo(cli, file, 'written after rotation');
    assert.equal(await readText(worker, file), 'written after rotation');
  });
});
