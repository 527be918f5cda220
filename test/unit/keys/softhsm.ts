// A real PKCS#11 token for tests: SoftHSM2 (Debian softhsm2, installed by scripts/setup.sh) with a configuration
// of its own in `dir` (a "machine" or a "user"), one token per label, each with the same user PIN. Shared by the
// CLI and worker slot tests and the unlock-slot UI test (through its compiled copy in out/).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const SOFTHSM_PIN = '246810';
const SO_PIN = '13579';

/** Makes `dir/tokens` and `dir/softhsm2.conf` (point SOFTHSM2_CONF at it) and the tokens; returns the conf path. */
export async function softHsm(dir: string, labels: readonly string[], pin = SOFTHSM_PIN): Promise<string> {
  const tokens = path.join(dir, 'tokens');
  await fs.mkdir(tokens, { recursive: true });
  const conf = path.join(dir, 'softhsm2.conf');
  await fs.writeFile(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  for (const label of labels) {
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', SO_PIN],
      { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'pipe' });
  }
  return conf;
}
