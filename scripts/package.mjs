// `npm run package`: a production .vsix, staged in out/vsix-stage so that the development build in dist/
// is left alone. Usage: node scripts/package.mjs [--out FILE]   (default dist/noteseal.vsix)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const argv = process.argv.slice(2);
const out = path.resolve(argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : path.join(root, 'dist', 'noteseal.vsix'));
const stage = path.join(root, 'out', 'vsix-stage');
fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });
// The extension page shows USER-README.md (for people who installed NoteSeal), packaged with vsce's
// --readme-path; README.md stays the repository's page for developers.
for (const f of ['package.json', 'package.nls.json', '.vscodeignore', 'USER-README.md', 'CHANGELOG.md', 'LICENSE', 'media', 'l10n']) {
  fs.cpSync(path.join(root, f), path.join(stage, f), { recursive: true });
}
execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--production', '--outdir', path.join(stage, 'dist')], { stdio: 'inherit' });
fs.mkdirSync(path.dirname(out), { recursive: true });
execFileSync(process.execPath, [path.join(root, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies',
  '--no-rewrite-relative-links', '--allow-missing-repository', '--readme-path', 'USER-README.md', '--out', out], { cwd: stage, stdio: 'inherit' });
