// The manifest, the command ids and the protocol agree with each other.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../projectRoot';
import { Commands } from '../../../client/src/shared/commands';
import { Method } from '../../../server/src/protocol';

const root = projectRoot;
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('package.json manifest', () => {
  it('names the extension and its entry point', () => {
    assert.equal(manifest.name, 'noteseal');
    assert.equal(manifest.displayName, 'NoteSeal');
    assert.equal(manifest.main, './dist/client.js');
    assert.match(manifest.engines.vscode, /^\^1\.\d+\.\d+$/);
  });

  it('contributes exactly the commands the client registers, all under the NoteSeal category', () => {
    const contributed = manifest.contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepEqual(contributed, Object.values(Commands).sort());
    for (const c of manifest.contributes.commands) {
      assert.equal(c.category, 'NoteSeal');
      assert.ok(c.title.length > 3);
    }
  });

  it('scopes every setting so that a workspace cannot weaken NoteSeal', () => {
    const props = manifest.contributes.configuration.properties as Record<string, { scope?: string }>;
    const scopes = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.scope]));
    assert.deepEqual(scopes, {
      'noteseal.keyfile': 'machine',
      'noteseal.agent.enabled': 'machine', // a workspace cannot switch the agent on
      'noteseal.agent.askBeforeServing': 'machine', // nor switch the consent question off
      'noteseal.autoLock.idleMinutes': 'application',
      'noteseal.autoLock.onSleep': 'application',
      'noteseal.recording.folder': 'resource', // a workspace value is confined to the workspace (settingRules.ts)
      'noteseal.recording.device': 'machine',
      'noteseal.recording.captureCommand': 'machine',
    });
    assert.equal(props['noteseal.trace.server'], undefined, 'tracing is not a setting: it is pinned off (workerClient.ts)');
    assert.equal(manifest.capabilities.virtualWorkspaces, false);
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.deepEqual([...manifest.capabilities.untrustedWorkspaces.restrictedConfigurations].sort(), Object.keys(props).sort());
  });

  it('has no key twice in one object (JSON keeps the last: a second "keybindings" dropped the first)', () => {
    // Every object's keys, by the indentation npm and the editors keep: a key repeated at the same depth
    // inside the same object is a duplicate.
    const open: Set<string>[] = [];
    const repeated: string[] = [];
    for (const line of fs.readFileSync(path.join(root, 'package.json'), 'utf8').split('\n')) {
      const depth = line.length - line.trimStart().length;
      const key = /^\s*"([^"]+)":/.exec(line)?.[1];
      if (key !== undefined) {
        open.length = Math.max(open.length, depth + 1);
        const seen = (open[depth] ??= new Set());
        if (seen.has(key)) repeated.push(`${key} (column ${depth})`);
        seen.add(key);
      }
      // An object closing at this depth forgets the keys of its deeper lines.
      if (/^\s*[}\]]/.test(line)) open.length = Math.min(open.length, depth + 1);
      if (/[{[]\s*$/.test(line)) open[depth + 2] = new Set();
    }
    assert.deepEqual(repeated, []);
    const bound = manifest.contributes.keybindings.map((k: { command: string }) => k.command);
    assert.ok(bound.includes('noteseal.toggleLock') && bound.includes('workbench.action.findInFiles'), bound.join(', '));
  });

  it('declares the core dependencies', () => {
    for (const dep of ['vscode-languageclient', 'vscode-languageserver', '@noble/ciphers', 'hash-wasm']) assert.ok(manifest.dependencies[dep], dep);
    for (const dep of ['@vscode/test-electron', 'esbuild']) assert.ok(manifest.devDependencies[dep], dep);
  });
});

describe('client/worker protocol', () => {
  it('uses unique, namespaced method names', () => {
    const names = Object.values(Method);
    assert.equal(new Set(names).size, names.length);
    for (const n of names) assert.match(n, /^noteseal(\/[a-zA-Z]+){1,2}$/);
  });

  it('is the only place method names are written: no method literal elsewhere in client/ or server/', () => {
    const literals = Object.values(Method).flatMap(m => [`'${m}'`, `"${m}"`, `\`${m}\``]);
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && !p.endsWith(path.join('server', 'src', 'protocol.ts'))) {
          const text = fs.readFileSync(p, 'utf8');
          if (literals.some(l => text.includes(l))) offenders.push(path.relative(root, p));
        }
      }
    };
    walk(path.join(root, 'client')); walk(path.join(root, 'server'));
    assert.deepEqual(offenders, []);
  });
});
