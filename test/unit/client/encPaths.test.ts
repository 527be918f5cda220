import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encPathOf, isEncPath, isTempSibling, logicalPathOf } from '../../../server/src/encPaths';
import { localPathProblem, type UriParts } from '../../../client/src/shared/uriRules';

describe('noteseal: view names', () => {
  it('maps a logical path to its .enc file and back', () => {
    assert.equal(encPathOf('/notes/plan.md'), '/notes/plan.md.enc');
    assert.equal(logicalPathOf('/notes/plan.md.enc'), '/notes/plan.md');
    assert.equal(logicalPathOf('/cfg/.env.enc'), '/cfg/.env');
  });

  it('knows what is an .enc file', () => {
    assert.equal(isEncPath('a.enc'), true);
    assert.equal(isEncPath('/x/.env.enc'), true);
    assert.equal(isEncPath('/x/.enc'), false);
    assert.equal(isEncPath('/x/plan.md'), false);
    assert.throws(() => logicalPathOf('/x/plan.md'));
  });

  it('recognises only our own temp siblings', () => {
    assert.equal(isTempSibling('.plan.md.enc.tmp-0123456789ab'), true);
    assert.equal(isTempSibling('plan.md.enc.tmp-0123456789ab'), false);
    assert.equal(isTempSibling('.plan.md.enc.tmp-xyz'), false);
  });
});

describe('noteseal: URIs map only plain local paths', () => {
  const uri = (path: string, more: Partial<UriParts> = {}): UriParts => ({ scheme: 'noteseal', authority: '', path, query: '', fragment: '', ...more });

  it('accepts absolute, normalized paths (POSIX and Windows drive paths)', () => {
    for (const p of ['/notes/plan.md', '/c:/Users/me/plan.md', '/a b/ünï.md', '/notes/folder/']) assert.equal(localPathProblem(uri(p), 'noteseal'), undefined, p);
  });

  it('refuses UNC shares, hosts, queries and fragments', () => {
    assert.match(localPathProblem(uri('/share/x.md', { authority: 'server' }), 'noteseal')!, /host/);
    assert.match(localPathProblem(uri('//server/share/x.md'), 'noteseal')!, /UNC/);
    assert.match(localPathProblem(uri('/x.md', { authority: '?' }), 'noteseal')!, /host/, '\\\\?\\C:\\x becomes authority "?"');
    assert.match(localPathProblem(uri('/\\\\?\\C:\\x.md'), 'noteseal')!, /backslash/);
    assert.match(localPathProblem(uri('/c:/a\\..\\b.md'), 'noteseal')!, /backslash/);
    assert.match(localPathProblem(uri('/x.md', { query: 'a=1' }), 'noteseal')!, /query/);
    assert.match(localPathProblem(uri('/x.md', { fragment: 'L1' }), 'noteseal')!, /fragment/);
  });

  it('refuses relative and non-normalized paths', () => {
    for (const p of ['', 'notes/plan.md', './plan.md']) assert.match(localPathProblem(uri(p), 'noteseal')!, /relative/, p);
    for (const p of ['/notes/../etc/passwd', '/notes/./plan.md', '/notes//plan.md', '/..', '/a/..']) assert.match(localPathProblem(uri(p), 'noteseal')!, /not normalized/, p);
    assert.match(localPathProblem(uri('/a\0b'), 'noteseal')!, /NUL/);
  });

  it('maps only the scheme it is asked for (a git: document is not the working copy)', () => {
    assert.match(localPathProblem(uri('/notes/plan.md.enc', { scheme: 'git' }), 'file')!, /only file: URIs/);
    assert.equal(localPathProblem(uri('/notes/plan.md.enc', { scheme: 'file' }), 'file'), undefined);
  });
});
