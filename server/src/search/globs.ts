// Include and exclude globs as VS Code's Search view reads them: comma-separated; `*` and `?` within a
// path segment, `**` across segments, `{a,b}` alternatives, `[abc]` / `[!abc]` classes. A glob without a
// leading `./` or `/` matches at any depth (`*.md` is `**/*.md`); `./notes/**` is anchored at the root.
// A glob that names a folder matches everything in it. Paths are relative, `/`-separated. Pure.
import { QueryError } from './query';

export type PathFilter = (relativePath: string) => boolean;

/** Splits on commas outside `{…}`, trims, drops empty entries. */
export function splitGlobList(list: string | undefined): string[] {
  if (!list) return [];
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i <= list.length; i++) {
    const c = list[i];
    if (c === '{') depth++;
    else if (c === '}') depth = Math.max(0, depth - 1);
    else if ((c === ',' && depth === 0) || c === undefined) {
      const part = list.slice(start, i).trim();
      if (part) out.push(part);
      start = i + 1;
    }
  }
  return out;
}

/** The RegExp source of one glob (without anchors). */
function globSource(glob: string): string {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        let j = i + 2;
        while (glob[j] === '*') j++;
        if (atStart && glob[j] === '/') { re += '(?:[^/]*/)*'; i = j; continue; } // `**/`: any folders, or none
        if (atStart && j === glob.length) { re += '.*'; i = j - 1; continue; }
        re += '[^/]*'; i = j - 1; continue; // `a**b` is `a*b`
      }
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      let body = glob.slice(i + 1, end);
      const negate = body[0] === '!' || body[0] === '^';
      if (negate) body = body.slice(1);
      re += `[${negate ? '^/' : ''}${body.replace(/[\\\]^[]/g, '\\$&')}]`;
      i = end;
    } else if (c === '{') {
      braces++; re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--; re += ')';
    } else if (c === ',' && braces > 0) {
      re += '|';
    } else {
      re += c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
    }
  }
  return re + ')'.repeat(braces);
}

/** One glob as a test of a relative path (or any of its folders). */
export function compileGlob(glob: string): PathFilter {
  let g = glob.replace(/\\/g, '/');
  let anchored = false;
  if (g.startsWith('./')) { g = g.slice(2); anchored = true; } else if (g.startsWith('/')) { g = g.slice(1); anchored = true; }
  g = g.replace(/\/+$/, '');
  if (!g) return () => true;
  let re: RegExp;
  try {
    re = new RegExp(`^${anchored ? '' : '(?:.*/)?'}${globSource(g)}(?:/.*)?$`, 'su');
  } catch {
    throw new QueryError(`Invalid glob: ${glob}`);
  }
  return p => re.test(p);
}

/**
 * The filter for an include and an exclude list. A note counts by its logical path (`notes/plan.md`) or
 * its file name (`notes/plan.md.enc`), so `*.md` and `*.md.enc` both work.
 */
export function pathFilter(include: string | undefined, exclude: string | undefined): PathFilter {
  const inc = splitGlobList(include).map(compileGlob);
  const exc = splitGlobList(exclude).map(compileGlob);
  const any = (fs: PathFilter[], p: string) => fs.some(f => f(p) || f(p + '.enc'));
  return p => (inc.length === 0 || any(inc, p)) && !any(exc, p);
}
