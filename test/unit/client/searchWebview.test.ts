// The search view's webview keeps decrypted lines in its DOM only (issue 16): its script never hands
// anything to storage VS Code or the browser persists (vscode.setState lands in the workspace's
// state.vscdb: webviewViewPane.ts), never renders text as HTML, and its page allows no remote content.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { projectRoot } from '../projectRoot';

const script = fs.readFileSync(path.join(projectRoot, 'media', 'search.js'), 'utf8');
const provider = fs.readFileSync(path.join(projectRoot, 'client', 'src', 'search', 'searchView.ts'), 'utf8');

it('the search webview persists nothing and renders text only as text', () => {
  for (const banned of ['setState', 'getState', 'localStorage', 'sessionStorage', 'indexedDB', 'caches', 'document.cookie', 'innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write']) {
    assert.ok(!script.includes(banned), `media/search.js uses ${banned}`);
  }
});

it('the search view has a strict CSP and no content in its HTML', () => {
  const csp = /content-security-policy" content="\$\{csp\}"/i.test(provider) && /const csp = `([^`]+)`/.exec(provider)?.[1];
  assert.ok(csp, 'the page sets a CSP');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src \$\{view\.webview\.cspSource\};/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  assert.match(provider, /retainContextWhenHidden: true/);
});
