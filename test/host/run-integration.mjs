// Runs the integration suite (out/test/integration/suite) inside a real VS Code extension host through
// @vscode/test-electron's runTests. With VSCODE_EXECUTABLE set (a desktop `code`), that VS Code is used;
// otherwise the offline host (test-host.mjs). Writes the suite's counts to NOTESEAL_RESULT_FILE.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { projectRoot, runSuiteInHost } from './codeServer.mjs';

const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-workspace-'));
// A virtual microphone (PulseAudio null sink) for the recording tests; the worker's capture tool finds it
// through PULSE_SERVER. Failing to start it fails the run: recording is tested with real audio, never skipped.
const vmic = path.join(projectRoot, 'scripts/virtual-mic.sh');
const micWasRunning = spawnSync('bash', [vmic, 'status'], { stdio: 'ignore' }).status === 0;
execFileSync('bash', [vmic, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
const pulseServer = execFileSync('bash', [vmic, 'env'], { encoding: 'utf8' }).trim().replace(/^export PULSE_SERVER=/, '');
fs.cpSync(path.join(projectRoot, 'test/fixtures/workspace'), workspace, { recursive: true });
try {
  await runSuiteInHost({
    testsPath: path.join(projectRoot, 'out/test/integration/suite/index.js'),
    workspace,
    keyfile: path.join(workspace, '..', path.basename(workspace) + '-keyfile.json'),
    env: { NOTESEAL_RESULT_FILE: process.env.NOTESEAL_RESULT_FILE ?? '', PULSE_SERVER: pulseServer },
  });
} catch (err) {
  console.error('integration tests failed:', err.message);
  process.exitCode = 1;
} finally {
  fs.rmSync(workspace, { recursive: true, force: true });
  fs.rmSync(workspace + '-keyfile.json', { force: true });
  fs.rmSync(workspace + '-keyfile.keys', { recursive: true, force: true });
  if (!micWasRunning) spawnSync('bash', [vmic, 'stop'], { stdio: 'ignore' });
}
