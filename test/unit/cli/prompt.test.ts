// The CLI's no-echo passphrase prompt on a real terminal: `script` gives the CLI a pseudo-terminal as its
// /dev/tty, and the test types into it as a user would, escape sequences included.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { PassphraseLine } from '../../../server/src/cli/secrets';

const CLI = path.resolve(__dirname, '..', '..', '..', '..', 'dist', 'cli.js');
const hasScript = (() => { try { execFileSync('script', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

/** Runs `noteseal init` on a pseudo-terminal; `keys` are typed one entry per prompt. */
async function initAtTerminal(keyfile: string, keys: string[]): Promise<number | null> {
  const child = spawn('script', ['-qec', `${process.execPath} ${CLI} init`, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', NOTESEAL_TEST_FAST_KDF: '1', NOTESEAL_KEYFILE: keyfile, TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let seen = '';
  let prompts = 0;
  child.stdout.on('data', (b: Buffer) => {
    seen += b.toString();
    const count = (seen.match(/passphrase: |confirm: /g) ?? []).length;
    while (prompts < count && prompts < keys.length) child.stdin.write(keys[prompts++]!);
  });
  return new Promise(resolve => child.on('close', code => resolve(code)));
}

describe('the passphrase prompt', () => {
  it('a line editor: arrow keys and other escape sequences are dropped, Backspace and Ctrl-U edit, Ctrl-C cancels', () => {
    const typed = (...chunks: string[]) => {
      const line = new PassphraseLine();
      let state = 'more';
      for (const c of chunks) { state = line.feed(Buffer.from(c, 'utf8')); if (state !== 'more') break; }
      return { state, text: line.take().toString('utf8') };
    };
    assert.deepEqual(typed('ab\x1b[Dc\x1b[1;5Cd\r'), { state: 'done', text: 'abcd' });
    assert.deepEqual(typed('ab\x1b', '[', 'A', 'c\r'), { state: 'done', text: 'abc' }, 'a sequence split across reads');
    assert.deepEqual(typed('a\x1bOPb\x1bxc\r'), { state: 'done', text: 'abc' }, 'F1 (ESC O P) and Alt+x');
    assert.deepEqual(typed('\x1b[200~pasted\x1b[201~\r'), { state: 'done', text: 'pasted' }, 'bracketed paste markers');
    assert.deepEqual(typed('wrong\x15caf\u00e9x\x7f\r'), { state: 'done', text: 'caf\u00e9' });
    assert.deepEqual(typed('caf\u00e9\x7f\x7f\r'), { state: 'done', text: 'ca' }, 'Backspace removes whole characters');
    assert.equal(typed('abc\x03').state, 'cancel');
    assert.equal(typed('\x04').state, 'cancel');
  });

  it('on a real terminal, an arrow key and Ctrl-U do not end up in the passphrase', { skip: !hasScript && 'no script(1)' }, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-prompt-'));
    try {
      const keyfile = path.join(dir, 'keyfile.json');
      const code = await initAtTerminal(keyfile, ['horse\x1b[Dbattery\r', 'oops\x15horsebattery\r']);
      assert.equal(code, 0);
      await new Keyring(keyfile, { kdf: TEST_KDF_POLICY }).unlock('horsebattery');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
