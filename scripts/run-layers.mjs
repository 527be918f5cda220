// Runs the named test layers in order, streams their output, and sums their counts into the one line
// CI reads: "N passed, N failed". A layer that fails to report, or runs no test, counts as a failure. A final
// check fails the run when a process the tests started is still alive (scripts/leftoverProcesses.mjs).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ProcessWatch } from './leftoverProcesses.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(root);
const results = path.join(root, 'test-results');
fs.mkdirSync(results, { recursive: true });
const watch = new ProcessWatch();

function run(cmd, args, env = {}) {
  return new Promise(resolve => {
    const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, ...watch.env, ...env } });
    child.on('close', code => resolve(code ?? 1));
    child.on('error', () => resolve(127));
  });
}

function testFiles(dir, re) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).filter(f => re.test(path.basename(String(f)))).map(f => path.join(dir, String(f)))
    .filter(f => !only || only.test(f)).sort();
}

/** node:test with the spec reporter on the console and TAP to a file, whose summary gives the counts. */
async function nodeTest(name, files, extraArgs = []) {
  if (!files.length) return { passed: 0, failed: 0, note: 'no test files' };
  const tap = path.join(results, `${name}.tap`);
  const code = await run(process.execPath, ['--test', ...extraArgs, '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files]);
  return tapCounts(tap, code);
}

/** The counts of a node:test TAP file; a run that exited non-zero counts at least one failure. */
function tapCounts(tap, code) {
  const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
  const count = key => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  const passed = count('pass'); let failed = count('fail') + (count('cancelled') || 0);
  if (Number.isNaN(passed) || Number.isNaN(failed)) return { passed: 0, failed: 1, note: `no TAP summary (exit ${code})` };
  if (code !== 0 && failed === 0) failed = 1;
  return { passed, failed };
}

/**
 * The Windows lane (issue 24): the worker's, key, crypto, vault, agent and CLI unit tests run by the Windows build
 * of Node under Wine, so process.platform is win32 and every win32 code path runs. Wine's limits are handled
 * here, never in product code: the outermost Windows process must not have Linux pipes as stdin/stdout (Wine
 * hangs or loses output), so stdin is /dev/null and the output goes to files printed afterwards. What the
 * lane proves and what only a real Windows machine can: docs/RELIABILITY.md, "Windows".
 */
const WINDOWS_DIRS = ['crypto', 'keys', 'vault', 'agent', 'cli', 'windows'];
/**
 * Not run as win32, each with its reason (printed by the lane, and in docs/RELIABILITY.md, "Windows").
 * Unix by nature: Unix sockets and a second Unix user, `sh`, Debian's /usr/bin/git, setsid; POSIX symbolic links a
 * repository plants (issue 21 §3): git on Windows checks a link out as a plain file unless core.symlinks and
 * Developer Mode allow links, and Wine maps them onto the Linux file system.
 */
const WINDOWS_NOT_RUN = new Map([
  ['agent.test.js', 'Unix sockets, a second Unix user, ss (the pipe agent: windows/agentPipe.test.js)'],
  ['exec.test.js', 'sh, setsid and Unix signals (Windows exec: windows/execCommand.test.js)'],
  ['git.test.js', "Debian's /usr/bin/git and sh (Windows drivers: windows/gitDrivers.test.js)"],
  ['gitCanary.test.js', "Debian's /usr/bin/git and sh"],
  ['grep.test.js', "Debian's /usr/bin/git and sh"],
  ['symlinks.test.js', 'POSIX symbolic links (unproven on Windows: docs/RELIABILITY.md)'],
  ['safeOpen.test.js', 'POSIX symbolic links and O_NOFOLLOW (unproven on Windows: docs/RELIABILITY.md)'],
  ['unlockSlots.test.js', 'a real PKCS#11 token: SoftHSM2 and OpenSC\'s pkcs11-tool (Debian), sh and /dev/fd/3 (issue 28)'],
  ['unlockTpm.test.js', 'a real TPM: swtpm and tpm2-tools (Debian), Linux only (issue 28)'],
  ['ageFiles.test.js', "Debian's age and age-keygen (Linux programs) make and read the files (issue 26)"],
  ['large.test.js', 'a 2 GiB file: 2 minutes under Wine for the same streaming code the smaller win32 tests run'],
  // A folder/name key where the file name alone is not unique.
  ['vault/slots.test.js', 'a real PKCS#11 token (SoftHSM2, pkcs11-tool) and a real TPM (swtpm, tpm2-tools), Linux only (issue 28)'],
  ['vault/sopsFiles.test.js', "Debian's age-keygen makes the test's age identities (the sops format itself runs in formats/ on win32) (issue 27)"],
  ['vault/sopsMerge.test.js', "Debian's age-keygen makes the test's age identities (issue 27)"],
  ['dotenvxFiles.test.js', 'POSIX file modes (0640 kept on save) and Linux watcher events; the dotenvx format itself runs in formats/ on Linux (issue 27)'],
]);
const windowsNotRun = f => WINDOWS_NOT_RUN.has(path.basename(f)) || WINDOWS_NOT_RUN.has(`${path.basename(path.dirname(f))}/${path.basename(f)}`);

async function windowsLane() {
  const setup = spawnSync('bash', ['scripts/setup-windows.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = setup.stdout.trim().split('\n').pop();
  if (setup.status !== 0 || !dir) return { passed: 0, failed: 1, note: 'Windows lane setup failed (scripts/setup-windows.sh)' };
  const files = WINDOWS_DIRS.flatMap(d => testFiles(path.join('out/test/unit', d), /\.test\.js$/))
    .filter(f => !windowsNotRun(f));
  for (const [file, why] of WINDOWS_NOT_RUN) console.log(`# not run as win32: ${file}: ${why}`);
  const tap = path.join(results, 'windows.tap');
  const spec = path.join(results, 'windows.txt');
  fs.rmSync(tap, { force: true });
  const out = fs.openSync(spec, 'w');
  const lane = (testFiles, tapFile, output) => new Promise(resolve => {
    const child = spawn('wine', [path.join(dir, 'node', 'bin', 'node.exe'), '--test', '--test-concurrency=2',
      '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tapFile}`, ...testFiles], {
      stdio: [fs.openSync('/dev/null', 'r'), output, output],
      env: { ...process.env, WINEPREFIX: path.join(dir, 'prefix'), WINEDEBUG: '-all', NOTESEAL_WINE: '1' },
    });
    child.on('close', c => resolve(c ?? 1));
    child.on('error', () => resolve(127));
  });
  const code = await lane(files, tap, out);
  fs.closeSync(out);
  const printed = fs.readFileSync(spec, 'utf8');
  process.stdout.write(printed);
  let r = tapCounts(tap, code);
  const flaky = r.failed > 0 ? wineSpawnFailures(printed, files) : null;
  if (flaky) {
    // Wine's CreateProcess failed (libuv's UNKNOWN for a spawn), not the code under test: those files once more.
    console.log(`# Wine could not start a process ("spawn UNKNOWN") in ${flaky.join(', ')}: run once more`);
    const retryTap = path.join(results, 'windows-retry.tap');
    const retryOut = fs.openSync(path.join(results, 'windows-retry.txt'), 'w');
    const retryCode = await lane(flaky, retryTap, retryOut);
    fs.closeSync(retryOut);
    process.stdout.write(fs.readFileSync(path.join(results, 'windows-retry.txt'), 'utf8'));
    const again = tapCounts(retryTap, retryCode);
    r = { passed: r.passed + (again.failed === 0 ? r.failed : 0), failed: again.failed };
  }
  spawnSync('wineserver', ['-k'], { env: { ...process.env, WINEPREFIX: path.join(dir, 'prefix') } }); // no Wine process outlives the lane
  console.log(`windows: ${r.passed} passed, ${r.failed} failed`);
  return r;
}

/**
 * The lane's files whose every failure is Wine failing to start a process (`spawn UNKNOWN`: libuv's UV_UNKNOWN from
 * CreateProcess, seen once in 13 fresh-machine runs), or null when any failure is something else. From the spec
 * reporter's "failing tests" list: "test at Z:\…\out\test\unit\…\x.test.js:L:C", then the error.
 */
function wineSpawnFailures(specText, files) {
  const list = specText.split('✖ failing tests:').slice(1).join('');
  const entries = list.split(/\n(?=test at )/).filter(e => e.startsWith('test at '));
  if (entries.length === 0) return null;
  const flaky = new Set();
  for (const entry of entries) {
    if (!/Error: spawn UNKNOWN/.test(entry)) return null;
    const at = /^test at (.+?\.test\.js):\d+:\d+/.exec(entry)?.[1]?.replace(/\\/g, '/');
    const file = at && files.find(f => { const unix = f.replace(/\\/g, '/'); return at === unix || at.endsWith('/' + unix); });
    if (!file) return null;
    flaky.add(file);
  }
  return [...flaky];
}

/**
 * The unit layer runs its files two at a time (one per core of a 2-core CI machine: most files spend their time in
 * child processes and single-threaded crypto), except these, which run after the others one at a time as before:
 * each measures memory (a second file's allocations would count against its bound), bounds a duration, shares a
 * real device or service (the virtual microphone, swtpm's ports, SoftHSM2's token), or loads both cores itself
 * (a 2 GiB file). Paths below out/test/unit; a name that matches no file fails the layer.
 */
const UNIT_ALONE = [
  'crypto/memory.test.js', 'crypto/large.test.js', 'formats/ageStream.test.js',            // memory bounds
  'search/engine.test.js', 'search/workerSearch.test.js', 'vault/writeJoin.test.js',        // upper bounds on durations
  'windows/atomicRename.test.js', 'agent/agent.test.js', 'faults/killLoops.test.js',        // idle timeouts, kill timing
  'recording/audio.test.js', 'recording/recorder.test.js', 'recording/captureTools.test.js', // the virtual microphone
  'recording/recordingService.test.js',                                                      // levels and seconds counted
  'vault/slots.test.js', 'cli/unlockSlots.test.js', 'cli/unlockTpm.test.js',                // swtpm and SoftHSM2
  'lib/package.test.js',                                  // rebuilds dist/ (build.mjs): a CLI test beside it read a half-written bundle
];

async function unitLayer() {
  const files = testFiles('out/test/unit', /\.test\.js$/);
  const alone = UNIT_ALONE.map(f => path.join('out/test/unit', f));
  const missing = only ? [] : alone.filter(f => !files.includes(f));
  if (missing.length) return { passed: 0, failed: 1, note: `UNIT_ALONE names files that do not exist: ${missing.join(', ')}` };
  const paired = await nodeTest('unit', files.filter(f => !alone.includes(f)), ['--test-concurrency=2']);
  const single = await nodeTest('unit-alone', files.filter(f => alone.includes(f)), ['--test-concurrency=1']);
  return { passed: paired.passed + single.passed, failed: paired.failed + single.failed, note: [paired.note, single.note].filter(n => n && n !== 'no test files').join('; ') || undefined };
}

const layers = {
  async static() {
    // The type check and the lint each keep one core busy: side by side.
    const [tsc, lint] = await Promise.all([run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.']),
      run(process.execPath, ['node_modules/eslint/bin/eslint.js', '.'])]);
    console.log(tsc === 0 ? 'ok   type check' : 'FAIL type check');
    console.log(lint === 0 ? 'ok   lint' : 'FAIL lint');
    return { passed: (tsc === 0) + (lint === 0), failed: (tsc !== 0) + (lint !== 0) };
  },
  unit: unitLayer,
  ui: () => nodeTest('ui', testFiles('test/ui', /\.test\.mjs$/), ['--test-concurrency=1']),
  windows: windowsLane,
  async integration() {
    const file = path.join(results, 'integration.json');
    fs.rmSync(file, { force: true });
    const code = await run(process.execPath, ['test/host/run-integration.mjs'], { NOTESEAL_RESULT_FILE: file });
    if (!fs.existsSync(file)) return { passed: 0, failed: 1, note: `the suite did not report (exit ${code})` };
    const r = JSON.parse(fs.readFileSync(file, 'utf8'));
    return { passed: r.passed, failed: r.failed || (code !== 0 ? 1 : 0) };
  },
};

// `--only RE`: only the unit and UI test files whose path matches RE (a developer's shortcut; CI runs all).
const argv = process.argv.slice(2);
const only = argv.includes('--only') ? new RegExp(argv.splice(argv.indexOf('--only'), 2)[1]) : undefined;
const names = argv;
let passed = 0, failed = 0;
const summary = [];
for (const name of names) {
  if (!layers[name]) { console.error(`unknown layer ${name}; layers: ${Object.keys(layers).join(', ')}`); process.exit(2); }
  console.log(`\n=== ${name} ===`);
  const t0 = Date.now();
  const r = await layers[name]();
  if (r.passed + r.failed === 0) { r.failed = 1; r.note = 'ran no test'; }
  passed += r.passed; failed += r.failed;
  summary.push(`${name.padEnd(12)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed  ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s${r.note ? '  (' + r.note + ')' : ''}`);
}
const leftovers = await watch.finish();
if (!leftovers.checked) summary.push('processes    not checked (no /proc here)');
else {
  for (const p of leftovers.left) console.log(`left running by the tests (now killed): pid ${p.pid} ${p.command}`);
  summary.push(`processes    ${leftovers.left.length ? `FAIL: ${leftovers.left.length} started by the tests still ran at the end` : 'none left running'}`);
  if (leftovers.left.length) failed++;
}
console.log('\n=== summary ===\n' + summary.join('\n'));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
