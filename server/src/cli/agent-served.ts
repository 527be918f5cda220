// The agent running a small command itself (protocol op 'command', sent by the launcher: agent-fast.ts):
// `decrypt FILE` and `exec FILE... -- COMMAND` of NoteSeal's own format, through the very command code the CLI
// runs (decryptCommand, execPlan), with this agent's keyring as the file keys. Every check stays where it is:
// the linked-folder refusal, the authentication of every chunk, the writer's signature and trust (exec
// refuses an unverified writer; decrypt warns), the loader-variable refusal. The agent answers only a run that
// succeeded without a word on stderr; anything else (a warning, an error, an option, another format, another
// keyfile or home) is refused, and the client runs the whole CLI, which then says it as it always has.
import { canonicalPath } from '../agent/paths';
import { formatOfFile, isSopsFile } from '../formats';
import { ageFileKeyFor } from '../formats/age-format';
import type { Keyring } from '../keys/keyring';
import { MAX_BLOB_BYTES } from '../agent/wire';
import { parseArgs } from './args';
import { keyfilePath, type CliContext } from './context';
import { SERVED_ENV } from './agent-fast';
import { execPlan } from './exec-command';
import { decryptCommand } from './file-commands';
import { useAgentOwnKeys, type FileKeys } from './file-keys';
import { ExitCode } from './exit-codes';
import path from 'node:path';

/** The keys of files from this agent's own keyring (as the passphrase path of file-keys.ts has them). */
function keyringKeys(keyring: Keyring): FileKeys {
  return {
    source: 'agent',
    unwrap: keyring.unwrap,
    ageFileKey: stanzas => ageFileKeyFor(keyring, stanzas),
    dotenvxOpener: publicHex => keyring.dotenvxSecretKey(publicHex),
    newFileStanzas: () => Promise.reject(new Error('the agent runs no command that writes a file')),
  };
}

/** A stdout that keeps what is written (copies: the command wipes its buffers), up to one reply's size. */
function collector(): { stdout: NodeJS.WriteStream; take(): Buffer | null; wipe(): void } {
  const parts: Buffer[] = [];
  let size = 0;
  let overflow = false;
  const stdout = {
    write(data: Uint8Array, cb?: (err?: Error | null) => void): boolean {
      size += data.length;
      if (size > MAX_BLOB_BYTES) overflow = true;
      else parts.push(Buffer.from(data));
      cb?.(null);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  const wipe = () => { for (const p of parts) p.fill(0); parts.length = 0; };
  return {
    stdout,
    take() {
      if (overflow) { wipe(); return null; }
      const all = Buffer.concat(parts);
      wipe();
      return all;
    },
    wipe,
  };
}

/** The command's output, or null where the client must run the whole CLI. */
export async function serveCommand(keyring: Keyring, argv: string[], env: Record<string, string>): Promise<Uint8Array | null> {
  if (Object.keys(env).some(name => !SERVED_ENV.includes(name))) return null;
  // Where the trust lists are looked for (the home folder bounds the search) must be the client's.
  if (env.HOME !== process.env.HOME) return null;
  let args;
  try { args = parseArgs(argv); } catch { return null; }
  if (args.options.size > 0) return null;
  const files = args.command === 'decrypt' ? args.operands : args.command === 'exec' && args.beforeSeparator !== undefined ? args.operands.slice(0, args.beforeSeparator) : null;
  if (!files || files.length === 0 || !files.every(f => path.isAbsolute(f))) return null;
  const notes: string[] = [];
  const out = collector();
  const ctx: CliContext = { args, env, stdout: out.stdout, note: line => { notes.push(line); } };
  useAgentOwnKeys(ctx, keyringKeys(keyring));
  // The keyfile the client's CLI would use must be this agent's (else that CLI asks for a passphrase).
  if (canonicalPath(keyfilePath(ctx)) !== canonicalPath(keyring.keyfilePath)) return null;
  // NoteSeal's own files only (by their first bytes, and no sops metadata, which the CLI looks for first).
  for (const file of files) {
    if ((await formatOfFile(file).catch(() => undefined))?.name !== 'enc' || await isSopsFile(file)) return null;
  }
  try {
    if (args.command === 'decrypt') {
      const code = await decryptCommand(ctx);
      const plaintext = out.take();
      if (code !== ExitCode.OK || notes.length > 0) { plaintext?.fill(0); return null; }
      return plaintext;
    }
    const { vars } = await execPlan(ctx);
    if (notes.length > 0) return null;
    return Buffer.from(JSON.stringify([...vars]), 'utf8');
  } finally {
    out.wipe();
  }
}
