// Talking to a PKCS#11 token through OpenSC's `pkcs11-tool`, run as a child process. Why a tool and not a
// native binding: the .vsix must work without a compiler and without a prebuilt module per platform, and
// pkcs11-tool is packaged everywhere a token is used (OpenSC on Debian/Fedora/Homebrew/Windows), speaks to
// any module (OpenSC's, Yubico's ykcs11, SoftHSM2's) and keeps the private key inside the token.
//
// Secrets and the child: the PIN goes through the child's environment (`--pin env:NAME`, readable only by this
// user, unlike argv), never a file; the ECDH output comes back through a pipe on fd 3 (`-o /dev/fd/3`), never
// a file. Proven on Linux; macOS has /dev/fd too; on Windows `/dev/fd/3` does not exist (docs/KEYS.md).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { NoteSealError } from '../crypto/errors';
import { toHex } from './bytes';

const PIN_VARIABLE = 'NOTESEAL_PKCS11_PIN';
const TOOL_TIMEOUT_MS = 60_000; // a token may wait for a touch

export interface Pkcs11Target { module: string; token: string }

/** `fd3`: what the tool wrote to its output file (`/dev/fd/3`); `stderr`: everything it printed. */
interface ToolResult { code: number | null; stderr: string; fd3: Buffer }

/** The tool's program: `NOTESEAL_PKCS11_TOOL` (tests, unusual installs) or `pkcs11-tool` on the PATH. */
function toolName(env: NodeJS.ProcessEnv): string {
  return env.NOTESEAL_PKCS11_TOOL ?? 'pkcs11-tool';
}

/**
 * Node's stdio "pipes" are socket pairs, and pkcs11-tool opens its input and output files by name
 * (`/dev/stdin`, `/dev/fd/3`), which a socket cannot be. A tiny `sh` wrapper puts real pipes around it:
 * stdin arrives through `cat |`, the tool's output file is fd 3 (a pipe to the outer `cat`, our stdout), the
 * tool's own messages go to stderr, and its exit status follows as the last stderr line.
 */
const WRAPPER = '{ cat | "$0" "$@" 3>&1 1>&2; echo "noteseal-pkcs11-status:$?" >&2; } | cat';
const STATUS_LINE = /\nnoteseal-pkcs11-status:(\d+)\n?$/;

function runTool(args: string[], opts: { env: NodeJS.ProcessEnv; pin?: Uint8Array; stdin?: Uint8Array }): Promise<ToolResult> {
  const childEnv: NodeJS.ProcessEnv = { ...opts.env };
  delete childEnv[PIN_VARIABLE];
  if (opts.pin) childEnv[PIN_VARIABLE] = Buffer.from(opts.pin).toString('utf8');
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', WRAPPER, toolName(opts.env), ...args], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'], timeout: TOOL_TIMEOUT_MS });
    const out: Buffer[] = []; const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', () => {
      const secret = Buffer.concat(out);
      out.forEach(b => b.fill(0));
      const stderr = '\n' + Buffer.concat(err).toString('utf8');
      const status = STATUS_LINE.exec(stderr);
      const code = status ? Number(status[1]) : null;
      if (code === 127) {
        reject(new NoteSealError('INVALID_ARGUMENT', `${toolName(opts.env)} (OpenSC) is not installed: it is how NoteSeal talks to a PKCS#11 token (Debian: apt install opensc).`));
        return;
      }
      resolve({ code, stderr: stderr.replace(STATUS_LINE, '').trim(), fd3: secret });
    });
    child.stdin.end(opts.stdin ? Buffer.from(opts.stdin) : undefined);
  });
}

interface TokenState { label: string; flags: string }

function parseTokens(listing: string): TokenState[] {
  const tokens: TokenState[] = [];
  for (const block of listing.split(/^Slot \d+/m).slice(1)) {
    const label = /^\s*token label\s*:\s?(.*)$/m.exec(block)?.[1];
    if (label === undefined) continue;
    tokens.push({ label: label.trimEnd(), flags: /^\s*token flags\s*:\s?(.*)$/m.exec(block)?.[1] ?? '' });
  }
  return tokens;
}

async function listTokens(module: string, env: NodeJS.ProcessEnv): Promise<TokenState[]> {
  const result = await runTool(['--module', module, '--list-token-slots'], { env });
  if (result.code !== 0) throw toolError(result, { module, token: '' });
  return parseTokens(result.stderr); // the wrapper sends the tool's own stdout to stderr
}

/** The labels of the tokens the module shows now. */
export async function listTokenLabels(module: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  return (await listTokens(module, env)).map(t => t.label);
}

/** Whether the token answers now (for "the first slot that can work"). Never throws. */
export async function tokenPresent(target: Pkcs11Target, env: NodeJS.ProcessEnv): Promise<boolean> {
  try { return (await listTokens(target.module, env)).some(t => t.label === target.token); } catch { return false; }
}

/** The tries left as the token reports them in its flags (PKCS#11 has no counter, only these three flags). */
async function triesLeft(target: Pkcs11Target, env: NodeJS.ProcessEnv): Promise<string> {
  const flags = (await listTokens(target.module, env).catch(() => [])).find(t => t.label === target.token)?.flags ?? '';
  if (/user PIN locked/.test(flags)) return 'The PIN is now locked: unblock it with the token\'s PUK or SO PIN.';
  if (/user PIN final try/.test(flags)) return 'One try is left before the token locks the PIN.';
  if (/user PIN count low/.test(flags)) return 'Few tries are left before the token locks the PIN.';
  return 'The token does not report how many tries are left.';
}

function toolError(result: ToolResult, target: Pkcs11Target): NoteSealError {
  const why = result.stderr.trim().split('\n').filter(l => l && l !== 'Aborting.').pop() ?? `exit status ${String(result.code)}`;
  if (/No slot with token named|No slot with a token|No slots/.test(result.stderr)) {
    return new NoteSealError('TOKEN_ABSENT', `The token "${target.token}" is not present (plug it in, or check --token).`);
  }
  if (/Private key not found/.test(result.stderr)) {
    return new NoteSealError('WRONG_KEY', `The token "${target.token}" does not hold this slot's key: it is another token with the same label, or the key was deleted.`);
  }
  if (/CKR_PIN_LOCKED/.test(result.stderr)) return new NoteSealError('WRONG_PIN', `The PIN of the token "${target.token}" is locked.`);
  if (/Failed to load pkcs11 module/.test(result.stderr)) {
    return new NoteSealError('INVALID_ARGUMENT', `The PKCS#11 module ${target.module} cannot be loaded (check --module).`);
  }
  return new NoteSealError('INVALID_ARGUMENT', `The token "${target.token}" refused: ${why}`);
}

async function checked(result: ToolResult, target: Pkcs11Target, env: NodeJS.ProcessEnv): Promise<ToolResult> {
  if (result.code === 0) return result;
  result.fd3.fill(0);
  if (/CKR_PIN_INCORRECT/.test(result.stderr)) {
    throw new NoteSealError('WRONG_PIN', `The PIN of the token "${target.token}" is wrong. ${await triesLeft(target, env)}`);
  }
  throw toolError(result, target);
}

const tokenArgs = (t: Pkcs11Target) => ['--module', t.module, '--token-label', t.token];

/**
 * Makes a P-256 key pair on the token for a new slot (private half sensitive and never extractable, usable
 * only to derive) and returns its CKA_ID and public key (DER SubjectPublicKeyInfo).
 */
export async function generateSlotKey(target: Pkcs11Target, label: string, pin: Uint8Array, env: NodeJS.ProcessEnv): Promise<{ keyId: string; publicKey: Uint8Array }> {
  const keyId = toHex(randomBytes(8));
  await checked(await runTool([...tokenArgs(target), '--pin', `env:${PIN_VARIABLE}`, '--keypairgen', '--key-type', 'EC:prime256v1',
    '--id', keyId, '--label', label, '--usage-derive'], { env, pin }), target, env);
  const read = await checked(await runTool([...tokenArgs(target), '--read-object', '--type', 'pubkey', '--id', keyId,
    '--output-file', '/dev/fd/3'], { env }), target, env);
  return { keyId, publicKey: new Uint8Array(read.fd3) };
}

/** ECDH inside the token between its key `keyId` and `peerSpki`: the shared x coordinate (caller wipes). */
export async function deriveOnToken(target: Pkcs11Target, keyId: string, peerSpki: Uint8Array, pin: Uint8Array, env: NodeJS.ProcessEnv): Promise<Uint8Array> {
  const result = await checked(await runTool([...tokenArgs(target), '--pin', `env:${PIN_VARIABLE}`, '--derive', '--mechanism', 'ECDH1-DERIVE',
    '--id', keyId, '--input-file', '/dev/stdin', '--output-file', '/dev/fd/3'], { env, pin, stdin: peerSpki }), target, env);
  if (result.fd3.length !== 32) {
    result.fd3.fill(0);
    throw new NoteSealError('INVALID_ARGUMENT', `The token "${target.token}" gave no 32-byte ECDH result for key ${keyId}.`);
  }
  const secret = new Uint8Array(result.fd3);
  result.fd3.fill(0);
  return secret;
}

