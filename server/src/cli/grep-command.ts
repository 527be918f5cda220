// `noteseal grep PATTERN [PATH…]`: the search engine of VS Code's search view (server/src/search), from a
// terminal. Keys come from the agent when one is unlocked, else the passphrase (file-keys.ts). Notes are
// decrypted in memory one by one and zeroed after; nothing is written but the matches on stdout, as rg
// prints them: `path:line:text`, the path being the `.enc` (or `.age`, or dotenvx `.env…`) file. Exit status as grep's: 0 a match, 1 none,
// 2 an error (also when some note could not be opened, as rg does; the others are still searched).
import fs from 'node:fs';
import path from 'node:path';
import { AGE_SUFFIX, DOTENVX_HEAD_BYTES, ENC_SUFFIX, hasDotenvName, isAgePath, isEncPath, looksLikeDotenvxText } from '../encPaths';
import type { SearchQuery } from '../protocol';
import type { NoteFile } from '../search/walk';
import { readRegularFile } from '../crypto/safe-open';
import { ageFileFacts } from '../formats/age';
import { decryptNote } from '../search/decrypt';
import { readHeaderFromFile } from '../crypto/format';
import { keepingDataKey, writerVerdict } from './writer-check';
import { runSearch } from '../search/engine';
import { QueryError } from '../search/query';
import { UsageError, type ParsedArgs } from './args';
import type { CliContext } from './context';
import { withFileKeys, type FileKeys } from './file-keys';
import { hasAgeName, isSopsFile } from '../formats';
import { isNoteSealError, NoteSealError } from '../crypto/errors';
import { AGE_NO_WRITER, grepAgeFile, openAgeBytesCli } from './age-commands';
import { DOTENVX_NO_WRITER, dotenvxViewOfText, grepDotenvxFile, readDotenvxFile } from './dotenvx-commands';
import { grepSopsFile } from './sops-commands';
import { StdoutClosed, writeToStdout } from './stdout';

export const GrepExit = { FOUND: 0, NONE: 1, ERROR: 2 } as const;

const SHORT: Record<string, string> = { i: 'ignore-case', w: 'word-regexp', F: 'fixed-strings', l: 'files-with-matches', c: 'count', n: 'line-number', h: 'help' };
const LONG_FLAGS = new Set([...Object.values(SHORT)]);
const LONG_VALUED = new Set(['include', 'exclude', 'keyfile', 'identity']);

/**
 * grep's own arguments (bundled short flags like `-iw`, repeatable `--include`): `args.ts` knows only the
 * other commands' options. Repeated globs are kept one per line in the option's value.
 */
export function parseGrepArgs(argv: readonly string[]): ParsedArgs {
  const options = new Map<string, string | true>();
  const operands: string[] = [];
  const set = (name: string, value: string | true) => {
    const old = options.get(name);
    options.set(name, typeof old === 'string' && typeof value === 'string' && name !== 'keyfile' && name !== 'identity' ? `${old}\n${value}` : value);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { operands.push(...argv.slice(i + 1)); break; }
    if (arg === '-' || !arg.startsWith('-')) { operands.push(arg); continue; }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (LONG_VALUED.has(name)) {
        const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
        if (value === undefined || value === '') throw new UsageError(`grep: option --${name} needs a value`);
        set(name, value);
      } else if (LONG_FLAGS.has(name) && eq < 0) set(name, true);
      else throw new UsageError(`grep: unknown option ${arg}`);
      continue;
    }
    for (const c of arg.slice(1)) {
      const name = SHORT[c];
      if (!name) throw new UsageError(`grep: unknown option -${c}`);
      set(name, true);
    }
  }
  return { command: 'grep', operands, options };
}

/** What one operand searches: a folder (its notes), or one note (given as `x.md.enc` or as `x.md`). */
function target(operand: string): { root: string; encFile?: string; ageFile?: string; dotenvxFile?: string } {
  const stat = (p: string) => { try { return fs.statSync(p); } catch { return undefined; } };
  const s = stat(operand);
  if (s?.isDirectory()) return { root: operand };
  if (s?.isFile() && isEncPath(operand)) return { root: path.dirname(operand), encFile: operand };
  if (s?.isFile() && hasAgeName(operand)) return { root: path.dirname(operand), ageFile: operand };
  if (s?.isFile() && hasDotenvName(operand) && headIsDotenvx(operand)) return { root: path.dirname(operand), dotenvxFile: operand };
  if (!s && stat(operand + ENC_SUFFIX)?.isFile()) return { root: path.dirname(operand), encFile: operand + ENC_SUFFIX };
  if (s?.isFile()) throw new UsageError(`${operand} is not an encrypted note (.enc)`);
  throw Object.assign(new Error(`${operand}: No such file or directory`), { code: 'ENOENT', syscall: 'stat' });
}

/** Whether a regular file's first bytes hold a dotenvx DOTENV_PUBLIC_KEY line (read through safe-open later). */
function headIsDotenvx(file: string): boolean {
  let fd: number;
  try { fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0)); } catch { return false; }
  try {
    const head = Buffer.alloc(DOTENVX_HEAD_BYTES);
    return looksLikeDotenvxText(head.subarray(0, fs.readSync(fd, head, 0, head.length, 0)).toString('latin1'));
  } catch { return false; } finally { fs.closeSync(fd); }
}

function globList(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return typeof v === 'string' ? v.split('\n').join(',') : undefined;
}

export async function grepCommand(ctx: CliContext): Promise<number> {
  const { args } = ctx;
  const [pattern, ...operands] = args.operands;
  if (pattern === undefined) throw new UsageError('grep: missing PATTERN');
  const on = (name: string) => args.options.has(name);
  const base: SearchQuery = {
    pattern, isRegex: !on('fixed-strings'), matchCase: !on('ignore-case'), wholeWord: on('word-regexp'),
    include: globList(args, 'include'), exclude: globList(args, 'exclude'), maxResults: Number.MAX_SAFE_INTEGER,
  };
  if (pattern === '') throw new UsageError('grep: the pattern is empty');
  type Target = { operand: string; root: string; encFile?: string; ageFile?: string; dotenvxFile?: string; sopsFile?: string; error?: undefined } | { operand: string; error: Error };
  const targets = await Promise.all((operands.length ? operands : ['.']).map(async (o): Promise<Target> => {
    try { return { operand: o, ...target(o) }; } catch (e) {
      // A sops file named on the command line (its metadata, at its end, says so).
      if (e instanceof UsageError && await isSopsFile(o)) return { operand: o, root: path.dirname(o), sopsFile: o };
      return { operand: o, error: e as Error };
    }
  }));
  for (const t of targets) if ('error' in t && t.error instanceof UsageError) throw t.error;
  let found = false;
  let failed = false;
  let closed = false;
  let out = Promise.resolve();
  const print = (text: string) => {
    out = out.then(() => (closed ? undefined : writeToStdout(ctx.stdout, Buffer.from(text)))).catch(e => {
      if (e instanceof StdoutClosed) { closed = true; return; }
      throw e;
    });
  };
  const shown = (t: { operand: string; root: string; encFile?: string }, note: NoteFile) =>
    t.encFile ?? path.join(t.operand, path.relative(t.root, note.encPath));
  const unverified = new Map<string, string>();
  await withFileKeys(ctx, async keys => {
    for (const t of targets) {
      if ('error' in t && t.error) { ctx.note(`noteseal: grep: ${t.error.message}`); failed = true; continue; }
      if (closed) break;
      const single = t.ageFile ?? t.dotenvxFile ?? t.sopsFile;
      if (single) {
        // One age, dotenvx or sops file named on the command line (an age passphrase file is asked for its passphrase here).
        try {
          const lines = t.sopsFile ? await grepSopsFile(ctx, single, base, keys)
            : t.dotenvxFile ? await grepDotenvxFile(ctx, single, base, keys) : await grepAgeFile(ctx, single, base, keys);
          if (lines.length) {
            found = true;
            if (on('files-with-matches')) print(`${single}\n`);
            else if (on('count')) print(`${single}:${lines.length}\n`);
            else print(lines.map(l => `${single}:${l.line + 1}:${l.text}\n`).join(''));
          }
        } catch (e) {
          if (!isNoteSealError(e)) throw e;
          ctx.note(`noteseal: grep: ${e.message}`);
          failed = true;
        }
        await out;
        continue;
      }
      const summary = await runSearch({
        query: t.encFile ? { ...base, include: `./${path.basename(t.encFile)}`, exclude: undefined } : base,
        roots: [t.root], contextLines: 0, previewChars: Infinity, concurrency: 8,
        open: async encPath => {
          if (isAgePath(encPath)) return openAgeInFolder(ctx, encPath, keys, unverified);
          if (hasDotenvName(encPath)) return openDotenvxInFolder(ctx, encPath, keys, unverified);
          // The writer is judged as the note is read (its key commitment needs the key); warned about on a match.
          const kept = keepingDataKey(keys.unwrap);
          try {
            const text = await decryptNote(encPath, kept.unwrap);
            const { stanzas } = await readHeaderFromFile(encPath);
            const verdict = await writerVerdict(ctx, encPath, stanzas, { dataKey: kept.dataKey() }).catch(() => null);
            if (verdict && !verdict.authentic) unverified.set(path.resolve(encPath), verdict.warning!);
            return text;
          } finally { kept.wipe(); }
        },
        isCancelled: () => closed,
        onFile: (r, note) => {
          found = true;
          const name = shown(t, note);
          const warning = unverified.get(path.resolve(note.encPath));
          if (warning) ctx.note(`noteseal: grep: warning: ${warning}`);
          if (on('files-with-matches')) print(`${name}\n`);
          else if (on('count')) print(`${name}:${r.lines.length}\n`);
          else print(r.lines.map(l => `${name}:${l.line + 1}:${l.text}\n`).join(''));
        },
      }).catch(e => { throw e instanceof QueryError ? new UsageError(`grep: ${e.message}`) : e; });
      for (const f of summary.failed) {
        ctx.note(`noteseal: grep: ${t.encFile ?? path.join(t.operand, path.relative(t.root, sealedFileOf(f.path)))}: ${f.message}`);
        failed = true;
      }
      await out;
    }
  });
  await out;
  if (failed) return GrepExit.ERROR;
  return found ? GrepExit.FOUND : GrepExit.NONE;
}

/** The file the search took for a logical path (the walk's rule: `x.enc`, else `x.age`; a dotenvx file is its own). */
function sealedFileOf(logical: string): string {
  if (hasDotenvName(logical) && !fs.existsSync(logical + ENC_SUFFIX) && !fs.existsSync(logical + AGE_SUFFIX)) return logical;
  return !fs.existsSync(logical + ENC_SUFFIX) && fs.existsSync(logical + AGE_SUFFIX) ? logical + AGE_SUFFIX : logical + ENC_SUFFIX;
}

/**
 * A dotenvx file met while searching a folder (the walk took it by its DOTENV_PUBLIC_KEY line): its view
 * decrypted with the keys at hand (the environment's private key, else the agent's or the key store's); without
 * one it is listed as not searched. dotenvx has no signatures: warned about on a match.
 */
async function openDotenvxInFolder(ctx: CliContext, file: string, keys: FileKeys, unverified: Map<string, string>): Promise<Buffer> {
  // Read through aboutFile (its errors name the file); the view's own errors not: grep names the file.
  const text = Buffer.from(await dotenvxViewOfText(ctx, await readDotenvxFile(file), keys), 'utf8');
  unverified.set(path.resolve(file), `${file}: ${DOTENVX_NO_WRITER}`);
  return text;
}

/**
 * An age file met while searching a folder: opened with the keys at hand and, as age has no signatures,
 * warned about on a match. A passphrase file is not searched there (one prompt per file, eight at a time,
 * would be no way to ask): it is listed as not searched, and searched when named alone.
 */
async function openAgeInFolder(ctx: CliContext, file: string, keys: FileKeys, unverified: Map<string, string>): Promise<Buffer> {
  const bytes = await readRegularFile(file);
  if (ageFileFacts(bytes).passphrase) throw new NoteSealError('WRONG_KEY', `a passphrase-protected age file: name it alone (noteseal grep PATTERN ${file}) to search it with its passphrase`);
  const text = await openAgeBytesCli(ctx, file, bytes, { keys });
  unverified.set(path.resolve(file), `${file}: ${AGE_NO_WRITER}`);
  return text;
}
