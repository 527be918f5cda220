// Where passphrases and recovery keys come from. Never from argv (visible to every user via ps) and never
// from a plain environment variable: from a file or an inherited file descriptor named by the environment,
// or typed at the terminal without echo.
//   NOTESEAL_PASSPHRASE_FILE / _FD          the passphrase (init, and unlocking for every other command)
//   NOTESEAL_NEW_PASSPHRASE_FILE / _FD      the new passphrase for `passwd`
//   NOTESEAL_RECOVERY_KEY_FILE / _FD        the recovery key for `passwd --recovery`
//   NOTESEAL_AGE_PASSPHRASE_FILE / _FD      the passphrase of an age passphrase (scrypt) file: never NoteSeal's
//   NOTESEAL_PIN_FILE / _FD                 a token's PIN (unlock slots: `unlock add`, `--unlock NAME`)
import fs from 'node:fs';
import tty from 'node:tty';
import { UsageError } from './args';

export type SecretName = 'PASSPHRASE' | 'NEW_PASSPHRASE' | 'RECOVERY_KEY' | 'AGE_PASSPHRASE' | 'PIN';

export class PromptCancelled extends Error {
  override readonly name = 'PromptCancelled';
}

/** The secret's bytes without the one trailing newline that editors and `echo` add. Caller wipes it. */
function stripTrailingNewline(bytes: Buffer): Buffer {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  const out = Buffer.from(bytes.subarray(0, end));
  bytes.fill(0);
  return out;
}

function fromEnvSource(name: SecretName, env: NodeJS.ProcessEnv): Buffer | null {
  const file = env[`NOTESEAL_${name}_FILE`];
  const fd = env[`NOTESEAL_${name}_FD`];
  if (file !== undefined && fd !== undefined) {
    throw new UsageError(`set only one of NOTESEAL_${name}_FILE and NOTESEAL_${name}_FD`);
  }
  if (file !== undefined) return stripTrailingNewline(fs.readFileSync(file));
  if (fd !== undefined) {
    if (!/^\d+$/.test(fd) || Number(fd) < 3) throw new UsageError(`NOTESEAL_${name}_FD must be a file descriptor number of 3 or more`);
    return stripTrailingNewline(fs.readFileSync(Number(fd)));
  }
  return null;
}

/**
 * The line editor of the no-echo prompt, fed the raw bytes a terminal sends. Enter ends the line; Ctrl-C
 * (and Ctrl-D on an empty line) cancels; Backspace removes one whole character; Ctrl-U clears the line.
 * Escape sequences (arrow and function keys: ESC [ ... final, ESC O x; Alt+key: ESC x) are dropped whole,
 * also when split across reads, so they never become part of the passphrase. Other control bytes are dropped.
 */
export class PassphraseLine {
  private readonly typed: number[] = [];
  private escape: 'none' | 'esc' | 'csi' | 'ss3' = 'none';

  /** 'done' at Enter, 'cancel' at Ctrl-C / Ctrl-D on an empty line, else 'more'. Bytes after Enter are ignored. */
  feed(chunk: Uint8Array): 'more' | 'done' | 'cancel' {
    for (const byte of chunk) {
      if (this.escape !== 'none') { this.inEscape(byte); continue; }
      if (byte === 0x0d || byte === 0x0a) return 'done';
      if (byte === 0x03 || (byte === 0x04 && this.typed.length === 0)) return 'cancel';
      if (byte === 0x1b) this.escape = 'esc';
      else if (byte === 0x7f || byte === 0x08) this.backspace();
      else if (byte === 0x15) this.clear();
      else if (byte >= 0x20 || byte === 0x09) this.typed.push(byte);
    }
    return 'more';
  }

  private inEscape(byte: number): void {
    if (this.escape === 'esc') {
      this.escape = byte === 0x5b ? 'csi' : byte === 0x4f ? 'ss3' : 'none';   // ESC [ , ESC O , or Alt+key
    } else if (this.escape === 'ss3' || (byte >= 0x40 && byte <= 0x7e)) {
      this.escape = 'none';                                                  // the sequence's final byte
    }
  }

  private backspace(): void {
    // Remove one whole UTF-8 character: continuation bytes first, then its lead byte.
    while (this.typed.length > 0 && (this.typed[this.typed.length - 1]! & 0xc0) === 0x80) this.typed.pop();
    this.typed.pop();
  }

  /** Zeroes what was typed so far and empties the line. */
  clear(): void {
    this.typed.fill(0);
    this.typed.length = 0;
  }

  /** The line's bytes (the caller wipes them); the editor's own copy is cleared. */
  take(): Buffer {
    const out = Buffer.from(this.typed);
    this.clear();
    return out;
  }
}

/** Reads one line from the terminal with echo off (see PassphraseLine for the keys it understands). */
async function promptNoEcho(prompt: string, name: SecretName = 'PASSPHRASE'): Promise<Buffer> {
  let fd: number;
  try { fd = fs.openSync('/dev/tty', 'r+'); } catch {
    const what = name === 'PIN' ? 'the token\'s PIN' : 'the passphrase';
    throw new UsageError(`no terminal to ask for ${what}: set NOTESEAL_${name === 'PIN' ? 'PIN' : 'PASSPHRASE'}_FILE or NOTESEAL_${name === 'PIN' ? 'PIN' : 'PASSPHRASE'}_FD`);
  }
  const input = new tty.ReadStream(fd);
  const output = new tty.WriteStream(fd);
  output.write(prompt);
  input.setRawMode(true);
  const line = new PassphraseLine();
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      input.on('data', (chunk: Buffer) => {
        const state = line.feed(chunk);
        chunk.fill(0);
        if (state === 'done') resolve(line.take());
        else if (state === 'cancel') reject(new PromptCancelled('cancelled'));
      });
      input.on('error', reject);
    });
  } finally {
    line.clear();
    input.setRawMode(false);
    output.write('\n');
    input.destroy();
    output.destroy();
  }
}

export interface SecretRequest {
  name: SecretName;
  prompt: string;
  /** Ask twice at the terminal and require both to match (new passphrases). */
  confirm?: boolean;
}

export async function readSecret(req: SecretRequest, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const fromEnv = fromEnvSource(req.name, env);
  if (fromEnv) return fromEnv;
  const first = await promptNoEcho(req.prompt, req.name);
  if (req.confirm) {
    const second = await promptNoEcho('Repeat to confirm: ');
    const same = first.equals(second);
    second.fill(0);
    if (!same) { first.fill(0); throw new UsageError('the two entries do not match'); }
  }
  return first;
}
