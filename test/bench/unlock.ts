// `node scripts/bench.mjs unlock`: how long an unlock takes per way in (issue 28): the passphrase (Argon2id at
// the production calibration, about a second) against a PKCS#11 unlock slot on a SoftHSM2 token (pkcs11-tool
// doing ECDH in the token) and a TPM slot on swtpm (tpm2-tools: load + RSA-OAEP decrypt), in process, PIN entry
// excluded; then the whole `noteseal decrypt` of a small file each way. Rounds interleaved, medians reported.
// Target: a token or TPM unlock under 500 ms.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Keyring } from '../../server/src/keys/keyring';
import { deriveOnToken, generateSlotKey } from '../../server/src/keys/pkcs11';
import type { Pkcs11Slot } from '../../server/src/keys/slots';
import { createTpmKey, decryptOnTpm } from '../../server/src/keys/tpm';
import type { TpmSlot } from '../../server/src/keys/slots';
import { median } from './stats';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = new TextEncoder().encode('123456');

function wall(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`noteseal ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return performance.now() - t0;
}

let tpmPid = 0;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-bench-unlock-'));
  const f = (name: string) => path.join(dir, name);
  try {
    fs.mkdirSync(f('tokens'));
    fs.writeFileSync(f('softhsm2.conf'), `directories.tokendir = ${f('tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    // A swtpm daemon of its own on a free port (killed below by its pid).
    fs.mkdirSync(f('tpm'));
    const port = 20000 + Math.floor(Math.random() * 20000);
    execFileSync('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${f('tpm')}`, '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`,
      '--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`, '--flags', 'not-need-init,startup-clear', '--daemon', '--pid', `file=${f('tpm/pid')}`]);
    tpmPid = Number(fs.readFileSync(f('tpm/pid'), 'utf8').trim());
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, SOFTHSM2_CONF: f('softhsm2.conf'), NOTESEAL_KEYFILE: f('keyfile.json'),
      TPM2TOOLS_TCTI: `swtpm:host=127.0.0.1,port=${port}` };
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'bench', '--pin', '123456', '--so-pin', '654321'], { env, stdio: 'ignore' });
    fs.writeFileSync(f('pass'), 'bench unlock passphrase', { mode: 0o600 });
    fs.writeFileSync(f('pin'), '123456', { mode: 0o600 });
    const { keyring } = await Keyring.init(f('keyfile.json'), 'bench unlock passphrase'); // production Argon2id
    const target = { module: MODULE, token: 'bench' };
    const key = await generateSlotKey(target, 'noteseal bench', PIN, env);
    await keyring.addPkcs11Slot({ name: 'bench', token: 'bench', ...key });
    await keyring.addTpmSlot({ name: 'tpm', pin: true, ...await createTpmKey(PIN, env) });
    keyring.lock();
    fs.writeFileSync(f('note.md'), 'a small note\n');
    execFileSync(process.execPath, [CLI, 'encrypt', f('note.md')], { env: { ...env, NOTESEAL_PASSPHRASE_FILE: f('pass') }, stdio: 'pipe' });

    const rounds = Number(process.env.NOTESEAL_BENCH_ROUNDS || 7);
    const t = { pass: [] as number[], slot: [] as number[], tpm: [] as number[], cliPass: [] as number[], cliSlot: [] as number[], cliTpm: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      const k = new Keyring(f('keyfile.json'));
      let t0 = performance.now();
      await k.unlock('bench unlock passphrase');
      t.pass.push(performance.now() - t0);
      k.lock();
      t0 = performance.now();
      await k.unlockWithSlot('bench', s => deriveOnToken(target, (s as Pkcs11Slot).keyId, (s as Pkcs11Slot).ephemeralKey, PIN, env));
      t.slot.push(performance.now() - t0);
      k.lock();
      t0 = performance.now();
      await k.unlockWithSlot('tpm', s => decryptOnTpm(s as TpmSlot, PIN, env));
      t.tpm.push(performance.now() - t0);
      k.lock();
      t.cliTpm.push(wall(['decrypt', f('note.md.enc'), '--unlock', 'tpm'], { ...env, NOTESEAL_PIN_FILE: f('pin') }));
      t.cliPass.push(wall(['decrypt', f('note.md.enc'), '--unlock', 'passphrase'], { ...env, NOTESEAL_PASSPHRASE_FILE: f('pass') }));
      t.cliSlot.push(wall(['decrypt', f('note.md.enc'), '--unlock', 'bench', '--module', MODULE], { ...env, NOTESEAL_PIN_FILE: f('pin') }));
    }
    console.log(`\nUnlock per way in, median of ${rounds} (interleaved), PIN entry excluded:`);
    console.log('\n| way in | unlock, in process (ms) | whole `noteseal decrypt` of a small note (ms) |');
    console.log('|---|---|---|');
    console.log(`| passphrase (production Argon2id) | ${median(t.pass).toFixed(0)} | ${median(t.cliPass).toFixed(0)} |`);
    console.log(`| pkcs11 slot (SoftHSM2 via pkcs11-tool, ECDH P-256) | ${median(t.slot).toFixed(0)} | ${median(t.cliSlot).toFixed(0)} |`);
    console.log(`| tpm slot (swtpm via tpm2-tools, RSA-OAEP) | ${median(t.tpm).toFixed(0)} | ${median(t.cliTpm).toFixed(0)} |`);
    console.log(`\n(load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} CPUs; swtpm is a software TPM: a hardware TPM is slower per command)`);
    console.log(`\ntoken unlock < 500 ms: ${median(t.slot) < 500 ? 'MET' : 'MISSED'} (${median(t.slot).toFixed(0)} ms)`);
    console.log(`TPM unlock < 500 ms: ${median(t.tpm) < 500 ? 'MET' : 'MISSED'} (${median(t.tpm).toFixed(0)} ms)`);
  } finally {
    if (tpmPid) { try { process.kill(tpmPid); } catch { /* already gone */ } }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(e => { console.error(e); process.exit(1); });
