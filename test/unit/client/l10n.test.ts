// Localizable strings: package.json's words come from package.nls.json, client/src's from l10n.t with an
// up-to-date l10n/bundle.l10n.json, and no file hard-codes more user-facing words than it did before.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../projectRoot';

test('every %key% of package.json is in package.nls.json, and every key there is used', () => {
  const manifest = fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8');
  const nls = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.nls.json'), 'utf8')) as Record<string, string>;
  const used = [...manifest.matchAll(/"%([\w.-]+)%"/g)].map(m => m[1]!);
  assert.ok(used.length > 50, `${used.length} localized strings`);
  assert.deepEqual(used.filter(k => !(k in nls)), [], 'keys without English text');
  assert.deepEqual(Object.keys(nls).filter(k => !used.includes(k)), [], 'English text nobody uses');
  const pkg = JSON.parse(manifest);
  for (const c of pkg.contributes.commands) assert.match(c.title, /^%command\.\w+\.title%$/, `${c.command} has a localizable title`);
  assert.equal(pkg.l10n, './l10n');
});

test('the l10n bundle is up to date and no file hard-codes more user-facing strings than before', () => {
  const r = spawnSync(process.execPath, [path.join(projectRoot, 'scripts/l10n-strings.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
