// A real git repository (Debian's git) with NoteSeal's drivers, a keyfile and a running `noteseal agent`,
// for the git tests. git finds `noteseal` on the PATH as a user's git would (a launcher in a bin folder
// of the test's own); nothing of the user's git config is read (private HOME, GIT_CONFIG_NOSYSTEM).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CLI, collectOutput, runCli, type Run } from '../agent/cliRunner';

export const PASSPHRASE = 'git test passphrase';

export interface GitRepo {
  root: string;
  /** The working tree. */
  repo: string;
  /** Private TMPDIR of every git and noteseal process. */
  tmp: string;
  env: Record<string, string>;
  git(args: string[], opts?: { env?: Record<string, string>; stdin?: string }): Promise<Run>;
  noteseal(args: string[], opts?: { stdin?: string; env?: Record<string, string> }): Promise<Run>;
  /** Encrypts `text` into `file` (relative to the repo) through the agent, from stdin: no plaintext file. */
  seal(file: string, text: string): Promise<void>;
  /** The plaintext of `file` (relative to the repo) through the agent. */
  open(file: string): Promise<string>;
  startAgent(): Promise<void>;
  lockAgent(): Promise<void>;
  dispose(): Promise<void>;
}

export async function makeGitRepo(name: string): Promise<GitRepo> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `noteseal-git-${name}-`));
  const repo = path.join(root, 'repo');
  const tmp = path.join(root, 'tmp');
  const bin = path.join(root, 'bin');
  for (const d of [repo, tmp, bin, path.join(root, 'run')]) await fs.mkdir(d, { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(bin, 'noteseal'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });
  await fs.writeFile(path.join(root, 'pass'), PASSPHRASE + '\n', { mode: 0o600 });
  const env: Record<string, string> = {
    PATH: `${bin}:/usr/bin:/bin`, HOME: root, TMPDIR: tmp, XDG_RUNTIME_DIR: path.join(root, 'run'),
    NOTESEAL_KEYFILE: path.join(root, 'config', 'keyfile.json'), NOTESEAL_TEST_FAST_KDF: '1',
    GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 't@example.invalid',
    GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 't@example.invalid', GIT_EDITOR: 'true', LC_ALL: 'C',
  };
  const withPass = { NOTESEAL_PASSPHRASE_FILE: path.join(root, 'pass') };
  const git = (args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}) => new Promise<Run>((resolve, reject) => {
    const child = spawn('/usr/bin/git', args, { cwd: repo, detached: true, env: { ...env, ...opts.env }, stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    collectOutput(child).then(resolve, reject);
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  });
  const noteseal = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) => runCli(args, { ...env, ...opts.env }, { cwd: repo, stdin: opts.stdin });
  const r: GitRepo = {
    root, repo, tmp, env, git, noteseal,
    async seal(file, text) {
      const s = await noteseal(['encrypt', '-', '-o', file, '--force'], { stdin: text });
      assert.equal(s.code, 0, s.stderr);
    },
    async open(file) {
      const d = await noteseal(['decrypt', file]);
      assert.equal(d.code, 0, d.stderr);
      return d.stdout;
    },
    async startAgent() {
      const s = await noteseal(['agent', 'start'], { env: withPass });
      assert.equal(s.code, 0, s.stderr);
    },
    async lockAgent() { assert.equal((await noteseal(['agent', 'lock'])).code, 0); },
    async dispose() {
      await noteseal(['agent', 'stop']);
      await fs.rm(root, { recursive: true, force: true });
    },
  };
  const init = await noteseal(['init'], { env: withPass });
  assert.equal(init.code, 0, init.stderr);
  assert.equal((await git(['init', '-q', '-b', 'main'])).code, 0);
  return r;
}

/** Runs git and fails the test on a non-zero exit. */
export async function gitOk(r: GitRepo, ...args: string[]): Promise<string> {
  const g = await r.git(args);
  assert.equal(g.code, 0, `git ${args.join(' ')}: ${g.stderr}${g.stdout}`);
  return g.stdout;
}
