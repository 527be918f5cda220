// The soak run's kill loops and load (issue 15): `node scripts/bench.mjs kill load` (part of `npm run soak`).
// Counts from the issue unless NOTESEAL_SOAK_SCALE (0..1) shrinks them; NOTESEAL_LOAD_NOTES sets the workspace.
import { encryptFolderKills, formatKillStats, passwdKills, recordingKills, rotateKills, saveKills, type KillStats } from '../faults/killLoops';
import { loadRun } from '../faults/load';

async function kills(): Promise<number> {
  const scale = Number(process.env.NOTESEAL_SOAK_SCALE ?? 1);
  const n = (count: number) => Math.max(1, Math.round(count * scale));
  const seed = Number(process.env.NOTESEAL_KILL_SEED ?? Date.now() % 2 ** 31);
  console.log(`kill loops: seed ${seed}`);
  const all: KillStats[] = [];
  for (const run of [
    () => saveKills(n(500), seed),
    () => rotateKills(n(50), seed + 1, 200),
    () => encryptFolderKills(n(50), seed + 2, 40),
    () => recordingKills(n(50), seed + 3),
    () => passwdKills(n(50), seed + 4),
  ]) {
    const s = await run();
    all.push(s);
    console.log(formatKillStats(s));
    for (const f of s.failures.slice(0, 10)) console.log(`  FAILURE ${f}`);
  }
  const sum = (k: 'runs' | 'kills' | 'filesChecked') => all.reduce((a, s) => a + s[k], 0);
  const failures = all.reduce((a, s) => a + s.failures.length, 0);
  console.log(`kill loops total: ${sum('runs')} runs, ${sum('kills')} kills mid-operation, ${sum('filesChecked')} files checked, ${failures} failures`);
  return failures;
}

async function load(): Promise<number> {
  const notes = Number(process.env.NOTESEAL_LOAD_NOTES ?? 10_000);
  console.log(`load: ${notes} notes`);
  const f = await loadRun(notes);
  for (const l of f.lines) console.log(l);
  for (const x of f.failures) console.log(`  FAILURE ${x}`);
  console.log(`load: ${f.failures.length} failures`);
  return f.failures.length;
}

const which = process.argv[2];
(which === 'load' ? load() : kills()).then(failures => { process.exitCode = failures ? 1 : 0; }, e => { console.error(e); process.exitCode = 1; });
