// A workbench whose NoteSeal records from the PulseAudio virtual microphone (scripts/virtual-mic.sh), with a
// keyfile of its own, waiting locked: the set-up of the recording and transcription UI tests.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../host/codeServer.mjs';
import { noteseal, openWorkbench } from './workbench.mjs';

export const vmic = path.join(projectRoot, 'scripts/virtual-mic.sh');

/** Starts the virtual microphone (unless running) and a workbench recording from it; `close()` undoes both. */
export async function openMicWorkbench(tempPrefix, passphrase) {
  const micWasRunning = spawnSync('bash', [vmic, 'status'], { stdio: 'ignore' }).status === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), tempPrefix));
  let wb;
  const close = async () => {
    await wb?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    if (!micWasRunning) spawnSync('bash', [vmic, 'stop'], { stdio: 'ignore' });
  };
  try {
    execFileSync('bash', [vmic, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const pulse = execFileSync('bash', [vmic, 'env'], { encoding: 'utf8' }).trim().replace(/^export PULSE_SERVER=/, '');
    const keyfile = path.join(dir, 'keyfile.json');
    noteseal(keyfile, passphrase, 'init');
    wb = await openWorkbench({ keyfile, env: { PULSE_SERVER: pulse }, settings: { 'noteseal.recording.device': 'virtmic' } });
    await wb.page.locator('.statusbar-item', { hasText: 'NoteSeal: Locked' }).waitFor({ timeout: 60_000 });
    return { wb, page: wb.page, close };
  } catch (e) {
    await close();
    throw e;
  }
}
