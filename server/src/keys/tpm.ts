// Talking to this machine's TPM 2.0 through tpm2-tools (Debian `tpm2-tools`; swtpm in the tests), as child
// processes: no native module in the .vsix. The TPM is found as tpm2-tools finds it (TPM2TOOLS_TCTI, else
// /dev/tpmrm0). A slot's key is an RSA-2048 decryption key under the owner hierarchy's ECC primary key, which
// the TPM re-derives from its owner seed: the key's private blob loads into this TPM only, and no longer once the
// TPM is cleared. The PIN is the key's auth value, passed on stdin (`-p file:-`), never in argv or a file; the
// TPM's dictionary-attack lockout limits guessing. The decrypted slot key comes back on stdout (a pipe).
// Scratch files (TPM contexts, which the TPM encrypts, and public blobs) live in a private temp folder.
import { spawn } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NoteSealError } from '../crypto/errors';
import type { TpmSlot } from './slots';

const TOOL_TIMEOUT_MS = 30_000;
const KEY_ATTRIBUTES = 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt';

interface Result { code: number | null; stdout: Buffer; stderr: string }

function run(tool: string, args: string[], env: NodeJS.ProcessEnv, stdin?: Uint8Array): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: TOOL_TIMEOUT_MS });
    const out: Buffer[] = []; let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => { err += b.toString('utf8'); });
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT'
      ? new NoteSealError('INVALID_ARGUMENT', `${tool} is not installed: NoteSeal talks to the TPM through tpm2-tools (Debian: apt install tpm2-tools).`)
      : e));
    child.on('close', code => {
      const stdout = Buffer.concat(out);
      out.forEach(b => b.fill(0));
      resolve({ code, stdout, stderr: err });
    });
    child.stdin.end(stdin ? Buffer.from(stdin) : undefined);
  });
}

/** Without a resource manager (swtpm, /dev/tpm0) every loaded object stays loaded: flush the transient ones. */
async function flush(env: NodeJS.ProcessEnv): Promise<void> {
  await run('tpm2_flushcontext', ['-t'], env).catch(() => undefined);
}

async function step(tool: string, args: string[], env: NodeJS.ProcessEnv, stdin?: Uint8Array): Promise<Result> {
  const r = await run(tool, args, env, stdin);
  await flush(env);
  return r;
}

async function inScratch<T>(fn: (f: (name: string) => string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-tpm-'));
  try { return await fn(name => path.join(dir, name)); } finally { await fs.rm(dir, { recursive: true, force: true }); }
}

function tpmError(r: Result, what: string): NoteSealError {
  const why = r.stderr.split('\n').filter(l => /ERROR/.test(l)).pop()?.replace(/^ERROR:\s*/, '') ?? `exit status ${String(r.code)}`;
  if (/Failed to initialize tcti|tcti|Connection refused|No such file or directory.*tpm/i.test(r.stderr) && !/Esys_/.test(r.stderr)) {
    return new NoteSealError('TOKEN_ABSENT', `The TPM does not answer (${why}).`);
  }
  return new NoteSealError('INVALID_ARGUMENT', `The TPM refused ${what}: ${why}`);
}

async function createPrimary(f: (n: string) => string, env: NodeJS.ProcessEnv): Promise<void> {
  await flush(env);
  const r = await step('tpm2_createprimary', ['-C', 'o', '-G', 'ecc', '-c', f('primary.ctx'), '-Q'], env);
  if (r.code !== 0) throw tpmError(r, 'to make its owner primary key');
}

/** Whether a TPM answers now (for "the first slot that can work"). Never throws. */
export async function tpmPresent(env: NodeJS.ProcessEnv): Promise<boolean> {
  try { return (await run('tpm2_getcap', ['properties-fixed'], env)).code === 0; } catch { return false; }
}

/** Makes the slot's RSA-2048 key in the TPM (with `pin` as its auth value, if given). */
export async function createTpmKey(pin: Uint8Array | null, env: NodeJS.ProcessEnv): Promise<{ tpmPublic: Uint8Array; tpmPrivate: Uint8Array; publicKey: Uint8Array }> {
  return inScratch(async f => {
    await createPrimary(f, env);
    const created = await step('tpm2_create', ['-C', f('primary.ctx'), '-G', 'rsa2048', '-a', KEY_ATTRIBUTES,
      ...(pin ? ['-p', 'file:-'] : []), '-u', f('key.pub'), '-r', f('key.priv'), '-Q'], env, pin ?? undefined);
    if (created.code !== 0) throw tpmError(created, 'to make a key');
    const loaded = await step('tpm2_load', ['-C', f('primary.ctx'), '-u', f('key.pub'), '-r', f('key.priv'), '-c', f('key.ctx'), '-Q'], env);
    if (loaded.code !== 0) throw tpmError(loaded, 'to load the new key');
    const read = await step('tpm2_readpublic', ['-c', f('key.ctx'), '-f', 'pem', '-o', f('key.pem'), '-Q'], env);
    if (read.code !== 0) throw tpmError(read, 'to show the key\'s public half');
    const spki = createPublicKey(await fs.readFile(f('key.pem'), 'utf8')).export({ format: 'der', type: 'spki' });
    return {
      tpmPublic: new Uint8Array(await fs.readFile(f('key.pub'))),
      tpmPrivate: new Uint8Array(await fs.readFile(f('key.priv'))),
      publicKey: new Uint8Array(spki),
    };
  });
}

async function lockoutReport(env: NodeJS.ProcessEnv): Promise<string> {
  // Both are "variable" properties: `TPM2_PT_LOCKOUT_COUNTER: 0x1`, `TPM2_PT_MAX_AUTH_FAIL: 0x3`.
  const variable = (await run('tpm2_getcap', ['properties-variable'], env).catch(() => null))?.stdout.toString('utf8') ?? '';
  const used = /TPM2_PT_LOCKOUT_COUNTER:\s*(0x[0-9a-fA-F]+|\d+)/.exec(variable)?.[1];
  const max = /TPM2_PT_MAX_AUTH_FAIL:\s*(0x[0-9a-fA-F]+|\d+)/.exec(variable)?.[1];
  if (used === undefined || max === undefined) return 'The TPM does not say how many tries are left.';
  const left = Number(max) - Number(used);
  return `${left} of ${Number(max)} tries are left before the TPM locks out (it forgives one failure at a time as time passes).`;
}

/** Asks the TPM to decrypt the slot key K. Caller wipes the result. */
export async function decryptOnTpm(slot: TpmSlot, pin: Uint8Array | null, env: NodeJS.ProcessEnv): Promise<Uint8Array> {
  return inScratch(async f => {
    await fs.writeFile(f('key.pub'), slot.tpmPublic);
    await fs.writeFile(f('key.priv'), slot.tpmPrivate);
    await fs.writeFile(f('sealed.bin'), slot.sealedKey);
    await createPrimary(f, env);
    const loaded = await step('tpm2_load', ['-C', f('primary.ctx'), '-u', f('key.pub'), '-r', f('key.priv'), '-c', f('key.ctx'), '-Q'], env);
    if (loaded.code !== 0) {
      if (/tpm:|Esys_Load/.test(loaded.stderr)) {
        throw new NoteSealError('WRONG_KEY', `The unlock slot "${slot.name}" was sealed to another TPM: this keyfile was copied from another machine, or this TPM was cleared since.`);
      }
      throw tpmError(loaded, 'to load the slot\'s key');
    }
    const r = await step('tpm2_rsadecrypt', ['-c', f('key.ctx'), ...(slot.pin ? ['-p', 'file:-'] : []), '-s', 'oaep', f('sealed.bin')], env, slot.pin ? (pin ?? new Uint8Array()) : undefined);
    if (r.code !== 0) {
      r.stdout.fill(0);
      if (/authorization HMAC check failed|0x98e|0x9a2/i.test(r.stderr)) {
        throw new NoteSealError('WRONG_PIN', `The TPM PIN of the unlock slot "${slot.name}" is wrong. ${await lockoutReport(env)}`);
      }
      if (/lockout/i.test(r.stderr)) throw new NoteSealError('WRONG_PIN', 'The TPM is in dictionary-attack lockout: wait, or reset it with the lockout authorization.');
      throw tpmError(r, 'to decrypt the slot key');
    }
    if (r.stdout.length !== 32) { r.stdout.fill(0); throw new NoteSealError('WRONG_KEY', `The TPM's answer does not open the unlock slot "${slot.name}".`); }
    const key = new Uint8Array(r.stdout);
    r.stdout.fill(0);
    return key;
  });
}
