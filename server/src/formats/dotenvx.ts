// dotenvx `.env` files (dotenvx.com/encryption) behind the format interface: a dotenv file whose values are
// `encrypted:` + base64(ECIES to the file's DOTENV_PUBLIC_KEY…, dotenvx-ecies.ts). Opening shows the plain
// dotenv view: the same lines, each value decrypted with the matching private key (imported into the key
// store, or DOTENV_PRIVATE_KEY… from the environment); without one the file opens write-only, values shown
// as they are (`encrypted:…`). Saving keeps every line whose value did not change byte for byte and
// encrypts changed and new values to the public key, so a git diff shows the changed lines only.
import { NoteSealError } from '../crypto/errors';
import { looksLikeDotenvxText } from '../encPaths';
import { publicHexOfSecret } from '../keys/dotenvx-keys';
import { eciesDecrypt, eciesDecryptor, eciesEncrypt, isSecp256k1PublicKey } from './dotenvx-ecies';
import {
  DotenvxParseError, ENCRYPTED_PREFIX, entriesOf, parseDotenvx, PUBLIC_KEY_NAME, quoteValue, serializeDotenvx,
  type DotenvxEntry, type DotenvxItem,
} from './dotenvx-parse';
import type { FileFormat } from './types';

export { DotenvxParseError } from './dotenvx-parse';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const SECRET_HEX = /^[0-9a-fA-F]{64}$/;

/** The file's public key: exactly one DOTENV_PUBLIC_KEY… entry holding a compressed secp256k1 point. */
export function dotenvxPublicKey(items: readonly DotenvxItem[]): { name: string; hex: string; key: Uint8Array } {
  const found = entriesOf(items).filter(e => PUBLIC_KEY_NAME.test(e.name));
  if (found.length === 0) throw new NoteSealError('INVALID_ARGUMENT', 'not a dotenvx file: it has no DOTENV_PUBLIC_KEY… line');
  if (found.length > 1) throw new DotenvxParseError(found[1]!.line, `a second public key (${found[1]!.name}): a dotenvx file has one`);
  const e = found[0]!;
  const hex = e.value.toLowerCase();
  const key = /^[0-9a-f]{66}$/.test(hex) ? Buffer.from(hex, 'hex') : null;
  if (!key || !isSecp256k1PublicKey(key)) throw new DotenvxParseError(e.line, `${e.name} is not a compressed secp256k1 public key (66 hex digits)`);
  return { name: e.name, hex, key };
}

export function isEncryptedValue(e: DotenvxEntry): boolean {
  return e.value.startsWith(ENCRYPTED_PREFIX);
}

function sealedBytes(e: DotenvxEntry): Buffer {
  const b64 = e.value.slice(ENCRYPTED_PREFIX.length);
  if (!BASE64.test(b64) || b64.length % 4 !== 0) throw new DotenvxParseError(e.line, `the value of ${e.name} is not encrypted:<base64>`);
  return Buffer.from(b64, 'base64');
}

/**
 * What opens a file's values: its private key, or a function that opens one sealed value (the agent's answers,
 * asked for all values at once: sealedValuesOf), null when it does not open.
 */
export type DotenvxOpener = Uint8Array | ((sealed: Buffer) => Uint8Array | null);

/** A private key as a function that opens one value (set up once for all of a file's values). */
function asFunction(opener: DotenvxOpener | null): DotenvxOpener | null {
  return opener instanceof Uint8Array ? eciesDecryptor(opener) : opener;
}

/** The sealed bytes of every encrypted value of a dotenvx file (for an opener that asks the agent). */
export function sealedValuesOf(text: string): Buffer[] {
  return entriesOf(parseDotenvx(text)).filter(isEncryptedValue).map(sealedBytes);
}

/** The plaintext of one encrypted entry; a typed error naming the line and key (never the value) otherwise. */
function decryptEntry(e: DotenvxEntry, opener: DotenvxOpener, publicName: string): string {
  const sealed = sealedBytes(e);
  const plain = typeof opener === 'function' ? opener(sealed) : eciesDecrypt(opener, sealed);
  if (!plain) throw new NoteSealError('CORRUPTED', `line ${e.line}: the value of ${e.name} does not decrypt with the private key of ${publicName} (altered, or encrypted to another key)`);
  try { return new TextDecoder('utf-8', { fatal: true }).decode(plain); } catch {
    throw new NoteSealError('CORRUPTED', `line ${e.line}: the value of ${e.name} is not UTF-8 text`);
  } finally { plain.fill(0); }
}

/** `"encrypted:…"`: the value sealed to the file's public key, as dotenvx writes it. */
export function encryptedRaw(publicKey: Uint8Array, value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  try { return `"${ENCRYPTED_PREFIX}${eciesEncrypt(publicKey, bytes).toString('base64')}"`; } finally { bytes.fill(0); }
}

/** The secret keys in DOTENV_PRIVATE_KEY… values (dotenvx allows several, comma-separated). */
export function secretsOfValue(value: string): Uint8Array[] {
  return value.split(',').map(s => s.trim()).filter(s => SECRET_HEX.test(s)).map(s => new Uint8Array(Buffer.from(s, 'hex')));
}

/** DOTENV_PRIVATE_KEY… variables of an environment, as dotenvx reads them. */
export function secretsFromEnv(env: NodeJS.ProcessEnv): Uint8Array[] {
  return Object.entries(env).filter(([k, v]) => /^DOTENV_PRIVATE_KEY/.test(k) && typeof v === 'string').flatMap(([, v]) => secretsOfValue(v!));
}

/** The DOTENV_PRIVATE_KEY… entries of a `.env.keys` file (the caller wipes them). */
export function parseDotenvKeysFile(text: string): Uint8Array[] {
  const keys = entriesOf(parseDotenvx(text)).filter(e => /^DOTENV_PRIVATE_KEY/.test(e.name)).flatMap(e => {
    const found = secretsOfValue(e.value);
    if (found.length === 0 || found.some(k => !publicHexOfSecret(k))) throw new DotenvxParseError(e.line, `${e.name} is not a secp256k1 private key (64 hex digits)`);
    return found;
  });
  if (keys.length === 0) throw new NoteSealError('INVALID_ARGUMENT', 'no DOTENV_PRIVATE_KEY… line in this file');
  return keys;
}

/** The error for a dotenvx file whose values no key at hand opens: it names the key to import or set. */
export function noDotenvxKey(text: string): NoteSealError {
  const pub = dotenvxPublicKey(parseDotenvx(text));
  return new NoteSealError('WRONG_KEY', `no private key for its ${pub.name} (${pub.hex.slice(0, 10)}…) is at hand: `
    + `import the .env.keys that holds it (noteseal identity import .env.keys), or set ${pub.name.replace('PUBLIC', 'PRIVATE')}`);
}

/** The secret key that belongs to `publicHex` among `secrets`, or null. */
export function secretFor(secrets: readonly Uint8Array[], publicHex: string): Uint8Array | null {
  return secrets.find(s => publicHexOfSecret(s) === publicHex) ?? null;
}

export interface DotenvxSaveState {
  /** The entries as opened, and what each showed in the view (its plaintext, or its value when not decrypted). */
  original: readonly { entry: DotenvxEntry; shown: string }[];
  /** Test hook only: a fixed encryption for byte-exact comparisons. */
  encrypt?: (publicKey: Uint8Array, value: string) => string;
}

/** The plain dotenv view (values decrypted when `secretKey` is given) and what a save needs. */
export function openDotenvxText(text: string, key: DotenvxOpener | null): { view: string; state: DotenvxSaveState } {
  const secretKey = asFunction(key);
  const items = parseDotenvx(text);
  const pub = dotenvxPublicKey(items);
  const original: { entry: DotenvxEntry; shown: string }[] = [];
  if (!secretKey) for (const e of entriesOf(items)) if (isEncryptedValue(e)) sealedBytes(e); // malformed: refused even write-only
  const view = items.map(item => {
    if (item.kind === 'text') return item;
    if (!isEncryptedValue(item) || !secretKey) { original.push({ entry: item, shown: item.value }); return item; }
    const plain = decryptEntry(item, secretKey, pub.name);
    original.push({ entry: item, shown: plain });
    return { ...item, raw: quoteValue(plain), value: plain };
  });
  return { view: serializeDotenvx(view), state: { original } };
}

/**
 * The file for an edited view: an entry whose value is unchanged keeps its original bytes; a changed or new
 * value is encrypted to the file's public key (a value typed as `encrypted:…`, and the public key, as typed).
 */
export function saveDotenvxText(view: string, state: DotenvxSaveState, ...alsoFrom: DotenvxSaveState[]): string {
  const items = parseDotenvx(view);
  const pub = dotenvxPublicKey(items);
  const encrypt = state.encrypt ?? encryptedRaw;
  const seen = new Map<string, number>();
  return serializeDotenvx(items.map(item => {
    if (item.kind === 'text') return item;
    const nth = seen.get(item.name) ?? 0;
    seen.set(item.name, nth + 1);
    // `alsoFrom` (a merge's other sides, same public key): a value one of them holds keeps that side's bytes.
    const orig = [state, ...alsoFrom].map(st => st.original.filter(o => o.entry.name === item.name)[nth]).find(o => o && o.shown === item.value);
    if (orig) return { ...item, raw: orig.entry.raw };
    if (PUBLIC_KEY_NAME.test(item.name) || isEncryptedValue(item)) return item;
    return { ...item, raw: encrypt(pub.key, item.value) };
  }));
}

/**
 * The save state of a file just written from `view` by saveDotenvxText (which maps the view's entries one to
 * one): each entry of the written file, shown as the view showed it. null when they do not pair up; then the
 * next save opens the file again.
 */
export function savedDotenvxState(view: string, fileText: string): DotenvxSaveState | null {
  const shown = entriesOf(parseDotenvx(view));
  const written = entriesOf(parseDotenvx(fileText));
  if (shown.length !== written.length || shown.some((e, i) => e.name !== written[i]!.name)) return null;
  return { original: written.map((entry, i) => ({ entry, shown: shown[i]!.value })) };
}

/** `noteseal set`: one value encrypted to the file's public key, in place (the last entry of that name) or appended. */
export function setDotenvxValue(text: string, name: string, value: string): { text: string; added: boolean } {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) throw new NoteSealError('INVALID_ARGUMENT', `${JSON.stringify(name.slice(0, 64))} is not a dotenv key name`);
  if (PUBLIC_KEY_NAME.test(name) || /^DOTENV_PRIVATE_KEY/.test(name)) throw new NoteSealError('INVALID_ARGUMENT', `${name} is a key, not a value: it is not set this way`);
  const items = parseDotenvx(text);
  const pub = dotenvxPublicKey(items);
  const raw = encryptedRaw(pub.key, value);
  let at = -1;
  items.forEach((i, n) => { if (i.kind === 'entry' && i.name === name) at = n; });
  if (at >= 0) {
    items[at] = { ...(items[at] as DotenvxEntry), raw };
    return { text: serializeDotenvx(items), added: false };
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const sep = text === '' || /[\r\n]$/.test(text) ? '' : eol;
  return { text: `${text}${sep}${name}=${raw}${eol}`, added: true };
}

/** Every entry's value, decrypted (for `noteseal exec`): a value no key at hand opens is an error. */
export function dotenvxVariables(text: string, key: DotenvxOpener | null): Map<string, string> {
  const secretKey = asFunction(key);
  const items = parseDotenvx(text);
  const pub = dotenvxPublicKey(items);
  const vars = new Map<string, string>();
  for (const e of entriesOf(items)) {
    if (!isEncryptedValue(e)) { vars.set(e.name, e.value); continue; }
    if (!secretKey) throw new NoteSealError('WRONG_KEY', `line ${e.line}: ${e.name} is encrypted and no private key for ${pub.name} (${pub.hex.slice(0, 10)}…) is at hand`);
    vars.set(e.name, decryptEntry(e, secretKey, pub.name));
  }
  return vars;
}

/** The text of a dotenvx file; a typed error for bytes that are not UTF-8. */
export function dotenvxTextOf(bytes: Uint8Array): string {
  try { return new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch {
    throw new NoteSealError('CORRUPTED', 'this .env file is not UTF-8 text');
  }
}

/** Whether a file's text is a dotenvx file (a DOTENV_PUBLIC_KEY… line). */
export function looksLikeDotenvx(head: Uint8Array): boolean {
  return looksLikeDotenvxText(Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1'));
}

export const dotenvxFormat: FileFormat<DotenvxSaveState> = {
  name: 'dotenvx',
  sniff: looksLikeDotenvx,
  async open(bytes, keys) {
    const text = dotenvxTextOf(bytes);
    const pub = dotenvxPublicKey(parseDotenvx(text));
    const secret = await keys.dotenvxSecretKey?.(pub.hex) ?? null;
    try {
      const { view, state } = openDotenvxText(text, secret);
      return { plaintext: Buffer.from(view, 'utf8'), saveState: state };
    } finally { secret?.fill(0); }
  },
  async save(plaintext, state) {
    return Buffer.from(saveDotenvxText(Buffer.from(plaintext).toString('utf8'), state), 'utf8');
  },
};
