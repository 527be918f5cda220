// age's ASCII armor (c2sp.org/age, "ASCII armor"): a PEM-like block of padded base64, 64 columns a line,
// the last line 1 to 64 columns. Whitespace is allowed only around the whole block; lines end in LF or CRLF.
// Anything else (headers, checksums, stray spaces, short lines) is an armor failure, never guessed at.
import { AgeError } from './errors';
import { decodePaddedBase64 } from './base64';

const BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const END = '-----END AGE ENCRYPTED FILE-----';
const COLUMNS = 64;
/** Bytes of whitespace accepted before the block (age's own reader has a bound too). */
const MAX_LEADING_WHITESPACE = 1024;

const armorFailure = (why: string) => new AgeError('armor', `The age file's ASCII armor is not valid: ${why}.`);

/**
 * Whether `bytes` look armored (text starting with "-----" after whitespace, or an armor begin line near the
 * start): the armor reader then decides, so a damaged armor is an armor failure, not a header one.
 */
export function looksArmored(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && i < MAX_LEADING_WHITESPACE && isSpace(bytes[i]!)) i++;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, MAX_LEADING_WHITESPACE + BEGIN.length)).toString('latin1');
  return head.startsWith('-----', i) || (!head.startsWith('age-encryption.org/') && head.includes(BEGIN));
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
}

/** The binary age file inside an armored one. */
export function dearmor(bytes: Uint8Array): Buffer {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const start = text.length - text.trimStart().length;
  if (start > MAX_LEADING_WHITESPACE) throw armorFailure('too much whitespace before it');
  const body = text.trim();
  const lines = body.split('\n').map(l => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines[0] !== BEGIN) throw armorFailure(`it does not begin with ${BEGIN}`);
  if (lines.length < 2 || lines[lines.length - 1] !== END) throw armorFailure(`it does not end with ${END}`);
  const data = lines.slice(1, -1);
  for (const [i, line] of data.entries()) {
    const last = i === data.length - 1;
    if (line.length > COLUMNS) throw armorFailure(`line ${i + 2} is longer than ${COLUMNS} columns`);
    if (!last && line.length !== COLUMNS) throw armorFailure(`line ${i + 2} is shorter than ${COLUMNS} columns`);
    if (last && line.length === 0) throw armorFailure('its last line is empty');
  }
  const decoded = decodePaddedBase64(data.join(''));
  if (!decoded) throw armorFailure('its base64 is malformed or not canonical');
  return decoded;
}

/** The armored form of a binary age file (what `age --armor` writes). */
export function armor(binary: Uint8Array): Buffer {
  const b64 = Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength).toString('base64');
  const lines = [BEGIN];
  for (let i = 0; i < b64.length; i += COLUMNS) lines.push(b64.slice(i, i + COLUMNS));
  lines.push(END, '');
  return Buffer.from(lines.join('\n'), 'latin1');
}

/** Binary bytes per armor line (64 base64 columns). */
const LINE_BYTES = (COLUMNS / 4) * 3;

/** The armored form of a binary age file given in pieces, line by line as they come: the same bytes as armor(). */
export async function* armorStream(parts: AsyncIterable<Uint8Array[]>): AsyncGenerator<Buffer> {
  yield Buffer.from(BEGIN + '\n', 'latin1');
  let carry = Buffer.alloc(0);
  const lines = (bytes: Buffer): Buffer => {
    const b64 = bytes.toString('base64');
    let text = '';
    for (let i = 0; i < b64.length; i += COLUMNS) text += b64.slice(i, i + COLUMNS) + '\n';
    return Buffer.from(text, 'latin1');
  };
  for await (const batch of parts) {
    const bytes = Buffer.concat([carry, ...batch]);
    const whole = bytes.length - (bytes.length % LINE_BYTES);
    carry = Buffer.from(bytes.subarray(whole));
    if (whole > 0) yield lines(bytes.subarray(0, whole));
  }
  yield Buffer.concat([carry.length ? lines(carry) : Buffer.alloc(0), Buffer.from(END + '\n', 'latin1')]);
}

const LEADING_SPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]); // what String.prototype.trim drops, in latin1
const BASE64_LINE = /^[A-Za-z0-9+/]*$/;
const SLICE_BYTES = 64 * 1024;

/**
 * The binary age file inside an armored one, read from `read` (blocks of the file, in order) line by line:
 * memory bounded by a block, whatever the file size. The same rules and the same errors as dearmor(), in
 * the same order of precedence: an error is thrown only at the end of the text (a missing end line is
 * named before a bad line in the middle, as dearmor does), and no byte is yielded after a bad line.
 */
export async function* dearmorStream(read: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let leading = 0;
  let started = false; // past the leading whitespace
  let carry = '';
  let lineNo = 0; // of the line being looked at; 1 is the begin line
  let held: string | null = null; // the last data line seen: the file's last data line only if the end line follows
  let ended = false; // the end line was seen (then only whitespace may follow)
  let trailing = false; // text after the end line
  let lengthError: AgeError | null = null;
  let base64Error = false;
  let beginError = false;
  const flushHeld = (last: boolean): string | null => {
    const line = held!;
    held = null;
    const n = lineNo - 1;
    if (!lengthError) {
      if (line.length > COLUMNS) lengthError = armorFailure(`line ${n} is longer than ${COLUMNS} columns`);
      else if (!last && line.length !== COLUMNS) lengthError = armorFailure(`line ${n} is shorter than ${COLUMNS} columns`);
      else if (last && line.length === 0) lengthError = armorFailure('its last line is empty');
    }
    if (lengthError || base64Error) return null;
    // A full line has no padding and no partial group: canonical if it is all alphabet. The last line is
    // checked as dearmor checks the whole (padding only at the very end, canonical).
    // Checked line by line, decoded a block at a time (one buffer per block: little garbage).
    const ok = last ? decodePaddedBase64(line) !== null : BASE64_LINE.test(line);
    if (!ok) { base64Error = true; return null; }
    return line;
  };
  const onLine = (raw: string): string | null => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    lineNo++;
    if (ended) {
      if (line.trim() !== '') trailing = true;
      return null;
    }
    if (lineNo === 1) {
      if (line !== BEGIN) beginError = true;
      return null;
    }
    if (beginError) return null;
    if (line.trimEnd() === END && (held !== null || lineNo === 2)) {
      ended = true;
      return held !== null ? flushHeld(true) : null;
    }
    const out = held !== null ? flushHeld(false) : null;
    held = line;
    return out;
  };
  // Looked at 64 KiB at a time: strings of a whole 1 MiB block are large objects V8 frees only at a full
  // collection, and the peak memory of a large armored file grew with them (ageStream's memory test).
  const slices = async function* () {
    for await (const block of read) for (let at = 0; at < block.length; at += SLICE_BYTES) yield block.subarray(at, at + SLICE_BYTES);
  };
  for await (const block of slices()) {
    let text = block.toString('latin1');
    if (!started) {
      let i = 0;
      while (i < text.length && LEADING_SPACE.has(text.charCodeAt(i))) i++;
      leading += i;
      if (leading > MAX_LEADING_WHITESPACE) throw armorFailure('too much whitespace before it');
      if (i === text.length) continue;
      started = true;
      text = text.slice(i);
    }
    const lines = (carry + text).split('\n');
    carry = lines.pop()!;
    // A line longer than any valid one is kept short (memory bounded by a block, no quadratic growth): only
    // its being too long, and whether it holds more than whitespace, still matter.
    if (carry.length > 80) carry = carry.slice(0, 80) + (/\S/.test(carry.slice(80)) ? 'x' : ' ');
    const out: string[] = [];
    for (const l of lines) {
      const b = onLine(l);
      if (b) out.push(b);
    }
    if (out.length) yield Buffer.from(out.join(''), 'base64');
  }
  if (carry !== '') {
    const b = onLine(carry);
    if (b) yield Buffer.from(b, 'base64');
  }
  if (!started || beginError) throw armorFailure(`it does not begin with ${BEGIN}`);
  if (!ended || trailing) throw armorFailure(`it does not end with ${END}`);
  if (lengthError) throw lengthError;
  if (base64Error) throw armorFailure('its base64 is malformed or not canonical');
}
