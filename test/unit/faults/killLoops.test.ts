// The kill loops (test/faults/killLoops.ts) in small: a few SIGKILLs of the real worker and of the CLI per
// scenario, so `npm test` catches a regression. `npm run soak` runs the counts of issue 15.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encryptFolderKills, formatKillStats, passwdKills, recordingKills, rotateKills, saveKills, type KillStats,
} from '../../faults/killLoops';

const seed = Number(process.env.NOTESEAL_KILL_SEED ?? 15);
function check(s: KillStats): void {
  console.log(formatKillStats(s));
  assert.deepEqual(s.failures, []);
  assert.ok(s.kills >= 1, 'at least one kill landed mid-operation');
}

describe('kill loops (small)', () => {
  it('worker killed during note saves: every note opens with its old or new content, no plaintext on disk', async () => check(await saveKills(12, seed)));
  it('worker killed during Encrypt Folder: no file lost or torn, originals untouched', async () => check(await encryptFolderKills(4, seed, 20)));
  it('worker killed during recordings: what was sealed recovers as the recorded audio, no key lost', async () => check(await recordingKills(4, seed)));
  it('CLI killed during rotate: the keyfile opens, every file opens', async () => check(await rotateKills(4, seed, 40)));
  it('CLI killed during passphrase changes: the keyfile opens with the old or the new one', async () => check(await passwdKills(6, seed)));
});
