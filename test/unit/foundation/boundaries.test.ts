// The lines imports may not cross (issue 23), and no import cycle anywhere. The table below is the whole rule:
// a new folder gets a row (the test fails until it has one), a new allowed crossing is a reviewed line here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { projectRoot } from '../projectRoot';
import { cycles, importsOf, tsFilesUnder, type ImportEdge } from './importGraph';

/** All the client may take from the worker's side: the typed protocol and the one small shared module. */
const WORKER_API = ['server/src/protocol.ts', 'server/src/shared.ts'];
/** Small pure helpers of the worker that import no project file. */
const LEAVES = ['server/src/encPaths.ts', 'server/src/ioErrors.ts', 'server/src/version.ts', 'server/src/which.ts'];
/** The crypto and key core: pure Node, imports nothing above it. */
const CORE = ['server/src/crypto/', 'server/src/keys/', ...LEAVES];

/**
 * Each folder (a key ending in `/`) or file, and the folders or files its files may import besides their own folder.
 * The longest key that prefixes a file's path applies; a file in a folder with no row fails until one is added. Client features may use shared/ and vault/; only the editor
 * uses other features (leak/ for the guards, git/ for diffs, recording/ for the player); only the wiring at the top
 * (extension.ts, testApi.ts) sees every folder.
 */
export const ALLOWED: Record<string, readonly string[]> = {
  'client/src/extension.ts': ['client/src/', ...WORKER_API],
  'client/src/testApi.ts': ['client/src/', ...WORKER_API],
  'client/src/shared/': [...WORKER_API],
  'client/src/vault/': ['client/src/shared/', ...WORKER_API],
  'client/src/agent/': ['client/src/shared/', ...WORKER_API],
  'client/src/leak/': ['client/src/shared/', 'client/src/vault/', ...WORKER_API],
  'client/src/git/': ['client/src/shared/', 'client/src/vault/', ...WORKER_API],
  'client/src/recording/': ['client/src/shared/', 'client/src/vault/', ...WORKER_API],
  'client/src/search/': ['client/src/shared/', 'client/src/vault/', ...WORKER_API],
  'client/src/sharing/': ['client/src/shared/', 'client/src/vault/', ...WORKER_API],
  // The save path asks the sharing feature's acceptance question when a recipients list is not accepted yet.
  'client/src/editor/': ['client/src/shared/', 'client/src/vault/', 'client/src/leak/', 'client/src/git/', 'client/src/recording/', 'client/src/sharing/', ...WORKER_API],

  'server/src/encPaths.ts': [],
  'server/src/ioErrors.ts': [],
  'server/src/version.ts': [],
  'server/src/which.ts': [],
  'server/src/loaderVariables.ts': [],
  'server/src/crypto/': [...LEAVES],
  'server/src/keys/': [...CORE],
  'server/src/shared.ts': ['server/src/encPaths.ts', 'server/src/crypto/constants.ts', 'server/src/keys/location.ts', 'server/src/keys/own-name.ts', 'server/src/crypto/errors.ts', 'server/src/crypto/safe-open.ts', 'server/src/formats/age/sniff.ts'],
  // The typed protocol names the age list a save waits on (formats/age-recipients.ts, issue 26).
  'server/src/protocol.ts': [...CORE, 'server/src/formats/'],
  // File formats (.enc, age: issue 26) on the crypto and key core; the agent, the CLI and the worker use them.
  'server/src/formats/': [...CORE],
  'server/src/agent/': [...CORE, 'server/src/protocol.ts', 'server/src/formats/'],
  // The noteseal: view opens and saves age files through the format interface (issue 26).
  'server/src/vault/': [...CORE, 'server/src/protocol.ts', 'server/src/agent/', 'server/src/formats/', 'server/src/logs/'],
  'server/src/search/': [...CORE, 'server/src/protocol.ts', 'server/src/vault/'],
  'server/src/recording/': [...CORE, 'server/src/protocol.ts', 'server/src/vault/'],
  // Transcription reads recordings' WAV headers (wav.ts) and writes the meeting note through the vault's file system.
  'server/src/transcription/': [...CORE, 'server/src/protocol.ts', 'server/src/vault/', 'server/src/recording/wav.ts'],
  // `noteseal transcribe` runs the engine the worker runs (issue 31): the engine, its pipes and the transcript's format.
  'server/src/cli/': [...CORE, 'server/src/protocol.ts', 'server/src/agent/', 'server/src/search/', 'server/src/loaderVariables.ts', 'server/src/formats/', 'server/src/logs/', 'server/src/transcription/'],
  // Sealed logs (issue 29): `noteseal append`/`cat`, the library's 'a'; on the core only.
  'server/src/logs/': [...CORE],
  // The @noteseal/core library (issue 29): the CLI's key finding, checks and config parsing, for programs.
  'server/src/lib/': [...CORE, 'server/src/agent/', 'server/src/cli/', 'server/src/formats/', 'server/src/logs/'],
  'server/src/worker.ts': ['server/src/'],
};

/** Packages only the extension side may import: the worker and the CLI run in plain Node. */
const CLIENT_ONLY_PACKAGES = ['vscode', 'vscode-languageclient'];

const folderOf = (file: string) => file.slice(0, file.lastIndexOf('/') + 1);

function ruleFor(file: string, table: Record<string, readonly string[]>): string | undefined {
  return Object.keys(table).filter(k => file === k || (k.endsWith('/') && file.startsWith(k))).sort((a, b) => b.length - a.length)[0];
}

/** Every import that crosses a line, as `from -> to (why)`. */
export function violations(edges: readonly ImportEdge[], table: Record<string, readonly string[]> = ALLOWED): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const key = ruleFor(e.from, table);
    if (!key) { out.push(`${e.from}: no row in the boundary table (add its folder to ALLOWED)`); continue; }
    if (!e.to) {
      const pkg = e.spec.startsWith('@') ? e.spec.split('/').slice(0, 2).join('/') : e.spec.split('/')[0];
      if (e.from.startsWith('server/') && CLIENT_ONLY_PACKAGES.includes(pkg)) out.push(`${e.from} -> ${e.spec} (the worker side runs without VS Code)`);
      continue;
    }
    if (e.to.endsWith('(unresolved)')) { out.push(`${e.from} -> ${e.spec} (does not resolve to a file)`); continue; }
    const allowed = [folderOf(e.from), ...table[key]];
    if (!allowed.some(a => e.to === a || (a.endsWith('/') && e.to!.startsWith(a)))) out.push(`${e.from} -> ${e.to}`);
  }
  return [...new Set(out)];
}

const sources = tsFilesUnder(projectRoot, ['client/src', 'server/src']);
const edges = sources.flatMap(f => importsOf(projectRoot, f));

describe('import boundaries', () => {
  it('reads a real graph (the checks below are not vacuous)', () => {
    assert.ok(sources.length > 100, `${sources.length} source files`);
    assert.ok(edges.some(e => e.from === 'client/src/extension.ts' && e.to === 'client/src/shared/index.ts'));
    // Planted crossings and a planted cycle are caught.
    const planted: ImportEdge[] = [
      { from: 'client/src/vault/vault.ts', spec: '../../../server/src/keys/location', to: 'server/src/keys/location.ts' },
      { from: 'server/src/cli/git-setup.ts', spec: '../recording/captureTools', to: 'server/src/recording/captureTools.ts' },
      { from: 'server/src/crypto/format.ts', spec: '../vault/x', to: 'server/src/vault/x.ts' },
      { from: 'client/src/newFolder/x.ts', spec: '../shared/uris', to: 'client/src/shared/uris.ts' },
      { from: 'server/src/keys/keyring.ts', spec: 'vscode' },
    ];
    assert.equal(violations(planted).length, planted.length, violations(planted).join('\n'));
    assert.deepEqual(cycles([
      { from: 'a.ts', spec: './b', to: 'b.ts' }, { from: 'b.ts', spec: './c', to: 'c.ts' }, { from: 'c.ts', spec: './a', to: 'a.ts' },
    ]), [['a.ts', 'b.ts', 'c.ts']]);
  });

  it('the client takes from the worker only protocol.ts and shared.ts; features only what the table allows', () => {
    assert.deepEqual(violations(edges.filter(e => e.from.startsWith('client/'))), []);
  });

  it('the core (crypto/, keys/) imports nothing above it; worker folders only what the table allows', () => {
    assert.deepEqual(violations(edges.filter(e => e.from.startsWith('server/'))), []);
  });

  it('has no import cycle anywhere (client, worker, tests; type-only imports count)', () => {
    const all = [...edges, ...tsFilesUnder(projectRoot, ['test']).flatMap(f => importsOf(projectRoot, f))];
    assert.deepEqual(cycles(all), []);
  });
});
