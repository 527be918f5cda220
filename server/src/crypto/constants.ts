// Every fixed number of the .enc format (docs/FORMAT.md) in one place, so the parser, the writer and the
// docs cannot drift apart. The reference decryptor (reference-noble.ts) deliberately does not import this.

/** "\x89NSEAL\r\n": the high byte and CR LF catch 7-bit and newline-mangling transfers, like PNG. */
export const MAGIC = Buffer.from([0x89, 0x4e, 0x53, 0x45, 0x41, 0x4c, 0x0d, 0x0a]);
export const FORMAT_VERSION = 1;
/** Suite 1: HKDF-SHA256 key schedule, HMAC-SHA256 header MAC, AES-256-GCM chunks. */
export const SUITE_AES_256_GCM = 1;

/** Header flag: written by an AppendWriter (a recording); a missing final chunk reads as UNFINISHED. */
export const FLAG_APPEND = 0x01;
/**
 * Header flag (with FLAG_APPEND only): a log written by `noteseal append`. Its payload may hold partial
 * frames (FRAME_PARTIAL): a writer seals what it has every second instead of waiting for a full chunk.
 */
export const FLAG_LOG = 0x02;
export const KNOWN_FLAGS = FLAG_APPEND | FLAG_LOG;

export const SALT_LENGTH = 16;
/** magic 8 + version 1 + suite 1 + flags 1 + chunk size 4 + salt 16: the part bound into every chunk. */
export const PREFIX_LENGTH = 31;
export const MAC_LENGTH = 32;
export const KEY_LENGTH = 32;
export const TAG_LENGTH = 16;
export const NONCE_LENGTH = 12;

export const MIN_CHUNK_SIZE = 1024;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;

export const MAX_STANZAS = 16;
export const MAX_STANZA_BODY = 2048;
/** Largest possible header: prefix, count byte, 16 maximal stanzas, MAC. */
export const MAX_HEADER_LENGTH = PREFIX_LENGTH + 1 + MAX_STANZAS * (3 + MAX_STANZA_BODY) + MAC_LENGTH;

/** Frame kinds: the first byte of every chunk frame. */
export const FRAME_CHUNK = 0x00;
export const FRAME_FINAL = 0x01;
/** A log's short, not final chunk: 0x02 len32 ct tag with 0 < len < chunk size (FLAG_LOG files only). */
export const FRAME_PARTIAL = 0x02;
/** kind 1 + tag 16 */
export const CHUNK_FRAME_OVERHEAD = 1 + TAG_LENGTH;
/** kind 1 + plaintext length 4 + tag 16 */
export const FINAL_FRAME_OVERHEAD = 1 + 4 + TAG_LENGTH;
/** The counter fills 11 nonce bytes, but 2^48 chunks (256 PiB at 1 KiB) is more than any file needs. */
export const MAX_CHUNKS = 2 ** 48;

export const INFO_PAYLOAD_KEY = 'NoteSeal v1 payload key';
export const INFO_HEADER_MAC_KEY = 'NoteSeal v1 header MAC key';
