// An independent decryptor written from docs/FORMAT.md alone, to cross-check the fast path and the test
// vectors. It shares no code with the other modules: AES-GCM comes from @noble/ciphers (pure JS), HKDF
// is written out here over node:crypto's HMAC. Slow (about 50 MB/s); for tests and small files only.
import { gcm } from '@noble/ciphers/aes.js';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

class ReferenceError extends Error {
  constructor(readonly code: string, message: string) { super(message); }
}

function hmacSha256(key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
}

/** RFC 5869 with SHA-256, for one block of output (32 bytes). */
function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: string): Uint8Array {
  const prk = hmacSha256(salt, ikm);
  return hmacSha256(prk, new TextEncoder().encode(info), Uint8Array.of(1));
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;
}

export function referenceDecrypt(file: Uint8Array, dataKey: Uint8Array): Uint8Array {
  const need = (n: number, what: string) => { if (file.length < n) throw new ReferenceError('TRUNCATED', `truncated ${what}`); };
  const magic = [0x89, 0x4e, 0x53, 0x45, 0x41, 0x4c, 0x0d, 0x0a];
  need(8, 'magic');
  if (magic.some((m, i) => file[i] !== m)) throw new ReferenceError('NOT_NOTESEAL', 'bad magic');
  need(31, 'prefix');
  if (file[8] !== 1 || file[9] !== 1) throw new ReferenceError('UNSUPPORTED_VERSION', 'version or suite');
  if ((file[10]! & ~1) !== 0) throw new ReferenceError('UNSUPPORTED_VERSION', 'flags');
  const chunkSize = u32(file, 11);
  if (chunkSize < 1024 || chunkSize > 16 * 1024 * 1024) throw new ReferenceError('LIMIT_EXCEEDED', 'chunk size');
  const salt = file.subarray(15, 31);
  need(32, 'stanza count');
  const count = file[31]!;
  if (count > 16) throw new ReferenceError('LIMIT_EXCEEDED', 'stanza count');
  let pos = 32;
  for (let i = 0; i < count; i++) {
    need(pos + 3, 'stanza');
    const len = (file[pos + 1]! << 8) | file[pos + 2]!;
    if (len > 2048) throw new ReferenceError('LIMIT_EXCEEDED', 'stanza body');
    pos += 3 + len;
  }
  need(pos + 32, 'mac');
  const macKey = hkdfSha256(dataKey, salt, 'NoteSeal v1 header MAC key');
  if (!timingSafeEqual(hmacSha256(macKey, file.subarray(0, pos)), file.subarray(pos, pos + 32))) {
    throw new ReferenceError('WRONG_KEY', 'header MAC');
  }
  const payloadKey = hkdfSha256(dataKey, salt, 'NoteSeal v1 payload key');
  const aad = new Uint8Array(createHash('sha256').update(file.subarray(0, 31)).digest());
  pos += 32;

  const nonceFor = (counter: number, last: boolean) => {
    const n = new Uint8Array(12);
    let c = counter;
    for (let i = 10; i >= 0 && c > 0; i--) { n[i] = c % 256; c = Math.floor(c / 256); }
    n[11] = last ? 1 : 0;
    return n;
  };
  const out: Uint8Array[] = [];
  let total = 0;
  for (let counter = 0; ; counter++) {
    need(pos + 1, 'frame');
    const kind = file[pos]!;
    let body: Uint8Array;
    if (kind === 0) {
      need(pos + 1 + chunkSize + 16, 'chunk');
      body = file.subarray(pos + 1, pos + 1 + chunkSize + 16);
      pos += 1 + chunkSize + 16;
    } else if (kind === 1) {
      need(pos + 5, 'final length');
      const len = u32(file, pos + 1);
      if (len >= chunkSize) throw new ReferenceError('CORRUPTED', 'final length');
      need(pos + 5 + len + 16, 'final chunk');
      body = file.subarray(pos + 5, pos + 5 + len + 16);
      pos += 5 + len + 16;
    } else {
      throw new ReferenceError('CORRUPTED', 'frame kind');
    }
    let plain: Uint8Array;
    try {
      plain = gcm(payloadKey, nonceFor(counter, kind === 1), aad).decrypt(body);
    } catch {
      throw new ReferenceError('CORRUPTED', `chunk ${counter}`);
    }
    out.push(plain);
    total += plain.length;
    if (kind === 1) break;
  }
  if (pos !== file.length) throw new ReferenceError('TRAILING_DATA', 'trailing bytes');
  const result = new Uint8Array(total);
  let at = 0;
  for (const p of out) { result.set(p, at); at += p.length; }
  return result;
}
