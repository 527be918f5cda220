// VS Code's commands on files other tools write (issue 27): "Open with NoteSeal" on any file (which kind it is,
// by its bytes, and whether NoteSeal's view can show it), "Who Can Read This File?" on a sops or dotenvx file
// (the keys its metadata names; nothing decrypted), "Set Value…" (the CLI's `set`) and "Encrypt with sops"
// (the CLI's `encrypt --sops`). The formats' own functions do the work, as for the CLI: one implementation.
import fs from 'node:fs/promises';
import { isNoteSealError } from '../crypto/errors';
import { readRegularFile } from '../crypto/safe-open';
import { writeAll, replaceFileAtomic } from '../crypto/atomic';
import { AGE_SUFFIX, ENC_SUFFIX, hasDotenvName } from '../encPaths';
import { formatOfFile, isSopsFile } from '../formats';
import { dotenvxPublicKey, dotenvxTextOf, secretFor, secretsFromEnv, setDotenvxValue } from '../formats/dotenvx';
import { parseDotenvx } from '../formats/dotenvx-parse';
import { sopsDocument, sopsStoreOf } from '../formats/sops';
import { sopsEncryptedText } from '../formats/sops-config';
import { masterKeysOf } from '../formats/sops-keys';
import { setSopsValue } from '../formats/sops-set';
import { wipe } from '../keys/bytes';
import type { Keyring } from '../keys/keyring';
import type { DotenvxFileDescription, OpenWithKind, SopsFileDescription } from '../protocol';
import { sopsKeysAtHand } from './sopsNotes';
import { WorkerError } from './workerErrors';

const MAX_BYTES = 16 * 1024 * 1024;

/** What "Open with NoteSeal" finds `file` to be, and why NoteSeal's view cannot show it when it cannot. */
export async function openWithKind(file: string): Promise<OpenWithKind> {
  const st = await fs.lstat(file).catch(() => null);
  if (!st) return { kind: 'none', reason: 'it does not exist' };
  if (!st.isFile()) return { kind: 'none', reason: st.isSymbolicLink() ? 'it is a symbolic link, and NoteSeal never follows one' : 'it is not a regular file' };
  // sops before the others: its metadata (read whole) holds armored age files, which age's sniff would take for one.
  if (await isSopsFile(file)) return { kind: 'sops' };
  const format = (await formatOfFile(file).catch(() => undefined))?.name;
  if (format === 'enc') {
    return file.endsWith(ENC_SUFFIX) ? { kind: 'enc' } : { kind: 'none', reason: `it is a NoteSeal file, but NoteSeal opens those only under a name ending in ${ENC_SUFFIX}: rename it` };
  }
  if (format === 'age') {
    return file.endsWith(AGE_SUFFIX) ? { kind: 'age' } : { kind: 'none', reason: `it is an age file, but NoteSeal opens those only under a name ending in ${AGE_SUFFIX}: rename it` };
  }
  if (format === 'dotenvx') {
    return hasDotenvName(file) ? { kind: 'dotenvx' } : { kind: 'none', reason: 'it is a dotenvx file, but NoteSeal opens those only under a name .env or .env.*: rename it' };
  }
  // An `.enc` that holds plaintext: the editor's guard asks whether to seal it (nothing is written unasked).
  if (file.endsWith(ENC_SUFFIX)) return { kind: 'enc' };
  return { kind: 'none', reason: 'it is not an encrypted file NoteSeal knows (NoteSeal .enc, age, sops or dotenvx)' };
}

async function readBounded(file: string): Promise<Buffer> {
  return readRegularFile(file, { maxBytes: MAX_BYTES }).catch(e => {
    if (!isNoteSealError(e, 'LIMIT_EXCEEDED')) throw e;
    throw new WorkerError('LIMIT_EXCEEDED', `${file} is too large for the editor. Use the noteseal CLI for it.`);
  });
}

/** Who can read a sops file: the master keys its metadata names (no key needed, no value read). */
export async function describeSopsNote(file: string): Promise<SopsFileDescription> {
  const text = (await readBounded(file)).toString('utf8');
  const store = sopsStoreOf(file, text);
  const metadata = sopsDocument(store, text).metadata;
  if (!metadata) throw new WorkerError('INVALID_ARGUMENT', `${file} is not a sops file: it has no sops metadata`);
  return { file, store, masterKeys: masterKeysOf(metadata) };
}

/** The private key of `publicHex`: from the worker's environment (as dotenvx reads it), else the key store's. */
async function dotenvxKeyAt(keyring: Keyring, publicHex: string): Promise<'environment' | 'key store' | 'none'> {
  const env = secretsFromEnv(process.env);
  try { if (secretFor(env, publicHex)) return 'environment'; } finally { wipe(...env); }
  const held = await keyring.dotenvxSecretKey(publicHex);
  if (!held) return 'none';
  wipe(held);
  return 'key store';
}

/** Who can read a dotenvx file: its public key, and whether this machine holds the private key. */
export async function describeDotenvxNote(keyring: Keyring, file: string): Promise<DotenvxFileDescription> {
  const pub = dotenvxPublicKey(parseDotenvx(dotenvxTextOf(await readBounded(file))));
  return { file, publicKeyName: pub.name, publicKey: pub.hex, privateKey: await dotenvxKeyAt(keyring, pub.hex) };
}

/** Replaces `file` with `bytes` (atomic, its own mode), refused when it changed since `before` was read. */
async function replaceIfUnchanged(file: string, before: Buffer, bytes: Buffer, what: string): Promise<void> {
  await replaceFileAtomic(file, async handle => { await writeAll(handle, [bytes]); }, undefined, async () => {
    if (!(await readBounded(file)).equals(before)) throw new WorkerError('INVALID_ARGUMENT', `${file} changed while it was being ${what}: nothing written, try again`);
  });
}

/**
 * `noteseal set` in VS Code: one value of a sops file (a key path as the CLI takes it) or a dotenvx file (a
 * name) set, re-encrypted exactly as a save does. The value is never in a message or a log.
 */
export async function setValueInFile(keyring: Keyring, file: string, keyPath: string, value: string): Promise<{ format: 'sops' | 'dotenvx'; added: boolean }> {
  const before = await readBounded(file);
  if (await isSopsFile(file)) {
    const next = await setSopsValue(before, sopsKeysAtHand(keyring), file, keyPath, value).catch(e => {
      if (isNoteSealError(e) && !e.message.includes(file)) e.message = `${file}: ${e.message}`;
      throw e;
    });
    await replaceIfUnchanged(file, before, next.bytes, 'set');
    return { format: 'sops', added: next.added };
  }
  if ((await formatOfFile(file).catch(() => undefined))?.name === 'dotenvx') {
    const next = setDotenvxValue(dotenvxTextOf(before), keyPath, value);
    await replaceIfUnchanged(file, before, Buffer.from(next.text, 'utf8'), 'set');
    return { format: 'dotenvx', added: next.added };
  }
  throw new WorkerError('INVALID_ARGUMENT', `${file} is neither a sops file nor a dotenvx file: Set Value changes a value of one of those`);
}

/**
 * `noteseal encrypt --sops FILE` in VS Code: the plaintext file replaced in place (atomic rename, its own mode)
 * by the sops file the accepted `.sops.yaml` rule makes. UNTRUSTED_RECIPIENTS when that file is not accepted.
 */
export async function encryptFileAsSops(keyfilePath: string, file: string): Promise<{ store: string; configFile: string; rule: number; ageRecipients: number }> {
  const before = await readBounded(file);
  try {
    const made = await sopsEncryptedText(keyfilePath, file, before.toString('utf8'));
    await replaceIfUnchanged(file, before, Buffer.from(made.sealed, 'utf8'), 'encrypted');
    return { store: made.kind, configFile: made.config.file, rule: made.rule.index + 1, ageRecipients: made.rule.age.length };
  } finally { before.fill(0); }
}
