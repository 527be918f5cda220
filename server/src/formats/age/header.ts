// The age header (c2sp.org/age, "Header"): a version line, recipient stanzas, and a MAC line. Parsed
// strictly from untrusted bytes (every deviation is a header failure), and written canonically.
//   age-encryption.org/v1\n
//   -> TYPE ARG…\n  BODY (unpadded base64, 64 columns a line, ended by a shorter line, possibly empty)
//   --- MAC\n       (HMAC-SHA-256 over everything before the space, under HKDF(file key, "", "header"))
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { headerFailure, AgeError } from './errors';
import { decodeRawBase64, encodeRawBase64 } from './base64';

export const VERSION_LINE = 'age-encryption.org/v1';
const COLUMNS = 64;
export const FILE_KEY_LENGTH = 16;
/** No real header comes near this (a hybrid stanza is ~1.6 KB); it bounds the work on crafted input. */
export const MAX_HEADER_BYTES = 1024 * 1024;

export interface AgeStanza { args: string[]; body: Uint8Array }

export interface AgeHeader {
  stanzas: AgeStanza[];
  /** The header bytes the MAC covers (through "---"). */
  macInput: Uint8Array;
  mac: Uint8Array;
  /** Where the payload (nonce, then chunks) starts. */
  payloadOffset: number;
}

/** A printable argument: VCHAR only (%x21-7E), never empty. */
const ARG = /^[\x21-\x7e]+$/;
const BODY_LINE = /^[A-Za-z0-9+/]*$/;

export function parseHeader(bytes: Uint8Array): AgeHeader {
  let pos = 0;
  const limit = Math.min(bytes.length, MAX_HEADER_BYTES);
  const nextLine = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0 || end >= limit) throw headerFailure('the header ends early');
    const line = Buffer.from(bytes.buffer, bytes.byteOffset + pos, end - pos).toString('latin1');
    pos = end + 1;
    return line;
  };
  if (nextLine() !== VERSION_LINE) throw headerFailure(`it does not start with ${VERSION_LINE} (another version, or not an age file)`);
  const stanzas: AgeStanza[] = [];
  for (;;) {
    const lineStart = pos;
    const line = nextLine();
    if (line.startsWith('---')) {
      if (!line.startsWith('--- ')) throw headerFailure('the MAC line is malformed');
      const mac = decodeRawBase64(line.slice(4));
      if (!mac || mac.length !== 32) throw headerFailure('the header MAC is malformed');
      if (stanzas.length === 0) throw headerFailure('it has no recipient stanza');
      return { stanzas, macInput: bytes.subarray(0, lineStart + 3), mac, payloadOffset: pos };
    }
    if (!line.startsWith('-> ')) throw headerFailure('a header line is neither a stanza nor the MAC');
    const args = line.slice(3).split(' ');
    if (!args.every(a => ARG.test(a))) throw headerFailure('a stanza has an empty argument or a character outside printable ASCII');
    let text = '';
    for (;;) {
      const bodyLine = nextLine();
      if (bodyLine.length > COLUMNS || !BODY_LINE.test(bodyLine)) throw headerFailure('a stanza body line is malformed');
      text += bodyLine;
      if (bodyLine.length < COLUMNS) break;
    }
    const body = decodeRawBase64(text);
    if (!body) throw headerFailure('a stanza body is not canonical base64');
    stanzas.push({ args, body });
  }
}

function headerMacKey(fileKey: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, new Uint8Array(0), 'header', 32));
}

export function headerMac(fileKey: Uint8Array, macInput: Uint8Array): Buffer {
  const key = headerMacKey(fileKey);
  try { return createHmac('sha256', key).update(macInput).digest(); } finally { key.fill(0); }
}

export function checkHeaderMac(header: AgeHeader, fileKey: Uint8Array): void {
  if (!timingSafeEqual(headerMac(fileKey, header.macInput), header.mac)) {
    throw new AgeError('HMAC', 'The age file\'s header was altered (its MAC does not match).');
  }
}

/** The canonical header for `stanzas`, MAC included. */
export function encodeHeader(stanzas: readonly AgeStanza[], fileKey: Uint8Array): Buffer {
  let text = VERSION_LINE + '\n';
  for (const s of stanzas) {
    text += `-> ${s.args.join(' ')}\n`;
    const b64 = encodeRawBase64(s.body);
    for (let i = 0; i + COLUMNS <= b64.length; i += COLUMNS) text += b64.slice(i, i + COLUMNS) + '\n';
    text += b64.slice(b64.length - (b64.length % COLUMNS)) + '\n';
  }
  text += '---';
  const macInput = Buffer.from(text, 'latin1');
  return Buffer.concat([macInput, Buffer.from(` ${encodeRawBase64(headerMac(fileKey, macInput))}\n`, 'latin1')]);
}
