// Include and exclude globs as VS Code's Search view reads them (issue 16).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileGlob, pathFilter, splitGlobList } from '../../../server/src/search/globs';
import { QueryError } from '../../../server/src/search/query';

describe('search globs', () => {
  it('splits on commas outside braces', () => {
    assert.deepEqual(splitGlobList(' *.md, notes/** ,{a,b}/*.txt,, '), ['*.md', 'notes/**', '{a,b}/*.txt']);
    assert.deepEqual(splitGlobList(undefined), []);
  });

  it('unanchored globs match at any depth; ./ anchors at the root; a folder glob matches what is inside', () => {
    const md = compileGlob('*.md');
    assert.ok(md('plan.md') && md('a/b/plan.md'));
    assert.ok(!md('plan.md.txt') && !md('plan.mdx'));
    const notes = compileGlob('notes');
    assert.ok(notes('notes/plan.md') && notes('x/notes/y/plan.md') && !notes('notesx/plan.md'));
    const top = compileGlob('./notes/*.md');
    assert.ok(top('notes/plan.md') && !top('x/notes/plan.md') && !top('notes/deep/plan.md'));
    const deep = compileGlob('./notes/**/*.md');
    assert.ok(deep('notes/plan.md') && deep('notes/a/b/plan.md'));
  });

  it('?, [classes], [!negated] and {alternatives}', () => {
    assert.ok(compileGlob('plan?.md')('plan1.md') && !compileGlob('plan?.md')('plan12.md'));
    assert.ok(compileGlob('[ab]*.md')('a1.md') && !compileGlob('[ab]*.md')('c1.md'));
    assert.ok(compileGlob('[!ab]*.md')('c1.md') && !compileGlob('[!ab]*.md')('a1.md'));
    const alt = compileGlob('*.{md,txt}');
    assert.ok(alt('x.md') && alt('x.txt') && !alt('x.yaml'));
  });

  it('a note counts by its logical name and by its .enc name; exclude wins over include', () => {
    const f = pathFilter('*.md', 'archive/**');
    assert.ok(f('notes/plan.md'));
    assert.ok(!f('archive/plan.md'));
    assert.ok(!f('notes/plan.yaml'));
    assert.ok(pathFilter('*.md.enc', undefined)('plan.md'));
    assert.ok(pathFilter('', '')('anything/at/all'));
  });

  it('a literal path glob matches exactly itself and what is below it (property)', () => {
    const segment = fc.stringMatching(/^[a-zA-Z0-9 ._()+$^-]{1,8}$/).filter(s => s !== '.' && s !== '..');
    fc.assert(fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.array(segment, { maxLength: 2 }), (parts, below) => {
      const p = parts.join('/');
      const g = compileGlob(`./${p}`);
      assert.ok(g(p));
      assert.ok(g([p, ...below].join('/')));
      assert.ok(!g(`${p}x`), 'not a longer name');
    }));
  });

  it('any glob text compiles or fails with a clear QueryError, never anything else (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), (glob, p) => {
      try { compileGlob(glob)(p); } catch (e) { assert.ok(e instanceof QueryError, String(e)); }
    }));
  });
});
