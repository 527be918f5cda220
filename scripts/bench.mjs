// `npm run bench`: every benchmark, each printing its figures and ratios against what it is compared
// with in the same run. Installs what it needs first (scripts/setup.sh; the crypto bench runs
// scripts/setup-bench.sh for python3-cryptography and age).
//   1. crypto: the .enc format's streaming API and the CLI vs Python cryptography and age (256 MiB)
//   2. provider: notes through the noteseal: file system vs plain files, inside a real VS Code host
//   3. recording: CPU per audio-second and memory of a long recording from a fast synthetic source
//   4. agent: a 1 KiB `noteseal decrypt` through the agent vs with a passphrase vs age; a large file vs age
//   5. search: 2,000 encrypted notes of 5 KiB: first search after unlock, repeated, regex vs rg, cache memory
//   6. sharing: what 10 recipients add to an open (writer and member) and to a save, with the header size
//   7. worker: notes written and read through the worker alone (no VS Code) vs plain crash-safe files
//   8. age: 256 MiB age files through the CLI vs Debian's age; a 1 MiB .age note opened vs a .enc one
//  10. dotenvx: a dotenvx .env of 200 values opened and saved through the worker vs a .enc of the same text (issue 27)
//  10b. sops: a sops YAML of 1,000 values opened and edited by NoteSeal vs the independent sops-age reader and a .enc of the same text (issue 27)
//   9. unlock: an unlock per way in: the passphrase (production Argon2id) vs a PKCS#11 slot (SoftHSM2) and a TPM slot (swtpm) (issue 28)
//  11. logs: `noteseal append` of 100 MB of log lines vs `cat > file`; the library's streams vs fs streams and the CLI (1 GiB);
//      loadEnv through the agent vs dotenvx's config() (issue 29)
//  12. transcription: PocketSphinx per audio-minute through NoteSeal (sealed, decrypted onto its stdin) vs alone on the plain WAV; the worker's extra memory (issue 31)
// `npm run soak` (node scripts/bench.mjs soak) runs the long reliability runs instead (docs/RELIABILITY.md).
// Run one with: node scripts/bench.mjs crypto|provider|recording|agent|search|sharing|worker|age|dotenvx|sops|unlock|logs|transcription|fuzz|kill|load|activation
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(root);
const hostDir = execFileSync('bash', ['scripts/setup.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
process.env.NOTESEAL_HOST_DIR ||= hostDir;

const benches = {
  crypto: [process.execPath, ['out/test/bench/run.js']],
  provider: [process.execPath, ['test/host/run-bench-host.mjs']],
  recording: [process.execPath, ['out/test/bench/recording.js']],
  agent: [process.execPath, ['out/test/bench/agent.js']],
  search: [process.execPath, ['--expose-gc', 'out/test/bench/search.js']],
  sharing: [process.execPath, ['out/test/bench/sharing.js']],
  worker: [process.execPath, ['out/test/bench/worker.js']],
  age: [process.execPath, ['out/test/bench/age.js']],
  dotenvx: [process.execPath, ['out/test/bench/dotenvx.js']],
  sops: [process.execPath, ['out/test/bench/sops.js']],
  unlock: [process.execPath, ['out/test/bench/unlock.js']],
  logs: [process.execPath, ['out/test/bench/logs.js']],
  transcription: [process.execPath, ['--expose-gc', 'out/test/bench/transcription.js']],
  // The soak run (issue 15; `npm run soak`): fuzzing, kill loops, full/read-only disks, load.
  fuzz: [process.execPath, ['--expose-gc', 'out/test/bench/fuzz.js']],
  kill: [process.execPath, ['out/test/bench/soak.js', 'kill']],
  load: [process.execPath, ['out/test/bench/soak.js', 'load']],
  activation: [process.execPath, ['test/bench/activation.mjs']],
};
/** Not part of a plain `npm run bench` (they take many minutes): `npm run soak` runs them. */
const SOAK = ['fuzz', 'kill', 'load', 'activation'];
const asked = process.argv.slice(2);
const wanted = asked[0] === 'soak' ? SOAK : asked.length ? asked : Object.keys(benches).filter(n => !SOAK.includes(n));
let failed = 0;
for (const name of wanted) {
  const [cmd, args] = benches[name] ?? [];
  if (!cmd) { console.error(`unknown benchmark ${name}: ${Object.keys(benches).join(', ')}`); process.exit(2); }
  const script = args.find(a => !a.startsWith('--'));
  if (!fs.existsSync(script)) { console.error(`skipping ${name}: ${script} was not built`); failed++; continue; }
  console.log(`\n######## ${name} ########`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) { console.error(`${name} benchmark failed (exit ${r.status})`); failed++; }
}
process.exit(failed ? 1 : 0);
