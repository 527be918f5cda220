// dist/cli.js: starts the CLI (bundled to dist/cli-main.js) through a V8 code cache, so a command does not
// parse and compile the whole bundle again at every start (the largest share of a 1 KiB `decrypt` through the
// agent, docs/ARCHITECTURE.md). Node 22 has module.enableCompileCache for this; Node 20 does not, so the
// cache is made here with vm.Script's cachedData. Only Node's built-in modules are used here.
//
// The cache is code that will run, so it lives only in a folder of the user's own (mode 0700, owned by this
// uid, checked before every use, under $XDG_CACHE_HOME or ~/.cache), is named after the SHA-256 of the bundle,
// the Node version and the architecture (V8 itself also refuses data from another V8 or other flags), and is
// written beside and renamed into place. Where any check fails, or off POSIX, the bundle is compiled as usual.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

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

const source = fs.readFileSync(MAIN, 'utf8');
const cache = codeCache(source, process.env);
const script = new vm.Script(Module.wrap(source), { filename: MAIN, ...(cache?.data ? { cachedData: cache.data } : {}) });
// A first run, or a cache V8 refused: keep what this run compiled (the functions it called included) at exit.
if (cache && (!cache.data || script.cachedDataRejected)) process.once('exit', () => cache.save(script.createCachedData()));
const main = new Module(MAIN);
main.filename = MAIN;
const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
wrapper.call(main.exports, main.exports, createRequire(MAIN), main, MAIN, path.dirname(MAIN));
