// A second "window" for the keyfile race test: unlocks, then changes the passphrase with a calibration
// that takes NS_CALIBRATE_MS (announced on stdout), so another process can change the keyfile meanwhile.
// Prints one JSON line with the outcome. Bundled to out/test/unit/keys/passwdChild.js.
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';

async function main(): Promise<void> {
  const env = process.env;
  const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  const keyring = new Keyring(env.NS_KEYFILE!, {
    kdf: {
      floor: TEST_KDF_POLICY.floor, targetMs: 1,
      measure: async () => {
        say({ event: 'calibrating' });
        await new Promise(resolve => setTimeout(resolve, Number(env.NS_CALIBRATE_MS)));
        return 1000;   // "too slow already": keep the floor
      },
    },
  });
  await keyring.unlock(env.NS_OLD_PASSPHRASE!);
  try {
    await keyring.changePassphrase(env.NS_NEW_PASSPHRASE!);
    say({ event: 'changed' });
  } catch (e) {
    say({ event: 'refused', code: (e as { code?: string }).code, message: (e as Error).message });
  } finally {
    keyring.lock();
  }
}

main().catch(e => { console.error(e); process.exit(1); });
