// The documents name only what exists (issue 23): every palette command (`NoteSeal: Title`), command id or
// setting (`noteseal.x`), CLI verb (`noteseal verb [sub]`), npm script (`npm run x`) and project path
// (`client/src/…`) that README.md, demo/README.md and docs/ write in code must exist: in package.json, in the
// CLI's help, or on disk. The protocol's method names have their own check (manifest.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { USAGE } from '../../../server/src/cli/help';
import { projectRoot } from '../projectRoot';

const manifest = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8'));
const nls: Record<string, string> = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.nls.json'), 'utf8'));

/** Named in the documents on purpose although NoteSeal does not contribute them, with why. */
const NOT_OURS = new Map([
  // vscode-languageclient reads `<client id>.trace.server`; the docs say why NoteSeal pins its tracing off anyway.
  ['noteseal.trace.server', 'the language client\'s own setting'],
  ['noteseal.vsix', 'the packaged extension\'s file name'],
  ['noteseal.cmd', 'the Windows launcher\'s file name'],
]);
/** Code spans that start with `noteseal ` but are not command lines. */
const NOT_COMMAND_LINES = new Set(['noteseal demo passphrase']);

export interface Named { kind: 'command' | 'id' | 'verb' | 'script' | 'path'; name: string; where: string }

/** The code of a Markdown text: inline code spans (which may wrap lines) and the lines of fenced blocks. */
function codeOf(text: string): string[] {
  const out: string[] = [];
  const fenced = /^```[^\n]*\n([\s\S]*?)^```/gm;
  for (const m of text.matchAll(fenced)) out.push(...m[1].split('\n'));
  for (const m of text.replace(fenced, '').matchAll(/`([^`]+)`/g)) out.push(m[1].replace(/\s+/g, ' ').trim());
  return out;
}

export function namedIn(text: string, where: string): Named[] {
  const named: Named[] = [];
  for (const code of codeOf(text)) {
    for (const m of code.matchAll(/^NoteSeal: (.+)$/g)) named.push({ kind: 'command', name: m[1], where });
    // Not git's `diff.noteseal.textconv` (a key of git's own config).
    for (const m of code.matchAll(/(?<![\w.-])noteseal\.[A-Za-z][\w.]*[A-Za-z]/g)) named.push({ kind: 'id', name: m[0], where });
    for (const m of code.matchAll(/^(?:client|server|test|scripts|media|docs|demo|out)\/[^\s:]+/g)) named.push({ kind: 'path', name: m[0], where });
    for (const m of code.matchAll(/(?:^|[$|;&(]\s*)noteseal ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?/g)) {
      if (!NOT_COMMAND_LINES.has(code)) named.push({ kind: 'verb', name: m[2] ? `${m[1]} ${m[2]}` : m[1], where });
    }
    for (const m of code.matchAll(/\bnpm (?:run (\S+)|(test))\b/g)) named.push({ kind: 'script', name: m[1] ?? m[2], where });
  }
  return named;
}

/** The CLI's verbs from its help: `grep`, and for verbs with subcommands `agent start`, `git setup`, `git check`... */
function cliVerbs(usage: string): { verbs: Set<string>; subverbs: Map<string, Set<string>> } {
  const verbs = new Set<string>(), subverbs = new Map<string, Set<string>>();
  const commands = usage.slice(usage.indexOf('Commands:'), usage.indexOf('Options:'));
  for (const m of commands.matchAll(/^ {2}([a-z][a-z-]*)(?: ([a-z][a-z|-]*))?(?= |$)/gm)) {
    verbs.add(m[1]);
    if (m[2]) for (const sub of m[2].split('|')) subverbs.set(m[1], (subverbs.get(m[1]) ?? new Set()).add(sub));
  }
  return { verbs, subverbs };
}

/** A path as the documents write it: a glob's fixed part, and a built `out/….js` by its source. */
function pathExists(p: string): boolean {
  const fixed = p.split('*')[0];
  const source = fixed.replace(/^out\//, '').replace(/\.js$/, '.ts');
  return fs.existsSync(path.join(projectRoot, fixed)) || fs.existsSync(path.join(projectRoot, source));
}

export function missing(named: readonly Named[]): string[] {
  // Titles are localizable (`%key%` in package.json, the English text in package.nls.json).
  const localized = (t: string) => /^%.+%$/.test(t) ? nls[t.slice(1, -1)] ?? t : t;
  const commandTitles = new Set<string>(manifest.contributes.commands.filter((c: { category?: string }) => c.category === 'NoteSeal').map((c: { title: string }) => localized(c.title)));
  const ids = new Set<string>(Object.keys(manifest.contributes.configuration?.properties ?? {}));
  JSON.stringify(manifest.contributes, (_k, v) => { if (typeof v === 'string' && v.startsWith('noteseal.')) ids.add(v); return v; });
  const { verbs, subverbs } = cliVerbs(USAGE);
  const out: string[] = [];
  for (const n of named) {
    const ok = n.kind === 'command' ? commandTitles.has(n.name)
      : n.kind === 'id' ? ids.has(n.name) || NOT_OURS.has(n.name) || [...ids].some(id => id.startsWith(n.name + '.'))
        : n.kind === 'script' ? n.name in manifest.scripts
          : n.kind === 'path' ? pathExists(n.name)
          : (() => {
            const [verb, sub] = n.name.split(' ');
            if (!verbs.has(verb)) return false;
            // A second word counts only for verbs with subcommands (`noteseal decrypt notes/x.enc` names a file).
            return !sub || !subverbs.has(verb) || subverbs.get(verb)!.has(sub);
          })();
    if (!ok) out.push(`${n.where}: ${n.kind} "${n.name}"`);
  }
  return [...new Set(out)];
}

const documents = ['README.md', 'demo/README.md', ...fs.readdirSync(path.join(projectRoot, 'docs')).filter(f => f.endsWith('.md')).map(f => `docs/${f}`)];
const named = documents.flatMap(d => namedIn(fs.readFileSync(path.join(projectRoot, d), 'utf8'), d));

describe('the documents name only what exists', () => {
  it('finds what the documents name (the check is not vacuous), and a planted stale name fails it', () => {
    for (const kind of ['command', 'id', 'verb', 'script', 'path'] as const) assert.ok(named.some(n => n.kind === kind), `no ${kind} found in the documents`);
    const planted = namedIn('Run `NoteSeal: Frobnicate`, set `noteseal.frob.level`, then `noteseal frob x` and `noteseal agent frob`; `npm run frob`; see `client/src/frob.ts`.', 'planted');
    assert.deepEqual(missing(planted), [
      'planted: command "Frobnicate"', 'planted: id "noteseal.frob.level"', 'planted: verb "frob x"', 'planted: verb "agent frob"', 'planted: script "frob"',
      'planted: path "client/src/frob.ts"',
    ]);
  });

  it('every palette command, command id, setting, CLI verb, npm script and project path they name exists', () => {
    assert.deepEqual(missing(named), []);
  });
});
