// dist/cli.js: starts the CLI (bundled to dist/cli-main.js) through a V8 code cache, so a command does not
// parse and compile the whole bundle again at every start (the largest share of a 1 KiB `decrypt` through the
// agent, docs/ARCHITECTURE.md); a small `decrypt` or `exec` while an agent serves skips the bundle altogether
// (agent-fast.ts). Node 22 has module.enableCompileCache for this; Node 20 does not, so the
// cache is made here with vm.Script's cachedData. Only Node's built-in modules are used here (and the few small
// modules of agent-fast.ts).
//
// The cache is code that will run, so it lives only in a folder of the user's own (mode 0700, owned by this
// uid, checked before every use, under $XDG_CACHE_HOME or ~/.cache), is named after the SHA-256 of the bundle,
// the Node version and the architecture (V8 itself also refuses data from another V8 or other flags), and is
// written beside and renamed into place. Where any check fails, or off POSIX, the bundle is compiled as usual.
import type crypto from 'node:crypto';
import fs from 'node:fs';
import type NodeModule from 'node:module';
import type nodeOs from 'node:os';
import path from 'node:path';
import type nodeVm from 'node:vm';
import { fastPlan, finishServed, type FastPlan, servedOutput, throughAgent } from './agent-fast';

const MAIN = path.join(__dirname, 'cli-main.js');

interface CodeCache { data?: Buffer; save(data: Buffer): void }

/** A folder only this user can write to, or null. */
function privateFolder(dir: string, uid: number): string | null {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0 ? dir : null;
  } catch { return null; }
}

function codeCache(source: string, env: NodeJS.ProcessEnv): CodeCache | undefined {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when the bundle runs (not for agent-fast.ts) */
  const os = require('node:os') as typeof nodeOs;
  const { createHash } = require('node:crypto') as typeof crypto;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const uid = process.getuid?.();
  if (uid === undefined || process.platform === 'win32') return undefined;
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  const dir = privateFolder(path.join(base, 'noteseal', 'cli-code'), uid);
  if (!dir) return undefined;
  const key = createHash('sha256').update(source).update(`\0${process.version}\0${process.arch}`).digest('hex').slice(0, 40);
  const file = path.join(dir, `${key}.bin`);
  let data: Buffer | undefined;
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const st = fs.fstatSync(fd);
      if (st.isFile() && st.uid === uid && (st.mode & 0o022) === 0) data = fs.readFileSync(fd);
    } finally { fs.closeSync(fd); }
  } catch { /* no cache yet */ }
  return {
    ...(data ? { data } : {}),
    save(bytes) {
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, bytes, { mode: 0o600, flag: 'wx' });
        fs.renameSync(tmp, file);
      } catch { try { fs.unlinkSync(tmp); } catch { /* not there */ } }
      // The caches of earlier bundles (an update, another Node) go: one file of a few hundred KB stays.
      try {
        for (const name of fs.readdirSync(dir)) if (name.endsWith('.bin') && path.join(dir, name) !== file) fs.unlinkSync(path.join(dir, name));
      } catch { /* another process pruned first */ }
    },
  };
}

/** Runs the CLI bundle (it reads process.argv and sets the exit status itself). */
function runBundle(): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when the bundle runs (not for agent-fast.ts) */
  const Module = require('node:module') as typeof NodeModule;
  const vm = require('node:vm') as typeof nodeVm;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const source = fs.readFileSync(MAIN, 'utf8');
  const cache = codeCache(source, process.env);
  const script = new vm.Script(Module.wrap(source), { filename: MAIN, ...(cache?.data ? { cachedData: cache.data } : {}) });
  // A first run, or a cache V8 refused: keep what this run compiled (the functions it called included) at exit.
  if (cache && (!cache.data || script.cachedDataRejected)) process.once('exit', () => cache.save(script.createCachedData()));
  const main = new Module(MAIN);
  main.filename = MAIN;
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: NodeModule, filename: string, dirname: string) => void;
  wrapper.call(main.exports, main.exports, Module.createRequire(MAIN), main, MAIN, path.dirname(MAIN));
}

// A small `decrypt` or `exec` while an agent serves: the agent runs it whole (agent-fast.ts); otherwise, or
// whenever the agent does not answer it, the CLI as always.
let plan: FastPlan | null;
try { plan = fastPlan(process.argv.slice(2), process.env); } catch { plan = null; }
if (!plan) runBundle();
else {
  void throughAgent(plan, process.env).then(async out => {
    const served = out && servedOutput(plan, out);
    if (!served) { runBundle(); return; }
    process.exitCode = await finishServed(plan, served);
  });
}
