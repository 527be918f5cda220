// The search matcher and query compiler (issue 16): literal and regex queries, match case, whole word in
// any script, CRLF, BOM, huge lines, empty and multi-line matches, context lines; property-based where the
// input is untrusted (the note's text) or arbitrary (the user's pattern).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeNote, isBinary, matchText, type MatchOptions } from '../../../server/src/search/matcher';
import { compileQuery, escapeRegExp, QueryError } from '../../../server/src/search/query';

const OPTS: MatchOptions = { maxMatches: 1000, previewChars: 250, contextLines: 1 };
const q = (pattern: string, o: { isRegex?: boolean; matchCase?: boolean; wholeWord?: boolean } = {}) =>
  compileQuery({ pattern, isRegex: o.isRegex ?? false, matchCase: o.matchCase ?? false, wholeWord: o.wholeWord ?? false })!;
const ranges = (text: string, re: RegExp, opts = OPTS) => matchText(text, re, opts).lines.map(l => [l.line, ...l.ranges.flat()]);

describe('query', () => {
  it('an empty pattern searches nothing', () => {
    assert.equal(compileQuery({ pattern: '', isRegex: false, matchCase: false, wholeWord: false }), null);
  });

  it('literals are literal: regex syntax in the pattern is matched as text', () => {
    assert.deepEqual(ranges('cost: $5.00 (approx) a+b [x] {y} | \\ /', q('$5.00 (approx)')), [[0, 6, 20]]);
    assert.deepEqual(ranges('a+b a.b', q('a.b')), [[0, 4, 7]]);
    assert.deepEqual(ranges('[x] {y} | \\ /', q('{y} | \\ /')), [[0, 4, 13]]);
  });

  it('match case, and Unicode case folding without it', () => {
    assert.deepEqual(ranges('Plan plan PLAN', q('plan', { matchCase: true })), [[0, 5, 9]]);
    assert.deepEqual(ranges('Plan plan PLAN', q('plan')), [[0, 0, 4, 5, 9, 10, 14]]);
    assert.deepEqual(ranges('ÉTÉ été', q('été')), [[0, 0, 3, 4, 7]]);
    assert.deepEqual(ranges('ΣΊΣΥΦΟΣ σίσυφος', q('σίσυφος')), [[0, 0, 7, 8, 15]]);
  });

  it('whole word uses letters and digits of every script, not only ASCII \\b', () => {
    assert.deepEqual(ranges('café cafés xcafé café_ café', q('café', { wholeWord: true })), [[0, 0, 4, 23, 27]]);
    assert.deepEqual(ranges('Straße Straßen', q('straße', { wholeWord: true })), [[0, 0, 6]]);
    assert.deepEqual(ranges('plan planning (plan)', q('plan', { wholeWord: true })), [[0, 0, 4, 15, 19]]);
    assert.deepEqual(ranges('a-b a_b', q('a', { wholeWord: true, isRegex: true })), [[0, 0, 1]]);
  });

  it('regular expressions: groups, alternation, classes, anchors per line, \\p{…}, lookarounds', () => {
    assert.deepEqual(ranges('todo: x\nTODO y\ndone', q('^(todo|done)', { isRegex: true })), [[0, 0, 4], [1, 0, 4], [2, 0, 4]]);
    assert.deepEqual(ranges('end\nthe end', q('end$', { isRegex: true })), [[0, 0, 3], [1, 4, 7]]);
    assert.deepEqual(ranges('日本語 text', q('\\p{Script=Han}+', { isRegex: true })), [[0, 0, 3]]);
    assert.deepEqual(ranges('price 10€ 20$', q('\\d+(?=€)', { isRegex: true })), [[0, 6, 8]]);
  });

  it('a regex that only compiles without the u flag still works; an invalid one is a clear error', () => {
    assert.deepEqual(ranges('a-b', q('a\\-b', { isRegex: true })), [[0, 0, 3]]);
    assert.throws(() => q('(unclosed', { isRegex: true }), (e: unknown) => e instanceof QueryError && /Invalid regular expression/.test((e as Error).message));
    assert.throws(() => q('x'.repeat(10_001)), QueryError);
  });

  it('escapeRegExp makes any string match itself (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme-composite' }), s => {
      fc.pre(s.length > 0);
      const re = new RegExp(escapeRegExp(s), 'u');
      return re.exec(`x${s}y`)?.index === 1;
    }));
  });
});

describe('matcher', () => {
  it('CRLF: the \\r is not part of the line, columns are those of the editor', () => {
    const text = 'first\r\nsecond line\r\nend\r\n';
    const r = matchText(text, q('line$', { isRegex: true }), OPTS);
    assert.deepEqual(r.lines, [{ line: 1, text: 'second line', textStart: 0, ranges: [[7, 11]] }]);
    assert.deepEqual(r.context, [{ line: 0, text: 'first' }, { line: 2, text: 'end' }]);
    assert.deepEqual(ranges('a\r\nb', q('\\s+', { isRegex: true })), [], 'a line break alone is nothing to highlight');
  });

  it('a match never spans lines: it is clipped at the line end and the next line is searched on its own', () => {
    assert.deepEqual(ranges('ab\ncd\nab', q('b\\s*c?', { isRegex: true })), [[0, 1, 2], [2, 1, 2]]);
    assert.deepEqual(ranges('x1\n2y', q('\\d\\s\\d', { isRegex: true })), [[0, 1, 2]]);
  });

  it('empty matches are skipped without looping (also at astral code points)', () => {
    assert.deepEqual(ranges('abc', q('x*', { isRegex: true })), []);
    assert.deepEqual(ranges('😀a😀', q('a*', { isRegex: true })), [[0, 2, 3]]);
    assert.deepEqual(ranges('\n\n', q('^', { isRegex: true })), []);
  });

  it('columns are UTF-16 code units, as VS Code positions are', () => {
    assert.deepEqual(ranges('😀 note', q('note')), [[0, 3, 7]]);
  });

  it('a huge line is shown as a window around its match; columns stay those of the whole line', () => {
    const text = 'x'.repeat(5_000_000) + 'NEEDLE' + 'y'.repeat(5_000_000);
    const r = matchText(text, q('needle'), OPTS);
    assert.equal(r.lines.length, 1);
    const [l] = r.lines;
    assert.deepEqual(l!.ranges, [[5_000_000, 5_000_006]]);
    assert.ok(l!.text.length <= 250);
    assert.equal(l!.text.slice(l!.ranges[0]![0] - l!.textStart, l!.ranges[0]![1] - l!.textStart), 'NEEDLE');
    const whole = matchText('a'.repeat(1000) + 'b', q('b'), { ...OPTS, previewChars: Infinity });
    assert.equal(whole.lines[0]!.text.length, 1001, 'grep prints the whole line');
  });

  it('several matches on a line are one line with several ranges; the limit stops exactly', () => {
    const r = matchText('a a a\na a', q('a'), { ...OPTS, maxMatches: 4 });
    assert.deepEqual(r.lines.map(l => l.ranges.length), [3, 1]);
    assert.equal(r.matches, 4);
    assert.equal(r.truncated, true);
    assert.equal(matchText('a a', q('a'), { ...OPTS, maxMatches: 2 }).truncated, false);
  });

  it('context: neighbours of matching lines, not the matching lines themselves, first and last lines included', () => {
    const text = ['zero', 'one hit', 'two', 'three hit', 'four'].join('\n');
    const r = matchText(text, q('hit'), { ...OPTS, contextLines: 1 });
    assert.deepEqual(r.lines.map(l => l.line), [1, 3]);
    assert.deepEqual(r.context, [{ line: 0, text: 'zero' }, { line: 2, text: 'two' }, { line: 4, text: 'four' }]);
    assert.deepEqual(matchText('\nhit', q('hit'), OPTS).context, [{ line: 0, text: '' }]);
  });

  it('context lines are exactly the neighbours a naive scan finds, for any text and width (property)', () => {
    const lineText = fc.array(fc.constantFrom('x', 'a', ' ', '\r'), { maxLength: 4 }).map(a => a.join(''));
    fc.assert(fc.property(fc.array(lineText, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 3 }), (rawLines, n) => {
      const text = rawLines.join('\n');
      const r = matchText(text, q('a', { matchCase: true }), { ...OPTS, contextLines: n });
      const lines = text.split('\n').map(l => (l.endsWith('\r') ? l.slice(0, -1) : l));
      const hits = new Set(r.lines.map(l => l.line));
      const expected = lines.map((t, i) => ({ line: i, text: t }))
        .filter(({ line }) => !hits.has(line) && [...hits].some(h => Math.abs(h - line) <= n));
      assert.deepEqual(r.context, expected);
    }));
  });

  it('binary content and the byte order mark', () => {
    assert.equal(isBinary(Buffer.from('text\0more')), true);
    assert.equal(isBinary(Buffer.from('plain text')), false);
    assert.equal(decodeNote(Buffer.from('\ufeffhello')), 'hello', 'VS Code hides the BOM: columns must not count it');
  });

  it('a literal query finds exactly what a naive scan of each line finds (property, untrusted text)', () => {
    const alphabet = fc.constantFrom('a', 'b', 'A', ' ', '\n', '\r\n', 'é', '😀', '.', '*');
    fc.assert(fc.property(fc.array(alphabet, { maxLength: 60 }).map(a => a.join('')), fc.array(fc.constantFrom('a', 'b', 'é', '.', '*', ' '), { minLength: 1, maxLength: 3 }).map(a => a.join('')),
      (text, needle) => {
        const expected: number[][] = [];
        text.split('\n').forEach((raw, n) => {
          const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
          const hits: number[] = [];
          for (let at = line.indexOf(needle); at >= 0; at = line.indexOf(needle, at + needle.length)) hits.push(at, at + needle.length);
          if (hits.length) expected.push([n, ...hits]);
        });
        assert.deepEqual(ranges(text, q(needle, { matchCase: true })), expected);
      }));
  });

  it('any pattern that compiles, on any text: no throw, ranges inside their line, lines ascending (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.boolean(), fc.boolean(), (pattern, text, isRegex, wholeWord) => {
      let re: RegExp | null;
      try { re = compileQuery({ pattern, isRegex, matchCase: false, wholeWord }); } catch (e) { assert.ok(e instanceof QueryError || e instanceof SyntaxError); return; }
      if (!re) return;
      const r = matchText(text, re, OPTS);
      const lines = text.split('\n').map(l => (l.endsWith('\r') ? l.slice(0, -1) : l));
      let last = -1;
      for (const l of r.lines) {
        assert.ok(l.line > last); last = l.line;
        for (const [s, e] of l.ranges) assert.ok(s >= 0 && s < e && e <= lines[l.line]!.length, `${s}-${e} in line ${l.line}`);
        assert.equal(l.text, lines[l.line]!.slice(l.textStart, l.textStart + l.text.length));
      }
    }), { numRuns: 300 });
  });
});
