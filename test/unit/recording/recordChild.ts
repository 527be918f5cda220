// A worker-like process for the crash test: records from the virtual microphone and reports progress as
// JSON lines on stdout until it is killed. Bundled to out/test/unit/recording/recordChild.js.
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { Recorder } from '../../../server/src/recording/recorder';

async function main(): Promise<void> {
  const env = process.env;
  const keyring = new Keyring(env.NS_KEYFILE!, { kdf: TEST_KDF_POLICY });
  await keyring.unlock(env.NS_PASSPHRASE!);
  const rec = new Recorder({ keys: keyring, folder: env.NS_FOLDER!, env: { PULSE_SERVER: env.PULSE_SERVER! } });
  const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  rec.on('level', l => say({ event: 'level', seconds: rec.seconds, rms: l.rms }));
  const s = await rec.start({ title: 'crash test', device: env.NS_DEVICE ?? null });
  say({ event: 'started', ...s, toolPid: rec.toolPid });
}

main().catch(e => { console.error(e); process.exit(1); });
