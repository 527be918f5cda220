import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixedCopyName, notePathProblem, originalOfCopy, parseCopyName } from '../../../client/src/leak/encNames';

describe('names of Explorer copies of .enc files', () => {
  const none = () => false;

  it('moves " copy" before the inner extension, so the copy keeps its language', () => {
    assert.equal(fixedCopyName('x.yaml copy.enc', none), 'x copy.yaml.enc');
    assert.equal(fixedCopyName('plan.md copy 3.enc', none), 'plan copy 3.md.enc');
    assert.equal(fixedCopyName('my notes.v2.md copy.enc', none), 'my notes.v2 copy.md.enc');
  });

  it('leaves names alone that have no inner extension to keep, or are not copies', () => {
    for (const name of ['notes copy.enc', '.env copy.enc', 'x copy.yaml.enc', 'x.yaml.enc', 'x.yaml copy.txt', 'x.yaml copyright.enc', 'x.yaml copy 2b.enc']) {
      assert.equal(fixedCopyName(name, none), undefined, name);
    }
  });

  it('takes the next free number when the fixed name is taken', () => {
    const taken = new Set(['x copy.yaml.enc', 'x copy 2.yaml.enc']);
    assert.equal(fixedCopyName('x.yaml copy.enc', n => taken.has(n)), 'x copy 3.yaml.enc');
    assert.equal(fixedCopyName('x.yaml copy 2.enc', n => taken.has(n)), 'x copy 3.yaml.enc');
  });

  it('names the original the copy came from', () => {
    assert.equal(originalOfCopy(parseCopyName('x.yaml copy 4.enc')!), 'x.yaml.enc');
  });
});

describe('New Encrypted Note: names and paths', () => {
  it('accepts a name or a path below the workspace folder', () => {
    for (const ok of ['ideas.md', 'notes/ideas.md', 'notes/2026/q1 plan.md', '.env']) assert.equal(notePathProblem(ok), undefined, ok);
    assert.match(notePathProblem('')!, /Enter a name/);
    assert.match(notePathProblem('/etc/passwd')!, /not an absolute path/);
    assert.match(notePathProblem('C:/x.md')!, /not an absolute path/);
    assert.match(notePathProblem('../outside.md')!, /no \. or \.\./);
    assert.match(notePathProblem('notes//x.md')!, /empty/);
    assert.match(notePathProblem('notes/')!, /empty|End with a file name/);
    assert.match(notePathProblem('notes\\x.md')!, /Separate folders with \//);
    assert.match(notePathProblem('x.md.enc')!, /Leave out \.enc/);
  });
});
