// Bundles the extension (client), the worker and the CLI with esbuild; with --tests also every test
// and benchmark. Flags: --watch, --production (minified, no sourcemaps), --tests, --outdir DIR (bundles; default dist).
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
const args = new Set(argv);
const outdir = argv.includes('--outdir') ? path.resolve(argv[argv.indexOf('--outdir') + 1]) : 'dist';
const production = args.has('--production');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(root);

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
// hash-wasm's Argon2-only build as text: Argon2id runs in a short-lived thread started from this source,
// so its memory (64 MiB and more) is freed as soon as a key is derived (server/src/keys/kdf.ts).
const argon2Umd = fs.readFileSync('node_modules/hash-wasm/dist/argon2.umd.min.js', 'utf8');
const common = {
  define: { __NOTESEAL_VERSION__: JSON.stringify(pkg.version), __NOTESEAL_ARGON2_UMD__: JSON.stringify(argon2Umd) },
  bundle: true, platform: 'node', target: 'node20', format: 'cjs',
  sourcemap: production ? false : 'linked', minify: production, logLevel: 'warning',
};

/** Every *.ts file below dir (recursively) whose name matches re. */
function find(dir, re) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(e => e.isFile() && re.test(e.name))
    .map(e => path.join(e.parentPath ?? e.path, e.name));
}

const builds = [
  { ...common, entryPoints: { client: 'client/src/extension.ts' }, outdir, external: ['vscode'] },
  { ...common, entryPoints: { worker: 'server/src/worker.ts' }, outdir },
  // The search matcher's thread, started by the worker beside itself (server/src/search/threadMatcher.ts).
  { ...common, entryPoints: { searchThread: 'server/src/search/matchThread.ts' }, outdir },
];
if (fs.existsSync('server/src/cli/main.ts')) {
  // dist/cli.js is a small launcher that runs the CLI bundle (cli-main.js) through a V8 code cache (launcher.ts).
  builds.push({ ...common, entryPoints: { 'cli-main': 'server/src/cli/main.ts' }, outdir });
  builds.push({ ...common, entryPoints: { cli: 'server/src/cli/launcher.ts' }, outdir, banner: { js: '#!/usr/bin/env node' } });
}
if (args.has('--tests')) {
  const tests = [...find('test/unit', /\.ts$/), ...find('test/integration', /\.ts$/), ...find('test/ui', /\.ts$/), ...find('test/bench', /\.ts$/)]
    .filter(f => !f.endsWith('.d.ts'));
  builds.push({ ...common, entryPoints: tests, outbase: '.', outdir: 'out', external: ['vscode', 'mocha', 'playwright-core', '@vscode/test-electron'] });
}

if (args.has('--watch')) {
  const ctxs = await Promise.all(builds.map(b => esbuild.context(b)));
  await Promise.all(ctxs.map(c => c.watch()));
  console.log('[build] watching for changes');
} else {
  const t0 = Date.now();
  await Promise.all(builds.map(b => esbuild.build(b)));
  if (fs.existsSync(path.join(outdir, 'cli.js'))) fs.chmodSync(path.join(outdir, 'cli.js'), 0o755);
  console.log(`[build] done in ${Date.now() - t0} ms${production ? ' (production)' : ''}`);
}
