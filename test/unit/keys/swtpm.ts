// A real TPM 2.0 for tests: swtpm (Debian swtpm) driven by tpm2-tools, both installed by scripts/setup.sh.
// Each call starts a daemon with its own state folder ("a machine"); the caller kills them (by pid) after.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

/** A TCP port nothing listens on now (also: a TPM address where no TPM answers). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts a swtpm daemon on a free port pair with its state in `state`; returns its TCTI for tpm2-tools and its pid. */
export async function swtpmMachine(state: string): Promise<{ tcti: string; pid: number }> {
  await fs.mkdir(state, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      execFileSync('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${state}`, '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`,
        '--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`, '--flags', 'not-need-init,startup-clear', '--daemon',
        '--pid', `file=${path.join(state, 'pid')}`], { stdio: 'pipe' });
      return { tcti: `swtpm:host=127.0.0.1,port=${port}`, pid: Number((await fs.readFile(path.join(state, 'pid'), 'utf8')).trim()) };
    } catch (e) {
      if (attempt >= 3) throw e; // the port was taken meanwhile: try another
    }
  }
}
