import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  calibrateKdf, deriveKek, KDF_FLOOR, kdfParamsAcceptable, kdfPolicyFromEnv, PRODUCTION_KDF_POLICY, TEST_KDF_POLICY,
} from '../../../server/src/keys/kdf';
import { VaultService } from '../../../server/src/vault/vaultService';
import { newKeyring, PASSPHRASE } from './helpers';

describe('KDF parameters', () => {
  it('the production floor is m=64 MiB, t=3, p=1', () => {
    assert.deepEqual({ ...KDF_FLOOR }, { m: 65536, t: 3, p: 1 });
    assert.equal(PRODUCTION_KDF_POLICY.floor, KDF_FLOOR);
    assert.equal(PRODUCTION_KDF_POLICY.targetMs, 1000);
  });

  it('calibration never goes below the floor, however slow the machine', async () => {
    for (const ms of [0.5, 50, 270, 999, 1000, 5000, 60000]) {
      const params = await calibrateKdf({ ...PRODUCTION_KDF_POLICY, measure: async () => ms });
      assert.ok(params.m >= KDF_FLOOR.m && params.t >= KDF_FLOOR.t && params.p >= KDF_FLOOR.p, `measure=${ms}`);
      assert.ok(kdfParamsAcceptable(params, KDF_FLOOR));
    }
  });

  it('calibration grows memory, then passes, to about the target', async () => {
    const measured: unknown[] = [];
    // A machine where the floor costs 270 ms (like the reference box): ~1 s means 4x the work.
    const params = await calibrateKdf({
      ...PRODUCTION_KDF_POLICY,
      measure: async p => { measured.push(p); return 270; },
    });
    assert.deepEqual(measured, [{ ...KDF_FLOOR }], 'measures once, at the floor');
    assert.equal(params.m, 128 * 1024);
    const cost = (params.m * params.t) / (KDF_FLOOR.m * KDF_FLOOR.t) * 270;
    assert.ok(cost > 700 && cost <= 1000, `estimated ${cost} ms`);
  });

  it('the test override is opt-in and only through NOTESEAL_TEST_FAST_KDF=1', async () => {
    assert.equal(kdfPolicyFromEnv({}), PRODUCTION_KDF_POLICY);
    assert.equal(kdfPolicyFromEnv({ NOTESEAL_TEST_FAST_KDF: 'yes' }), PRODUCTION_KDF_POLICY);
    assert.equal(kdfPolicyFromEnv({ NOTESEAL_TEST_FAST_KDF: '1' }), TEST_KDF_POLICY);
    assert.deepEqual(await calibrateKdf(TEST_KDF_POLICY), { ...TEST_KDF_POLICY.floor });
  });

  it('the worker ignores NOTESEAL_TEST_FAST_KDF: its vault keeps the production floor', async () => {
    const { keyring, keyfile } = await newKeyring();   // a keyfile with the weak test parameters
    keyring.lock();
    process.env.NOTESEAL_TEST_FAST_KDF = '1';
    try {
      const vault = new VaultService(keyfile, { get: async () => null, store: async () => {}, delete: async () => {} });
      await assert.rejects(vault.unlock(PASSPHRASE, false), (e: Error & { code?: string }) => e.code === 'DAMAGED_KEYFILE' && /minimum/.test(e.message));
    } finally {
      delete process.env.NOTESEAL_TEST_FAST_KDF;
    }
  });

  it('refuses parameters below the floor or absurdly high', () => {
    assert.ok(!kdfParamsAcceptable({ m: 32768, t: 3, p: 1 }, KDF_FLOOR));
    assert.ok(!kdfParamsAcceptable({ m: 65536, t: 2, p: 1 }, KDF_FLOOR));
    assert.ok(!kdfParamsAcceptable({ m: 2 ** 40, t: 3, p: 1 }, KDF_FLOOR));
    assert.ok(!kdfParamsAcceptable({ m: 65536.5, t: 3, p: 1 }, KDF_FLOOR));
    assert.ok(kdfParamsAcceptable({ m: 65536, t: 3, p: 1 }, KDF_FLOOR));
  });

  it('the ceiling is just above what calibration can produce (a crafted keyfile cannot stall the unlock)', async () => {
    const fastest = await calibrateKdf({ ...PRODUCTION_KDF_POLICY, measure: async () => 0.001 });
    assert.ok(kdfParamsAcceptable(fastest, KDF_FLOOR), JSON.stringify(fastest));
    assert.equal(fastest.m, 512 * 1024);
    assert.ok(kdfParamsAcceptable({ m: 512 * 1024, t: 10, p: 1 }, KDF_FLOOR));
    assert.ok(!kdfParamsAcceptable({ m: 4096 * 1024, t: 64, p: 1 }, KDF_FLOOR), 'the old ceiling');
    assert.ok(!kdfParamsAcceptable({ m: 1024 * 1024, t: 3, p: 1 }, KDF_FLOOR), 'more memory than calibration uses');
    assert.ok(!kdfParamsAcceptable({ m: 65536, t: 11, p: 1 }, KDF_FLOOR), 'more passes than calibration reaches');
  });

  it('derives a deterministic 32-byte KEK (Argon2id, tiny params)', async () => {
    const salt = new Uint8Array(16).fill(7);
    const a = await deriveKek(new TextEncoder().encode('pw'), salt, { m: 64, t: 1, p: 1 });
    const b = await deriveKek(new TextEncoder().encode('pw'), salt, { m: 64, t: 1, p: 1 });
    const c = await deriveKek(new TextEncoder().encode('pW'), salt, { m: 64, t: 1, p: 1 });
    assert.equal(a.length, 32);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('a production-sized derivation runs in a thread that returns its memory, and gives the same key as in this thread', async () => {
    // hash-wasm keeps its WebAssembly memory (m) for as long as its instance lives: in this thread, for the
    // whole process. From 16 MiB on deriveKek runs it in a thread that ends with the derivation.
    const salt = new Uint8Array(16).fill(9);
    const pw = new TextEncoder().encode('production-sized');
    const params = { m: 64 * 1024, t: 1, p: 1 };
    const before = process.memoryUsage().rss;
    const key = await deriveKek(pw, salt, params);
    const grew = (process.memoryUsage().rss - before) / 2 ** 20;
    assert.ok(grew < 32, `the process kept ${grew.toFixed(0)} MiB after a 64 MiB derivation`);
    assert.deepEqual(pw, new TextEncoder().encode('production-sized'), 'the caller\'s passphrase is left as it was');
    const { argon2id } = await import('hash-wasm/dist/argon2.umd.min.js');
    const here = await argon2id({ password: pw, salt, memorySize: params.m, iterations: params.t, parallelism: params.p, hashLength: 32, outputType: 'binary' });
    assert.deepEqual(key, here);
  });
});
