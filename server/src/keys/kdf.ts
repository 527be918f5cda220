// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- an ambient module (no import can name it); it keeps the deep import typed when a build starts from another entry file (the library's types)
/// <reference path="./hash-wasm-argon2.d.ts" />
// Passphrase -> key-encryption key (KEK) with Argon2id. Parameters are calibrated once at setup to about
// one second on this machine and never drop below the floor; they are stored in the keyfile.
import { randomKey } from './bytes';
import { KEY_LENGTH } from './aead';

export interface KdfParams {
  /** Memory in KiB. */
  m: number;
  /** Iterations (passes over memory). */
  t: number;
  /** Lanes. hash-wasm is single-threaded, so more lanes only cost time. */
  p: number;
}

const MiB = 1024;

/** Production minimum: OWASP's floor is lower; this is what an interactive unlock can afford in WASM. */
export const KDF_FLOOR: Readonly<KdfParams> = Object.freeze({ m: 64 * MiB, t: 3, p: 1 });

/** Memory cap for calibration: beyond this a single-threaded unlock hurts other work more than it helps. */
const CALIBRATION_MAX_M = 512 * MiB;

/**
 * Refuse keyfiles asking for more than this: a crafted keyfile must not be able to exhaust memory or stall
 * an unlock. Calibration's real maxima: m = CALIBRATION_MAX_M, and passes grow beyond 3 only once memory is
 * at that cap, by about 3/8 per "floor cost" that fits in the target (t = 10 would need the floor to take
 * under 40 ms, several times faster than WASM Argon2id runs anywhere). At most ~27x the floor's work.
 */
export const KDF_CEILING: Readonly<KdfParams> = Object.freeze({ m: CALIBRATION_MAX_M, t: 10, p: 4 });

/** Tiny parameters for tests only; never chosen unless a caller asks for `TEST_KDF_POLICY`. */
const TEST_FAST_PARAMS: Readonly<KdfParams> = Object.freeze({ m: 64, t: 1, p: 1 });

export const SALT_LENGTH = 16;

/** How a keyfile chooses and accepts KDF parameters. */
export interface KdfPolicy {
  /** Parameters never go below this, neither when chosen nor when read from a keyfile. */
  floor: Readonly<KdfParams>;
  /** Wall time to aim for, in ms; 0 means use the floor without measuring. */
  targetMs: number;
  /** Times one derivation with the given parameters, in ms. Injectable so tests need not spend seconds. */
  measure?: (params: KdfParams) => Promise<number>;
}

export const PRODUCTION_KDF_POLICY: Readonly<KdfPolicy> = Object.freeze({ floor: KDF_FLOOR, targetMs: 1000 });
export const TEST_KDF_POLICY: Readonly<KdfPolicy> = Object.freeze({ floor: TEST_FAST_PARAMS, targetMs: 0 });

/** The one place an environment variable may weaken the KDF: NOTESEAL_TEST_FAST_KDF=1, for test suites. */
export function kdfPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): Readonly<KdfPolicy> {
  return env.NOTESEAL_TEST_FAST_KDF === '1' ? TEST_KDF_POLICY : PRODUCTION_KDF_POLICY;
}

/** Argon2id in this thread (hash-wasm keeps its instance, and so its memory, for the life of the process). */
async function deriveHere(passphrase: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Uint8Array> {
  // Loaded on first use: hash-wasm takes ~7 ms to load, which a CLI served by the agent never needs. Only
  // its Argon2 build (30 KB), not the package's index, which holds every algorithm it has (270 KB, 40 % of
  // the CLI bundle that every command compiles at start).
  const { argon2id } = await import('hash-wasm/dist/argon2.umd.min.js');
  return argon2id({
    password: passphrase, salt,
    memorySize: params.m, iterations: params.t, parallelism: params.p,
    hashLength: KEY_LENGTH, outputType: 'binary',
  });
}

// hash-wasm's Argon2 build, as text, put in by the build (scripts/build.mjs); absent under plain tsc.
declare const __NOTESEAL_ARGON2_UMD__: string | undefined;

/** From this much memory on (KiB), Argon2id runs in a thread of its own: every production unlock (the floor is 64 MiB). */
const THREAD_FROM_M = 16 * MiB;

/**
 * Argon2id in a thread that ends as soon as the key is derived: hash-wasm keeps its WebAssembly memory (the
 * KDF's m, 64 MiB and more) for as long as its instance lives, which in this thread is the whole process;
 * ending the thread returns it at once. A CLI command then works on its file without the KDF's memory
 * (peak RSS, docs/ARCHITECTURE.md), and the long-lived extension worker does not keep it after an unlock.
 * The thread gets a copy of the passphrase and wipes it; the key comes back in a transferred buffer.
 */
const KDF_THREAD = `
const { parentPort } = require('node:worker_threads');
const hashwasm = (function () { const module = { exports: {} }; const exports = module.exports; /*UMD*/; return module.exports; })();
parentPort.once('message', async ({ password, salt, m, t, p, hashLength }) => {
  try {
    const key = await hashwasm.argon2id({ password, salt, memorySize: m, iterations: t, parallelism: p, hashLength, outputType: 'binary' });
    parentPort.postMessage({ key }, [key.buffer]);
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
  } finally {
    password.fill(0);
  }
});
`;

async function deriveInThread(umd: string, passphrase: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Uint8Array> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use: a command served by the agent never derives
  const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
  const w = new Worker(KDF_THREAD.replace('/*UMD*/', () => umd), { eval: true });
  const password = Uint8Array.from(passphrase); // the thread's own copy, wiped there
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      w.once('message', (r: { key?: Uint8Array; error?: string }) => (r.key ? resolve(new Uint8Array(r.key)) : reject(new Error(`Argon2id: ${r.error}`))));
      w.once('error', reject);
      w.once('exit', code => reject(new Error(`the Argon2id thread ended (${code})`)));
      w.postMessage({ password, salt: Uint8Array.from(salt), m: params.m, t: params.t, p: params.p, hashLength: KEY_LENGTH }, [password.buffer]);
    });
  } finally {
    if (password.byteLength > 0) password.fill(0); // transferred (detached, length 0) unless the post failed
    await w.terminate();
  }
}

export async function deriveKek(passphrase: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Uint8Array> {
  const umd = typeof __NOTESEAL_ARGON2_UMD__ === 'string' ? __NOTESEAL_ARGON2_UMD__ : undefined;
  if (umd && params.m >= THREAD_FROM_M) return deriveInThread(umd, passphrase, salt, params);
  return deriveHere(passphrase, salt, params);
}

async function timeOneDerivation(params: KdfParams): Promise<number> {
  // Warm up first: compiling the WASM module on the first call would otherwise count as KDF time.
  // Both in this thread, so the warm-up compiles the instance that is timed (a thread would add its start).
  (await deriveHere(new Uint8Array(1), randomKey(SALT_LENGTH), { m: 8, t: 1, p: 1 })).fill(0);
  const start = process.hrtime.bigint();
  const kek = await deriveHere(new Uint8Array(16), randomKey(SALT_LENGTH), params);
  kek.fill(0);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Picks parameters costing about `targetMs`: measures once at the floor, then grows memory (powers of two,
 * up to a cap) and then passes, assuming time is proportional to m*t. Never returns less than the floor.
 */
export async function calibrateKdf(policy: Readonly<KdfPolicy> = PRODUCTION_KDF_POLICY): Promise<KdfParams> {
  const floor = { ...policy.floor };
  if (policy.targetMs <= 0) return floor;
  const measured = await (policy.measure ?? timeOneDerivation)(floor);
  const budget = policy.targetMs / Math.max(measured, 1); // how many "floors" fit in the target
  if (!(budget > 1)) return floor;
  let m = floor.m;
  while (m * 2 <= CALIBRATION_MAX_M && (m * 2) / floor.m <= budget) m *= 2;
  const t = Math.max(floor.t, Math.floor((budget * floor.t * floor.m) / m));
  return { m, t: Math.min(t, KDF_CEILING.t), p: floor.p };
}

/** True when params are within [floor, ceiling] and satisfy Argon2's own rule m >= 8p. */
export function kdfParamsAcceptable(params: KdfParams, floor: Readonly<KdfParams>): boolean {
  const ints = [params.m, params.t, params.p].every(n => Number.isSafeInteger(n) && n > 0);
  return ints
    && params.m >= floor.m && params.t >= floor.t && params.p >= floor.p
    && params.m <= KDF_CEILING.m && params.t <= KDF_CEILING.t && params.p <= KDF_CEILING.p
    && params.m >= 8 * params.p;
}
