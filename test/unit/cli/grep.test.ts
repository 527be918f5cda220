// `noteseal grep` as a user runs it (issue 16): rg-style output, grep's flags and exit codes, with the
// passphrase and through the agent; notes that fail to open are reported and the others still searched;
// nothing is written to disk.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type Run } from '../agent/cliRunner';

const PASSPHRASE = 'grep test passphrase';
let dir: string;
let env: Record<string, string>;
const withPass = () => ({ ...env, NOTESEAL_PASSPHRASE_FILE: path.join(dir, 'pass') });
const ws = () => path.join(dir, 'ws');
const grep = (args: string[], e: Record<string, string> = withPass()) => runCli(['grep', ...args], e, { cwd: ws() });
const errors = (r: Run) => r.stderr.split('\n').filter(l => l && !l.includes('NOTESEAL_TEST_FAST_KDF')).join('\n');

async function note(rel: string, text: string | Buffer): Promise<void> {
  const plain = path.join(dir, 'plain-input');
  await fs.writeFile(plain, text);
  await fs.mkdir(path.dirname(path.join(ws(), rel)), { recursive: true });
  const r = await runCli(['encrypt', plain, '-o', path.join(ws(), rel + '.enc')], withPass());
  assert.equal(r.code, 0, r.stderr);
  await fs.rm(plain);
}

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-grep-'));
  await fs.mkdir(path.join(dir, 'run'), { mode: 0o700 });
  env = { HOME: dir, NOTESEAL_KEYFILE: path.join(dir, 'keyfile.json'), XDG_RUNTIME_DIR: path.join(dir, 'run') };
  await fs.writeFile(path.join(dir, 'pass'), PASSPHRASE + '\n', { mode: 0o600 });
  assert.equal((await runCli(['init'], withPass())).code, 0);
  await note('plan.md', 'The Budget is final\nnothing here\n');
  await note('notes/todo.txt', 'budget two\r\nbudgets everywhere\r\n');
  await note('notes/café.md', 'Ünïcödé budget café\n');
  await note('meetings/talk.wav', 'RIFF budget');
  await note('blob.bin', Buffer.from('budget\0binary'));
});
after(() => fs.rm(dir, { recursive: true, force: true }));

describe('noteseal grep', () => {
  it('prints path:line:text for every matching line, the path being the .enc file; exit 0', async () => {
    const r = await grep(['budget']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'notes/café.md.enc:1:Ünïcödé budget café\nnotes/todo.txt.enc:1:budget two\nnotes/todo.txt.enc:2:budgets everywhere\n');
    assert.equal(errors(r), '', 'recordings and binary notes are skipped quietly');
  });

  it('-i -w -F -l -c -n, --include and --exclude, paths and single notes as operands', async () => {
    // A folder's notes come before its subfolders', each in name order.
    assert.equal((await grep(['-iw', 'budget'])).stdout, 'plan.md.enc:1:The Budget is final\nnotes/café.md.enc:1:Ünïcödé budget café\nnotes/todo.txt.enc:1:budget two\n');
    assert.equal((await grep(['-i', '-l', 'budget', '.'])).stdout, 'plan.md.enc\nnotes/café.md.enc\nnotes/todo.txt.enc\n');
    assert.equal((await grep(['-c', 'budget', 'notes'])).stdout, 'notes/café.md.enc:1\nnotes/todo.txt.enc:2\n');
    assert.equal((await grep(['-n', '-F', 'b.d'])).code, 1, '-F: the dot is a dot');
    assert.equal((await grep(['b.d'])).code, 0, 'a regex by default, as grep');
    assert.equal((await grep(['-i', 'budget', '--include', '*.md', '--exclude=notes'])).stdout, 'plan.md.enc:1:The Budget is final\n');
    assert.equal((await grep(['-i', 'budget', '--include', '*.txt', '--include', 'plan.*'])).stdout.split('\n').length, 4);
    assert.equal((await grep(['-i', 'final', 'plan.md'])).stdout, 'plan.md.enc:1:The Budget is final\n');
    assert.equal((await grep(['everywhere$', 'notes/todo.txt.enc'])).stdout, 'notes/todo.txt.enc:2:budgets everywhere\n', 'CRLF: $ before \\r');
    assert.equal((await grep(['-w', 'café'])).stdout, 'notes/café.md.enc:1:Ünïcödé budget café\n');
  });

  it('exit 1 for no match, 2 for errors: a bad regex, a missing path, a wrong passphrase, a note that does not open', async () => {
    const none = await grep(['no such words']);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, '');
    const bad = await grep(['(']);
    assert.equal(bad.code, 2);
    assert.match(errors(bad), /Invalid regular expression/);
    const missing = await grep(['budget', 'nowhere']);
    assert.equal(missing.code, 2);
    assert.match(errors(missing), /nowhere: No such file or directory/);
    await fs.writeFile(path.join(dir, 'wrong'), 'not the passphrase\n');
    const wrong = await grep(['budget'], { ...env, NOTESEAL_PASSPHRASE_FILE: path.join(dir, 'wrong') });
    assert.equal(wrong.code, 2);
    const enc = await fs.readFile(path.join(ws(), 'plan.md.enc'));
    await fs.writeFile(path.join(ws(), 'torn.md.enc'), enc.subarray(0, enc.length - 5));
    try {
      const torn = await grep(['-i', 'budget']);
      assert.equal(torn.code, 2, 'an error makes it 2, as rg');
      assert.match(errors(torn), /torn\.md\.enc: /);
      assert.match(torn.stdout, /plan\.md\.enc:1:/, 'the other notes are still searched');
      assert.equal((await grep(['-x'])).code, 2, 'an unknown option');
    } finally { await fs.rm(path.join(ws(), 'torn.md.enc')); }
  });

  it('through the agent: no passphrase needed; a locked agent is an error', async () => {
    const start = await runCli(['agent', 'start'], withPass());
    assert.equal(start.code, 0, start.stderr);
    try {
      const r = await grep(['-l', 'budget'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'notes/café.md.enc\nnotes/todo.txt.enc\n');
      assert.equal((await runCli(['agent', 'lock'], env)).code, 0);
      const locked = await grep(['budget'], env);
      assert.equal(locked.code, 2);
      assert.match(errors(locked), /locked/);
    } finally { await runCli(['agent', 'stop'], env); }
  });

  it('leaves nothing on disk: the folder holds only what it held', async () => {
    const before = (await fs.readdir(dir, { recursive: true })).sort();
    await grep(['-i', 'budget']);
    assert.deepEqual((await fs.readdir(dir, { recursive: true })).sort(), before);
  });
});
