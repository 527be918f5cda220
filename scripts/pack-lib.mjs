// `npm run pack:lib`: the @noteseal/core library (server/src/lib/, docs/LIBRARY.md) as an npm tarball,
// dist/noteseal-core-<version>.tgz. One package of its own (packages/core/package.json; the version is the
// extension's), built from the same sources as the CLI: CommonJS and ESM bundles that carry every dependency
// (installing it needs no registry), and the TypeScript declarations. Staged in out/lib-stage.
import { execFileSync } from 'node:child_process';
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const stage = path.join(root, 'out', 'lib-stage');
const dist = path.join(root, 'dist');
fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(path.join(stage, 'dist'), { recursive: true });

const rootPkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const pkg = { ...JSON.parse(fs.readFileSync(path.join(root, 'packages/core/package.json'), 'utf8')), version: rootPkg.version };
const common = {
  entryPoints: [path.join(root, 'server/src/lib/index.ts')],
  define: { __NOTESEAL_VERSION__: JSON.stringify(pkg.version) },
  bundle: true, platform: 'node', target: 'node20', minify: false, sourcemap: false, logLevel: 'error',
};
await Promise.all([
  esbuild.build({ ...common, format: 'cjs', outfile: path.join(stage, 'dist/index.cjs') }),
  // The bundled code loads some Node modules lazily with require(): an ES module has to make one.
  esbuild.build({
    ...common, format: 'esm', outfile: path.join(stage, 'dist/index.mjs'),
    banner: { js: "import { createRequire as __nsCreateRequire } from 'node:module'; const require = __nsCreateRequire(import.meta.url);" },
  }),
]);

// Declarations of the library and of the modules its types mention (the whole tree tsc emits, under dist/types).
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'),
  '--declaration', '--emitDeclarationOnly', '--outDir', path.join(stage, 'dist/types'), '--rootDir', path.join(root, 'server/src'),
  '--target', 'ES2022', '--lib', 'ES2022', '--module', 'preserve', '--moduleResolution', 'bundler', '--types', 'node',
  '--strict', '--skipLibCheck', '--isolatedModules', '--esModuleInterop',
  path.join(root, 'server/src/lib/index.ts')], { cwd: root, stdio: 'inherit' });

fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
fs.copyFileSync(path.join(root, 'docs/LIBRARY.md'), path.join(stage, 'README.md'));
fs.copyFileSync(path.join(root, 'LICENSE'), path.join(stage, 'LICENSE'));
fs.mkdirSync(dist, { recursive: true });
const out = execFileSync('npm', ['pack', '--pack-destination', dist, '--json', '--ignore-scripts'], { cwd: stage, encoding: 'utf8' });
const file = path.join(dist, JSON.parse(out)[0].filename);
console.log(`[pack:lib] ${path.relative(root, file)}`);
