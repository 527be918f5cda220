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

/** Every object key that appears twice in one object of a JSON text (JSON.parse keeps the last silently). */
function duplicateKeys(text: string): string[] {
  const found: string[] = [];
  let i = 0;
  const ws = () => { while (/\s/.test(text[i] ?? '')) i++; };
  const str = () => { const start = i++; while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1; i++; return JSON.parse(text.slice(start, i)) as string; };
  const value = (where: string): void => {
    ws();
    if (text[i] === '{') {
      i++; const seen = new Set<string>();
      for (ws(); text[i] !== '}'; ws()) {
        if (text[i] === ',') { i++; ws(); }
        const key = str(); ws(); i++; // the colon
        if (seen.has(key)) found.push(`${where}.${key}`);
        seen.add(key);
        value(`${where}.${key}`); ws();
      }
      i++;
    } else if (text[i] === '[') {
      i++; let n = 0;
      for (ws(); text[i] !== ']'; ws()) { if (text[i] === ',') { i++; } value(`${where}[${n++}]`); ws(); }
      i++;
    } else if (text[i] === '"') str();
    else { while (i < text.length && !/[,}\]\s]/.test(text[i]!)) i++; }
  };
  value('');
  return found;
}

describe('package.json manifest', () => {
  it('has no key twice in one object (the second would silently replace the first, as keybindings once did)', () => {
    assert.deepEqual(duplicateKeys('{"a":1,"b":{"c":[1,{"d":2,"d":3}]},"a":2}'), ['.b.c[1].d', '.a'], 'the check finds duplicates');
    for (const file of ['package.json', 'package.nls.json']) {
      assert.deepEqual(duplicateKeys(fs.readFileSync(path.join(root, file), 'utf8')), [], file);
    }
  });

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
      // The engine is a program the worker starts: a workspace can choose neither it nor its model (issue 31).
      'noteseal.transcription.engine': 'machine',
      'noteseal.transcription.command': 'machine',
      'noteseal.transcription.model': 'machine',
      'noteseal.transcription.language': 'machine',
      'noteseal.transcription.afterRecording': 'machine',
      // The PKCS#11 module is a library pkcs11-tool loads; token removal must lock whatever a workspace says (issue 28).
      'noteseal.pkcs11.module': 'machine',
      'noteseal.lockOnTokenRemoval': 'machine',
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
