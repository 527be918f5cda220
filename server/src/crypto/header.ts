// The header: an immutable prefix (bound into every chunk), the key stanzas, and an HMAC over all of it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  FLAG_APPEND, FLAG_LOG, FORMAT_VERSION, KNOWN_FLAGS, MAC_LENGTH, MAGIC, MAX_CHUNK_SIZE, MAX_STANZA_BODY, MAX_STANZAS,
  MIN_CHUNK_SIZE, PREFIX_LENGTH, SALT_LENGTH, SUITE_AES_256_GCM,
} from './constants';
import { NoteSealError } from './errors';

/** A key stanza: opaque to the format; the key module gives `type` its meaning. */
export interface Stanza { type: number; body: Uint8Array }

/**
 * A stanza of fixed length whose body is made after the payload is written, from the immutable prefix and
 * the SHA-256 of every payload byte (all frames, in file order). The header is written with a zero body
 * first and rewritten in place (same length, new MAC) before the file is renamed into place.
 */
export interface PayloadBoundStanza {
  type: number;
  length: number;
  /** Called with the prefix as soon as it is chosen (before any payload), e.g. to derive what needs the data key. */
  prepare?(prefix: Uint8Array): void;
  /** May be asynchronous: the agent signs for the CLI (remoteWriteSignatureStanza). */
  build(prefix: Uint8Array, payloadSha256: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

export interface HeaderInfo {
  version: number;
  suite: number;
  chunkSize: number;
  salt: Uint8Array;
  stanzas: Stanza[];
  /** Bytes from the start of the file to the first chunk frame (the MAC included). */
  headerLength: number;
  /** Written by an AppendWriter (a recording). */
  appendMode: boolean;
  /** A log (`noteseal append`): append mode whose payload may hold partial frames. */
  logMode: boolean;
}

/** What the format code needs beyond HeaderInfo: the exact bytes, to bind and to authenticate. */
export interface ParsedHeader extends HeaderInfo {
  flags: number;
  /** The immutable prefix (magic .. salt). */
  prefix: Buffer;
  /** Every header byte before the MAC. */
  macInput: Buffer;
  mac: Buffer;
}

export interface HeaderFields {
  chunkSize: number;
  salt: Uint8Array;
  flags: number;
  stanzas: readonly Stanza[];
}

function truncated(what: string): NoteSealError {
  return new NoteSealError('TRUNCATED', `the file ends inside its header (${what})`);
}

/**
 * Parses the header structurally; nothing is authenticated yet (that needs the data key).
 * `bytes` may hold more than the header (the whole file, or its first MAX_HEADER_LENGTH bytes).
 */
export function parseHeader(bytes: Uint8Array): ParsedHeader {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length === 0) throw new NoteSealError('NOT_NOTESEAL', 'the file is empty, not a NoteSeal file');
  const magicSeen = Math.min(b.length, MAGIC.length);
  if (!b.subarray(0, magicSeen).equals(MAGIC.subarray(0, magicSeen))) {
    throw new NoteSealError('NOT_NOTESEAL', 'the file does not start with the NoteSeal magic');
  }
  if (b.length < MAGIC.length + 1) throw truncated('magic');
  const version = b[8]!;
  if (version !== FORMAT_VERSION) throw new NoteSealError('UNSUPPORTED_VERSION', `NoteSeal format version ${version} is not supported (this build reads version ${FORMAT_VERSION})`);
  if (b.length < 10) throw truncated('suite');
  const suite = b[9]!;
  if (suite !== SUITE_AES_256_GCM) throw new NoteSealError('UNSUPPORTED_VERSION', `NoteSeal algorithm suite ${suite} is not supported`);
  if (b.length < 11) throw truncated('flags');
  const flags = b[10]!;
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new NoteSealError('UNSUPPORTED_VERSION', `unknown header flags 0x${flags.toString(16)}`);
  if ((flags & FLAG_LOG) !== 0 && (flags & FLAG_APPEND) === 0) throw new NoteSealError('UNSUPPORTED_VERSION', 'header flags 0x2 (a log) without 0x1 (append mode) are not a valid combination');
  if (b.length < 15) throw truncated('chunk size');
  const chunkSize = b.readUInt32BE(11);
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new NoteSealError('LIMIT_EXCEEDED', `chunk size ${chunkSize} is outside ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}`);
  }
  if (b.length < PREFIX_LENGTH + 1) throw truncated('salt');
  const count = b[PREFIX_LENGTH]!;
  if (count > MAX_STANZAS) throw new NoteSealError('LIMIT_EXCEEDED', `${count} key stanzas exceed the limit of ${MAX_STANZAS}`);
  let pos = PREFIX_LENGTH + 1;
  const stanzas: Stanza[] = [];
  for (let i = 0; i < count; i++) {
    if (b.length < pos + 3) throw truncated('stanza');
    const type = b[pos]!;
    const length = b.readUInt16BE(pos + 1);
    if (length > MAX_STANZA_BODY) throw new NoteSealError('LIMIT_EXCEEDED', `a key stanza of ${length} bytes exceeds the limit of ${MAX_STANZA_BODY}`);
    pos += 3;
    if (b.length < pos + length) throw truncated('stanza');
    stanzas.push({ type, body: Uint8Array.prototype.slice.call(b, pos, pos + length) });
    pos += length;
  }
  if (b.length < pos + MAC_LENGTH) throw truncated('MAC');
  return {
    version, suite, flags, chunkSize,
    salt: Uint8Array.prototype.slice.call(b, 15, 15 + SALT_LENGTH),
    stanzas,
    headerLength: pos + MAC_LENGTH,
    appendMode: (flags & FLAG_APPEND) !== 0,
    logMode: (flags & FLAG_LOG) !== 0,
    prefix: Buffer.from(b.subarray(0, PREFIX_LENGTH)),
    macInput: Buffer.from(b.subarray(0, pos)),
    mac: Buffer.from(b.subarray(pos, pos + MAC_LENGTH)),
  };
}

/** The immutable prefix: everything a chunk is bound to, and nothing a key rotation changes. */
export function serializePrefix(fields: Pick<HeaderFields, 'chunkSize' | 'salt' | 'flags'>): Buffer {
  if (!Number.isInteger(fields.chunkSize) || fields.chunkSize < MIN_CHUNK_SIZE || fields.chunkSize > MAX_CHUNK_SIZE) {
    throw new NoteSealError('INVALID_ARGUMENT', `chunk size must be an integer in ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}`);
  }
  if (fields.salt.length !== SALT_LENGTH) throw new NoteSealError('INVALID_ARGUMENT', `salt must be ${SALT_LENGTH} bytes`);
  const prefix = Buffer.alloc(PREFIX_LENGTH);
  MAGIC.copy(prefix, 0);
  prefix[8] = FORMAT_VERSION;
  prefix[9] = SUITE_AES_256_GCM;
  prefix[10] = fields.flags;
  prefix.writeUInt32BE(fields.chunkSize, 11);
  prefix.set(fields.salt, 15);
  return prefix;
}

function serializeStanzas(stanzas: readonly Stanza[]): Buffer {
  if (stanzas.length > MAX_STANZAS) throw new NoteSealError('INVALID_ARGUMENT', `at most ${MAX_STANZAS} key stanzas`);
  const parts: Buffer[] = [Buffer.of(stanzas.length)];
  for (const s of stanzas) {
    if (!Number.isInteger(s.type) || s.type < 0 || s.type > 255) throw new NoteSealError('INVALID_ARGUMENT', 'stanza type must be a byte');
    if (s.body.length > MAX_STANZA_BODY) throw new NoteSealError('INVALID_ARGUMENT', `stanza body must be at most ${MAX_STANZA_BODY} bytes`);
    const head = Buffer.alloc(3);
    head[0] = s.type;
    head.writeUInt16BE(s.body.length, 1);
    parts.push(head, Buffer.from(s.body));
  }
  return Buffer.concat(parts);
}

export function computeHeaderMac(macKey: Uint8Array, macInput: Uint8Array): Buffer {
  return createHmac('sha256', macKey).update(macInput).digest();
}

/** The complete header: prefix, stanzas, and the HMAC that binds them. */
export function serializeHeader(prefix: Buffer, stanzas: readonly Stanza[], macKey: Uint8Array): Buffer {
  const macInput = Buffer.concat([prefix, serializeStanzas(stanzas)]);
  return Buffer.concat([macInput, computeHeaderMac(macKey, macInput)]);
}

/** Constant-time check of the header MAC. */
export function headerMacMatches(header: ParsedHeader, macKey: Uint8Array): boolean {
  return timingSafeEqual(computeHeaderMac(macKey, header.macInput), header.mac);
}
