// Launches NoteSeal for real on the demo workspace (a copy of demo/ in .demo-workspace/, so edits never
// touch the repo). With `code` on the PATH: desktop VS Code with the extension under development.
// Without it: the offline VS Code server on 127.0.0.1 with NoteSeal installed, and the address to open.
// Env: NOTESEAL_PORT (default 8321), NOTESEAL_DEMO_DIR (workspace), NOTESEAL_DEMO_STATE (server state),
// NOTESEAL_DEMO_CHECK=1 (use the offline host even with `code`, check it answers, stop).
import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const workspace = process.env.NOTESEAL_DEMO_DIR || path.join(root, '.demo-workspace');
const stateDir = process.env.NOTESEAL_DEMO_STATE || path.join(os.homedir(), '.cache', 'noteseal', 'demo-state');
const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
// The demo has its own keyfile, never the user's real one.
const keyfile = path.join(stateDir, 'keyfile.json');
const DEMO_PASSPHRASE = 'noteseal demo passphrase';
fs.mkdirSync(stateDir, { recursive: true });
if (!fs.existsSync(workspace)) seedWorkspace();

/** Copies demo/ and encrypts its sample notes with a demo keyfile, so the workspace starts with .enc files. */
function seedWorkspace() {
  fs.cpSync(path.join(root, 'demo'), workspace, { recursive: true });
  const passFile = path.join(stateDir, 'demo-passphrase.txt');
  fs.writeFileSync(passFile, DEMO_PASSPHRASE, { mode: 0o600 });
  const cli = (...args) => execFileSync(process.execPath, [path.join(root, 'dist/cli.js'), ...args, '--keyfile', keyfile],
    { env: { ...process.env, NOTESEAL_PASSPHRASE_FILE: passFile }, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    if (!fs.existsSync(keyfile)) {
      // init prints the recovery key to stdout and its introduction to stderr: a demo key needs neither.
      execFileSync(process.execPath, [path.join(root, 'dist/cli.js'), 'init', '--keyfile', keyfile],
        { env: { ...process.env, NOTESEAL_PASSPHRASE_FILE: passFile }, stdio: 'ignore' });
      console.log(`Created the demo keyfile ${keyfile} (its recovery key is not kept: this is a demo key).`);
    }
    for (const f of fs.readdirSync(workspace, { recursive: true }).map(String)) {
      const p = path.join(workspace, f);
      if (!fs.statSync(p).isFile() || path.basename(p) === 'README.md') continue;
      cli('encrypt', p);
      fs.rmSync(p);
    }
  } finally {
    fs.rmSync(passFile, { force: true });
  }
}

const hasCode = spawnSync('sh', ['-c', 'command -v code'], { stdio: 'ignore' }).status === 0;
if (hasCode && !process.env.NOTESEAL_DEMO_CHECK) {
  console.log(`Opening VS Code on ${workspace} with NoteSeal ${version} under development…\nThe demo passphrase is: ${DEMO_PASSPHRASE}`);
  execFileSync('code', ['--extensionDevelopmentPath', root, workspace], { stdio: 'inherit', env: { ...process.env, NOTESEAL_KEYFILE: keyfile } });
  process.exit(0);
}

const { startServer } = await import('../test/host/codeServer.mjs');
const extensionsDir = path.join(stateDir, 'extensions');
fs.mkdirSync(extensionsDir, { recursive: true });
// Install this checkout as an extension (a link, so a rebuild shows up on reload).
const link = path.join(extensionsDir, `noteseal.noteseal-${version}`);
fs.rmSync(link, { force: true, recursive: false });
fs.symlinkSync(root, link, 'dir');
const port = Number(process.env.NOTESEAL_PORT || 8321);
const host = await startServer({ stateDir, port, extensionsDir, smokeTestDriver: false, settings: { 'git.openRepositoryInParentFolders': 'never' }, env: { NOTESEAL_KEYFILE: keyfile } });
const url = `${host.base}/?folder=${encodeURIComponent(workspace)}`;
console.log(`\nNoteSeal ${version} is running in VS Code (web) on the demo workspace.\nOpen this address in a browser on this machine:\n\n    ${url}\n\nThe demo passphrase is: ${DEMO_PASSPHRASE}\nPress Ctrl+C to stop.`);
const stop = async () => { await host.stop(); process.exit(0); };
process.on('SIGINT', stop); process.on('SIGTERM', stop);
if (process.env.NOTESEAL_DEMO_CHECK) {
  const res = await fetch(url);
  console.log(`[demo-check] GET workbench: HTTP ${res.status}`);
  await stop();
}
