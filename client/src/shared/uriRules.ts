// Which URIs may name a local file NoteSeal decrypts or writes (pure: no vscode import, unit-tested).
// A `noteseal:` URI comes from anywhere (another extension, a link in a Markdown preview, a crafted
// workspace); before it becomes an OS path for the worker it must be a plain, absolute, normalized local
// path: no host (a UNC share `//server/share`, `\\?\`), no relative or `..` segments, no query or fragment.

export interface UriParts {
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  readonly query: string;
  readonly fragment: string;
}

/** Why `uri` is not a local path of `scheme` NoteSeal may work on; undefined when it is fine. */
export function localPathProblem(uri: UriParts, scheme: string): string | undefined {
  if (uri.scheme !== scheme) return `only ${scheme}: URIs are mapped, not ${uri.scheme}:`;
  if (uri.authority) return `it names a host ("${uri.authority}"): network (UNC) paths are refused`;
  if (uri.query || uri.fragment) return 'it carries a query or fragment';
  const p = uri.path;
  if (!p.startsWith('/')) return 'the path is relative';
  if (p.startsWith('//')) return 'network (UNC) paths are refused';
  // A backslash would become a separator on Windows (`/c:/a\..\b`), and `\\?\` / `\\server` prefixes too.
  if (p.includes('\\')) return 'the path contains a backslash';
  if (p.includes('\0')) return 'the path contains a NUL character';
  const segments = p.slice(1).split('/');
  if (segments.some((s, i) => s === '.' || s === '..' || (s === '' && i < segments.length - 1))) return 'the path is not normalized (".", ".." or an empty segment)';
  return undefined;
}
