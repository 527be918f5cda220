// One sops value: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`, AES-256-GCM under the file's 32-byte data key
// with a 32-byte IV and the value's key path (`a:b:`) as additional data (sops's README, "Encryption
// Protocol"). The plaintext bytes of each type are sops's own: an int in decimal, a float in Go's shortest
// 'f' form, a bool as `True`/`False`; the MAC hashes exactly those bytes (sops-tree.ts).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { NoteSealError } from '../crypto/errors';

export type SopsType = 'str' | 'int' | 'float' | 'bool' | 'bytes' | 'comment';
export const SOPS_TYPES: readonly SopsType[] = ['str', 'int', 'float', 'bool', 'bytes', 'comment'];

/** A plaintext value as sops encrypts it: its type and the exact bytes (as UTF-8 text) that go in. */
export interface SopsPlain { type: SopsType; text: string }

export const IV_LENGTH = 32;
const TAG_LENGTH = 16;
const ENC = /^ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),iv:([A-Za-z0-9+/=]+),tag:([A-Za-z0-9+/=]+),type:([a-z0-9]+)\]$/;

/** A damaged or foreign value: names the key path, never the value. */
export class SopsValueError extends NoteSealError {
  constructor(readonly path: string, why: string) {
    super('CORRUPTED', `sops value at ${path || '(top level)'}: ${why}`);
  }
}

export function isEncValue(text: string): boolean {
  return text.startsWith('ENC[AES256_GCM,');
}

/** The additional data of a value at `path`: the keys joined by ':' and one more ':' (sops.go). */
export function additionalData(path: readonly string[]): string {
  return path.join(':') + ':';
}

/** The plaintext of `ENC[…]` under `aad` (additionalData(path) for a value, `lastmodified` for the MAC). */
export function decryptValue(enc: string, dataKey: Uint8Array, aad: string, where: string): SopsPlain {
  const m = ENC.exec(enc);
  if (!m) throw new SopsValueError(where, 'not of the form ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]');
  const type = m[4] as SopsType;
  if (!SOPS_TYPES.includes(type)) throw new SopsValueError(where, `unknown value type ${JSON.stringify(m[4]!.slice(0, 16))}`);
  const data = Buffer.from(m[1]!, 'base64'); const iv = Buffer.from(m[2]!, 'base64'); const tag = Buffer.from(m[3]!, 'base64');
  if (iv.length === 0 || tag.length !== TAG_LENGTH) throw new SopsValueError(where, 'a malformed IV or tag');
  let plain: Buffer;
  try {
    const d = createDecipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_LENGTH });
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(tag);
    plain = Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw new SopsValueError(where, 'does not decrypt with the data key (altered, moved to another key, or another file\'s)');
  }
  const text = plain.toString('utf8');
  plain.fill(0);
  return { type, text: canonicalText(type, text, where) };
}

/** `ENC[…]` of a plaintext value under `aad`; `iv` only for a test that pins it. */
export function encryptValue(value: SopsPlain, dataKey: Uint8Array, aad: string, iv: Uint8Array = randomBytes(IV_LENGTH)): string {
  const c = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_LENGTH });
  c.setAAD(Buffer.from(aad, 'utf8'));
  const plain = Buffer.from(value.text, 'utf8');
  const data = Buffer.concat([c.update(plain), c.final()]);
  plain.fill(0);
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${Buffer.from(iv).toString('base64')},tag:${c.getAuthTag().toString('base64')},type:${value.type}]`;
}

/**
 * The bytes sops hashes for a decrypted value: sops parses each type (Go's Atoi, ParseFloat, ParseBool) and
 * hashes its own rendering of the result, so "+5" hashes as "5" and "true" as "True".
 */
export function canonicalText(type: SopsType, text: string, where: string): string {
  switch (type) {
    case 'int': {
      if (!/^[+-]?[0-9]+$/.test(text)) throw new SopsValueError(where, 'an int value that is not a decimal integer');
      return BigInt(text).toString();
    }
    case 'float': {
      const n = Number(text.trim() === '' ? NaN : text);
      if (Number.isNaN(n) && !/^[+-]?nan$/i.test(text)) throw new SopsValueError(where, 'a float value that is not a number');
      return formatFloat(n);
    }
    case 'bool': {
      if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return 'True';
      if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return 'False';
      throw new SopsValueError(where, 'a bool value that is neither true nor false');
    }
    default: return text;
  }
}

/** Go's strconv.FormatFloat(n, 'f', -1, 64): the shortest digits that read back as n, never an exponent. */
export function formatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  if (Object.is(n, -0)) return '-0';
  const s = n.toString();
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, lead, rest = '', exp] = m;
  const digits = lead! + rest;
  const point = 1 + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
