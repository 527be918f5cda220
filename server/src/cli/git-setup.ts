// `noteseal git setup` and `noteseal git check`: the `.gitattributes` lines and the repository's local git
// config that make git diff and merge `.enc` files through NoteSeal.
//
// The repository is not trusted. A committed `.gitattributes` can only *name* a driver (`diff=noteseal`);
// the commands a driver runs come from the local `.git/config`, which a clone never carries, and setup
// writes them there, always the fixed `noteseal git …` lines, never anything read from the repository.
// git itself is run by an absolute path found on absolute PATH entries (never `.` or a relative entry,
// where a repository could plant a `git`), and `.gitattributes` is edited only when it is a regular file
// (a symlink planted as `.gitattributes` could otherwise copy any file of ours into the repository).
import fs from 'node:fs';
import path from 'node:path';
import { AgentConnection } from '../agent/client';
import { socketPathFromEnv } from '../agent/paths';
import { writeFileAtomic } from '../crypto/atomic';
import { which } from '../which';
import { UsageError } from './args';

export const ATTRIBUTE_LINES = [
  '# NoteSeal: decrypted diffs and merges of encrypted files (noteseal git setup)',
  // -text: ciphertext must never go through end-of-line conversion (text=auto may take a short one for text).
  '*.enc -text diff=noteseal merge=noteseal',
  '*.wav.enc binary',
  // age files (binary or armored): diffs and merges decrypted in memory, merges written as age files again.
  '*.age -text diff=noteseal merge=noteseal',
  // dotenvx files (issue 27): diffs show decrypted values, merges keep each side's values; a plain .env passes through.
  '.env diff=noteseal merge=noteseal',
  '.env.* diff=noteseal merge=noteseal',
  // sops files (issue 27) by their usual names: decrypted diffs, merges written as valid sops files (a new MAC).
  // A sops file of another name is one line in .gitattributes away (the drivers know it by its metadata).
  ...['*.sops.yaml', '*.sops.yml', '*.sops.json', '*.sops.env', '*.sops.ini', '*.enc.yaml', '*.enc.yml', '*.enc.json', '*.enc.env', '*.enc.ini', 'secrets*.yaml', 'secrets*.yml', 'secrets*.json']
    .map(p => `${p} diff=noteseal merge=noteseal`),
] as const;

/**
 * The program the drivers name. git runs a driver's command line through its shell (`sh -c`; on Windows the
 * MSYS2 sh that Git for Windows bundles), and that shell tries only a `.exe` suffix for a bare name, never
 * %PATHEXT%: the `noteseal.cmd` that "Install Command-Line Tool" writes on Windows (and the one npm writes
 * beside its shims) is found only by its full name. Read from git's run-command.c (prepare_shell_cmd) and
 * MSYS2's path lookup; not run here (no git.exe under Wine): docs/RELIABILITY.md, "Windows".
 */
export function driverProgram(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'noteseal.cmd' : 'noteseal';
}

/** The local git config that setup writes and check expects, for `platform`. */
export function gitConfigFor(platform: NodeJS.Platform = process.platform): readonly (readonly [string, string])[] {
  const program = driverProgram(platform);
  return [
    ['diff.noteseal.textconv', `${program} git textconv`],
    ['diff.noteseal.cachetextconv', 'false'],
    ['merge.noteseal.name', 'NoteSeal: three-way merge of encrypted files, decrypted in memory'],
    ['merge.noteseal.driver', `${program} git merge-driver %O %A %B %P`],
  ];
}

export interface Git {
  /** The top of the working tree. */
  top: string;
  run(args: string[], options?: { allowFail?: boolean }): { code: number; stdout: string };
}

/** The repository that holds `cwd`, with git run by its absolute path. */
export async function openGit(cwd: string, env: NodeJS.ProcessEnv): Promise<Git> {
  const gitPath = await which('git', env); // only absolute PATH entries count (which.ts)
  if (!gitPath) throw new UsageError('git was not found on an absolute PATH entry');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- only the git verbs need it
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const runIn = (dir: string, args: string[], allowFail = false) => {
    const r = spawnSync(gitPath, args, { cwd: dir, env: { ...env, LC_ALL: 'C' }, encoding: 'utf8' });
    if (r.error) throw r.error;
    if (r.status !== 0 && !allowFail) throw new UsageError(`git ${args.join(' ')}: ${(r.stderr || '').trim() || `exit ${r.status}`}`);
    return { code: r.status ?? 1, stdout: r.stdout };
  };
  const top = runIn(cwd, ['rev-parse', '--show-toplevel'], true);
  if (top.code !== 0) throw new UsageError(`${cwd} is not inside a git working tree`);
  const dir = top.stdout.trim();
  return { top: dir, run: (args, o = {}) => runIn(dir, args, o.allowFail) };
}

function attributesFile(git: Git): string {
  return path.join(git.top, '.gitattributes');
}

/** The current `.gitattributes` text ('' if missing); refuses anything but a regular file. */
function readAttributes(file: string): string {
  let st: fs.Stats;
  try { st = fs.lstatSync(file); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
  if (!st.isFile()) throw new UsageError(`${file} is not a regular file (a symlink?): refused; fix it by hand`);
  return fs.readFileSync(file, 'utf8');
}

/** The attribute lines not yet in `text` (the comment only goes with lines that are added). */
function missingAttributeLines(text: string): string[] {
  const have = new Set(text.split(/\r?\n/).map(l => l.trim().replace(/\s+/g, ' ')));
  const missing = ATTRIBUTE_LINES.filter(l => !l.startsWith('#') && !have.has(l));
  return missing.length > 0 ? [ATTRIBUTE_LINES[0], ...missing] : [];
}

function configValue(git: Git, key: string): string | null {
  const r = git.run(['config', '--local', '--get', key], { allowFail: true });
  return r.code === 0 ? r.stdout.replace(/\n$/, '') : null;
}

/** Writes what is missing or different; returns one line per change (empty: nothing to do). */
export async function setUpGit(git: Git, platform: NodeJS.Platform = process.platform): Promise<string[]> {
  const changes: string[] = [];
  const file = attributesFile(git);
  const text = readAttributes(file);
  const missing = missingAttributeLines(text);
  if (missing.length > 0) {
    const sep = text === '' || text.endsWith('\n') ? '' : '\n';
    // Written whole beside it and renamed (never through a link); the repository's own lines stay.
    await writeFileAtomic(file, Buffer.from(text + sep + missing.join('\n') + '\n'), text === '' ? 0o644 : undefined);
    changes.push(...missing.filter(l => !l.startsWith('#')).map(l => `.gitattributes: added "${l}"`));
  }
  for (const [key, value] of gitConfigFor(platform)) {
    const now = configValue(git, key);
    if (now === value) continue;
    git.run(['config', '--local', key, value]);
    changes.push(now === null ? `git config: set ${key} = ${value}` : `git config: changed ${key} from "${now}" to "${value}"`);
  }
  return changes;
}

/** Whether diffs and merges can get keys now. */
async function agentState(env: NodeJS.ProcessEnv): Promise<string> {
  const socketPath = socketPathFromEnv(env);
  let agent: AgentConnection | null = null;
  try {
    agent = await AgentConnection.open(socketPath);
    if (!agent) return `no agent answers at ${socketPath}: diffs show a placeholder and merges of .enc files stop until NoteSeal is unlocked`;
    const status = await agent.status();
    return status.locked ? `the agent at ${socketPath} is locked: diffs show a placeholder and merges of .enc files stop until it is unlocked` : `the agent at ${socketPath} is unlocked`;
  } catch (e) {
    return `the agent at ${socketPath} cannot be used: ${(e as Error).message}`;
  } finally {
    agent?.close();
  }
}

/**
 * The file a shell started by git (in the top of the working tree) runs for `cmd`: every PATH entry, the
 * relative and empty ones too (resolved there), because that is what the shell does. On Windows the PATH is
 * split at `;` (and may be spelled `Path`) and `cmd` is looked up by its full name (driverProgram).
 */
export function commandGitWouldRun(cmd: string, top: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string | null {
  const paths = platform === 'win32' ? path.win32 : path.posix;
  for (const dir of pathEntries(env, platform)) {
    const file = paths.resolve(top, dir || '.', cmd);
    try {
      fs.accessSync(file, platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return fs.realpathSync(file);
    } catch { /* not here */ }
  }
  return null;
}

function pathEntries(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  return (env.PATH ?? env.Path ?? '').split(platform === 'win32' ? ';' : ':');
}

/** `info`: said, but nothing is missing either way (the agent may be locked on purpose). */
export interface CheckItem { ok: boolean; what: string; info?: boolean }

/**
 * What is set up and what is missing: the attributes in effect (asked of git, so another attributes file
 * that overrides ours shows), each config value, and the `noteseal` that git's shell would find.
 */
export async function checkGit(git: Git, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  const attr = (p: string, name: string) => {
    const out = git.run(['check-attr', name, '--', p]).stdout.trim();
    return out.slice(out.lastIndexOf(': ') + 2);
  };
  const note = 'probe.md.enc';
  const recording = 'probe.wav.enc';
  items.push({ ok: attr(note, 'diff') === 'noteseal', what: `*.enc files diff through NoteSeal (diff=${attr(note, 'diff')})` });
  items.push({ ok: attr(note, 'merge') === 'noteseal', what: `*.enc files merge through NoteSeal (merge=${attr(note, 'merge')})` });
  items.push({ ok: attr('probe.age', 'diff') === 'noteseal' && attr('probe.age', 'merge') === 'noteseal', what: `*.age files diff and merge through NoteSeal (diff=${attr('probe.age', 'diff')})` });
  items.push({ ok: attr('.env.probe', 'diff') === 'noteseal' && attr('.env.probe', 'merge') === 'noteseal', what: `.env and .env.* (dotenvx) files diff and merge through NoteSeal (diff=${attr('.env.probe', 'diff')})` });
  items.push({ ok: attr('probe.sops.yaml', 'diff') === 'noteseal' && attr('probe.sops.yaml', 'merge') === 'noteseal', what: `*.sops.yaml and the other sops names diff and merge through NoteSeal (diff=${attr('probe.sops.yaml', 'diff')})` });
  items.push({ ok: attr(recording, 'merge') === 'unset' && attr(recording, 'diff') === 'unset', what: `*.wav.enc recordings are binary (diff=${attr(recording, 'diff')}, merge=${attr(recording, 'merge')})` });
  for (const [key, value] of gitConfigFor(platform)) {
    const now = configValue(git, key);
    items.push({ ok: now === value, what: now === null ? `${key} is not set` : now === value ? `${key} = ${now}` : `${key} = "${now}", expected "${value}"` });
  }
  const program = driverProgram(platform);
  const found = commandGitWouldRun(program, git.top, env, platform);
  if (!found) items.push({ ok: false, what: `${program} is not on the PATH: in VS Code run "NoteSeal: Install Command-Line Tool"` });
  else if (!path.relative(git.top, found).startsWith('..')) items.push({ ok: false, what: `${program} on the PATH is ${found}, inside this repository: refused` });
  else items.push({ ok: true, what: `${program} on the PATH: ${found}` });
  const paths = platform === 'win32' ? path.win32 : path.posix;
  if (pathEntries(env, platform).some(d => d === '' || !paths.isAbsolute(d))) {
    items.push({ ok: false, what: 'PATH has a relative or empty entry: git\'s shell could run a "noteseal" planted in the repository' });
  }
  items.push({ ok: true, info: true, what: await agentState(env) });
  return items;
}
