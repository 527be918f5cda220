// Localizable strings (VS Code's l10n conventions): every `l10n.t('…')` message of client/src is a key of
// l10n/bundle.l10n.json, the bundle a translator copies to bundle.l10n.<locale>.json; package.json's own
// words are in package.nls.json. The check also keeps new user-facing words from being hard-coded: per file
// name, the number of string literals given straight to a message, a title, a prompt, a placeholder, a
// label or a tooltip may only shrink (scripts/l10n-baseline.json holds the counts of the code before l10n).
//   node scripts/l10n-strings.mjs           rewrite the bundle and the baseline (after wrapping strings)
//   node scripts/l10n-strings.mjs --check   exit 1 if the bundle is stale or a file hard-codes more words
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const bundleFile = path.join(root, 'l10n', 'bundle.l10n.json');
const baselineFile = path.join(root, 'scripts', 'l10n-baseline.json');
const MESSAGE = /l10n\.t\(\s*'((?:[^'\\]|\\.)*)'/g;
const HARD_CODED = /(?:show(?:Information|Warning|Error)Message\(\s*|\b(?:title|prompt|placeHolder|placeholder|label|tooltip|detail|validationMessage)\s*[:=]\s*)['"`]/g;

function sources(dir = path.join(root, 'client', 'src')) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const messages = new Set();
const hardCoded = {};
for (const file of sources()) {
  const text = fs.readFileSync(file, 'utf8');
  for (const m of text.matchAll(MESSAGE)) messages.add(m[1].replace(/\\'/g, '\'').replace(/\\\\/g, '\\'));
  const n = [...text.matchAll(HARD_CODED)].length;
  // By file name, not path: moving a file into a feature folder keeps its count.
  if (n) hardCoded[path.basename(file)] = (hardCoded[path.basename(file)] ?? 0) + n;
}
const bundle = Object.fromEntries([...messages].sort().map(m => [m, m]));
const bundleText = JSON.stringify(bundle, null, 2) + '\n';

if (process.argv.includes('--check')) {
  const problems = [];
  if (!fs.existsSync(bundleFile) || fs.readFileSync(bundleFile, 'utf8') !== bundleText) problems.push('l10n/bundle.l10n.json is stale: run node scripts/l10n-strings.mjs');
  const baseline = JSON.parse(fs.readFileSync(baselineFile, 'utf8'));
  for (const [name, n] of Object.entries(hardCoded)) {
    if (n > (baseline[name] ?? 0)) problems.push(`${name} hard-codes ${n} user-facing string(s), ${baseline[name] ?? 0} allowed: wrap new ones with vscode.l10n.t`);
  }
  for (const p of problems) console.error(p);
  process.exit(problems.length ? 1 : 0);
}
fs.mkdirSync(path.dirname(bundleFile), { recursive: true });
fs.writeFileSync(bundleFile, bundleText);
const old = fs.existsSync(baselineFile) ? JSON.parse(fs.readFileSync(baselineFile, 'utf8')) : {};
// The baseline only ever shrinks: a count that grew stays at its old value (the check then fails).
const baseline = Object.fromEntries(Object.entries(hardCoded).sort().map(([k, n]) => [k, k in old ? Math.min(n, old[k]) : n]));
fs.writeFileSync(baselineFile, JSON.stringify(baseline, null, 2) + '\n');
console.log(`${messages.size} messages in l10n/bundle.l10n.json; ${Object.values(baseline).reduce((a, b) => a + b, 0)} hard-coded strings left in ${Object.keys(baseline).length} files`);
