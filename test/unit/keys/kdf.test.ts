import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  calibrateKdf, deriveKek, KDF_FLOOR, kdfParamsAcceptable, kdfPolicyFromEnv, PRODUCTION_KDF_POLICY, TEST_KDF_POLICY,
} from '../../../server/src/keys/kdf';

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

  it('refuses parameters below the floor or absurdly high', () => {
    assert.ok(!kdfParamsAcceptable({ m: 32768, t: 3, p: 1 }, KDF_FLOOR));
    assert.ok(!kdfParamsAcceptable({ m: 65536, t: 2, p: 1 }, KDF_FLOOR));
    assert.ok(!kdfParamsAcceptable({ m: 2 ** 40, t: 3, p: 1 }, KDF_FLOOR));
    assert.ok(!kdfParamsAcceptable({ m: 65536.5, t: 3, p: 1 }, KDF_FLOOR));
    assert.ok(kdfParamsAcceptable({ m: 65536, t: 3, p: 1 }, KDF_FLOOR));
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
});
